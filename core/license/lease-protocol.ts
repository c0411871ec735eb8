// The floating license protocol between an agent and `mccs license-server`: one JSON request and one
// JSON answer per TLS connection. TLS 1.2 with a pre-shared key (the cluster key's style: 32 random bytes
// in a file only root can read, `license-server.key`, the same on the server and every node), so neither
// side needs a certificate and nothing crosses the wire in clear; a peer without the key cannot finish
// the handshake.
import tls from 'node:tls'
import { MccsError, type ErrorCode } from '../errors.js'
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
        try {
          resolve(JSON.parse(line) as LeaseAnswer)
        } catch {
          reject(new MccsError('MCCS_ERR_LICENSE_SERVER', `${server} answered something that is not JSON`))
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
