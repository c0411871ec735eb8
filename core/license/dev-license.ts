// A node license for a home made by a test harness, a benchmark or a demo: a fresh Ed25519 key pair whose
// public half the node trusts (<configDir>/license-keys.pem, as an open build's operator does with
// `mccs license keygen --trust`) and a term license signed with it. Without a license a node runs in
// limited mode (no automatic failover, no auto-start), as the manual says; harnesses about failover give
// their nodes one, as an operator would.
import { generateKeyPairSync } from 'node:crypto'
import { appendFile, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { issueLicense } from './format.js'
import { LICENSE_FILE, TRUSTED_KEYS_FILE } from './store.js'

export async function writeDevLicense(
  configDir: string,
  node: string,
  o: { days?: number; now?: number; licensee?: string } = {},
): Promise<string> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const now = o.now ?? Date.now()
  const text = issueLicense(
    {
      type: 'term',
      node,
      hostId: 'ANY',
      licensee: o.licensee ?? 'MCCS test',
      issued: new Date(now - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      expires: new Date(now + (o.days ?? 30) * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    },
    privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  )
  await mkdir(configDir, { recursive: true })
  await appendFile(path.join(configDir, TRUSTED_KEYS_FILE), publicKey.export({ type: 'spki', format: 'pem' }) as string, { mode: 0o644 })
  await writeFile(path.join(configDir, LICENSE_FILE), text, { mode: 0o644 })
  return text
}
