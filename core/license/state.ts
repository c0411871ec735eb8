// Whether a node runs licensed or in limited mode (manual 5.4: no license, an expired term license or
// an invalid one -> limited mode: no automatic failover). Pure: the caller passes the time, the
// license, the node's MAC addresses, the trusted keys, and what the agent keeps on disk: the last
// verification of a full license (the 7-day rule) and the lease of a floating one.
import type { KeyObject } from 'node:crypto'
import type { ErrorCode } from '../errors.js'
import { checkSignature, type License, type LicenseType } from './format.js'
import type { Said } from '../i18n/messages.js'

/** A reason in English and in words of the locale files (core/engine/said.ts), for the readers' languages. */
const msg = (id: string, params: NonNullable<Said['params']>, reason: string): { reason: string; said: Said } => ({
  reason,
  said: { id, params },
})

export const DAY_MS = 86_400_000
/** Manual 5.4: a full license stays valid across a restart only if verified within the last 7 days. */
export const VERIFY_WINDOW_MS = 7 * DAY_MS
/** Warnings start this long before the 7 days run out. */
export const VERIFY_WARN_MS = 3 * DAY_MS
/** A verification record dated later than this after the clock means the clock was set back (which
 *  would otherwise extend the 7 days by as much). */
export const CLOCK_SKEW_MS = 10 * 60_000
/** Warnings start this long before a term license expires. */
export const EXPIRY_WARN_MS = 14 * DAY_MS

export interface LicenseProblem {
  code: ErrorCode
  field: string
  reason: string
  said?: Said
}

export interface LicenseState {
  mode: 'valid' | 'limited'
  /** Why the node is in limited mode (English), and in words of the locale files. */
  reason?: string
  said?: Said
  code?: ErrorCode
  type: LicenseType | null
  expires: string | null
  hostId: string | null
  /** Whole days until the license ends (its `expires`); null when it does not end. */
  daysLeft?: number | null
  /** Valid, but something will end it soon (expiry, the 7-day rule, a lost license server). */
  warning?: string
  warningSaid?: Said
}

/** The last successful verification of a full license, as the agent recorded it (verify-record.ts). */
export type Verification = { at: number } | { tampered: string } | null

/** A floating license's seat, as the agent's lease client holds it (lease-client.ts). */
export type Lease = { held: true; until: number; server: string; lastError?: string } | { held: false; code: ErrorCode; reason: string }

export interface StateContext {
  node?: string
  hostMacs: string[]
  keys: KeyObject[]
  /** nodelock: the verification record (undefined: the rule is not checked, as when installing). */
  verification?: Verification
  /** floating: the lease (undefined: none asked for yet). */
  lease?: Lease
}

/** The first reason `l` does not license `node` at `now`, or null. Floating licenses are checked for
 *  form and trust here; their seat is the lease's business (licenseState). */
export function licenseProblem(
  now: number,
  l: License,
  ctx: { node?: string; hostMacs: string[]; keys: KeyObject[] },
): LicenseProblem | null {
  const sig = checkSignature(l, ctx.keys)
  if (!sig.ok)
    return {
      code: 'MCCS_ERR_LICENSE_SIGNATURE',
      field: '/signature',
      ...msg('said.lic.signature', { why: sig.reason }, `${sig.reason} (tampered, or signed by another vendor)`),
    }
  // A floating license is shared by the nodes that take a seat from its server: it names no one node.
  if (ctx.node !== undefined && l.type !== 'floating' && l.node !== ctx.node)
    return {
      code: 'MCCS_ERR_LICENSE_NODE',
      field: '/node',
      ...msg('said.lic.node', { node: l.node ?? '', self: ctx.node }, `is for node ${l.node}, not ${ctx.node}`),
    }
  if (l.hostId !== 'ANY' && !ctx.hostMacs.map((m) => m.toLowerCase()).includes(l.hostId)) {
    return {
      code: 'MCCS_ERR_LICENSE_HOST',
      field: '/hostId',
      ...msg(
        'said.lic.host',
        { host: l.hostId, macs: ctx.hostMacs.join(', ') || 'none found' },
        `${l.hostId} is not a MAC address of this node, which has ${ctx.hostMacs.join(', ') || 'none found'} (a license for another host)`,
      ),
    }
  }
  if (Date.parse(l.issued) > now + DAY_MS)
    return {
      code: 'MCCS_ERR_LICENSE_FORMAT',
      field: '/issued',
      ...msg('said.lic.future', { at: l.issued }, `is in the future (${l.issued}); check this node's clock`),
    }
  if (l.expires && Date.parse(l.expires) <= now)
    return { code: 'MCCS_ERR_LICENSE_EXPIRED', field: '/expires', ...msg('said.lic.expired', { at: l.expires }, `expired at ${l.expires}`) }
  return null
}

const days = (ms: number): number => Math.max(0, Math.ceil(ms / DAY_MS))
const date = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z')

export function licenseState(
  now: number,
  license: License | null,
  hostMacs: string[],
  keys: KeyObject[],
  node?: string,
  more: Pick<StateContext, 'verification' | 'lease'> = {},
): LicenseState {
  if (!license)
    return {
      mode: 'limited',
      ...msg('said.lic.none', {}, 'no license is installed'),
      code: 'MCCS_ERR_LICENSE_MISSING',
      type: null,
      expires: null,
      hostId: null,
      daysLeft: null,
    }
  const p = licenseProblem(now, license, { hostMacs, keys, ...(node !== undefined ? { node } : {}) })
  const exp = license.expires ? Date.parse(license.expires) : null
  const base = {
    type: license.type,
    expires: license.expires ?? null,
    hostId: license.hostId,
    daysLeft: exp === null ? null : days(exp - now),
  }
  if (p)
    return {
      mode: 'limited',
      ...msg('said.lic.problem', { field: p.field.slice(1), why: p.said ?? p.reason }, `${p.field.slice(1)}: ${p.reason}`),
      code: p.code,
      ...base,
    }
  const limited = (code: ErrorCode, why: { reason: string; said?: Said }): LicenseState => ({ mode: 'limited', ...why, code, ...base })
  let warning: { reason: string; said: Said } | undefined
  if (license.type === 'nodelock' && more.verification !== undefined) {
    const v = more.verification
    // No record yet: the agent verifies it now and records that (first start with this license).
    if (v && 'tampered' in v)
      return limited(
        'MCCS_ERR_LICENSE_STALE',
        msg(
          'said.lic.tampered',
          { why: v.tampered },
          `the record of the last license verification was altered (${v.tampered}): verify the license again with mccs license install`,
        ),
      )
    if (v && v.at - now > CLOCK_SKEW_MS)
      return limited(
        'MCCS_ERR_LICENSE_STALE',
        msg(
          'said.lic.clockBack',
          { at: date(v.at), now: date(now) },
          `full license last verified ${date(v.at)}, after this node's clock (${date(now)}): the clock went backwards, so the 7 days cannot be counted; restricted mode until it is verified again (mccs license install, or Renew License in the console)`,
        ),
      )
    if (v) {
      const age = now - v.at
      if (age > VERIFY_WINDOW_MS) {
        return limited(
          'MCCS_ERR_LICENSE_STALE',
          msg(
            'said.lic.stale',
            { at: date(v.at), days: Math.floor(age / DAY_MS) },
            `full license last verified ${date(v.at)}, ${Math.floor(age / DAY_MS)} days ago (more than 7): restricted mode until it is verified again (mccs license install, or Renew License in the console)`,
          ),
        )
      }
      if (age > VERIFY_WINDOW_MS - VERIFY_WARN_MS) {
        const left = days(VERIFY_WINDOW_MS - age)
        const p = { days: Math.floor(age / DAY_MS), left, until: date(v.at + VERIFY_WINDOW_MS) }
        const tail = `left): a restart after ${p.until} without a new verification gives restricted mode (no automatic failover)`
        warning =
          left === 1
            ? msg('said.lic.verifySoon1', p, `full license last verified ${p.days} days ago (${left} day ${tail}`)
            : msg('said.lic.verifySoon', p, `full license last verified ${p.days} days ago (${left} days ${tail}`)
      }
    }
  }
  if (license.type === 'floating') {
    const l = more.lease
    if (!l)
      return limited(
        'MCCS_ERR_LICENSE_SERVER',
        msg('said.lic.noSeatYet', { server: license.server ?? '' }, `no seat from the license server ${license.server} yet`),
      )
    if (!l.held) return limited(l.code, { reason: l.reason }) // the lease client's own words
    if (l.until <= now)
      return limited(
        'MCCS_ERR_LICENSE_SERVER',
        msg(
          'said.lic.leaseEnded',
          { server: l.server, at: date(l.until), why: l.lastError ? ` (${l.lastError})` : '' },
          `the seat's lease from ${l.server} ended at ${date(l.until)} and could not be renewed${l.lastError ? ` (${l.lastError})` : ''}`,
        ),
      )
    // A lease lasts seconds and is renewed: its time left is said in seconds, not as days left.
    if (l.lastError)
      warning = msg(
        'said.lic.serverDown',
        { server: l.server, why: l.lastError, until: date(l.until), s: Math.ceil((l.until - now) / 1000) },
        `license server ${l.server} unreachable (${l.lastError}): the seat is kept until ${date(l.until)} (${Math.ceil((l.until - now) / 1000)} s left), then limited mode`,
      )
  }
  if (exp !== null && exp - now <= EXPIRY_WARN_MS && !warning) {
    const n = days(exp - now)
    const tail = `(${license.expires}): renew it (mccs license install, or Renew License in the console) or this node goes to limited mode`
    warning =
      n === 1
        ? msg('said.lic.expiresSoon1', { n, at: license.expires ?? '' }, `license expires in ${n} day ${tail}`)
        : msg('said.lic.expiresSoon', { n, at: license.expires ?? '' }, `license expires in ${n} days ${tail}`)
  }
  return { mode: 'valid', ...base, ...(warning ? { warning: warning.reason, warningSaid: warning.said } : {}) }
}
