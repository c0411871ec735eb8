// CSRF protection: every request that changes something carries the session's token in the
// x-csrf-token header. A cross-site page can make the browser send the cookie, not read the token.
import { timingSafeEqual } from 'node:crypto'
import type { Session } from './sessions.js'

export const CSRF_HEADER = 'x-csrf-token'

/** Whether the header carries the session's CSRF token (constant-time compare). */
export function csrfMatches(s: Session, header: unknown): boolean {
  if (typeof header !== 'string') return false
  const a = Buffer.from(header)
  const b = Buffer.from(s.csrfToken)
  return a.length === b.length && timingSafeEqual(a, b)
}
