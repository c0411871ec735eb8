// Server-side sessions: the cookie holds a random 256-bit id and nothing else; the store keys sessions
// by the id's SHA-256, so the ids themselves are not kept in memory. A session ends after `idleMs`
// without a request or `absoluteMs` after login, whichever comes first. An unknown id is simply not found.
// With a file, sessions survive an agent restart (an upgrade must not log every operator out): the file
// holds the same hashed keys (never a usable id), mode 0600, replaced atomically; a change is written at
// once, a session's last-seen time at most every few seconds (an idle session then expires a little early,
// never late). A missing or unreadable file starts empty: everyone logs in again, nothing else is lost.
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../../config/atomic.js'

export interface Session {
  user: string
  csrfToken: string
  createdAt: number
  lastSeen: number
  ip: string
}

export interface SessionOptions {
  idleMs: number
  absoluteMs: number
  now?: () => number
  file?: string
}

/** Last-seen times reach the file at most this often. */
const TOUCH_WRITE_MS = 5000

const ID_RE = /^[A-Za-z0-9_-]{43}$/

export class SessionStore {
  private readonly sessions = new Map<string, Session>()
  private readonly now: () => number
  private timer: NodeJS.Timeout | null = null
  private writing: Promise<void> = Promise.resolve()
  private readonly ended = new Set<(s: Session, reason: string) => void>()
  private expiry: NodeJS.Timeout | null = null
  constructor(readonly o: SessionOptions) {
    this.now = o.now ?? Date.now
  }

  /** Ends expired sessions as they expire, not only at their next request: an open event stream of an
   *  idle session then ends with the reason `expired` and the console says so. Stopped by close(). */
  watchExpiry(everyMs = 1000): void {
    if (this.expiry) return
    this.expiry = setInterval(() => this.sweep(), everyMs)
    this.expiry.unref()
  }

  /** Stops the expiry watch and writes pending changes (the console's close). */
  async close(): Promise<void> {
    if (this.expiry) clearInterval(this.expiry)
    this.expiry = null
    await this.flush()
  }

  /** A store that reads the sessions kept in `o.file` (if any) and keeps them there. */
  static async open(o: SessionOptions): Promise<SessionStore> {
    const store = new SessionStore(o)
    if (o.file) {
      const doc = await readFile(o.file, 'utf8').then(
        (t) => JSON.parse(t) as unknown,
        () => null,
      )
      if (doc && typeof doc === 'object' && !Array.isArray(doc)) {
        for (const [k, v] of Object.entries(doc as Record<string, unknown>)) if (isSession(v) && ID_RE.test(k)) store.sessions.set(k, v) // keys: SHA-256 in base64url, 43 characters too
      }
      store.sweep()
    }
    return store
  }

  /** Writes pending changes now (the console's close). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = null
      this.write()
    }
    await this.writing
  }

  private save(delayMs: number): void {
    if (!this.o.file || this.timer) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.write()
    }, delayMs)
    this.timer.unref()
  }

  private write(): void {
    const file = this.o.file!
    const text = JSON.stringify(Object.fromEntries(this.sessions))
    this.writing = this.writing
      .then(() => writeFileAtomic(file, text, 0o600))
      .catch(() => {
        /* kept in memory; retried with the next change */
      })
  }

  private static key(id: string): string {
    return createHash('sha256').update(id).digest('base64url')
  }

  create(user: string, ip: string): { id: string; session: Session } {
    this.sweep()
    const id = randomBytes(32).toString('base64url')
    const t = this.now()
    const session: Session = { user, ip, csrfToken: randomBytes(32).toString('base64url'), createdAt: t, lastSeen: t }
    this.sessions.set(SessionStore.key(id), session)
    this.saveNow()
    return { id, session }
  }

  /** The live session of this id (its idle timer restarted), or undefined. */
  touch(id: string | undefined): Session | undefined {
    if (!id || !ID_RE.test(id)) return undefined
    const key = SessionStore.key(id)
    const s = this.sessions.get(key)
    if (!s) return undefined
    const t = this.now()
    if (this.expiresAt(s) <= t) {
      this.sessions.delete(key)
      this.saveNow()
      this.tell(s, 'expired')
      return undefined
    }
    s.lastSeen = t
    this.save(TOUCH_WRITE_MS)
    return s
  }

  expiresAt(s: Session): number {
    return Math.min(s.lastSeen + this.o.idleMs, s.createdAt + this.o.absoluteMs)
  }

  destroy(id: string | undefined, reason = 'logout'): void {
    if (!id || !ID_RE.test(id)) return
    const key = SessionStore.key(id)
    const s = this.sessions.get(key)
    if (!s) return
    this.sessions.delete(key)
    this.saveNow()
    this.tell(s, reason)
  }

  /** Ends every session of the user except the one given (a password change, here or on another node). */
  destroyUser(user: string, keep?: Session, reason = 'passwordChanged'): void {
    const gone: Session[] = []
    for (const [k, s] of this.sessions)
      if (s.user === user && s !== keep) {
        this.sessions.delete(k)
        gone.push(s)
      }
    this.saveNow()
    for (const s of gone) this.tell(s, reason)
  }

  /** Told when a session is ended by a logout or a change (its event streams end with the reason). */
  onEnded(f: (s: Session, reason: string) => void): () => void {
    this.ended.add(f)
    return () => this.ended.delete(f)
  }

  private tell(s: Session, reason: string): void {
    for (const f of [...this.ended]) f(s, reason)
  }

  /** A logout or a password change reaches the file at once, even if a last-seen write is waiting. */
  private saveNow(): void {
    if (!this.o.file) return
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = null
    }
    this.write()
  }

  get size(): number {
    return this.sessions.size
  }

  private sweep(): void {
    const t = this.now()
    const gone: Session[] = []
    for (const [k, s] of this.sessions)
      if (this.expiresAt(s) <= t) {
        this.sessions.delete(k)
        gone.push(s)
      }
    if (!gone.length) return
    this.saveNow()
    for (const s of gone) this.tell(s, 'expired')
  }
}

function isSession(v: unknown): v is Session {
  const s = v as Partial<Session> | null
  return (
    !!s &&
    typeof s === 'object' &&
    typeof s.user === 'string' &&
    typeof s.csrfToken === 'string' &&
    typeof s.ip === 'string' &&
    Number.isFinite(s.createdAt) &&
    Number.isFinite(s.lastSeen)
  )
}
