// Server-side sessions: the cookie holds a random 256-bit id and nothing else; the store keys sessions
// by the id's SHA-256, so the ids themselves are not kept in memory. A session ends after `idleMs`
// without a request or `absoluteMs` after login, whichever comes first. An unknown id is simply not found.
import { createHash, randomBytes } from 'node:crypto'

export interface Session {
  user: string
  csrfToken: string
  createdAt: number
  lastSeen: number
  ip: string
}

export interface SessionOptions { idleMs: number; absoluteMs: number; now?: () => number }

const ID_RE = /^[A-Za-z0-9_-]{43}$/

export class SessionStore {
  private readonly sessions = new Map<string, Session>()
  private readonly now: () => number
  constructor(readonly o: SessionOptions) { this.now = o.now ?? Date.now }

  private static key(id: string): string { return createHash('sha256').update(id).digest('base64url') }

  create(user: string, ip: string): { id: string; session: Session } {
    this.sweep()
    const id = randomBytes(32).toString('base64url')
    const t = this.now()
    const session: Session = { user, ip, csrfToken: randomBytes(32).toString('base64url'), createdAt: t, lastSeen: t }
    this.sessions.set(SessionStore.key(id), session)
    return { id, session }
  }

  /** The live session of this id (its idle timer restarted), or undefined. */
  touch(id: string | undefined): Session | undefined {
    if (!id || !ID_RE.test(id)) return undefined
    const key = SessionStore.key(id)
    const s = this.sessions.get(key)
    if (!s) return undefined
    const t = this.now()
    if (this.expiresAt(s) <= t) { this.sessions.delete(key); return undefined }
    s.lastSeen = t
    return s
  }

  expiresAt(s: Session): number { return Math.min(s.lastSeen + this.o.idleMs, s.createdAt + this.o.absoluteMs) }

  destroy(id: string | undefined): void { if (id) this.sessions.delete(SessionStore.key(id)) }

  /** Ends every session of the user except the one given (after a password change). */
  destroyUser(user: string, keep?: Session): void {
    for (const [k, s] of this.sessions) if (s.user === user && s !== keep) this.sessions.delete(k)
  }

  get size(): number { return this.sessions.size }

  private sweep(): void {
    const t = this.now()
    for (const [k, s] of this.sessions) if (this.expiresAt(s) <= t) this.sessions.delete(k)
  }
}
