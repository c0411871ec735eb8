// Whether a node runs licensed or in limited mode (manual 5.4: no license, an expired term license or
// an invalid one -> limited mode: no automatic failover). Pure: the caller passes the time, the
// license, the node's MAC addresses and the trusted keys.
import type { KeyObject } from 'node:crypto'
import type { ErrorCode } from '../errors.js'
import { checkSignature, type License, type LicenseType } from './format.js'

export interface LicenseProblem { code: ErrorCode; field: string; reason: string }

export interface LicenseState {
  mode: 'valid' | 'limited'
  /** Why the node is in limited mode. */
  reason?: string
  code?: ErrorCode
  type: LicenseType | null
  expires: string | null
  hostId: string | null
}

/** The first reason `l` does not license `node` at `now`, or null. */
export function licenseProblem(now: number, l: License, ctx: { node?: string; hostMacs: string[]; keys: KeyObject[] }): LicenseProblem | null {
  const sig = checkSignature(l, ctx.keys)
  if (!sig.ok) return { code: 'MCCS_ERR_LICENSE_SIGNATURE', field: '/signature', reason: sig.reason }
  if (ctx.node !== undefined && l.node !== ctx.node) return { code: 'MCCS_ERR_LICENSE_NODE', field: '/node', reason: `is for node ${l.node}, not ${ctx.node}` }
  if (l.hostId !== 'ANY' && !ctx.hostMacs.map((m) => m.toLowerCase()).includes(l.hostId)) {
    return { code: 'MCCS_ERR_LICENSE_HOST', field: '/hostId', reason: `${l.hostId} is not a MAC address of this node (${ctx.hostMacs.join(', ') || 'none found'})` }
  }
  if (Date.parse(l.issued) > now + 24 * 3600_000) return { code: 'MCCS_ERR_LICENSE_FORMAT', field: '/issued', reason: `is in the future (${l.issued}); check this node's clock` }
  if (l.expires && Date.parse(l.expires) <= now) return { code: 'MCCS_ERR_LICENSE_EXPIRED', field: '/expires', reason: `expired at ${l.expires}` }
  if (l.type === 'floating') return { code: 'MCCS_ERR_LICENSE_UNSUPPORTED', field: '/type', reason: `floating licenses need a connection to the license server ${l.server}, which this build does not have` }
  return null
}

export function licenseState(now: number, license: License | null, hostMacs: string[], keys: KeyObject[], node?: string): LicenseState {
  if (!license) return { mode: 'limited', reason: 'no license is installed', code: 'MCCS_ERR_LICENSE_MISSING', type: null, expires: null, hostId: null }
  const p = licenseProblem(now, license, { hostMacs, keys, ...(node !== undefined ? { node } : {}) })
  const base = { type: license.type, expires: license.expires ?? null, hostId: license.hostId }
  return p ? { mode: 'limited', reason: `${p.field.slice(1)}: ${p.reason}`, code: p.code, ...base } : { mode: 'valid', ...base }
}
