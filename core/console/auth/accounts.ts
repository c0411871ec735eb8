// Console accounts: <home>/config/accounts.json (mode 0600, replaced atomically). Only KDF hashes are
// stored — the current one and every earlier one, so that no earlier password can be used again.
// The default account mcuser/mccs must change its password at the first login (manual 5.2); a password
// expires after 90 days, and "change next time" postpones that once (docs/console.md).
// In a cluster the file is one document for every node (issue 18): each change goes through the
// coordinator with the generation it was made on (core/agent/account-sync.ts) and comes back as the
// document in force; a document taken from elsewhere ends the sessions of the users whose password
// changed or who are gone.
import { readFile, mkdir, chmod } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../../config/atomic.js'
import { MccsError } from '../../errors.js'
import { hashPassword, verifyPassword, DEFAULT_KDF, type KdfParams } from './kdf.js'
import { KdfGate } from './kdf-gate.js'
import { passwordRuleViolation, MAX_PASSWORD_LENGTH } from './password-rules.js'
import { isLocale, LOCALES, type Locale } from '../../i18n/messages.js'
import type { AccountReplica, AccountsDoc } from '../../agent/account-sync.js'

export const DEFAULT_USER = 'mcuser'
export const DEFAULT_PASSWORD = 'mccs'
export const PASSWORD_MAX_AGE_MS = 90 * 86_400_000

export interface Account {
  hash: string
  /** Hashes of every earlier password, oldest first. */
  previous: string[]
  /** When the current password was set; null for the shipped default (it must be changed). */
  changedAt: string | null
  /** Set by "change next time" on an expired password; cleared by the next change. */
  postponedAt?: string
  /** The console language this user chose in Preferences; absent: the product language. */
  lang?: Locale
  /** "Log out everywhere": when the user last ended every session on every node. */
  sessionsEndedAt?: string
  /** What the user may do: an administrator also adds and deletes accounts. Absent: an administrator
   *  (every account made before roles existed was one, and the shipped mcuser is one). */
  role?: AccountRole
}

/** An administrator manages accounts; an operator runs the cluster but cannot add or delete users. */
export const ACCOUNT_ROLES = ['admin', 'operator'] as const
export type AccountRole = (typeof ACCOUNT_ROLES)[number]
export const roleOf = (a: Readonly<Account>): AccountRole => a.role ?? 'admin'

interface AccountsFile {
  version: 1
  /** Raised by every change; the newest wins between nodes (absent in files from before: 0). */
  generation?: number
  users: Record<string, Account>
}

/** Why a user's sessions end because of a change made elsewhere. */
export type EndReason = 'passwordChanged' | 'userDeleted' | 'logout' | 'logoutEverywhere'

/** Where changes are committed in a cluster (AccountSync): returns the generation committed. */
export interface AccountCommitter {
  commit(users: Record<string, unknown>, expectGeneration: number): Promise<number>
}

const MAX_USERS = 256
const MAX_PREVIOUS = 1024
export const USER_RE = /^[A-Za-z0-9_.@-]{1,64}$/
const HASH_RE = /^scrypt\$[0-9$A-Za-z_-]{1,200}$/

/** Why a password change is due: the shipped default, or expiry. */
export type ChangeReason = 'initial' | 'expired'

export interface AccountsOptions {
  now?: () => number
  kdf?: KdfParams
  gate?: KdfGate
}

export class AccountStore {
  private data: AccountsFile = { version: 1, users: {} }
  private readonly now: () => number
  private readonly kdf: KdfParams
  private writing: Promise<void> = Promise.resolve()
  private readonly changed: Array<(user: string) => void> = []
  private readonly ended: Array<(user: string, reason: EndReason) => void> = []
  private committer: AccountCommitter | null = null
  /** Hashes made by a change on this node, not yet back from the coordinator (no session is ended for them). */
  private readonly ownHashes = new Set<string>()
  /** Compared against when the user is unknown, so a login takes as long either way. */
  private dummyHash = ''
  /** Every hash computed here goes through it (logins are turned away when it is full). */
  readonly gate: KdfGate

  constructor(
    readonly file: string,
    o: AccountsOptions = {},
  ) {
    this.now = o.now ?? Date.now
    this.kdf = o.kdf ?? DEFAULT_KDF
    this.gate = o.gate ?? new KdfGate()
  }

  private hash(password: string): Promise<string> {
    return this.gate.run(() => hashPassword(password, this.kdf))
  }

  /** Reads the file, or creates it with the default account. A damaged file is an error, never reset. */
  async load(): Promise<void> {
    this.dummyHash = await this.hash('not a password of anyone')
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      this.data = { version: 1, users: { [DEFAULT_USER]: { hash: await this.hash(DEFAULT_PASSWORD), previous: [], changedAt: null } } }
      await this.save()
      return
    }
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch (e) {
      throw new MccsError('MCCS_ERR_CONFIG_SYNTAX', `is not valid JSON: ${(e as Error).message}`, { subject: this.file })
    }
    const checked = checkDoc(doc, this.file)
    this.data = { version: 1, generation: checked.generation, users: checked.users }
    await chmod(this.file, 0o600) // an operator's copy may have come with looser permissions
  }

  users(): string[] {
    return Object.keys(this.data.users)
  }

  get(user: string): Readonly<Account> | undefined {
    return Object.hasOwn(this.data.users, user) ? this.data.users[user] : undefined
  }

  /** Whether user and password match; the KDF runs whether or not the user exists. `login`: refused at
   *  once (MCCS_ERR_BUSY) when the gate is full, instead of queueing behind other logins. */
  async verify(user: string, password: string, o: { login?: boolean } = {}): Promise<boolean> {
    if (password.length > MAX_PASSWORD_LENGTH) return false
    const a = this.get(user)
    const check = () => verifyPassword(password, a?.hash ?? this.dummyHash)
    const ok = await (o.login ? this.gate.tryRun(check) : this.gate.run(check))
    return ok && a !== undefined
  }

  /** Whether the account still has the shipped default password (never changed). */
  hasDefaultPassword(): boolean {
    return Object.values(this.data.users).some((a) => a.changedAt === null)
  }

  /** Why the user must change the password now, or null. */
  changeDue(user: string): ChangeReason | null {
    const a = this.get(user)
    if (!a) return null
    if (a.changedAt === null) return 'initial'
    const from = Date.parse(a.postponedAt ?? a.changedAt)
    return this.now() - from >= PASSWORD_MAX_AGE_MS ? 'expired' : null
  }

  /** "Change next time": allowed once per password, and only when it is due by expiry. */
  canPostpone(user: string): boolean {
    const a = this.get(user)
    return !!a && this.changeDue(user) === 'expired' && a.postponedAt === undefined
  }

  async postpone(user: string): Promise<void> {
    if (!this.canPostpone(user)) {
      throw new MccsError(
        'MCCS_ERR_CONFLICT',
        this.changeDue(user) === 'initial'
          ? 'the default password must be changed now; it cannot be postponed'
          : this.changeDue(user) === null
            ? 'the password is not due for a change'
            : 'the change was postponed once already; change the password now',
        { field: '/postpone', subject: user },
      )
    }
    await this.write({ ...this.data.users, [user]: { ...this.data.users[user]!, postponedAt: new Date(this.now()).toISOString() } })
  }

  /** Changes the password after checking the current one, the rules (the user id not inside it) and
   *  every earlier password. Nothing is written when any check fails. */
  async change(user: string, current: string, next: string): Promise<void> {
    if (!(await this.verify(user, current))) throw new MccsError('MCCS_ERR_INVALID', 'the current password is wrong', { field: '/current' })
    const rule = passwordRuleViolation(next, user)
    if (rule) throw new MccsError('MCCS_ERR_PASSWORD_RULE', rule, { field: '/next' })
    const a = this.data.users[user]!
    const used = await Promise.all([a.hash, ...a.previous].map((h) => this.gate.run(() => verifyPassword(next, h))))
    if (used.some(Boolean))
      throw new MccsError('MCCS_ERR_PASSWORD_REUSED', 'this password was used before; choose one never used on this account', {
        field: '/next',
      })
    const hash = await this.hash(next)
    this.ownHashes.add(hash)
    try {
      await this.write({
        ...this.data.users,
        [user]: {
          hash,
          previous: [...a.previous, a.hash].slice(-MAX_PREVIOUS),
          changedAt: new Date(this.now()).toISOString(),
          ...(a.lang ? { lang: a.lang } : {}),
        },
      })
    } finally {
      this.ownHashes.delete(hash)
    }
    for (const f of this.changed) f(user)
  }

  /** Keeps the user's console language (Preferences); written atomically like every account change. */
  async setLanguage(user: string, lang: Locale): Promise<void> {
    const a = this.data.users[user]
    if (!a) throw new MccsError('MCCS_ERR_NOT_FOUND', 'no such account', { subject: user })
    if (!isLocale(lang)) throw new MccsError('MCCS_ERR_INVALID', `must be one of ${LOCALES.join(', ')}`, { field: '/lang' })
    if (a.lang === lang) return
    await this.write({ ...this.data.users, [user]: { ...a, lang } })
  }

  /** "Log out everywhere": recorded in the replicated document, so every node ends the user's sessions. */
  async endSessionsEverywhere(user: string): Promise<void> {
    const a = this.data.users[user]
    if (!a) throw new MccsError('MCCS_ERR_NOT_FOUND', 'no such account', { subject: user })
    await this.write({ ...this.data.users, [user]: { ...a, sessionsEndedAt: new Date(this.now()).toISOString() } })
  }

  /** Whether the user may add and delete accounts. */
  isAdmin(user: string): boolean {
    const a = this.get(user)
    return !!a && roleOf(a) === 'admin'
  }

  /** A new account, made by an administrator: the id unused and well formed, the password by the rules
   *  (never containing the id). No forced change at its first login: that marks the shipped default,
   *  which keeps the console on loopback (listeners.ts); the user changes it in File → Change password. */
  async addUser(by: string, user: string, password: string, role: AccountRole): Promise<void> {
    this.needAdmin(by)
    if (!USER_RE.test(user))
      throw new MccsError('MCCS_ERR_INVALID', 'must be 1-64 letters, digits or _ . @ -', { field: '/user', subject: user })
    if (this.get(user)) throw new MccsError('MCCS_ERR_CONFLICT', 'an account of this id exists already', { field: '/user', subject: user })
    if (!(ACCOUNT_ROLES as readonly string[]).includes(role))
      throw new MccsError('MCCS_ERR_INVALID', `must be one of ${ACCOUNT_ROLES.join(', ')}`, { field: '/role' })
    const rule = passwordRuleViolation(password, user)
    if (rule) throw new MccsError('MCCS_ERR_PASSWORD_RULE', rule, { field: '/password' })
    if (this.users().length >= MAX_USERS) throw new MccsError('MCCS_ERR_CONFLICT', `at most ${MAX_USERS} accounts`, { field: '/user' })
    const hash = await this.hash(password)
    if (this.get(user)) throw new MccsError('MCCS_ERR_CONFLICT', 'an account of this id exists already', { field: '/user', subject: user })
    await this.write({ ...this.data.users, [user]: { hash, previous: [], changedAt: new Date(this.now()).toISOString(), role } })
  }

  /** Removes an account (an administrator's act): never one's own, never the last administrator. The
   *  user's sessions end on every node (adopt, or the caller here without a cluster). */
  async deleteUser(by: string, user: string): Promise<void> {
    this.needAdmin(by)
    const a = this.get(user)
    if (!a) throw new MccsError('MCCS_ERR_NOT_FOUND', 'no such account', { field: '/user', subject: user })
    if (user === by)
      throw new MccsError('MCCS_ERR_CONFLICT', 'you cannot delete the account you are logged in with', { field: '/user', subject: user })
    const admins = Object.entries(this.data.users).filter(([n, x]) => n !== user && roleOf(x) === 'admin')
    if (roleOf(a) === 'admin' && admins.length === 0)
      throw new MccsError('MCCS_ERR_CONFLICT', 'the last administrator cannot be deleted', { field: '/user', subject: user })
    const users = { ...this.data.users }
    delete users[user]
    await this.write(users)
  }

  private needAdmin(by: string): void {
    if (!this.isAdmin(by)) throw new MccsError('MCCS_ERR_FORBIDDEN', 'only an administrator may add or delete accounts', { subject: by })
  }

  /** Called after every password change (the console widens its listeners once no default is left). */
  onPasswordChanged(f: (user: string) => void): void {
    this.changed.push(f)
  }

  /** Called when a document from elsewhere changed a user's password or removed the user. */
  onSessionsEnded(f: (user: string, reason: EndReason) => void): void {
    this.ended.push(f)
  }

  /** In a cluster: changes go through the coordinator from now on (AccountSync). */
  replicate(c: AccountCommitter): void {
    this.committer = c
  }

  /** The replicated document (AccountReplica). */
  current(): AccountsDoc {
    return { generation: this.data.generation ?? 0, users: this.data.users as unknown as Record<string, unknown> }
  }

  check(doc: unknown): AccountsDoc {
    return checkDoc(doc, 'accounts document')
  }

  /** A document committed by the coordinator (ours or another node's change) or read from a newer peer. */
  async adopt(doc: AccountsDoc, from: string): Promise<void> {
    const before = this.data.users
    const users = checkDoc(doc, `accounts from ${from}`).users
    this.data = { version: 1, generation: doc.generation, users }
    await this.save()
    for (const [name, a] of Object.entries(before)) {
      const now = Object.hasOwn(users, name) ? users[name] : undefined
      if (!now) for (const f of this.ended) f(name, 'userDeleted')
      else if (now.hash !== a.hash) {
        if (!this.ownHashes.has(now.hash)) for (const f of this.ended) f(name, 'passwordChanged')
        for (const f of this.changed) f(name)
      } else if (now.sessionsEndedAt !== a.sessionsEndedAt) for (const f of this.ended) f(name, 'logoutEverywhere')
    }
  }

  /** One change: through the coordinator in a cluster (it comes back through adopt), else here. */
  private async write(users: Record<string, Account>): Promise<void> {
    if (this.committer) {
      await this.committer.commit(users as unknown as Record<string, unknown>, this.data.generation ?? 0)
      return
    }
    this.data = { version: 1, generation: (this.data.generation ?? 0) + 1, users }
    await this.save()
  }

  private save(): Promise<void> {
    const text = JSON.stringify(this.data, null, 2) + '\n'
    const run = this.writing.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o750 })
      await writeFileAtomic(this.file, text, 0o600)
    })
    this.writing = run.catch(() => {})
    return run
  }
}

/** A whole document (the file, or a peer's) checked field by field: size, names and each account's fields. */
function checkDoc(doc: unknown, subject: string): { generation: number; users: Record<string, Account> } {
  const d = doc as { generation?: unknown; users?: unknown } | null
  if (!d || typeof d !== 'object' || Array.isArray(d))
    throw new MccsError('MCCS_ERR_CONFIG_SCHEMA', 'must hold {"version": 1, "users": {...}}', { subject, field: '/' })
  const generation = d.generation ?? 0
  if (!Number.isSafeInteger(generation) || (generation as number) < 0)
    throw new MccsError('MCCS_ERR_CONFIG_SCHEMA', 'must be a whole number from 0', { subject, field: '/generation' })
  const users = d.users
  if (!users || typeof users !== 'object' || Array.isArray(users))
    throw new MccsError('MCCS_ERR_CONFIG_SCHEMA', 'must hold {"version": 1, "users": {...}}', { subject, field: '/users' })
  const names = Object.keys(users)
  if (names.length > MAX_USERS) throw new MccsError('MCCS_ERR_CONFIG_SCHEMA', `at most ${MAX_USERS} accounts`, { subject, field: '/users' })
  for (const name of names) {
    const a = (users as Record<string, Partial<Account> | null>)[name]
    const str = (v: unknown) => typeof v === 'string' && v.length <= 64
    if (
      !USER_RE.test(name) ||
      !a ||
      typeof a !== 'object' ||
      typeof a.hash !== 'string' ||
      !HASH_RE.test(a.hash) ||
      !Array.isArray(a.previous) ||
      a.previous.length > MAX_PREVIOUS ||
      !a.previous.every((h) => typeof h === 'string' && HASH_RE.test(h)) ||
      !(a.changedAt === null || str(a.changedAt)) ||
      !(a.postponedAt === undefined || str(a.postponedAt)) ||
      !(a.sessionsEndedAt === undefined || str(a.sessionsEndedAt)) ||
      !(a.lang === undefined || isLocale(a.lang)) ||
      !(a.role === undefined || (ACCOUNT_ROLES as readonly string[]).includes(a.role))
    ) {
      throw new MccsError(
        'MCCS_ERR_CONFIG_SCHEMA',
        `must be a user id of 1-64 letters, digits or _.@- with hash, previous[] and changedAt (and lang, if any, one of ${LOCALES.join(', ')}; role, if any, one of ${ACCOUNT_ROLES.join(', ')})`,
        { subject, field: `/users/${name}` },
      )
    }
  }
  return { generation: generation as number, users: users as Record<string, Account> }
}
