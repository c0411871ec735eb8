// Agent-to-agent messages (the coordinator sends actions; nodes send results, monitor results and
// forwarded operator commands, and replicate main.json, secrets included). TLS 1.3 over TCP, then one
// JSON object per line:
//
//   TLS 1.3 handshake with an external PSK (tls.ts): identity "C/A/B" (cluster, client node, server
//     node; sent in clear), PSK = HKDF(cluster key, "peer-channel C A>B"); no certificates
//   then both ways    {"k":"req"|"res"|"err","id":n,"b":body}
//
// The hello (issue 16, What 4): the client's first request on a new connection is
// {"t":"channel.hello","protocol":{"min":a,"max":b}}, the versions it speaks (protocol-version.ts). The server
// answers {"protocol":{min,max},"version":v}, v the highest version both speak, or refuses with
// MCCS_ERR_PEER_VERSION naming both ranges and closes. A server from before the hello answers it as an unknown
// message (MCCS_ERR_INVALID on field t), and a client from before it sends a request first: either is read as
// version 1. The connection is in use only once the hello is settled (within the connect timeout).
//
// Both ends prove the cluster key in the handshake: a client without it fails the PSK binder, a server
// without it cannot produce its Finished. The server refuses an identity of another cluster, of another
// server node or of a node not in hb.json (so a connection moved to another node or reflected back
// fails); refusals are counted and logged. TLS encrypts every frame, and its records cannot be forged,
// replayed, reordered or moved to another connection; each handshake's fresh X25519 share (psk_dhe_ke)
// keeps recorded traffic secret even if the cluster key leaks later. A handshake is one round trip, as
// the HMAC handshake it replaces was, and connections stay open. Each side sends its requests on its own
// outbound connection, trying a peer's addresses in link-priority order.
import net from 'node:net'
import tls from 'node:tls'
import { MccsError, mccsErrorFromWire } from '../errors.js'
import { readLines } from '../line-reader.js'
import type { HostLogger } from '../log/types.js'
import { derivePsk, pskAuthenticated, pskClientOptions, pskServerOptions } from './tls.js'
import { PROTOCOL, PROTOCOL_OLDEST, checkRange, formatRange, negotiate, type ProtocolRange } from './protocol-version.js'

export const PEER_PORT_OFFSET = 4 // default peer port: heartbeat port + 4 (14325)
const MAX_LINE = 1 << 20
const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/
/** Why an inbound handshake failed, for the log line, by Node's error code. */
const INBOUND_REASONS: Record<string, string> = {
  ERR_SSL_BINDER_DOES_NOT_VERIFY: "it does not hold this cluster's key",
  // No PSK offered: the server has no certificate to fall back to.
  ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM: 'no pre-shared key offered (not an MCCS peer)',
  ERR_SSL_WRONG_VERSION_NUMBER: 'not TLS (an MCCS agent from before the encrypted channel, or another program)',
  ERR_SSL_HTTP_REQUEST: 'not TLS (an HTTP request)',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'no handshake in time',
}
/** A refusal of the same kind from the same place is logged at most this often (a scanner or a node
 *  with another key retries without end; the counters in `rejected` count every one). */
const REFUSAL_LOG_MS = 60_000
/** The channel's own request (reserved: no peer message of the agent has this type). */
const HELLO = 'channel.hello'

export interface Endpoint {
  host: string
  port: number
}

export interface PeerChannelOptions {
  cluster: string
  node: string
  /** The cluster key (32 bytes): the channel's PSKs are derived from it. */
  key: Buffer
  listen: Endpoint[]
  /** Each peer's addresses, most preferred link first. */
  peers: Record<string, Endpoint[]>
  /** Answers a peer's request; a throw becomes an error reply (its message and code). */
  onRequest: (from: string, body: unknown) => Promise<unknown>
  log?: HostLogger
  /** Bound on a new outbound connection (TCP connect + TLS handshake; default 2000 ms) and on an inbound
   *  handshake (default 5000 ms). */
  connectTimeoutMs?: number
  /** A link that has not answered after this long gets company: the next link is tried too (default 250 ms). */
  connectStaggerMs?: number
  /** Whether the heartbeat currently hears the peer on the link of this address: links heard are tried
   *  first, so a new connection does not wait out a connect timeout on a dead link. */
  reachable?: (peer: string, ep: Endpoint) => boolean
  /** The protocol versions this node advertises in its hello (default PROTOCOL; another range only for tests). */
  protocol?: ProtocolRange
}

interface Session {
  sock: tls.TLSSocket
  peer: string
  /** The protocol version of this connection (undefined: not settled yet, on the server side). */
  version?: number
  /** Refused (no version in common): closing, nothing more is run. */
  refused?: boolean
}

/** What was settled with a peer in the last hello either way (status). */
export interface ChannelProtocol {
  version: number | null
  range: ProtocolRange | null
  refused: string | null
}

/** What an inbound handshake claimed (the PSK identity), kept for the refusal's log line. */
interface Claim {
  from?: string
  refused?: string
}

type LineHandler = (v: Record<string, unknown>) => void

export class PeerChannel {
  private readonly servers: tls.Server[] = []
  /** Inbound TCP connections, handshaking or not (closed by stop()). */
  private readonly inbound = new Set<net.Socket>()
  private readonly outbound = new Map<string, Promise<Session>>()
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout; peer: string }>()
  private readonly claims = new WeakMap<tls.TLSSocket, Claim>()
  private readonly refusals = new Map<string, { at: number; more: number }>()
  /** Only pairs of hb.json nodes get here (inboundPsk checks first), so this stays small. */
  private readonly psks = new Map<string, Buffer>()
  private nextId = 1
  private stopped = false
  /** Refused handshakes, TLS records that failed authentication, unusable frames, and connections refused
   *  for want of a protocol version in common. */
  readonly rejected: Record<'handshake' | 'record' | 'malformed' | 'version', number> = {
    handshake: 0,
    record: 0,
    malformed: 0,
    version: 0,
  }
  private readonly protocol: ProtocolRange
  private readonly settled = new Map<string, ChannelProtocol>()

  constructor(private readonly o: PeerChannelOptions) {
    if (o.key.length !== 32) throw new MccsError('MCCS_ERR_CLUSTER_KEY_INVALID', 'the cluster key must be 32 bytes', { field: 'key' })
    this.protocol = checkRange(o.protocol ?? PROTOCOL, 'protocol')
  }

  /** Per peer, the version settled in the last hello (either way), or why it was refused. */
  protocols(): Record<string, ChannelProtocol> {
    return Object.fromEntries([...this.settled].map(([p, x]) => [p, { ...x, range: x.range && { ...x.range } }]))
  }

  /** The PSK of connections from `from` to `to` in this cluster: one per direction and pair (kept: HKDF
   *  in Node costs a tenth of a handshake). */
  private psk(from: string, to: string): Buffer {
    const id = `${from}>${to}`
    let k = this.psks.get(id)
    if (!k) this.psks.set(id, (k = derivePsk(this.o.key, `peer-channel ${this.o.cluster} ${id}`)))
    return k
  }

  async start(): Promise<void> {
    for (const ep of this.o.listen) await this.listenOn(ep)
  }

  /**
   * A new hb.json in force (live change, issue 16): listens on this node's new addresses and stops listening
   * on the ones gone; a peer removed is refused from now on, and its session closed; a peer's new addresses
   * are used by its next session. A listener that cannot start is reported and the rest goes on (the
   * heartbeat of that link fails in the same way and says so).
   */
  async reconfigure(listen: Endpoint[], peers: Record<string, Endpoint[]>): Promise<void> {
    const key = (e: Endpoint) => `${e.host}:${e.port}`
    const want = new Set(listen.map(key))
    for (const [i, server] of [...this.servers.entries()].reverse()) {
      const a = server.address()
      const k = a && typeof a === 'object' ? `${a.address}:${a.port}` : ''
      if (want.has(k)) continue
      this.servers.splice(i, 1)
      server.close()
    }
    const have = new Set(
      this.servers.map((x) => {
        const a = x.address()
        return a && typeof a === 'object' ? `${a.address}:${a.port}` : ''
      }),
    )
    for (const ep of listen) {
      if (have.has(key(ep))) continue
      await this.listenOn(ep).catch((e: Error) =>
        this.o.log?.log('error', `peer channel: cannot listen on ${key(ep)}: ${e.message}`, { host: ep.host, port: ep.port }),
      )
    }
    for (const p of Object.keys(this.o.peers)) {
      if (peers[p]) continue
      const s = this.outbound.get(p)
      this.outbound.delete(p)
      void s?.then(
        (x) => x.sock.destroy(),
        () => {},
      )
    }
    this.o.peers = peers
    this.o.listen = listen
  }

  private async listenOn(ep: Endpoint): Promise<void> {
    {
      const server = tls.createServer(
        pskServerOptions((id, sock) => this.inboundPsk(id, sock), this.o.connectTimeoutMs ?? 5000),
        (sock) => this.accept(sock),
      )
      server.on('connection', (raw: net.Socket) => {
        this.inbound.add(raw)
        raw.once('close', () => this.inbound.delete(raw))
      })
      server.on('tlsClientError', (err: Error & { code?: string }, sock: tls.TLSSocket) => this.refusedInbound(err, sock))
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(ep.port, ep.host, () => {
          server.off('error', reject)
          resolve()
        })
      })
      server.on('error', (err) => this.o.log?.log('error', 'peer channel listener error', { error: err.message }))
      this.servers.push(server)
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer)
      w.reject(new MccsError('MCCS_ERR_CANCELLED', 'peer channel stopped'))
    }
    this.waiting.clear()
    for (const s of this.outbound.values())
      s.then(
        (x) => x.sock.destroy(),
        () => {},
      )
    this.outbound.clear()
    for (const s of this.inbound) s.destroy()
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
  }

  /** Sends a request to a peer and waits for its answer. The deadline covers the connect too: a caller that
   *  gives a peer 300 ms must not wait each link's connect timeout first. */
  async request<T = unknown>(peer: string, body: unknown, timeoutMs = 10_000): Promise<T> {
    const end = performance.now() + timeoutMs
    const late = () => new MccsError('MCCS_ERR_PEER_TIMEOUT', `no answer from ${peer} within ${timeoutMs} ms`, { subject: peer })
    let connectTimer: NodeJS.Timeout | undefined
    const s = await Promise.race([
      this.session(peer),
      new Promise<never>((_, reject) => {
        connectTimer = setTimeout(() => reject(late()), timeoutMs)
      }),
    ]).finally(() => clearTimeout(connectTimer))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.waiting.delete(id)
          reject(late())
        },
        Math.max(0, end - performance.now()),
      )
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, peer })
      this.send(s, 'req', id, body)
    })
  }

  private send(s: Session, k: 'req' | 'res' | 'err', id: number, body: unknown): void {
    s.sock.write(`{"k":"${k}","id":${id},"b":${JSON.stringify(body ?? null)}}\n`)
  }

  /** Logs a refusal, at most once per REFUSAL_LOG_MS for the same kind and place (with how many were not logged). */
  private refusal(key: string, level: 'debug' | 'warn', msg: string, data: Record<string, unknown>): void {
    const now = Date.now()
    const r = this.refusals.get(key)
    if (r && now - r.at < REFUSAL_LOG_MS) {
      r.more++
      return
    }
    if (this.refusals.size > 1024) this.refusals.clear() // bounded: a scan from many addresses
    this.refusals.set(key, { at: now, more: 0 })
    this.o.log?.log(level, msg, { ...data, ...(r?.more ? { notLogged: r.more } : {}) })
  }

  /** Frames after the handshake, both directions. Anything unusable closes the connection. */
  private frames(s: Session): void {
    const { sock } = s
    const malformed = () => {
      this.rejected.malformed++
      sock.destroy()
    }
    sock.on('error', (err: Error & { code?: string }) => {
      // Node only reports a TLS error after the handshake (the socket stays open): close it here.
      sock.destroy()
      // A record that fails its AEAD tag (tampered, replayed, reordered, injected), or the peer's alert
      // saying so, is an OpenSSL error; a reset or a timeout is not.
      if (!err.code?.startsWith('ERR_SSL')) return
      this.rejected.record++
      this.refusal(`record ${s.peer}`, 'warn', 'peer connection closed: a TLS record failed authentication', {
        peer: s.peer,
        error: tlsReason(err),
      })
    })
    const onObj: LineHandler = (v) => {
      const { k, id, b } = v
      if (typeof id !== 'number' || (k !== 'req' && k !== 'res' && k !== 'err')) return malformed()
      if (k === 'req') {
        if (s.refused) return
        if (b !== null && typeof b === 'object' && (b as { t?: unknown }).t === HELLO)
          return this.answerHello(s, id, b as { protocol?: unknown })
        // A request before any hello: a client from before the hello, which speaks version 1.
        if (s.version === undefined && !this.settle(s, PROTOCOL_OLDEST, id)) return
        this.o.onRequest(s.peer, b).then(
          (res) => {
            if (!sock.destroyed) this.send(s, 'res', id, res)
          },
          (err: Error & { code?: string; field?: string; subject?: string; data?: unknown }) => {
            if (!sock.destroyed)
              this.send(s, 'err', id, {
                message: err.message,
                code: err.code ?? 'MCCS_ERR_INTERNAL',
                field: err.field,
                subject: err.subject,
                data: err.data,
              })
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
    }
    readLines(sock, MAX_LINE, (line) => {
      let v: unknown
      try {
        v = JSON.parse(line)
      } catch {
        return malformed()
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return malformed()
      onObj(v as Record<string, unknown>)
    })
  }

  /**
   * Settles the version of a connection with what the peer speaks. Refused: the reason (naming both ranges)
   * is logged and kept, and on the server side (`id` of the request to answer) sent back before closing.
   */
  private settle(s: Session, theirs: ProtocolRange, id?: number): boolean {
    const r = negotiate(this.protocol, theirs, s.peer)
    if ('version' in r) {
      s.version = r.version
      this.settled.set(s.peer, { version: r.version, range: theirs, refused: null })
      return true
    }
    s.refused = true
    this.rejected.version++
    this.settled.set(s.peer, { version: null, range: theirs, refused: r.refused })
    this.refusal(`version ${s.peer} ${formatRange(theirs)}`, 'warn', 'peer connection refused: no protocol version in common', {
      peer: s.peer,
      ours: formatRange(this.protocol),
      theirs: formatRange(theirs),
      reason: r.refused,
    })
    if (id !== undefined) {
      this.send(s, 'err', id, { message: r.refused, code: 'MCCS_ERR_PEER_VERSION', field: 'protocol', subject: s.peer })
      s.sock.end()
    }
    return false
  }

  /** Server side of the hello: the range checked (a malformed one refused, naming the field), then settled. */
  private answerHello(s: Session, id: number, b: { protocol?: unknown }): void {
    let theirs: ProtocolRange
    try {
      theirs = checkRange(b.protocol, 'protocol', 'MCCS_ERR_PEER_PROTOCOL', s.peer)
    } catch (e) {
      const m = e as MccsError
      this.rejected.malformed++
      s.refused = true
      this.send(s, 'err', id, { message: m.message, code: m.code, field: m.field, subject: s.peer })
      s.sock.end()
      return
    }
    if (this.settle(s, theirs, id)) this.send(s, 'res', id, { protocol: this.protocol, version: s.version })
  }

  /**
   * Client side of the hello, on a new connection before it is used. Resolves once a version is settled;
   * rejects (MCCS_ERR_PEER_VERSION) when there is none, or with whatever else went wrong.
   */
  private hello(s: Session, timeoutMs: number): Promise<void> {
    const id = this.nextId++
    return new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        clearTimeout(timer)
        this.waiting.delete(id)
        s.sock.off('close', closed)
        if (e) reject(e)
        else resolve()
      }
      const closed = () => done(new Error(`${s.peer} closed the connection during the hello`))
      const timer = setTimeout(() => done(new Error(`no answer to the hello from ${s.peer} within ${timeoutMs} ms`)), timeoutMs)
      const refused = (theirs: ProtocolRange) => {
        this.settle(s, theirs)
        done(new MccsError('MCCS_ERR_PEER_VERSION', this.settled.get(s.peer)!.refused!, { field: 'protocol', subject: s.peer }))
      }
      s.sock.once('close', closed)
      this.waiting.set(id, {
        peer: s.peer,
        timer,
        resolve: (body) => {
          const a = (body ?? {}) as { protocol?: unknown; version?: unknown }
          let theirs: ProtocolRange
          try {
            theirs = checkRange(a.protocol, 'protocol', 'MCCS_ERR_PEER_PROTOCOL', s.peer)
          } catch (e) {
            return done(e as Error)
          }
          const r = negotiate(this.protocol, theirs, s.peer)
          if (!('version' in r)) return refused(theirs)
          if (a.version !== r.version)
            return done(
              new MccsError('MCCS_ERR_PEER_PROTOCOL', `${s.peer} settled on version ${String(a.version)}, not ${r.version}`, {
                field: 'version',
                subject: s.peer,
              }),
            )
          this.settle(s, theirs)
          done()
        },
        reject: (e: Error & { code?: string; field?: string; reason?: string }) => {
          // A server from before the hello: it answered an unknown message. It speaks version 1.
          if (e.code === 'MCCS_ERR_INVALID' && e.field === 't') {
            if (this.settle(s, PROTOCOL_OLDEST)) return done()
            return refused(PROTOCOL_OLDEST)
          }
          if (e.code === 'MCCS_ERR_PEER_VERSION') {
            // The server refused us: it said why (both ranges).
            this.rejected.version++
            this.settled.set(s.peer, { version: null, range: null, refused: e.reason ?? e.message })
            this.refusal(`version ${s.peer} refused us`, 'warn', `peer connection to ${s.peer} refused: no protocol version in common`, {
              peer: s.peer,
              ours: formatRange(this.protocol),
              reason: e.reason ?? e.message,
            })
          }
          done(e)
        },
      })
      this.send(s, 'req', id, { t: HELLO, protocol: this.protocol })
    })
  }

  /** Server side: the PSK for the identity a client names, or null (refused) for one not meant for us. */
  private inboundPsk(identity: string, sock: tls.TLSSocket): Buffer | null {
    const [cluster, from, to, ...rest] = identity.split('/')
    const claim: Claim = {}
    this.claims.set(sock, claim)
    if (rest.length || !from || !NAME.test(from) || !to || !NAME.test(to)) claim.refused = 'malformed identity'
    else if (cluster !== this.o.cluster) claim.refused = 'another cluster'
    else if (to !== this.o.node) claim.refused = `meant for node ${to}`
    else if (!Object.hasOwn(this.o.peers, from)) claim.refused = 'not a node of this cluster'
    if (from && NAME.test(from)) claim.from = from
    return claim.refused ? null : this.psk(from!, this.o.node)
  }

  private refusedInbound(err: Error & { code?: string }, sock: tls.TLSSocket): void {
    this.rejected.handshake++
    const claim = this.claims.get(sock)
    const address = sock.remoteAddress ?? '?'
    const tlsError = err.code?.startsWith('ERR_SSL') === true
    const reason = claim?.refused ?? INBOUND_REASONS[err.code ?? ''] ?? tlsReason(err)
    // A connection dropped before its handshake (a port check, our own peer stopping) is not an attack.
    const level = claim?.refused || tlsError || err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'warn' : 'debug'
    this.refusal(`in ${address} ${claim?.from ?? ''} ${reason}`, level, `peer connection refused: ${reason}`, {
      address,
      ...(claim?.from ? { claimed: claim.from } : {}),
      ...(err.code ? { code: err.code } : {}),
    })
    sock.destroy()
  }

  /** Server side of an authenticated connection. */
  private accept(sock: tls.TLSSocket): void {
    const from = this.claims.get(sock)?.from
    if (!from || !pskAuthenticated(sock)) {
      // cannot happen with PSK-only options; refuse rather than assume
      this.rejected.handshake++
      sock.destroy()
      return
    }
    sock.setNoDelay(true)
    this.frames({ sock, peer: from })
  }

  /**
   * A link to a peer went down: an outbound connection over it would only be noticed dead after TCP's
   * retransmission timeouts (minutes), with requests stuck on it. Close it now (its waiting requests fail
   * at once, as any lost connection's do) so the next request connects over a link that works.
   */
  dropVia(peer: string, host: string): void {
    const have = this.outbound.get(peer)
    if (!have) return
    void have.then(
      (s) => {
        if (s.sock.remoteAddress === host || s.sock.remoteAddress === `::ffff:${host}`) {
          this.o.log?.log('info', `closing the connection to ${peer} over ${host}: that link is down`, { peer, host })
          s.sock.destroy()
        }
      },
      () => {},
    )
  }

  /** Our outbound session to a peer (made on first use, remade after a failure). */
  private session(peer: string): Promise<Session> {
    const have = this.outbound.get(peer)
    if (have) return have
    const all = this.o.peers[peer] ?? []
    const up = this.o.reachable
    const eps = up ? [...all.filter((e) => up(peer, e)), ...all.filter((e) => !up(peer, e))] : all
    if (!eps?.length) return Promise.reject(new MccsError('MCCS_ERR_NOT_FOUND', `no addresses for node ${peer}`, { subject: peer }))
    const p = this.connectAny(peer, eps)
    this.outbound.set(peer, p)
    p.then(
      (s) =>
        s.sock.once('close', () => {
          if (this.outbound.get(peer) === p) this.outbound.delete(peer)
          for (const [id, w] of this.waiting) {
            if (w.peer === peer) {
              clearTimeout(w.timer)
              this.waiting.delete(id)
              w.reject(new MccsError('MCCS_ERR_PEER_UNREACHABLE', `connection to ${peer} closed`, { subject: peer }))
            }
          }
        }),
      () => {
        if (this.outbound.get(peer) === p) this.outbound.delete(peer)
      },
    )
    return p
  }

  /**
   * Connects over the first link that answers. Links are tried in order, but the next one starts when the
   * previous fails or after `staggerMs` without an answer, whichever comes first (as Happy Eyeballs does):
   * a link that swallows packets (cable pulled, far side paused) used to cost its whole connect timeout,
   * 2 s, before the next was tried, and a new coordinator's intent gather waited that long per link for a
   * member that had just been partitioned away. The sessions that lose the race are closed.
   */
  private connectAny(peer: string, eps: Endpoint[]): Promise<Session> {
    const staggerMs = this.o.connectStaggerMs ?? 250
    return new Promise<Session>((resolve, reject) => {
      let won: Session | null = null
      let failed = 0
      let last: Error | undefined
      let next = 0
      let timer: NodeJS.Timeout | undefined
      const start = () => {
        clearTimeout(timer)
        if (won || next >= eps.length) return
        const ep = eps[next++]!
        if (next < eps.length) timer = setTimeout(start, staggerMs)
        this.connect(peer, ep).then(
          (s) => {
            if (won) return void s.sock.destroy()
            won = s
            clearTimeout(timer)
            resolve(s)
          },
          (err: Error) => {
            last = err
            if (++failed < eps.length) return start()
            // A refusal for the protocol version is the answer of the peer, not a reach problem: kept as it is.
            if ((last as { code?: string }).code === 'MCCS_ERR_PEER_VERSION') reject(last)
            else reject(new MccsError('MCCS_ERR_PEER_UNREACHABLE', `cannot reach ${peer} on any link: ${last.message}`, { subject: peer }))
          },
        )
      }
      start()
    })
  }

  private connect(peer: string, ep: Endpoint): Promise<Session> {
    return new Promise<Session>((resolve, reject) => {
      if (this.stopped) return reject(new MccsError('MCCS_ERR_CANCELLED', 'peer channel stopped'))
      const at = `${ep.host}:${ep.port}`
      const sock = tls.connect({
        host: ep.host,
        port: ep.port,
        ...pskClientOptions(`${this.o.cluster}/${this.o.node}/${peer}`, this.psk(this.o.node, peer)),
      })
      const timer = setTimeout(() => {
        sock.destroy()
        reject(new Error(`handshake with ${peer} at ${at} timed out`))
      }, this.o.connectTimeoutMs ?? 2000)
      const refused = (reason: string, code?: string) => {
        this.rejected.handshake++
        this.refusal(`out ${peer} ${at} ${reason}`, 'warn', `peer connection to ${peer} refused: ${reason}`, {
          peer,
          address: at,
          ...(code ? { code } : {}),
        })
      }
      let tcpUp = false
      sock.once('connect', () => {
        tcpUp = true
      })
      sock.once('error', (e: Error & { code?: string }) => {
        clearTimeout(timer)
        // A failure after TCP connected and before the handshake ended, other than a reset: the server
        // refused our PSK (another key, or we are not a node it knows; OpenSSL reports the former as
        // 'illegal parameter'), or it is not an MCCS peer (a certificate, or no TLS at all).
        if (tcpUp && e.code !== 'ECONNRESET' && e.code !== 'EPIPE') {
          refused(e.code === 'ERR_SSL_SSLV3_ALERT_ILLEGAL_PARAMETER' ? `${peer} does not accept our cluster key` : tlsReason(e), e.code)
        }
        reject(e)
      })
      sock.once('close', () => {
        clearTimeout(timer)
        reject(new Error(`${peer} closed the connection during the handshake`))
      })
      const started = Date.now()
      sock.once('secureConnect', () => {
        if (!pskAuthenticated(sock)) {
          refused('it did not authenticate with the cluster key')
          sock.destroy()
          return
        }
        clearTimeout(timer)
        sock.removeAllListeners('close')
        sock.removeAllListeners('error')
        sock.setNoDelay(true)
        const s: Session = { sock, peer }
        this.frames(s)
        // The hello within what is left of the connect timeout.
        const left = Math.max(1, (this.o.connectTimeoutMs ?? 2000) - (Date.now() - started))
        this.hello(s, left).then(
          () => resolve(s),
          (e: Error) => {
            sock.destroy()
            reject(e)
          },
        )
      })
    })
  }
}

/** The reason of an OpenSSL error without its codes and source position ("binder does not verify"). */
function tlsReason(err: Error): string {
  const line = String(err.message).split('\n')[0]!
  return (/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):/.exec(line)?.[1] ?? line).slice(0, 200)
}
