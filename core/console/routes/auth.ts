// POST /api/login, POST /api/logout, POST /api/logout/everywhere, GET /api/session, PUT /api/preferences, POST /api/password,
// POST /api/password/postpone.
import { createHmac, randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { MccsError } from '../../errors.js'
import type { Session } from '../auth/sessions.js'
import type { RouteDeps } from './deps.js'
import { sessionOf } from './deps.js'
import { isLoopback } from '../auth/rate-limit.js'
import { audited } from '../audit.js'
import { userLanguage } from '../language.js'
import { LOCALES, type Locale } from '../../i18n/messages.js'

export const SESSION_COOKIE = 'mccs_session'
const COOKIE = { httpOnly: true, secure: true, sameSite: 'strict', path: '/' } as const

/** The body limit of the login and password routes (a 256-character password fully \u-escaped is 1.5 KiB). */
const SMALL_BODY = 4096

const user = { type: 'string', minLength: 1, maxLength: 64 } as const
const password = { type: 'string', minLength: 1, maxLength: 256 } as const

export function sessionView(deps: RouteDeps, s: Session) {
  const due = deps.accounts.changeDue(s.user)
  return {
    user: s.user,
    /** Whether File → Users (add and delete accounts) is offered. */
    admin: deps.accounts.isAdmin(s.user),
    mustChangePassword: due !== null,
    passwordChangeReason: due,
    canPostpone: deps.accounts.canPostpone(s.user),
    csrfToken: s.csrfToken,
    expiresAt: new Date(deps.sessions.expiresAt(s)).toISOString(),
    /** The console language of this user (their Preferences, else the product's) and the product's. */
    lang: userLanguage(deps.accounts, deps.productLang, s.user),
    productLang: deps.productLang,
  }
}

export function registerAuthRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const log = deps.agent.log

  app.post<{ Body: { user: string; password: string } }>(
    '/api/login',
    {
      config: { auth: 'public' },
      bodyLimit: SMALL_BODY, // public: a user name and a password, nothing more is read
      schema: {
        summary: 'Log in: sets the mccs_session cookie and returns the CSRF token',
        body: { type: 'object', additionalProperties: false, required: ['user', 'password'], properties: { user, password } },
      },
    },
    async (req, reply) => {
      const { user: name, password: pw } = req.body
      refuseIfLimited(deps, reply, name, req.ip)
      let ok: boolean
      try {
        ok = await deps.accounts.verify(name, pw, { login: true })
      } catch (e) {
        if (e instanceof MccsError && e.code === 'MCCS_ERR_BUSY') reply.header('retry-after', '1')
        throw e
      }
      if (!ok) {
        const effect = deps.limiter.fail(name, req.ip)
        log.log('warn', 'console login failed', { user: loggedName(deps, name), ip: req.ip })
        if (effect.lockedUntil) lockedLog(deps, name, effect.lockedUntil)
        throw new MccsError('MCCS_ERR_LOGIN_FAILED', 'wrong user name or password')
      }
      // mcuser/mccs is in the manual: until it is changed it opens a session only from the node itself
      // (the console listens on loopback only meanwhile; this holds behind a proxy or tunnel too).
      if (deps.accounts.changeDue(name) === 'initial' && !isLoopback(req.ip)) {
        log.log('warn', 'console login with the shipped default password refused from the network', { user: name, ip: req.ip })
        const port = deps.settings.port || 11080
        throw new MccsError(
          'MCCS_ERR_PASSWORD_CHANGE_REQUIRED',
          `the shipped default password is accepted only from the node itself: open https://127.0.0.1:${port}/main ` +
            `on the node (for example through ssh -L ${port}:127.0.0.1:${port} <node>) and change it there`,
          { subject: name },
        )
      }
      deps.limiter.succeed(name, req.ip)
      const { id, session } = deps.sessions.create(name, req.ip)
      log.log('info', 'console login', { user: name, ip: req.ip })
      reply.setCookie(SESSION_COOKIE, id, COOKIE)
      return sessionView(deps, session)
    },
  )

  app.post(
    '/api/logout',
    {
      config: { auth: 'pending' },
      bodyLimit: SMALL_BODY,
      schema: { summary: 'Log out: ends the session' },
    },
    async (req, reply) => {
      log.log('info', 'console logout', { user: sessionOf(req).user, ip: req.ip })
      deps.sessions.destroy(req.cookies[SESSION_COOKIE])
      reply.clearCookie(SESSION_COOKIE, COOKIE)
      return reply.code(204).send()
    },
  )

  app.post(
    '/api/logout/everywhere',
    {
      config: { auth: 'pending' },
      bodyLimit: SMALL_BODY,
      schema: { summary: 'Log out everywhere: ends every session of the user on every node of the cluster (their event streams say why)' },
    },
    async (req, reply) => {
      const s = sessionOf(req)
      await audited(deps.agent, { user: s.user, command: 'logoutEverywhere', target: s.user }, () =>
        deps.accounts.endSessionsEverywhere(s.user),
      )
      deps.sessions.destroyUser(s.user, undefined, 'logoutEverywhere') // here too when there is no cluster to come back from
      log.log('info', 'console logout everywhere', { user: s.user, ip: req.ip })
      reply.clearCookie(SESSION_COOKIE, COOKIE)
      return reply.code(204).send()
    },
  )

  app.get(
    '/api/session',
    {
      config: { auth: 'pending' },
      schema: { summary: 'The session: user, whether the password must be changed, CSRF token, expiry' },
    },
    async (req) => sessionView(deps, sessionOf(req)),
  )

  app.post<{ Body: { current: string; next: string } }>(
    '/api/password',
    {
      config: { auth: 'pending' },
      bodyLimit: SMALL_BODY,
      schema: {
        summary: "Change the password (rules: docs/console.md); ends the user's other sessions",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['current', 'next'],
          properties: { current: password, next: { type: 'string', maxLength: 256 } },
        },
      },
    },
    async (req, reply) => changePassword(deps, req, reply),
  )

  app.put<{ Body: { lang: Locale } }>(
    '/api/preferences',
    {
      config: { auth: 'pending' },
      bodyLimit: SMALL_BODY,
      schema: {
        summary: "The session user's console preferences: lang (ko or en), kept per user in accounts.json",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['lang'],
          properties: { lang: { type: 'string', enum: [...LOCALES] } },
        },
      },
    },
    async (req) => {
      const s = sessionOf(req)
      await deps.accounts.setLanguage(s.user, req.body.lang)
      log.log('info', 'console language chosen', { user: s.user, lang: req.body.lang })
      return sessionView(deps, s)
    },
  )

  app.post(
    '/api/password/postpone',
    {
      config: { auth: 'pending' },
      bodyLimit: SMALL_BODY,
      schema: { summary: '"Change next time": postpones an expired password\'s change once, for another 90 days' },
    },
    async (req, reply) => {
      const s = sessionOf(req)
      await audited(deps.agent, { user: s.user, command: 'passwordPostpone', target: s.user }, () => deps.accounts.postpone(s.user))
      log.log('info', 'console password change postponed', { user: s.user })
      return reply.code(204).send()
    },
  )
}

async function changePassword(deps: RouteDeps, req: FastifyRequest<{ Body: { current: string; next: string } }>, reply: FastifyReply) {
  const s = sessionOf(req)
  refuseIfLimited(deps, reply, s.user, req.ip)
  try {
    await audited(deps.agent, { user: s.user, command: 'passwordChange', target: s.user }, () =>
      deps.accounts.change(s.user, req.body.current, req.body.next),
    )
  } catch (e) {
    if (e instanceof MccsError && e.field === '/current') {
      const effect = deps.limiter.fail(s.user, req.ip)
      if (effect.lockedUntil) lockedLog(deps, s.user, effect.lockedUntil)
    }
    throw e
  }
  deps.sessions.destroyUser(s.user, s)
  deps.agent.log.log('info', 'console password changed', { user: s.user })
  return reply.code(204).send()
}

/** Refuses (429 with Retry-After) when a login limit holds, before any password is hashed. */
function refuseIfLimited(deps: RouteDeps, reply: FastifyReply, name: string, ip: string): void {
  const r = deps.limiter.check(name, ip)
  if (!r) return
  reply.header('retry-after', String(r.waitS))
  const { max, perAddress, global, windowMs } = deps.settings.loginLimit
  const window = `${Math.round(windowMs / 60_000)} minutes`
  switch (r.kind) {
    case 'locked':
      throw new MccsError(
        'MCCS_ERR_ACCOUNT_LOCKED',
        `this account is locked after ${deps.settings.loginLimit.perAccount} failed logins until ${new Date(r.until).toISOString().replace(/\.\d+Z$/, 'Z')} (in ${r.waitS} s); ` +
          'the right password is refused too until then. A login from the node itself (127.0.0.1, e.g. through an SSH tunnel) is still allowed',
        { subject: name },
      )
    case 'global':
      throw new MccsError(
        'MCCS_ERR_RATE_LIMITED',
        `more than ${global} failed logins on this console from all addresses in ${window}; logins are refused for ${r.waitS} s (from the node itself they are still allowed)`,
      )
    case 'address':
      throw new MccsError(
        'MCCS_ERR_RATE_LIMITED',
        `more than ${perAddress} failed logins from this address in ${window}; try again in ${r.waitS} s`,
      )
    default:
      throw new MccsError(
        'MCCS_ERR_RATE_LIMITED',
        `${max} failed logins for this user from this address in ${window}; try again in ${r.waitS} s`,
      )
  }
}

/** Process-wide random key: the same mistyped name shows as the same tag, and the tag reveals nothing. */
const NAME_TAG_KEY = randomBytes(32)

/** A name that is an account is logged as it is; anything else often is a password typed in the wrong
 *  field, so only a keyed tag of it is (equal tags: the same text, within one agent run). */
function loggedName(deps: RouteDeps, name: string): string {
  if (deps.accounts.get(name)) return name
  return `(not an account: ${createHmac('sha256', NAME_TAG_KEY).update(name).digest('hex').slice(0, 8)})`
}

function lockedLog(deps: RouteDeps, name: string, until: number): void {
  deps.agent.log.log('warn', 'console account locked', {
    user: loggedName(deps, name),
    failures: deps.settings.loginLimit.perAccount,
    until: new Date(until).toISOString(),
    note: 'logins for this name are refused until then, except from the node itself',
  })
}
