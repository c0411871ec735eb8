// The join conversation, one JSON object per line inside the token's TLS-PSK channel:
//
//   joiner -> member  {t:'hello', v:1}
//   member -> joiner  {t:'offer', cluster, node, links: [{name, priority, member}], port}  (member: its address)
//   joiner -> member  {t:'join', addresses: {link: address}}
//   member -> joiner  {t:'config', hb, main, key, files}   or {t:'refused', code, field, reason} (the joiner may
//                      correct its answer and ask again on a new connection: only a join that ends counts)
//   joiner -> member  {t:'written'}                        or {t:'failed', reason}
//   member -> joiner  {t:'done', generation}               once the member's own hb.json holds the new node
//
// key is the cluster key (base64), files the quorum server's CA and key when hb.json names them: secrets
// that only ever travel inside this channel.
import type tls from 'node:tls'
import { LineFramer } from '../line-reader.js'
import { CODES, MccsError, type ErrorCode } from '../errors.js'

export const JOIN_VERSION = 1
const MAX_LINE = 1 << 20

export interface Offer {
  t: 'offer'
  cluster: string
  node: string
  links: Array<{ name: string; priority: number; member: string }>
  port: number
}
export interface ConfigGift {
  t: 'config'
  hb: unknown
  main: unknown
  key: string
  files: Record<string, string>
}
export type JoinMessage =
  | { t: 'hello'; v: number }
  | Offer
  | { t: 'join'; addresses: Record<string, string> }
  | ConfigGift
  | { t: 'refused'; code: string; field?: string; reason: string }
  | { t: 'written' }
  | { t: 'failed'; reason: string }
  /** live: the running cluster took the new node in at once (a live hb.json change); absent: an older member,
   *  or one whose agents read it at their next start. */
  | { t: 'done'; generation: number; live?: boolean }

/** Reads and writes messages on an established socket; next() waits for the next one (or the end). */
export class JoinConversation {
  private readonly queue: JoinMessage[] = []
  private waiter: ((m: JoinMessage | null) => void) | null = null
  private ended = false

  constructor(readonly sock: tls.TLSSocket) {
    const framer = new LineFramer(MAX_LINE)
    sock.on('data', (chunk: Buffer) => {
      const ok = framer.push(chunk, (line) => {
        let v: unknown
        try {
          v = JSON.parse(line)
        } catch {
          v = null
        }
        if (!v || typeof v !== 'object' || typeof (v as { t?: unknown }).t !== 'string') {
          sock.destroy()
          return false
        }
        this.deliver(v as JoinMessage)
      })
      if (!ok) sock.destroy()
    })
    const end = () => {
      this.ended = true
      this.waiter?.(null)
      this.waiter = null
    }
    sock.on('close', end)
    sock.on('error', end)
  }

  private deliver(m: JoinMessage): void {
    if (this.waiter) {
      const w = this.waiter
      this.waiter = null
      w(m)
    } else this.queue.push(m)
  }

  send(m: JoinMessage): void {
    if (!this.sock.destroyed) this.sock.write(JSON.stringify(m) + '\n')
  }

  /** The next message, or null when the connection ended or `timeoutMs` passed. */
  next(timeoutMs: number): Promise<JoinMessage | null> {
    const q = this.queue.shift()
    if (q) return Promise.resolve(q)
    if (this.ended) return Promise.resolve(null)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null
        resolve(null)
      }, timeoutMs)
      this.waiter = (m) => {
        clearTimeout(timer)
        resolve(m)
      }
    })
  }

  /** The next message, which must be of kind `t` (a refusal becomes its MccsError). */
  async expect<T extends JoinMessage['t']>(t: T, timeoutMs: number, peer: string): Promise<Extract<JoinMessage, { t: T }>> {
    const m = await this.next(timeoutMs)
    if (!m)
      throw new MccsError('MCCS_ERR_PEER_TIMEOUT', `${peer} ended the join or did not answer within ${Math.round(timeoutMs / 1000)} s`, {
        subject: peer,
      })
    if (m.t === 'refused') {
      throw new MccsError(Object.hasOwn(CODES, m.code) ? (m.code as ErrorCode) : 'MCCS_ERR_CONFLICT', m.reason, {
        subject: peer,
        ...(m.field ? { field: m.field } : {}),
      })
    }
    if (m.t !== t) throw new MccsError('MCCS_ERR_PEER_PROTOCOL', `expected '${t}', got '${m.t}'`, { subject: peer })
    return m as Extract<JoinMessage, { t: T }>
  }

  close(): void {
    this.sock.end()
    setTimeout(() => this.sock.destroy(), 1000).unref()
  }
}
