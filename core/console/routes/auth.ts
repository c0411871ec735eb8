// POST /api/login, POST /api/logout, GET /api/session, POST /api/password, POST /api/password/postpone.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { MccsError } from '../../errors.js'
import type { Session } from '../auth/sessions.js'
import type { RouteDeps } from './deps.js'
import { sessionOf } from './deps.js'
import { audited } from '../audit.js'

export const SESSION_COOKIE = 'mccs_session'
const COOKIE = { httpOnly: true, secure: true, sameSite: 'strict', path: '/' } as const

const user = { type: 'string', minLength: 1, maxLength: 64 } as const
const password = { type: 'string', minLength: 1, maxLength: 256 } as const

export function sessionView(deps: RouteDeps, s: Session) {
  const due = deps.accounts.changeDue(s.user)
  return {
    user: s.user,
    mustChangePassword: due !== null,
    passwordChangeReason: due,
    canPostpone: deps.accounts.canPostpone(s.user),
    csrfToken: s.csrfToken,
    expiresAt: new Date(deps.sessions.expiresAt(s)).toISOString(),
  }
}

export function registerAuthRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const log = deps.agent.log

  app.post<{ Body: { user: string; password: string } }>('/api/login', {
    config: { auth: 'public' },
    schema: {
      summary: 'Log in: sets the mccs_session cookie and returns the CSRF token',
      body: { type: 'object', additionalProperties: false, required: ['user', 'password'], properties: { user, password } },
    },
  }, async (req, reply) => {
    const { user: name, password: pw } = req.body
    const wait = deps.limiter.retryAfterS(name, req.ip)
    if (wait > 0) {
      reply.header('retry-after', String(wait))
      throw new MccsError('MCCS_ERR_RATE_LIMITED', `too many failed logins for this user from this address; try again in ${wait} s`)
    }
    if (!(await deps.accounts.verify(name, pw))) {
      deps.limiter.fail(name, req.ip)
      log.log('warn', 'console login failed', { user: name, ip: req.ip })
      throw new MccsError('MCCS_ERR_LOGIN_FAILED', 'wrong user name or password')
    }
    deps.limiter.succeed(name, req.ip)
    const { id, session } = deps.sessions.create(name, req.ip)
    log.log('info', 'console login', { user: name, ip: req.ip })
    reply.setCookie(SESSION_COOKIE, id, COOKIE)
    return sessionView(deps, session)
  })

  app.post('/api/logout', {
    config: { auth: 'pending' },
    schema: { summary: 'Log out: ends the session' },
  }, async (req, reply) => {
    log.log('info', 'console logout', { user: sessionOf(req).user, ip: req.ip })
    deps.sessions.destroy(req.cookies[SESSION_COOKIE])
    reply.clearCookie(SESSION_COOKIE, COOKIE)
    return reply.code(204).send()
  })

  app.get('/api/session', {
    config: { auth: 'pending' },
    schema: { summary: 'The session: user, whether the password must be changed, CSRF token, expiry' },
  }, async (req) => sessionView(deps, sessionOf(req)))

  app.post<{ Body: { current: string; next: string } }>('/api/password', {
    config: { auth: 'pending' },
    schema: {
      summary: 'Change the password (rules: docs/console.md); ends the user\'s other sessions',
      body: { type: 'object', additionalProperties: false, required: ['current', 'next'], properties: { current: password, next: { type: 'string', maxLength: 256 } } },
    },
  }, async (req, reply) => changePassword(deps, req, reply))

  app.post('/api/password/postpone', {
    config: { auth: 'pending' },
    schema: { summary: '"Change next time": postpones an expired password\'s change once, for another 90 days' },
  }, async (req, reply) => {
    const s = sessionOf(req)
    await audited(deps.agent, { user: s.user, command: 'passwordPostpone', target: s.user }, () => deps.accounts.postpone(s.user))
    log.log('info', 'console password change postponed', { user: s.user })
    return reply.code(204).send()
  })
}

async function changePassword(deps: RouteDeps, req: FastifyRequest<{ Body: { current: string; next: string } }>, reply: FastifyReply) {
  const s = sessionOf(req)
  const wait = deps.limiter.retryAfterS(s.user, req.ip)
  if (wait > 0) {
    reply.header('retry-after', String(wait))
    throw new MccsError('MCCS_ERR_RATE_LIMITED', `too many wrong passwords; try again in ${wait} s`)
  }
  try {
    await audited(deps.agent, { user: s.user, command: 'passwordChange', target: s.user }, () => deps.accounts.change(s.user, req.body.current, req.body.next))
  } catch (e) {
    if (e instanceof MccsError && e.field === '/current') deps.limiter.fail(s.user, req.ip)
    throw e
  }
  deps.sessions.destroyUser(s.user, s)
  deps.agent.log.log('info', 'console password changed', { user: s.user })
  return reply.code(204).send()
}
