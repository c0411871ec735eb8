// Console accounts: <home>/config/accounts.json (mode 0600, replaced atomically). Only KDF hashes are
// stored — the current one and every earlier one, so that no earlier password can be used again.
// The default account mcuser/mccs must change its password at the first login (manual 5.2); a password
// expires after 90 days, and "change next time" postpones that once (docs/console.md).
import { readFile, mkdir, chmod } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../../config/atomic.js'
import { MccsError } from '../../errors.js'
import { hashPassword, verifyPassword, DEFAULT_KDF, type KdfParams } from './kdf.js'
import { KdfGate } from './kdf-gate.js'
import { passwordRuleViolation, MAX_PASSWORD_LENGTH } from './password-rules.js'
import { isLocale, LOCALES, type Locale } from '../../i18n/messages.js'

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
}

interface AccountsFile {
  version: 1
  users: Record<string, Account>
}

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
    const users = (doc as AccountsFile | null)?.users
    if (!users || typeof users !== 'object')
      throw new MccsError('MCCS_ERR_CONFIG_SCHEMA', 'must hold {"version": 1, "users": {...}}', { subject: this.file, field: '/users' })
    for (const [name, a] of Object.entries(users)) {
      if (
        typeof a?.hash !== 'string' ||
        !Array.isArray(a.previous) ||
        !(a.changedAt === null || typeof a.changedAt === 'string') ||
        !(a.lang === undefined || isLocale(a.lang))
      ) {
        throw new MccsError(
          'MCCS_ERR_CONFIG_SCHEMA',
          `must have hash, previous[] and changedAt (and lang, if any, one of ${LOCALES.join(', ')})`,
          {
            subject: this.file,
            field: `/users/${name}`,
          },
        )
      }
    }
    this.data = doc as AccountsFile
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
    this.data.users[user]!.postponedAt = new Date(this.now()).toISOString()
    await this.save()
  }

  /** Changes the password after checking the current one, the rules and every earlier password. */
  async change(user: string, current: string, next: string): Promise<void> {
    if (!(await this.verify(user, current))) throw new MccsError('MCCS_ERR_INVALID', 'the current password is wrong', { field: '/current' })
    const rule = passwordRuleViolation(next)
    if (rule) throw new MccsError('MCCS_ERR_PASSWORD_RULE', rule, { field: '/next' })
    const a = this.data.users[user]!
    const used = await Promise.all([a.hash, ...a.previous].map((h) => this.gate.run(() => verifyPassword(next, h))))
    if (used.some(Boolean))
      throw new MccsError('MCCS_ERR_PASSWORD_REUSED', 'this password was used before; choose one never used on this account', {
        field: '/next',
      })
    const hash = await this.hash(next)
    this.data.users[user] = {
      hash,
      previous: [...a.previous, a.hash],
      changedAt: new Date(this.now()).toISOString(),
      ...(a.lang ? { lang: a.lang } : {}),
    }
    await this.save()
    for (const f of this.changed) f(user)
  }

  /** Keeps the user's console language (Preferences); written atomically like every account change. */
  async setLanguage(user: string, lang: Locale): Promise<void> {
    const a = this.data.users[user]
    if (!a) throw new MccsError('MCCS_ERR_NOT_FOUND', 'no such account', { subject: user })
    if (!isLocale(lang)) throw new MccsError('MCCS_ERR_INVALID', `must be one of ${LOCALES.join(', ')}`, { field: '/lang' })
    if (a.lang === lang) return
    a.lang = lang
    await this.save()
  }

  /** Called after every password change (the console widens its listeners once no default is left). */
  onPasswordChanged(f: (user: string) => void): void {
    this.changed.push(f)
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
