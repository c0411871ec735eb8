// The web console and REST API of one agent: fastify over HTTPS only (port 11080 by default), in the
// agent process. Routes (routes/index.ts) call the same Agent methods as the control socket. Every
// /api route needs a session unless marked public; every request that changes something needs the
// session's CSRF token; while the password must be changed only the session routes answer.
import path from 'node:path'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import cookie from '@fastify/cookie'
import Ajv2020Module from 'ajv/dist/2020.js'
import type { Agent } from '../agent/agent.js'
import type { Bootstrap } from '../config/bootstrap.js'
import { FORMATS } from '../config/ajv.js'
import { MccsError } from '../errors.js'
import { packageRoot } from '../paths.js'
import { AccountStore, DEFAULT_USER } from './auth/accounts.js'
import { ConsoleListeners } from './listeners.js'
import type { ConnectionGate } from './conn-gate.js'
import { SessionStore } from './auth/sessions.js'
import { LoginRateLimit } from './auth/rate-limit.js'
import { csrfMatches, CSRF_HEADER } from './auth/csrf.js'
import { consoleSettings, type ConsoleSettings } from './settings.js'
import { consoleTls, type ConsoleTls } from './tls-cert.js'
import { ConsoleEvents } from './events.js'
import { OpenApiCollector } from './openapi.js'
import { replyError, sendError, statusOf, localizeErrorBody } from './http-errors.js'
import { productLanguage, requestLanguage } from './language.js'
import { nestingProblem } from './json-limits.js'
import { ROUTE_MODULES } from './routes/index.js'
import { SESSION_COOKIE } from './routes/auth.js'
import { ROUTE_AUTH, type RouteAuth, type RouteDeps } from './routes/deps.js'

const Ajv2020 = Ajv2020Module.default
/** The body limit of a route that sets none: enough for any resource or group edit. */
export const DEFAULT_BODY_LIMIT = 256 * 1024
/** Arrays/objects inside each other in a request body: resource attributes are shallow documents. */
export const MAX_BODY_DEPTH = 32
const HSTS = 'max-age=31536000'
/** The UI is one script and one stylesheet from /main/assets (no inline script, style or eval; styles set
 *  through the CSSOM), talking to its own origin (fetch, EventSource). Everything else is refused. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export interface ConsoleOptions {
  /** The clock of sessions, rate limit and password expiry (tests move it). */
  now?: () => number
}

/** One route as the router holds it (every method of it, HEAD ones included). */
export interface RouteInfo {
  method: string
  url: string
  auth: string | undefined
}

export interface ConsoleApp {
  app: FastifyInstance
  deps: RouteDeps
  routes: RouteInfo[]
}

/** The fastify app with every route, not listening (tests use app.inject). */
export async function buildConsole(agent: Agent, settings: ConsoleSettings, o: ConsoleOptions = {}): Promise<ConsoleApp> {
  const now = o.now ?? Date.now
  const accounts = new AccountStore(settings.accountsFile, { now })
  await accounts.load()
  const openapi = new OpenApiCollector()
  const sessions = await SessionStore.open({ ...settings.session, now, file: settings.sessionsFile })
  // One account store for the cluster: changes go through the coordinator; one taken from elsewhere
  // ends the sessions it concerns here.
  accounts.onSessionsEnded((user, reason) => sessions.destroyUser(user, undefined, reason))
  sessions.watchExpiry()
  if (agent.accountSync) {
    accounts.replicate(agent.accountSync)
    agent.accountSync.attach(accounts)
  }
  const deps: RouteDeps = {
    agent,
    settings,
    accounts,
    now,
    openapi,
    productLang: await productLanguage(agent.opts.bootstrap.configDir),
    sessions,
    limiter: new LoginRateLimit({ ...settings.loginLimit, now }),
    events: new ConsoleEvents(agent, { log: settings.logFile, oplog: settings.oplogFile }),
  }
  // The router matches the decoded path exactly: no trailing-slash, duplicate-slash, case or `;` leniency,
  // so one path has one route. Who may call a route comes from the route the router matched (guard).
  const app = Fastify({
    logger: false,
    bodyLimit: DEFAULT_BODY_LIMIT,
    trustProxy: false,
    exposeHeadRoutes: true,
    routerOptions: { caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false },
  })

  // Bodies are checked strictly (no type coercion, unknown properties refused); path and query
  // parameters are strings on the wire and are coerced.
  const bodyAjv = new Ajv2020({
    allErrors: false,
    strict: false,
    verbose: true,
    coerceTypes: false,
    useDefaults: true,
    removeAdditional: false,
    formats: FORMATS,
  })
  const paramAjv = new Ajv2020({
    allErrors: false,
    strict: false,
    verbose: true,
    coerceTypes: true,
    useDefaults: true,
    removeAdditional: false,
    formats: FORMATS,
  })
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema as object))

  // JSON only (a form's text/plain is refused with 415), each route's body limit (routes set their own
  // `bodyLimit`; DEFAULT_BODY_LIMIT otherwise), and the nesting depth checked before JSON.parse runs.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const deep = nestingProblem(body as string, MAX_BODY_DEPTH)
    if (deep) return done(new MccsError('MCCS_ERR_INVALID', deep.reason, { field: deep.field }), undefined)
    parseJson(req, body as string, done)
  })

  // Pending session writes land before the app is closed (an agent stop, a test removing the home).
  app.addHook('onClose', async () => {
    await deps.sessions.close()
  })
  app.decorateRequest('mccsSession', null)
  app.addHook('onRoute', openapi.onRoute)
  const routes: RouteInfo[] = []
  app.addHook('onRoute', (r) => {
    const auth = r.config?.auth
    // A misspelt marking must not quietly become something else: refused when the app is built.
    if (auth !== undefined && !ROUTE_AUTH.includes(auth))
      throw new MccsError('MCCS_ERR_INTERNAL', `route ${r.url}: config.auth must be one of ${ROUTE_AUTH.join(', ')}`)
    for (const m of [r.method].flat()) routes.push({ method: m, url: r.url, auth })
  })
  await app.register(cookie)
  app.addHook('onRequest', async (req, reply) => {
    reply.header('strict-transport-security', HSTS)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('x-frame-options', 'DENY')
    reply.header('referrer-policy', 'same-origin')
    reply.header('content-security-policy', CSP)
    if (!req.routeOptions.config?.hidden) reply.header('cache-control', 'no-store')
    guard(deps, req)
  })
  // A second look right before the handler: nothing but a public route (or GET /metrics, which checks its
  // bearer token first and changes nothing) runs without the session the guard resolved (so the user is
  // known before anything changes).
  app.addHook('preHandler', async (req) => {
    const auth = req.routeOptions.config?.auth ?? 'session'
    if (!req.is404 && auth !== 'public' && auth !== 'metrics-token' && !req.mccsSession)
      throw new MccsError('MCCS_ERR_UNAUTHENTICATED', 'no valid session: log in (POST /api/login)')
  })
  // A command without a body is a command with an empty one: required fields are then named.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH')) req.body = {}
  })
  // Error answers in the caller's language: the catalogue's title in it before the reason. English
  // answers stay exactly as they were (clients and tests read them).
  app.addHook('preSerialization', async (req, reply, payload) => {
    if (reply.statusCode < 400) return payload
    const lang = requestLanguage(deps.accounts, deps.productLang, req)
    return lang === 'en' ? payload : localizeErrorBody(payload, lang)
  })
  app.setErrorHandler((err, req, reply) => {
    const code = (err as { code?: string }).code
    if (
      !(err instanceof MccsError) &&
      !(err as { validation?: unknown }).validation &&
      !((err as { statusCode?: number }).statusCode! < 500)
    ) {
      agent.log.log('error', 'console request failed', {
        method: req.method,
        url: req.url.split('?')[0],
        error: (err as Error).message,
        code,
      })
    } else if (err instanceof MccsError && statusOf(err.code) >= 500 && err.code !== 'MCCS_ERR_NOT_IMPLEMENTED') {
      agent.log.log('error', 'console request failed', { method: req.method, url: req.url.split('?')[0], error: err.message })
    }
    return sendError(reply, err)
  })
  // Nothing of the request is echoed: the path may be anything an attacker chose.
  app.setNotFoundHandler((req, reply) => replyError(reply, 'MCCS_ERR_NOT_FOUND', `no such route for ${req.method}`))

  for (const load of ROUTE_MODULES) await (await load())(app, deps)
  await app.ready()
  return { app, deps, routes }
}

/** Sessions, CSRF and the forced password change, before anything else of a request runs. Decided from
 *  the route the router matched — never from the raw URL, which the router decodes first (`/%61pi/config`
 *  is `/api/config` to it). A route without an explicit `auth` needs a full session (default deny). */
function guard(deps: RouteDeps, req: FastifyRequest): void {
  if (req.is404) return // no route matched: the not-found handler answers 404 and runs nothing
  const auth: RouteAuth = req.routeOptions.config?.auth ?? 'session'
  if (auth === 'public' || auth === 'metrics-token') return // the metrics route checks its bearer token first
  const s = deps.sessions.touch(req.cookies[SESSION_COOKIE])
  if (!s) throw new MccsError('MCCS_ERR_UNAUTHENTICATED', 'no valid session: log in (POST /api/login)')
  req.mccsSession = s
  if (!SAFE_METHODS.has(req.method) && !csrfMatches(s, req.headers[CSRF_HEADER])) {
    throw new MccsError(
      'MCCS_ERR_CSRF',
      `send the session's CSRF token (from POST /api/login or GET /api/session) in the ${CSRF_HEADER} header`,
      { field: CSRF_HEADER },
    )
  }
  if (auth === 'session' && deps.accounts.changeDue(s.user) !== null) {
    throw new MccsError('MCCS_ERR_PASSWORD_CHANGE_REQUIRED', 'change the password first (POST /api/password)', { subject: s.user })
  }
}

export interface RunningConsole extends ConsoleApp {
  tls: ConsoleTls
  /** Where it listens now (the port is the real one when 0 was asked for): loopback only while the
   *  default password is left, the configured addresses after (listeners.ts). */
  addresses: Array<{ address: string; port: number }>
  url: string
  /** Admission of new connections before their handshake (counts of what it refused). */
  gate: ConnectionGate
  close(): Promise<void>
}

/** Builds the app and serves it over HTTPS: on loopback only while an account has the shipped default
 *  password, on every configured address once it is changed. */
export async function startConsole(agent: Agent, settings: ConsoleSettings, o: ConsoleOptions = {}): Promise<RunningConsole> {
  const tls = await consoleTls(settings)
  const built = await buildConsole(agent, settings, o)
  const listeners = new ConsoleListeners(
    tls,
    (req, res) => built.app.routing(req, res),
    settings.listen,
    settings.port,
    settings.connections,
  )
  const close = async () => {
    await listeners.close()
    await built.app.close()
  }
  try {
    await listeners.start(built.deps.accounts.hasDefaultPassword())
  } catch (e) {
    await close()
    throw new MccsError('MCCS_ERR_CONSOLE', `cannot listen on port ${settings.port}: ${(e as Error).message}`, {
      subject: settings.listen.join(','),
      cause: e,
    })
  }
  if (!listeners.wide) {
    agent.log.log('warn', 'web console on loopback only until the default password is changed', {
      listening: listeners.addresses.map((a) => a.address),
      configured: settings.listen,
      how: `log in as ${DEFAULT_USER} on the node itself (https://127.0.0.1:${listeners.addresses[0]!.port}/main, or through ssh -L) and change the password`,
    })
    built.deps.accounts.onPasswordChanged(() => {
      if (built.deps.accounts.hasDefaultPassword()) return
      listeners.widen().then(
        () =>
          agent.log.log('info', 'web console listening', { addresses: listeners.addresses, reason: 'the default password was changed' }),
        (e: unknown) =>
          agent.log.log('error', 'web console stays on loopback: cannot listen on the configured addresses', {
            configured: settings.listen,
            error: (e as Error).message,
          }),
      )
    })
  }
  const first = listeners.addresses[0]!
  const host =
    first.address === '0.0.0.0' || first.address === '::' ? 'localhost' : first.address.includes(':') ? `[${first.address}]` : first.address
  return { ...built, tls, addresses: listeners.addresses, url: `https://${host}:${first.port}/main`, gate: listeners.gate, close }
}

/** What the agent starts after its control socket: the console per its settings, or null when disabled.
 *  A console that cannot start is logged, not fatal: the cluster service matters more than its UI. */
export async function startAgentConsole(agent: Agent, b: Bootstrap, env: NodeJS.ProcessEnv = process.env): Promise<RunningConsole | null> {
  try {
    const settings = consoleSettings(b, path.join(packageRoot(), 'dist', 'console'), env)
    if (!settings.enabled) return null
    const c = await startConsole(agent, settings)
    agent.log.log('info', 'web console listening', {
      addresses: c.addresses,
      fingerprint: c.tls.fingerprint,
      ...(c.tls.caFingerprint ? { caFingerprint: c.tls.caFingerprint } : {}),
    })
    if (c.tls.newCa)
      agent.log.log('warn', 'web console certificate made under a new CA; browsers that trusted an earlier ca.crt must trust this one', {
        caFile: path.join(settings.tlsDir, 'ca.crt'),
        caFingerprint: c.tls.caFingerprint,
      })
    return c
  } catch (e) {
    agent.log.log('error', 'web console not started', { error: (e as Error).message })
    return null
  }
}
