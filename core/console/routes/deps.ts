// What every route module gets (B's support and license routes too): the agent, the console's stores,
// and helpers to read the caller. Route modules are listed in routes/index.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Agent } from '../../agent/agent.js'
import type { AccountStore } from '../auth/accounts.js'
import type { SessionStore, Session } from '../auth/sessions.js'
import type { LoginRateLimit } from '../auth/rate-limit.js'
import type { ConsoleSettings } from '../settings.js'
import type { ConsoleEvents } from '../events.js'
import type { OpenApiCollector } from '../openapi.js'
import { MccsError } from '../../errors.js'
import type { Locale } from '../../i18n/messages.js'

/** Who may call a route: anyone, a session that may still have to change its password, a full session
 *  (the default: a route that says nothing needs a full session), or the holder of the metrics bearer
 *  token (GET /metrics checks it itself: a scraper has no session). */
export const ROUTE_AUTH = ['public', 'pending', 'session', 'metrics-token'] as const
export type RouteAuth = (typeof ROUTE_AUTH)[number]

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth
    /** Not an API route: left out of the OpenAPI document (the console page and its assets). */
    hidden?: boolean
  }
  interface FastifyRequest {
    mccsSession: Session | null
  }
  /** Documentation of a route, for the OpenAPI document (openapi.ts); fastify ignores these keys. */
  interface FastifySchema {
    summary?: string
    description?: string
    'x-responses'?: Record<string, unknown>
  }
}

export interface RouteDeps {
  agent: Agent
  settings: ConsoleSettings
  accounts: AccountStore
  sessions: SessionStore
  limiter: LoginRateLimit
  events: ConsoleEvents
  openapi: OpenApiCollector
  now: () => number
  /** The product language (setup.json), what a user who chose none sees. */
  productLang: Locale
}

export type RouteModule = (app: FastifyInstance, deps: RouteDeps) => Promise<void> | void

/** The session of an authenticated route (the onRequest guard has checked it). */
export function sessionOf(req: FastifyRequest): Session {
  if (!req.mccsSession) throw new MccsError('MCCS_ERR_UNAUTHENTICATED', 'log in first')
  return req.mccsSession
}

/** The operator named in the operation log for a console action. */
export const userOf = (req: FastifyRequest): string => sessionOf(req).user
