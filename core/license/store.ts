// This node's license file (<configDir>/mccs.lic, the manual's name) and the keys it trusts: the
// vendor key plus operator keys in <configDir>/license-keys.pem (an open build's own key pair).
import { createPublicKey, type KeyObject } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Bootstrap } from '../config/bootstrap.js'
import { writeFileAtomic } from '../config/atomic.js'
import { MccsError, isMccsError, type ErrorCode } from '../errors.js'
import { MAX_LICENSE_BYTES, parseLicense, publicKeys, type License } from './format.js'
import { licenseProblem, licenseState, type Lease, type LicenseState } from './state.js'
import { VENDOR_PUBLIC_KEY_PEM } from './vendor-key.js'
import type { Said } from '../i18n/messages.js'
import { readVerification, recordVerification } from './verify-record.js'
import { readLease } from './lease-file.js'
import { readUpTo } from './read-bounded.js'

export const LICENSE_FILE = 'mccs.lic'
export const TRUSTED_KEYS_FILE = 'license-keys.pem'
/** A PEM public key is about 100 bytes: room for hundreds, and a device or a huge file is not read whole. */
const MAX_TRUSTED_KEYS_BYTES = 64 * 1024

/** What GET /api/licenses and `mccs license show` give per node. */
export interface LicenseView {
  node: string
  type: string | null
  expires: string | null
  hostId: string | null
  valid: boolean
  /** 'valid' or 'limited' (no automatic failover or auto-start). */
  mode?: 'valid' | 'limited'
  reason?: string
  /** The reason in words of the locale files (absent from older agents and a license server's own words). */
  said?: Said
  code?: string
  /** Days until the license ends (its expires); null: it does not end (a floating seat's lease is in the warning). */
  daysLeft?: number | null
  /** Valid, but ending soon (expiry, the 7-day rule, an unreachable license server). */
  warning?: string
  warningSaid?: Said
  licensee?: string
  server?: string
}

/** MAC addresses of this host's interfaces (loopback's all-zero one left out). */
export function hostMacs(): string[] {
  const out = new Set<string>()
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.mac && a.mac !== '00:00:00:00:00:00') out.add(a.mac.toLowerCase())
  }
  return [...out].sort()
}

export async function trustedKeys(configDir: string): Promise<KeyObject[]> {
  const keys = [createPublicKey(VENDOR_PUBLIC_KEY_PEM)]
  try {
    const r = await readUpTo(path.join(configDir, TRUSTED_KEYS_FILE), MAX_TRUSTED_KEYS_BYTES)
    if (r.tooLong)
      throw new MccsError('MCCS_ERR_LICENSE_KEY', `${TRUSTED_KEYS_FILE} is longer than ${MAX_TRUSTED_KEYS_BYTES} bytes`, {
        subject: path.join(configDir, TRUSTED_KEYS_FILE),
      })
    keys.push(...publicKeys(r.text))
  } catch (e) {
    if (isMccsError(e)) throw e
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new MccsError('MCCS_ERR_LICENSE_KEY', `cannot read the trusted license keys: ${(e as Error).message}`, {
        subject: path.join(configDir, TRUSTED_KEYS_FILE),
      })
  }
  return keys
}

const tooLong = (file: string) =>
  new MccsError('MCCS_ERR_LICENSE_FORMAT', `is longer than ${MAX_LICENSE_BYTES} bytes (${file})`, { field: '/text' })

/** A license file an operator names (mccs license install, setup --license, license-server --license). */
export async function readLicenseFile(file: string, field: string): Promise<string> {
  let r
  try {
    r = await readUpTo(file, MAX_LICENSE_BYTES)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new MccsError(
      'MCCS_ERR_INVALID',
      code === 'EISDIR' ? `${file} is a directory, not a license file` : `cannot read ${file}: ${code ?? (e as Error).message}`,
      { field },
    )
  }
  if (r.tooLong) throw tooLong(file)
  return r.text
}

/** The installed license, null when there is none; a file that does not parse is reported, not thrown. */
export async function readInstalled(
  configDir: string,
): Promise<{ license: License | null; problem?: string; code?: ErrorCode; text?: string }> {
  let text: string
  try {
    const r = await readUpTo(path.join(configDir, LICENSE_FILE), MAX_LICENSE_BYTES)
    if (r.tooLong) throw tooLong(LICENSE_FILE)
    text = r.text
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { license: null }
    if (isMccsError(e)) return { license: null, problem: `${LICENSE_FILE} is invalid: /text ${e.reason}`, code: e.code }
    return { license: null, problem: `cannot read ${LICENSE_FILE}: ${(e as Error).message}` }
  }
  try {
    return { license: parseLicense(text), text }
  } catch (e) {
    return {
      license: null,
      problem: `${LICENSE_FILE} is invalid: ${isMccsError(e) ? `${e.field ?? ''} ${e.message.replace(/^.*?: \/\S+: /, '')}` : (e as Error).message}`,
      ...(isMccsError(e) ? { code: e.code } : {}),
      text,
    }
  }
}

/** This node's license state from what is on disk: the license, the trusted keys, the 7-day rule's
 *  verification record (a full license) and the agent's lease (a floating one). */
export async function nodeLicenseState(
  b: Bootstrap,
  now = Date.now(),
  macs = hostMacs(),
  /** The running agent's own lease (its lease client's memory), in place of the lease file. */
  held?: { lease: Lease | undefined },
): Promise<LicenseState & { license: License | null }> {
  const inst = await readInstalled(b.configDir)
  if (inst.problem)
    return {
      mode: 'limited',
      reason: inst.problem,
      code: inst.code ?? 'MCCS_ERR_LICENSE_FORMAT',
      type: null,
      expires: null,
      hostId: null,
      daysLeft: null,
      license: null,
    }
  const l = inst.license
  const more = {
    ...(l?.type === 'nodelock' ? { verification: await readVerification(b.stateDir, b.nodeName, l) } : {}),
    ...(l?.type === 'floating' ? { lease: held ? held.lease : await readLease(b.stateDir) } : {}),
  }
  return { ...licenseState(now, l, macs, await trustedKeys(b.configDir), b.nodeName, more), license: l }
}

export function toView(node: string, s: LicenseState & { license: License | null }): LicenseView {
  return {
    node,
    type: s.type,
    expires: s.expires,
    hostId: s.hostId,
    valid: s.mode === 'valid',
    mode: s.mode,
    daysLeft: s.daysLeft ?? null,
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.said ? { said: s.said } : {}),
    ...(s.code ? { code: s.code } : {}),
    ...(s.warning ? { warning: s.warning } : {}),
    ...(s.warningSaid ? { warningSaid: s.warningSaid } : {}),
    ...(s.license?.licensee ? { licensee: s.license.licensee } : {}),
    ...(s.license?.server ? { server: s.license.server } : {}),
  }
}

export async function nodeLicenseView(b: Bootstrap, now = Date.now()): Promise<LicenseView> {
  return toView(b.nodeName, await nodeLicenseState(b, now))
}

/**
 * Checks a license for this node (form, signature, node, host id, expiry) and installs it atomically.
 * Nothing is written when a check fails; the error names the field.
 */
export async function installLicense(b: Bootstrap, text: unknown, now = Date.now(), macs = hostMacs()): Promise<License> {
  const l = parseLicense(text)
  const p = licenseProblem(now, l, { node: b.nodeName, hostMacs: macs, keys: await trustedKeys(b.configDir) })
  if (p) throw new MccsError(p.code, p.reason, { field: p.field })
  await mkdir(b.configDir, { recursive: true })
  await writeFileAtomic(
    path.join(b.configDir, LICENSE_FILE),
    (text as string).endsWith('\n') ? (text as string) : `${text as string}\n`,
    0o644,
  )
  // Installing verifies it: the 7-day rule counts from now (a running agent sees the new file and uses it).
  await recordVerification(b.stateDir, b.nodeName, l, now)
  return l
}
