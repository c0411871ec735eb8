// The floating license protocol between an agent and `mccs license-server`: one JSON request and one
// JSON answer per TLS connection. TLS 1.2 with a pre-shared key (the cluster key's style: 32 random bytes
// in a file only root can read, `license-server.key`, the same on the server and every node), so neither
// side needs a certificate and nothing crosses the wire in clear; a peer without the key cannot finish
// the handshake.
import tls from 'node:tls'
import { CODES, MccsError, type ErrorCode } from '../errors.js'
import { readLines } from '../line-reader.js'

export const LICENSE_SERVER_KEY_FILE = 'license-server.key'
export const PSK_IDENTITY = 'mccs-license-1'
export const PSK_CIPHERS = 'PSK-AES256-GCM-SHA384:PSK-CHACHA20-POLY1305'
/** A request or an answer is small; anything longer is refused. */
export const MAX_LINE = 4096

export type LeaseRequest =
  { t: 'acquire'; holder: string } | { t: 'renew'; holder: string; lease: string } | { t: 'release'; holder: string; lease: string }

export type LeaseAnswer =
  | { ok: true; lease: string; termMs: number; seats: number; used: number }
  | { ok: false; code: ErrorCode; message: string; termMs?: number }

/** The longest lease a server may give (its --lease-s is at most 3600). */
const MAX_TERM_MS = 3600_000

/** An answer as the server sent it, checked: a wrong type or an out-of-range term gives no seat (a seat
 *  "for 31 years" would outlive any outage of the server). Throws naming the field. */
export function checkAnswer(v: unknown, server: string): LeaseAnswer {
  const bad = (field: string, reason: string) =>
    new MccsError('MCCS_ERR_LICENSE_SERVER', `${server} answered something that is not a lease answer: ${field}: ${reason}`)
  const int = (x: unknown, max: number) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= max
  if (v === null || typeof v !== 'object' || Array.isArray(v) || typeof (v as { ok?: unknown }).ok !== 'boolean')
    throw bad('ok', 'must be true or false')
  const a = v as Record<string, unknown>
  if (a.termMs !== undefined || a.ok) {
    if (!int(a.termMs, MAX_TERM_MS)) throw bad('termMs', `must be a whole number of ms, 0..${MAX_TERM_MS}`)
  }
  if (a.ok) {
    if (typeof a.lease !== 'string' || !/^[\w-]{1,64}$/.test(a.lease)) throw bad('lease', 'must be a lease id')
    if (!int(a.seats, 999_999) || !int(a.used, 999_999)) throw bad('seats', 'seats and used must be counts')
    return { ok: true, lease: a.lease, termMs: a.termMs as number, seats: a.seats as number, used: a.used as number }
  }
  if (typeof a.code !== 'string' || !(a.code in CODES)) throw bad('code', 'must be an MCCS error code')
  if (typeof a.message !== 'string' || a.message.length > 2000) throw bad('message', 'must be a text of at most 2000 characters')
  return { ok: false, code: a.code as ErrorCode, message: a.message, ...(a.termMs !== undefined ? { termMs: a.termMs as number } : {}) }
}

/** Sends one request to `server` (host:port) and returns the answer. */
export function leaseRequest(server: string, key: Buffer, req: LeaseRequest, timeoutMs = 3000): Promise<LeaseAnswer> {
  const i = server.lastIndexOf(':')
  const host = server.slice(0, i)
  const port = Number(server.slice(i + 1))
  return new Promise((resolve, reject) => {
    let answered = false
    const sock = tls.connect(
      {
        host,
        port,
        ciphers: PSK_CIPHERS,
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.2',
        pskCallback: () => ({ psk: key, identity: PSK_IDENTITY }),
        checkServerIdentity: () => undefined, // the PSK authenticates the server
      },
      () => {
        sock.write(JSON.stringify(req) + '\n')
      },
    )
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new MccsError('MCCS_ERR_LICENSE_SERVER', `no answer from ${server} within ${timeoutMs} ms`))
    }, timeoutMs)
    const reader = readLines(
      sock,
      MAX_LINE,
      (line) => {
        reader.set(() => {})
        answered = true
        clearTimeout(timer)
        sock.end()
        let v: unknown
        try {
          v = JSON.parse(line)
        } catch {
          reject(new MccsError('MCCS_ERR_LICENSE_SERVER', `${server} answered something that is not JSON`))
          return
        }
        try {
          resolve(checkAnswer(v, server))
        } catch (e) {
          reject(e as Error)
        }
      },
      () => {
        sock.destroy()
        clearTimeout(timer)
        reject(new MccsError('MCCS_ERR_LICENSE_SERVER', `${server} answered too much`))
      },
    )
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(new MccsError('MCCS_ERR_LICENSE_SERVER', `cannot reach ${server}: ${e.code ?? e.message}`))
    })
    sock.on('close', () => {
      clearTimeout(timer)
      if (!answered) reject(new MccsError('MCCS_ERR_LICENSE_SERVER', `${server} closed the connection (wrong license-server.key?)`))
    })
  })
}
