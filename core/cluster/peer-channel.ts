// Agent-to-agent messages (the coordinator sends actions; nodes send results, monitor results and
// forwarded operator commands). TCP, one JSON object per line, authenticated with the cluster key:
//
//   client -> server  {"t":"hello","cluster":C,"from":A,"to":B,"nonce":nA}
//   server -> client  {"t":"hello","from":B,"nonce":nB,"mac":HMAC(key, "srv|C|A|B|nA|nB")}
//   client -> server  {"t":"auth","mac":HMAC(key, "cli|C|A|B|nA|nB")}
//   then both ways    {"s":seq,"k":"req"|"res"|"err","id":n,"b":body,"m":HMAC(session, dir|s|k|id|json(b))}
//
// Each side proves it holds the key over fresh nonces (no replay of a handshake); the session key is
// HMAC(key, "session|nA|nB"); every frame carries the next sequence number of its direction, so a
// frame cannot be replayed, reordered or moved to another session. Anything malformed closes the
// connection. Each side sends its requests on its own outbound connection, trying a peer's addresses
// in link-priority order.
import net from 'node:net'
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { MccsError, mccsErrorFromWire } from '../errors.js'
import { readLines } from '../line-reader.js'

export const PEER_PORT_OFFSET = 4 // default peer port: heartbeat port + 4 (14325)
const MAX_LINE = 1 << 20
const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/
const HEX32 = /^[0-9a-f]{32}$/
const HEX64 = /^[0-9a-f]{64}$/

export interface Endpoint { host: string; port: number }

export interface PeerChannelOptions {
  cluster: string
  node: string
  key: Buffer
  listen: Endpoint[]
  /** Each peer's addresses, most preferred link first. */
  peers: Record<string, Endpoint[]>
  /** Answers a peer's request; a throw becomes an error reply (its message and code). */
  onRequest: (from: string, body: unknown) => Promise<unknown>
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void
  connectTimeoutMs?: number
  /** Whether the heartbeat currently hears the peer on the link of this address: links heard are tried
   *  first, so a new connection does not wait out a connect timeout on a dead link. */
  reachable?: (peer: string, ep: Endpoint) => boolean
}

interface Session {
  sock: net.Socket
  peer: string
  key: Buffer
  /** Direction labels for MACs: what we send, what we receive. */
  out: string
  in: string
  sendSeq: number
  recvSeq: number
}

const hmac = (key: Buffer, s: string): Buffer => createHmac('sha256', key).update(s).digest()
const macHex = (key: Buffer, s: string): string => hmac(key, s).toString('hex')
function macOk(key: Buffer, s: string, got: unknown): boolean {
  if (typeof got !== 'string' || !HEX64.test(got)) return false
  return timingSafeEqual(hmac(key, s), Buffer.from(got, 'hex'))
}

type LineHandler = (v: Record<string, unknown>) => void
/** JSON objects, one per line; bad JSON or a non-object ends the connection. */
function lines(sock: net.Socket, first: LineHandler): { set(h: LineHandler): void } {
  let onObj = first
  const parse = (line: string) => {
    let v: unknown
    try { v = JSON.parse(line) } catch { sock.destroy(); return }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) { sock.destroy(); return }
    onObj(v as Record<string, unknown>)
  }
  readLines(sock, MAX_LINE, parse)
  return { set: (h) => { onObj = h } }
}

export class PeerChannel {
  private readonly servers: net.Server[] = []
  private readonly inbound = new Set<net.Socket>()
  private readonly outbound = new Map<string, Promise<Session>>()
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout; peer: string }>()
  private nextId = 1
  private stopped = false
  /** Frames and handshakes refused, by reason (shown in status). */
  readonly rejected: Record<'handshake' | 'mac' | 'sequence' | 'malformed', number> = { handshake: 0, mac: 0, sequence: 0, malformed: 0 }

  constructor(private readonly o: PeerChannelOptions) {
    if (o.key.length !== 32) throw new MccsError('MCCS_ERR_CLUSTER_KEY_INVALID', 'the cluster key must be 32 bytes', { field: 'key' })
  }

  async start(): Promise<void> {
    for (const ep of this.o.listen) {
      const server = net.createServer((sock) => this.accept(sock))
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(ep.port, ep.host, () => { server.off('error', reject); resolve() })
      })
      this.servers.push(server)
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const w of this.waiting.values()) { clearTimeout(w.timer); w.reject(new MccsError('MCCS_ERR_CANCELLED', 'peer channel stopped')) }
    this.waiting.clear()
    for (const s of this.outbound.values()) s.then((x) => x.sock.destroy(), () => {})
    this.outbound.clear()
    for (const s of this.inbound) s.destroy()
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
  }

  /** Sends a request to a peer and waits for its answer. */
  async request<T = unknown>(peer: string, body: unknown, timeoutMs = 10_000): Promise<T> {
    const s = await this.session(peer)
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(new MccsError('MCCS_ERR_PEER_TIMEOUT', `no answer from ${peer} within ${timeoutMs} ms`, { subject: peer }))
      }, timeoutMs)
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, peer })
      this.send(s, 'req', id, body)
    })
  }

  private send(s: Session, k: 'req' | 'res' | 'err', id: number, body: unknown): void {
    const seq = ++s.sendSeq
    const b = JSON.stringify(body ?? null)
    const m = macHex(s.key, `${s.out}|${seq}|${k}|${id}|${b}`)
    s.sock.write(`{"s":${seq},"k":"${k}","id":${id},"b":${b},"m":"${m}"}\n`)
  }

  /** Frames after the handshake, both directions. */
  private frames(s: Session, reader: { set(h: LineHandler): void }): void {
    reader.set((v) => {
      const { s: seq, k, id, b, m } = v
      if (typeof seq !== 'number' || typeof id !== 'number' || (k !== 'req' && k !== 'res' && k !== 'err')) {
        this.rejected.malformed++
        s.sock.destroy()
        return
      }
      if (!macOk(s.key, `${s.in}|${seq}|${k}|${id}|${JSON.stringify(b ?? null)}`, m)) {
        this.rejected.mac++
        this.o.log?.('warn', 'peer frame failed authentication: connection closed', { peer: s.peer })
        s.sock.destroy()
        return
      }
      if (seq !== s.recvSeq + 1) {
        this.rejected.sequence++
        s.sock.destroy()
        return
      }
      s.recvSeq = seq
      if (k === 'req') {
        this.o.onRequest(s.peer, b).then(
          (res) => { if (!s.sock.destroyed) this.send(s, 'res', id, res) },
          (err: Error & { code?: string; field?: string; subject?: string; data?: unknown }) => {
            if (!s.sock.destroyed) this.send(s, 'err', id, { message: err.message, code: err.code ?? 'MCCS_ERR_INTERNAL', field: err.field, subject: err.subject, data: err.data })
          },
        )
        return
      }
      const w = this.waiting.get(id)
      if (!w || w.peer !== s.peer) return
      this.waiting.delete(id)
      clearTimeout(w.timer)
      if (k === 'res') w.resolve(b)
      else {
        // The peer's MccsError, revived: callers handle a remote refusal as they would a local one.
        w.reject(Object.assign(mccsErrorFromWire((b ?? {}) as Record<string, unknown>), { peer: s.peer }))
      }
    })
  }

  /** Server side of the handshake. */
  private accept(sock: net.Socket): void {
    sock.setNoDelay(true)
    sock.on('error', () => {})
    this.inbound.add(sock)
    sock.once('close', () => this.inbound.delete(sock))
    let stage: 'hello' | 'auth' = 'hello'
    let from = '', nA = '', nB = ''
    const fail = () => { this.rejected.handshake++; sock.destroy() }
    const timer = setTimeout(fail, this.o.connectTimeoutMs ?? 5000)
    sock.once('close', () => clearTimeout(timer))
    const onLine = (v: Record<string, unknown>) => {
      if (stage === 'hello') {
        if (v.t !== 'hello' || v.cluster !== this.o.cluster || v.to !== this.o.node || typeof v.from !== 'string' || !NAME.test(v.from) ||
          !(v.from in this.o.peers) || typeof v.nonce !== 'string' || !HEX32.test(v.nonce)) return fail()
        from = v.from
        nA = v.nonce
        nB = randomBytes(16).toString('hex')
        stage = 'auth'
        sock.write(JSON.stringify({ t: 'hello', from: this.o.node, nonce: nB, mac: macHex(this.o.key, `srv|${this.o.cluster}|${from}|${this.o.node}|${nA}|${nB}`) }) + '\n')
        return
      }
      if (v.t !== 'auth' || !macOk(this.o.key, `cli|${this.o.cluster}|${from}|${this.o.node}|${nA}|${nB}`, v.mac)) return fail()
      clearTimeout(timer)
      const s: Session = { sock, peer: from, key: hmac(this.o.key, `session|${nA}|${nB}`), out: `${this.o.node}>${from}`, in: `${from}>${this.o.node}`, sendSeq: 0, recvSeq: 0 }
      this.frames(s, reader)
    }
    const reader = lines(sock, onLine)
  }

  /**
   * A link to a peer went down: an outbound connection over it would only be noticed dead after TCP's
   * retransmission timeouts (minutes), with requests stuck on it. Close it now (its waiting requests fail
   * at once, as any lost connection's do) so the next request connects over a link that works.
   */
  dropVia(peer: string, host: string): void {
    const have = this.outbound.get(peer)
    if (!have) return
    void have.then((s) => {
      if (s.sock.remoteAddress === host || s.sock.remoteAddress === `::ffff:${host}`) {
        this.o.log?.('info', `closing the connection to ${peer} over ${host}: that link is down`, { peer, host })
        s.sock.destroy()
      }
    }, () => {})
  }

  /** Our outbound session to a peer (made on first use, remade after a failure). */
  private session(peer: string): Promise<Session> {
    const have = this.outbound.get(peer)
    if (have) return have
    const all = this.o.peers[peer] ?? []
    const up = this.o.reachable
    const eps = up ? [...all.filter((e) => up(peer, e)), ...all.filter((e) => !up(peer, e))] : all
    if (!eps?.length) return Promise.reject(new MccsError('MCCS_ERR_NOT_FOUND', `no addresses for node ${peer}`, { subject: peer }))
    const p = (async () => {
      let last: Error | undefined
      for (const ep of eps) {
        try {
          return await this.connect(peer, ep)
        } catch (err) {
          last = err as Error
        }
      }
      throw new MccsError('MCCS_ERR_PEER_UNREACHABLE', `cannot reach ${peer} on any link: ${last?.message ?? 'no address'}`, { subject: peer })
    })()
    this.outbound.set(peer, p)
    p.then((s) => s.sock.once('close', () => {
      if (this.outbound.get(peer) === p) this.outbound.delete(peer)
      for (const [id, w] of this.waiting) {
        if (w.peer === peer) { clearTimeout(w.timer); this.waiting.delete(id); w.reject(new MccsError('MCCS_ERR_PEER_UNREACHABLE', `connection to ${peer} closed`, { subject: peer })) }
      }
    }), () => { if (this.outbound.get(peer) === p) this.outbound.delete(peer) })
    return p
  }

  private connect(peer: string, ep: Endpoint): Promise<Session> {
    return new Promise<Session>((resolve, reject) => {
      if (this.stopped) return reject(new MccsError('MCCS_ERR_CANCELLED', 'peer channel stopped'))
      const sock = net.connect({ host: ep.host, port: ep.port })
      sock.setNoDelay(true)
      const nA = randomBytes(16).toString('hex')
      const timer = setTimeout(() => { sock.destroy(); reject(new Error(`handshake with ${peer} at ${ep.host}:${ep.port} timed out`)) }, this.o.connectTimeoutMs ?? 2000)
      sock.once('error', (e) => { clearTimeout(timer); reject(e) })
      sock.once('close', () => { clearTimeout(timer); reject(new Error(`${peer} closed the connection during the handshake`)) })
      sock.once('connect', () => sock.write(JSON.stringify({ t: 'hello', cluster: this.o.cluster, from: this.o.node, to: peer, nonce: nA }) + '\n'))
      const reader = lines(sock, (v) => {
        if (v.t !== 'hello' || v.from !== peer || typeof v.nonce !== 'string' || !HEX32.test(v.nonce) ||
          !macOk(this.o.key, `srv|${this.o.cluster}|${this.o.node}|${peer}|${nA}|${v.nonce}`, v.mac)) {
          this.rejected.handshake++
          sock.destroy()
          return
        }
        const nB = v.nonce
        sock.write(JSON.stringify({ t: 'auth', mac: macHex(this.o.key, `cli|${this.o.cluster}|${this.o.node}|${peer}|${nA}|${nB}`) }) + '\n')
        clearTimeout(timer)
        sock.removeAllListeners('close')
        sock.removeAllListeners('error')
        sock.on('error', () => {})
        const s: Session = { sock, peer, key: hmac(this.o.key, `session|${nA}|${nB}`), out: `${this.o.node}>${peer}`, in: `${peer}>${this.o.node}`, sendSeq: 0, recvSeq: 0 }
        this.frames(s, reader)
        resolve(s)
      })
    })
  }
}
