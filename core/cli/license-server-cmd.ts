// mccs license-server: the floating license server (manual 5.4), a process of its own.
//   mccs license-server --license <floating.lic> [--listen 0.0.0.0:5053] [--key <file>] [--keys <pem>] [--lease-s 30]
//   mccs license-server keygen --out <file>     the server key; copy it to every node as config/license-server.key
// The key file is read like the cluster key (32 bytes, mode 0600): never on the command line.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { createClusterKey, loadClusterKey } from '../cluster/cluster-key.js'
import { loadBootstrap } from '../config/bootstrap.js'
import { MccsError, isMccsError } from '../errors.js'
import { publicKeys } from '../license/format.js'
import { LICENSE_SERVER_KEY_FILE } from '../license/lease-protocol.js'
import { LicenseServer } from '../license/server.js'
import { readLicenseFile, trustedKeys } from '../license/store.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t } from '../i18n/messages.js'
import { cliLocale } from './lang.js'

export const LICENSE_SERVER_USAGE = `usage: mccs license-server --license <floating.lic> [--listen host:port] [--key <file>] [--keys <trusted.pem>] [--lease-s 30]
       mccs license-server keygen --out <file>
  --listen   where to listen (default 0.0.0.0:5053; the license's server= field is what the nodes dial)
  --key      the license server key (default <configDir>/${LICENSE_SERVER_KEY_FILE}); every node needs the same file
  --keys     PEM public keys trusted to sign the license (default: the vendor key and <configDir>/license-keys.pem)
  --lease-s  how long a seat lasts without a renewal (agents renew every third of it)`

export async function licenseServerCommand(
  argv: string[],
  io: CliIO,
  opts: { onListening?: (s: LicenseServer, at: string) => void; signal?: AbortSignal } = {},
): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        license: { type: 'string' },
        listen: { type: 'string' },
        key: { type: 'string' },
        keys: { type: 'string' },
        'lease-s': { type: 'string' },
        out: { type: 'string' },
        lang: { type: 'string' },
      },
    })
  } catch (e) {
    io.err(`mccs license-server: ${(e as Error).message}\n${LICENSE_SERVER_USAGE}`)
    return EXIT.USAGE
  }
  const { values: v, positionals } = parsed
  try {
    if (positionals[0] === 'keygen') {
      if (!v.out) throw new MccsError('MCCS_ERR_INVALID', 'names the key file to write', { field: '--out' })
      const l = await cliLocale(v.lang, async () => (await loadBootstrap()).configDir)
      await createClusterKey(v.out)
      io.out(t(l, 'cli.licenseServer.keyWritten', { file: v.out, name: LICENSE_SERVER_KEY_FILE }))
      return EXIT.OK
    }
    if (positionals.length) {
      io.err(LICENSE_SERVER_USAGE)
      return EXIT.USAGE
    }
    if (!v.license) throw new MccsError('MCCS_ERR_INVALID', 'names the floating license file', { field: '--license' })
    const listen = v.listen ?? '0.0.0.0:5053'
    const m = /^(.+):(\d{1,5})$/.exec(listen)
    if (!m || Number(m[2]) > 65535) throw new MccsError('MCCS_ERR_INVALID', 'must be host:port', { field: '--listen' })
    const leaseS = v['lease-s'] === undefined ? 30 : Number(v['lease-s'])
    if (!Number.isFinite(leaseS) || leaseS < 1 || leaseS > 3600)
      throw new MccsError('MCCS_ERR_INVALID', 'must be 1..3600 seconds', { field: '--lease-s' })
    const b = !v.key || !v.keys ? await loadBootstrap() : null
    const psk = await loadClusterKey(v.key ?? path.join(b!.configDir, LICENSE_SERVER_KEY_FILE))
    const keys = v.keys ? publicKeys(await readFile(v.keys, 'utf8')) : await trustedKeys(b!.configDir)
    const server = new LicenseServer({
      licenseText: await readLicenseFile(v.license, '--license'),
      keys,
      psk,
      host: m[1]!,
      port: Number(m[2]),
      leaseMs: Math.round(leaseS * 1000),
      log: (msg) => io.out(`${new Date().toISOString()} ${msg}`),
    })
    const at = await server.listen()
    io.out(
      `license server on ${at.host}:${at.port}: ${server.count} seats (license ${server.license.server}${server.license.expires ? `, expires ${server.license.expires}` : ''}), lease ${leaseS} s`,
    )
    opts.onListening?.(server, `${at.host}:${at.port}`)
    await new Promise<void>((resolve) => {
      const stop = () => resolve()
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
      opts.signal?.addEventListener('abort', stop, { once: true })
    })
    await server.close()
    return EXIT.OK
  } catch (e) {
    io.err(`mccs license-server: ${isMccsError(e) ? e.message : (e as Error).message}`)
    return isMccsError(e) &&
      (e.code === 'MCCS_ERR_INVALID' || e.code.startsWith('MCCS_ERR_LICENSE_') || e.code.startsWith('MCCS_ERR_CLUSTER_KEY'))
      ? EXIT.INVALID
      : EXIT.FAILED
  }
}
