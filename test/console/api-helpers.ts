// A real agent (temp home, dummy plugin) with the console app built on it, and a small client over
// fastify's inject that keeps the session cookie and CSRF token like a browser page would.
import type { LightMyRequestResponse } from 'fastify'
import { startTestAgent, res, type TestAgent } from '../agent/helpers.js'
import { buildConsole, type ConsoleApp } from '../../core/console/server.js'
import { consoleSettings, type ConsoleSettings } from '../../core/console/settings.js'
import path from 'node:path'

export const FIRST = 'first-pass1!ok'
export const SECOND = 'second-pass2!ok'

export interface Harness extends ConsoleApp {
  ta: TestAgent
  settings: ConsoleSettings
  /** Moves the console's clock (sessions, rate limit, password age). */
  advance(ms: number): void
  cleanup(): Promise<void>
}

export async function harness(opts: { groups?: boolean; settings?: Partial<ConsoleSettings> } = {}): Promise<Harness> {
  const ta = await startTestAgent(
    opts.groups
      ? {
          groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
          resources: [res('d0', 'dummy', {})],
          dependencies: [],
          types: {},
        }
      : { groups: [], resources: [], dependencies: [], types: {} },
  )
  const b = ta.agent.opts.bootstrap
  const settings = { ...consoleSettings(b, path.join(ta.home, 'no-ui'), {}), listen: ['127.0.0.1'], port: 0, ...opts.settings }
  let offset = 0
  const built = await buildConsole(ta.agent, settings, { now: () => Date.now() + offset })
  return {
    ...built,
    ta,
    settings,
    advance: (ms) => {
      offset += ms
    },
    cleanup: async () => {
      await built.app.close()
      await ta.cleanup()
    },
  }
}

export interface Reply {
  status: number
  body: any
  headers: LightMyRequestResponse['headers']
  raw: LightMyRequestResponse
}

export class Client {
  cookie: string | undefined
  csrf: string | undefined
  constructor(
    readonly h: ConsoleApp,
    readonly ip = '127.0.0.1',
  ) {}

  async req(
    method: string,
    url: string,
    body?: unknown,
    o: { csrf?: string | null; cookie?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...o.headers }
    const cookie = o.cookie === undefined ? this.cookie : o.cookie
    const csrf = o.csrf === undefined ? this.csrf : o.csrf
    if (cookie) headers.cookie = `mccs_session=${cookie}`
    if (csrf) headers['x-csrf-token'] = csrf
    if (body !== undefined) headers['content-type'] = 'application/json'
    const r = await this.h.app.inject({
      method: method as 'GET',
      url,
      headers,
      remoteAddress: this.ip,
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    })
    let parsed: unknown = r.body
    try {
      parsed = r.body ? JSON.parse(r.body) : undefined
    } catch {
      /* not JSON */
    }
    return { status: r.statusCode, body: parsed, headers: r.headers, raw: r }
  }

  async login(user: string, password: string): Promise<Reply> {
    const r = await this.req('POST', '/api/login', { user, password }, { cookie: null, csrf: null })
    const set = [r.headers['set-cookie']].flat().find((c) => typeof c === 'string' && c.startsWith('mccs_session='))
    if (r.status === 200 && set) {
      this.cookie = set.split(';')[0]!.slice('mccs_session='.length)
      this.csrf = r.body.csrfToken
    }
    return r
  }
}

/** Logs in as mcuser and replaces the default password: a session that may call everything. */
export async function readyClient(h: ConsoleApp, password = FIRST): Promise<Client> {
  const c = new Client(h)
  const r = await c.login('mcuser', 'mccs')
  if (r.status !== 200) throw new Error(`default login failed: ${r.status} ${JSON.stringify(r.body)}`)
  const p = await c.req('POST', '/api/password', { current: 'mccs', next: password })
  if (p.status !== 204) throw new Error(`password change failed: ${p.status} ${JSON.stringify(p.body)}`)
  return c
}
