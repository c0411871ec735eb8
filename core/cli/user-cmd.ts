// mccs user list | add <user> [--role R] | delete <user> | passwd [<user>]: the console accounts from the
// command line, through this node's console API (GET/POST /api/users, DELETE /api/users/:user, POST
// /api/password) after a login, so the rules are the console's to the letter: who may (administrators),
// the password rules, the login limits, the one replicated account store, the same errors. Passwords are
// never arguments: asked on the terminal without echo, or read from stdin one per line (secret-input.ts).
import type { Bootstrap } from '../config/bootstrap.js'
import { MccsError, statusOf } from '../errors.js'
import { t, type Locale, type MessageKey } from '../i18n/messages.js'
import { formatTime } from '../i18n/time.js'
import { ACCOUNT_ROLES, DEFAULT_USER, USER_RE } from '../console/auth/accounts.js'
import { MAX_PASSWORD_LENGTH, PASSWORD_RULE_IDS, SPECIALS } from '../console/auth/password-rules.js'
import { ConsoleClient, consoleTarget, type ConsoleTarget } from './console-client.js'
import { secretSource, type SecretSource } from './secret-input.js'
import { cliLocale } from './lang.js'
import { failed } from './error-line.js'
import { table } from './table.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'

export interface UserOptions {
  json: boolean
  lang?: unknown
  /** --as: the account that logs in for list, add and delete. */
  as?: unknown
  role?: unknown
  /** Every option given (a password given as one, --password=..., is refused, not ignored). */
  options?: string[]
}

const USER_OPTIONS = new Set(['json', 'lang', 'as', 'role', 'help'])

interface UserRow {
  user: string
  role: string
  changedAt: string | null
  self: boolean
}

export async function userCommand(
  args: string[],
  b: Bootstrap,
  o: UserOptions,
  io: CliIO,
  deps: { secrets?: SecretSource; target?: ConsoleTarget } = {},
): Promise<number> {
  const configDir = async () => b.configDir
  let locale: Locale = 'en'
  try {
    locale = await cliLocale(o.lang, configDir)
    const [verb, name, ...extra] = args
    const known = verb === 'list' || verb === 'add' || verb === 'delete' || verb === 'passwd'
    const wantsName = verb === 'add' || verb === 'delete'
    if (!known || extra.length > 0 || (wantsName && name === undefined) || (verb === 'list' && name !== undefined)) {
      io.err(t(locale, 'cli.user.usage'))
      return EXIT.USAGE
    }
    const unknown = (o.options ?? []).find((k) => !USER_OPTIONS.has(k))
    if (unknown !== undefined)
      throw new MccsError('MCCS_ERR_INVALID', 'not an option of mccs user (passwords are asked for, never given as arguments)', {
        field: `--${unknown}`,
      })
    // Every argument is checked before a password is asked for (the API checks them again).
    const as = checkId(o.as ?? DEFAULT_USER, '--as')
    const target = name === undefined ? undefined : checkId(name, '<user>')
    if (o.role !== undefined && verb !== 'add')
      throw new MccsError('MCCS_ERR_INVALID', 'only mccs user add takes a role', { field: '--role' })
    if (o.as !== undefined && verb === 'passwd')
      throw new MccsError('MCCS_ERR_INVALID', 'mccs user passwd logs in as the user whose password it changes: give it as <user>', {
        field: '--as',
      })
    const role = o.role ?? 'operator'
    if (typeof role !== 'string' || !(ACCOUNT_ROLES as readonly string[]).includes(role))
      throw new MccsError('MCCS_ERR_INVALID', `must be one of ${ACCOUNT_ROLES.join(', ')}`, { field: '--role' })

    const client = new ConsoleClient(deps.target ?? (await consoleTarget(b)))
    const secrets = deps.secrets ?? secretSource()
    const tr = (key: MessageKey, p?: Record<string, string | number>) => t(locale, key, p)
    try {
      if (verb === 'passwd') {
        const who = target ?? DEFAULT_USER
        const current = await secrets.ask(tr('cli.user.prompt.current', { user: who }), 'current password')
        await client.login(who, current)
        const next = await newPassword(secrets, who, tr, io)
        await client.call('POST', '/api/password', { current, next })
        if (o.json) io.out(JSON.stringify({ user: who, changed: true }))
        else io.out(tr('cli.user.changed', { user: who }))
        return EXIT.OK
      }
      await client.login(as, await secrets.ask(tr('cli.user.prompt.login', { user: as }), 'login password'))
      if (verb === 'list') {
        const r = (await client.call('GET', '/api/users')).body as { users: UserRow[] }
        if (o.json) io.out(JSON.stringify(r))
        else
          io.out(
            table(
              [tr('ui.users.user'), tr('ui.users.role'), tr('ui.users.changed')],
              r.users.map((u) => [
                u.self ? `${u.user} ${tr('ui.users.you')}` : u.user,
                isRole(u.role) ? tr(`ui.users.role.${u.role}`) : u.role,
                u.changedAt === null ? tr('ui.users.never') : formatTime(locale, u.changedAt),
              ]),
            ),
          )
        return EXIT.OK
      }
      if (verb === 'add') {
        const password = await newPassword(secrets, target!, tr, io)
        await client.call('POST', '/api/users', { user: target, password, role })
        if (o.json) io.out(JSON.stringify({ user: target, role }))
        else io.out(tr('cli.user.added', { user: target!, role: tr(`ui.users.role.${role as 'admin' | 'operator'}`) }))
        return EXIT.OK
      }
      await client.call('DELETE', `/api/users/${encodeURIComponent(target!)}`)
      if (o.json) io.out(JSON.stringify({ user: target, deleted: true }))
      else io.out(tr('cli.user.deleted', { user: target! }))
      return EXIT.OK
    } finally {
      await client.logout()
    }
  } catch (err) {
    const code = await failed('user', err, locale, configDir, io)
    const e = err as { code?: string }
    if (code === EXIT.AGENT_DOWN) return code
    if (e.code === 'MCCS_ERR_INVALID' && /^(--|<|stdin|terminal)/.test((err as MccsError).field ?? '')) return EXIT.USAGE
    // Refused by the console (4xx: the caller's request or the state it met), else failed.
    const status = statusOf(e.code)
    return status >= 400 && status < 500 ? EXIT.REJECTED : EXIT.FAILED
  }
}

const isRole = (r: string): r is 'admin' | 'operator' => (ACCOUNT_ROLES as readonly string[]).includes(r)

function checkId(v: unknown, field: string): string {
  if (typeof v !== 'string' || !USER_RE.test(v))
    throw new MccsError('MCCS_ERR_INVALID', 'must be 1-64 letters, digits or _ . @ -', { field })
  return v
}

/** The new password: on a terminal the rules are shown first and it is typed twice; from stdin, one line. */
async function newPassword(
  secrets: SecretSource,
  user: string,
  tr: (key: MessageKey, p?: Record<string, string | number>) => string,
  io: CliIO,
): Promise<string> {
  if (secrets.terminal) {
    const rules = PASSWORD_RULE_IDS.map((id) => `  - ${tr(`ui.pw.rule.${id}`, { specials: SPECIALS, user, max: MAX_PASSWORD_LENGTH })}`)
    io.err([tr('ui.pw.rules'), ...rules].join('\n'))
  }
  const next = await secrets.ask(tr('cli.user.prompt.next', { user }), 'new password')
  if (secrets.terminal && (await secrets.ask(tr('cli.user.prompt.again'), 'new password again')) !== next)
    throw new MccsError('MCCS_ERR_INVALID', tr('ui.pw.differ'), { field: 'terminal' })
  return next
}
