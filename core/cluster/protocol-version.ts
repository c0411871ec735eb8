// Protocol versions of the heartbeat and the peer channel (issue 16, What 4): each node advertises the range
// it speaks (min..max), a pair uses the highest version both speak, and a peer whose range does not overlap
// ours is refused: it is not a member (its heartbeats keep nothing up, its channel sessions are closed),
// with the reason, naming both ranges, logged and in status. It is not fenced for it: it never became a
// member, so there is nothing of ours it could be running (as Corosync refuses a mismatched totem version).
//
// Versions: 1 is the protocol of releases before the advertisement (no field on the wire: what such a peer
// sends is read as 1..1); 2 adds the advertisement (the heartbeat's `ext.pv`, the channel's hello). A later
// change that both sides must understand raises PROTOCOL.max, and is used with a peer only when the version
// negotiated with it is at least the one that brought it; a release that drops an old version raises min.
import { MccsError, type ErrorCode } from '../errors.js'

export interface ProtocolRange {
  min: number
  max: number
}

/** What a peer that advertises nothing speaks: the protocol of the releases before the advertisement. */
export const PROTOCOL_OLDEST: Readonly<ProtocolRange> = Object.freeze({ min: 1, max: 1 })
/** What this build speaks. */
export const PROTOCOL: Readonly<ProtocolRange> = Object.freeze({ min: 1, max: 2 })
/** Versions are small integers (one byte, should the wire ever carry them as one). */
export const PROTOCOL_LIMIT = 255

export type Negotiated = { version: number } | { refused: string }

export function formatRange(r: ProtocolRange): string {
  return `${r.min}..${r.max}`
}

/** Checks an advertised range (from the wire or a setting). Throws MccsError(code) naming `field`. */
export function checkRange(v: unknown, field: string, code: ErrorCode = 'MCCS_ERR_INVALID', subject?: string): ProtocolRange {
  const ok = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= PROTOCOL_LIMIT
  const o = v as { min?: unknown; max?: unknown } | null
  if (o === null || typeof o !== 'object' || Array.isArray(o) || Object.keys(o).some((k) => k !== 'min' && k !== 'max'))
    throw new MccsError(code, 'must be an object {min, max}', { field, ...(subject ? { subject } : {}) })
  if (!ok(o.min) || !ok(o.max) || o.min > o.max)
    throw new MccsError(code, `min and max must be integers 1..${PROTOCOL_LIMIT}, min <= max`, { field, ...(subject ? { subject } : {}) })
  return { min: o.min, max: o.max }
}

/** The highest version both ranges hold, or why there is none (naming both ranges). */
export function negotiate(ours: ProtocolRange, theirs: ProtocolRange, peer: string): Negotiated {
  const version = Math.min(ours.max, theirs.max)
  if (version >= Math.max(ours.min, theirs.min)) return { version }
  return {
    refused:
      `${peer} speaks protocol versions ${formatRange(theirs)}, this node ${formatRange(ours)}: no version in common, ` +
      `so ${peer} is not a member (upgrade the older side; a rolling upgrade moves one release at a time)`,
  }
}
