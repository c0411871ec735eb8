// The CLI as a client of this node's own web console API (HTTPS), for commands that must follow exactly the
// console's rules — login limits, roles, password rules, the replicated account store (mccs user). The
// server is trusted by its certificate as found on this node's disk (the self-signed server.crt, or the
// operator's MCCS_CONSOLE_CERT), compared before a byte of the request is sent: no CA or host name is
// involved, and a process that took the port without that certificate gets no password.
import http from 'node:http'
import tls from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Bootstrap } from '../config/bootstrap.js'
import { consoleSettings } from '../console/settings.js'
import { MccsError, isErrorCode } from '../errors.js'
import { isLoopback } from '../console/auth/rate-limit.js'

export interface ConsoleTarget {
  /** Where to connect, in order: the loopback addresses first (the console binds only those while the
   *  shipped password is left, and takes that password only from loopback), then the others. */
  hosts: string[]
  port: number
  /** SHA-256 fingerprint of the certificate the console must present. */
  pin: string
}

/** The largest answer read (a list of 256 accounts is some 30 KiB). */
const MAX_REPLY = 1024 * 1024
const TIMEOUT_MS = 30_000

/** Where this node's console listens and the certificate it presents, from the same settings it starts with. */
export async function consoleTarget(b: Bootstrap, env: NodeJS.ProcessEnv = process.env): Promise<ConsoleTarget> {
  const s = consoleSettings(b, '', env)
  if (!s.enabled) throw new MccsError('MCCS_ERR_CONSOLE', 'the web console is disabled on this node', { field: 'MCCS_CONSOLE_DISABLE' })
  const certFile = s.certFile ?? path.join(s.tlsDir, 'server.crt')
  let pem: string
  try {
    pem = await readFile(certFile, 'utf8')
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT'
    throw new MccsError(
      missing ? 'MCCS_ERR_AGENT_DOWN' : 'MCCS_ERR_TLS_MATERIAL',
      missing ? 'the console has never started on this node (no certificate yet): start the agent' : (e as Error).message,
      { subject: certFile },
    )
  }
  let pin: string
  try {
    pin = new X509Certificate(pem).fingerprint256 // the first certificate of the file: the server's own
  } catch (e) {
    throw new MccsError('MCCS_ERR_TLS_MATERIAL', `not a certificate: ${(e as Error).message}`, { subject: certFile })
  }
  return { hosts: consoleHosts(s.listen), port: s.port, pin }
}

/** The addresses to try for the console's listen list: as listeners.ts's loopbackOnly() binds them while a
 *  default password is left (a wildcard as 127.0.0.1 or ::1, 127.0.0.1 when none is loopback), then the rest. */
export function consoleHosts(listen: string[]): string[] {
  const first = listen.filter((a) => isLoopback(a))
  if (listen.includes('0.0.0.0')) first.push('127.0.0.1')
  if (listen.includes('::')) first.push('::1')
  if (!first.length) first.push('127.0.0.1')
  const rest = listen.filter((a) => !isLoopback(a) && a !== '0.0.0.0' && a !== '::')
  return [...new Set([...first, ...rest])]
}

export interface Reply {
  status: number
  body: unknown
  headers: http.IncomingHttpHeaders
}

/** One logged-in session: the cookie and the CSRF token, as the console page keeps them. */
export class ConsoleClient {
  private cookie = ''
  private csrf = ''
  user = ''

  constructor(readonly target: ConsoleTarget) {}

  /** Logs in; the answer is the session view (user, mustChangePassword, csrfToken, ...). */
  async login(user: string, password: string): Promise<{ mustChangePassword: boolean; admin: boolean }> {
    const r = await this.call('POST', '/api/login', { user, password })
    const set = r.headers['set-cookie'] ?? []
    const c = set.map((x) => /^mccs_session=([^;]*)/.exec(x)?.[1]).find(Boolean)
    const body = r.body as { csrfToken?: unknown; mustChangePassword?: unknown; admin?: unknown }
    if (!c || typeof body.csrfToken !== 'string')
      throw new MccsError('MCCS_ERR_BAD_REPLY', 'the login answer has no session', { subject: '/api/login' })
    this.cookie = c
    this.csrf = body.csrfToken
    this.user = user
    return { mustChangePassword: body.mustChangePassword === true, admin: body.admin === true }
  }

  /** Ends the session (best effort: the command's result does not depend on it). */
  async logout(): Promise<void> {
    if (!this.cookie) return
    await this.call('POST', '/api/logout').catch(() => {})
    this.cookie = ''
  }

  /** A request; an error answer is thrown as the API's error (code, field, reason) unchanged. */
  async call(method: string, url: string, body?: unknown): Promise<Reply> {
    const r = await this.request(method, url, body)
    if (r.status >= 400) {
      const e = (r.body as { error?: { code?: unknown; message?: unknown; field?: unknown; subject?: unknown } } | null)?.error
      if (e && isErrorCode(e.code) && typeof e.message === 'string')
        throw new MccsError(e.code, e.message, {
          ...(typeof e.field === 'string' ? { field: e.field } : {}),
          ...(typeof e.subject === 'string' ? { subject: e.subject } : {}),
        })
      throw new MccsError('MCCS_ERR_BAD_REPLY', `HTTP ${r.status} without an error body`, { subject: url })
    }
    return r
  }

  /** The address that answered last (tried first next time). */
  private host: string | null = null

  private async request(method: string, url: string, body?: unknown): Promise<Reply> {
    const { socket, host } = await this.connectAny()
    const data = body === undefined ? undefined : JSON.stringify(body)
    return new Promise<Reply>((resolve, reject) => {
      const req = http.request(
        {
          createConnection: () => socket,
          method,
          path: url,
          headers: {
            host: `${host.includes(':') ? `[${host}]` : host}:${this.target.port}`,
            ...(this.cookie ? { cookie: `mccs_session=${this.cookie}` } : {}),
            ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
            ...(data !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
          },
          timeout: TIMEOUT_MS,
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => {
            text += d
            if (text.length > MAX_REPLY)
              res.destroy(new MccsError('MCCS_ERR_BAD_REPLY', `an answer over ${MAX_REPLY} bytes`, { subject: url }))
          })
          res.on('error', reject)
          res.on('end', () => {
            let parsed: unknown = null
            try {
              parsed = text ? JSON.parse(text) : null
            } catch {
              return reject(new MccsError('MCCS_ERR_BAD_REPLY', 'the answer is not JSON', { subject: url }))
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers })
          })
        },
      )
      req.on('timeout', () => req.destroy(new MccsError('MCCS_ERR_NETWORK', `no answer within ${TIMEOUT_MS} ms`, { subject: url })))
      req.on('error', reject)
      req.end(data)
    })
  }

  /** The first address that accepts a connection (refused: the next one). */
  private async connectAny(): Promise<{ socket: tls.TLSSocket; host: string }> {
    const order = this.host ? [this.host, ...this.target.hosts.filter((h) => h !== this.host)] : this.target.hosts
    let last: unknown = new MccsError('MCCS_ERR_AGENT_DOWN', 'no console address to try')
    for (const host of order) {
      try {
        const socket = await this.connect(host)
        this.host = host
        return { socket, host }
      } catch (e) {
        last = e
        if ((e as MccsError).code !== 'MCCS_ERR_AGENT_DOWN') throw e
      }
    }
    throw last
  }

  /** A TLS connection whose certificate is the pinned one; nothing is written to it before that is known. */
  private connect(host: string): Promise<tls.TLSSocket> {
    const { port, pin } = this.target
    return new Promise((resolve, reject) => {
      // The pin replaces the CA and host-name checks (checked below, before resolve).
      const sock = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
      const timer = setTimeout(
        () => sock.destroy(new MccsError('MCCS_ERR_NETWORK', `no TLS handshake within ${TIMEOUT_MS} ms`)),
        TIMEOUT_MS,
      )
      sock.once('secureConnect', () => {
        clearTimeout(timer)
        sock.removeListener('error', fail)
        const got = sock.getPeerCertificate().fingerprint256
        if (got !== pin) {
          sock.destroy()
          return reject(
            new MccsError('MCCS_ERR_TLS_MATERIAL', `the server on ${host}:${port} presented another certificate than this node's console`, {
              subject: `${host}:${port}`,
            }),
          )
        }
        resolve(sock)
      })
      const fail = (e: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        reject(
          e.code === 'ECONNREFUSED'
            ? new MccsError('MCCS_ERR_AGENT_DOWN', `no console answers on ${host}:${port} (is the agent running?)`, {
                subject: `${host}:${port}`,
              })
            : e,
        )
      }
      sock.once('error', fail)
    })
  }
}
