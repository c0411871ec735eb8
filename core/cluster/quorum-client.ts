// The quorum client a cluster node runs: it logs in to the quorum server (TLS, the server's CA pinned,
// HMAC challenge-response with the cluster's quorum key), reports the partition this node sees every
// interval, and keeps the server's answer as `vote()`:
//   'granted'  the server gives this node's partition its tie-breaker vote (and the lease is fresh)
//   'denied'   the server is reachable and gives the vote to another partition (or waits for one to give it up)
//   'none'     the server is unreachable, refuses us, or has not answered within the lease
// Events: 'vote' (vote, previous), 'answer' (vote, partition: a new vote or one about another partition),
// 'connected', 'disconnected' (reason), 'error' (MccsError).
// It reconnects with exponential backoff (with jitter) until stop().
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { isIP } from 'node:net'
import tls from 'node:tls'
import { MccsError } from '../errors.js'
import { LineFramer } from '../line-reader.js'
import type { HostLogger } from '../log/types.js'
import type { Said } from '../i18n/messages.js'
import {
  KEY_RE,
  MAX_LINE,
  NAME_RE,
  PROTOCOL_VERSION,
  QUORUM_PORT,
  authMac,
  checkPartition,
  parseServerMsg,
  partitionKey,
  type ClientMsg,
  type ClientVote,
  type VoteMsg,
} from './quorum-protocol.js'

export interface QuorumClientOptions {
  host: string
  port?: number
  /** The quorum server's CA certificate (PEM): the only CA trusted. */
  ca: string
  /** Name to check the certificate against (default: host). */
  servername?: string
  cluster: string
  node: string
  /** The cluster's quorum key (as in the server's clusters/<cluster>.key). */
  key: string
  /** The nodes this node currently sees (itself included): a list, or a function asked at each report. */
  partition: string[] | (() => string[])
  /** Report interval before the server says its own (the smaller one is used). Default 1000 ms. */
  intervalMs?: number
  /** The timeout (the lease) this node asks the server for, with `intervalMs` as its report interval: the
   *  cluster's heartbeat timing, so that a lost peer's part of the vote lapses about when the heartbeat
   *  declares it dead. Absent: the server's own. */
  timeoutMs?: number
  /** Connect / handshake / login timeout. Default 5000 ms. */
  connectTimeoutMs?: number
  backoff?: { minMs?: number; maxMs?: number }
  log?: HostLogger
}

export interface QuorumClientState {
  /** host:port of the server this client asks. */
  address: string
  vote: ClientVote
  connected: boolean
  loggedIn: boolean
  holder: string[] | null
  reason: string
  /** The reason in words of the locale files (said.qs.*), when it is one this client or the quorum server
   *  words; an error's own message has none and is shown as written. */
  said?: Said
  lastError: { code: string; message: string } | null
  reconnects: number
}

const nullLog: HostLogger = { log: () => {} }

/** The words of a reason this client gives itself or a quorum server answers with (quorum-server.ts), so the
 *  reader sees it in their language; undefined for any other text (an error's message, another server's). */
export function quorumServerWords(reason: string): Said | undefined {
  if (reason === 'not connected') return { id: 'said.qs.notConnected' }
  if (reason === 'stopped') return { id: 'said.qs.stopped' }
  if (reason === 'logged in') return { id: 'said.qs.loggedIn' }
  if (reason === 'this partition holds the vote') return { id: 'said.qs.holds' }
  let m = /^waiting for (.+) to give the vote up$/.exec(reason)
  if (m) return { id: 'said.qs.waiting', params: { nodes: m[1]! } }
  m = /^the vote is held by partition \[(.*)\]$/.exec(reason)
  if (m) return { id: 'said.qs.heldBy', params: { nodes: m[1]! } }
  return undefined
}

export class QuorumClient extends EventEmitter {
  private socket: tls.TLSSocket | null = null
  private loggedIn = false
  private stopped = true
  private seq = 0
  private ackVseq = 0
  private readonly sentAt = new Map<number, number>()
  private serverVote: VoteMsg['vote'] | null = null
  /** The partition the server's last vote was about (its key). */
  private votePartition: string | null = null
  private leaseUntil = 0
  private holder: string[] | null = null
  private reason = 'not connected'
  private intervalMs: number
  private timeoutMs: number
  private reportTimer: NodeJS.Timeout | null = null
  private leaseTimer: NodeJS.Timeout | null = null
  /** Votes answering reports older than this are about a partition we no longer have. */
  private minVoteSeq = 0
  private retryTimer: NodeJS.Timeout | null = null
  private attempts = 0
  private reconnects = 0
  private lastError: MccsError | null = null
  private lastVote: ClientVote = 'none'
  private partitionNow: string[]
  private readonly log: HostLogger

  constructor(private readonly opts: QuorumClientOptions) {
    super()
    if (!NAME_RE.test(opts.cluster))
      throw new MccsError('MCCS_ERR_INVALID', `'${opts.cluster}' is not a cluster name`, { field: 'cluster' })
    if (!NAME_RE.test(opts.node)) throw new MccsError('MCCS_ERR_INVALID', `'${opts.node}' is not a node name`, { field: 'node' })
    if (!KEY_RE.test(opts.key))
      throw new MccsError('MCCS_ERR_INVALID', 'a quorum key is 32..512 printable characters without spaces', { field: 'key' })
    if (!opts.ca.includes('-----BEGIN CERTIFICATE-----'))
      throw new MccsError('MCCS_ERR_TLS_MATERIAL', 'ca must be a PEM certificate', { field: 'ca' })
    this.intervalMs = opts.intervalMs ?? 1000
    this.timeoutMs = 5 * this.intervalMs
    this.log = opts.log ?? nullLog
    this.partitionNow = typeof opts.partition === 'function' ? [opts.node] : checkPartition(opts.partition)
    // Avoid an unhandled 'error' event crashing a caller that only polls vote().
    this.on('error', () => {})
  }

  /** The vote as of now (the lease is checked at every call). */
  vote(): ClientVote {
    if (!this.loggedIn || this.serverVote === null) return 'none'
    if (performance.now() >= this.leaseUntil) return 'none'
    return this.serverVote
  }

  /** The vote for these members: a grant counts only for the partition it was given to. With the partition
   *  read from a function, the vote kept until the server answers the next report is about the partition
   *  reported before: a node of {n1, n2} granted, whose peer died, must not read that grant as one for {n2}
   *  (the quorum-failover lab: n2 fenced n1 and started the group, then the server denied {n2} while n1's
   *  report of {n1, n2} still held the vote, and n2 took the group offline again). */
  voteFor(members: readonly string[]): ClientVote {
    const v = this.vote()
    if (v !== 'granted') return v
    return this.votePartition === partitionKey([...members].sort()) ? v : 'none'
  }

  /** The server has not yet decided for these members, while it answers: the report of them is in flight (the
   *  last answer is about another partition), or its answer names as holder a partition that contains them all
   *  (the vote still sits with a partition this node was part of, until the server has heard the others again or
   *  forgotten them: its timeout). False when not logged in, the lease has lapsed, or another partition holds it. */
  pendingFor(members: readonly string[]): boolean {
    if (!this.loggedIn || this.serverVote === null || performance.now() >= this.leaseUntil) return false
    const key = partitionKey([...members].sort())
    if (this.votePartition !== key) return true
    if (this.serverVote === 'granted') return false
    return !!this.holder && members.every((m) => this.holder!.includes(m))
  }

  /** How long the server may take to give the vote to a partition whose peer died: its timeout for that peer. */
  transferBoundMs(): number {
    return this.timeoutMs
  }

  state(): QuorumClientState {
    return {
      address: `${this.opts.host}:${this.opts.port ?? QUORUM_PORT}`,
      vote: this.vote(),
      connected: this.socket !== null && !this.socket.destroyed,
      loggedIn: this.loggedIn,
      holder: this.holder,
      reason: this.reason,
      ...(quorumServerWords(this.reason) ? { said: quorumServerWords(this.reason)! } : {}),
      lastError: this.lastError ? { code: this.lastError.code, message: this.lastError.message } : null,
      reconnects: this.reconnects,
    }
  }

  start(): this {
    if (!this.stopped) return this
    this.stopped = false
    this.connect()
    return this
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const t of [this.reportTimer, this.leaseTimer, this.retryTimer]) if (t) clearTimeout(t)
    this.reportTimer = this.leaseTimer = this.retryTimer = null
    const s = this.socket
    this.socket = null
    this.loggedIn = false
    this.serverVote = null
    this.reason = 'stopped'
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve())
        s.destroy()
      })
    }
    this.changed()
  }

  /** The membership changed: report it now instead of at the next interval. */
  setPartition(nodes: string[]): void {
    const next = checkPartition(nodes)
    if (next.join(',') !== this.partitionNow.join(',')) {
      // A grant was for the partition we reported: once ours changes it no longer holds. Until the
      // server answers a report of the new partition, the vote is "none" (never two sides granted).
      this.serverVote = null
      this.minVoteSeq = this.seq + 1
      this.changed()
    }
    this.partitionNow = next
    if (this.loggedIn) this.report()
  }

  /** The partition read from the function changed: report it now rather than at the next interval. */
  reportNow(): void {
    if (this.loggedIn) this.report()
  }

  private currentPartition(): string[] {
    const p = typeof this.opts.partition === 'function' ? checkPartition(this.opts.partition()) : this.partitionNow
    return p.includes(this.opts.node) ? p : checkPartition([...p, this.opts.node])
  }

  private connect(): void {
    if (this.stopped) return
    let tcpUp = false
    const nonceHolder = { cnonce: randomBytes(16).toString('hex') }
    const servername = this.opts.servername ?? (isIP(this.opts.host) ? undefined : this.opts.host)
    const socket = tls.connect({
      host: this.opts.host,
      port: this.opts.port ?? QUORUM_PORT,
      ca: [this.opts.ca],
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
      ...(servername ? { servername } : {}),
    })
    this.socket = socket
    const loginTimer = setTimeout(
      () => this.fail(socket, new MccsError('MCCS_ERR_QUORUM_UNREACHABLE', `no login within ${this.opts.connectTimeoutMs ?? 5000} ms`)),
      this.opts.connectTimeoutMs ?? 5000,
    )
    socket.once('connect', () => {
      tcpUp = true
    })
    socket.once('secureConnect', () => {
      this.log.log('debug', 'quorum client: TLS up', { host: this.opts.host })
      this.emit('connected')
    })
    const framer = new LineFramer(MAX_LINE)
    socket.on('data', (chunk: Buffer) => {
      const ok = framer.push(chunk, (line) => {
        if (this.socket !== socket) return false
        this.onLine(socket, line, nonceHolder.cnonce, loginTimer)
      })
      if (!ok) this.fail(socket, new MccsError('MCCS_ERR_QUORUM_PROTOCOL', 'server line too long'))
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const tlsFailure = tcpUp && !socket.authorized && !this.loggedIn
      const code = tlsFailure ? 'MCCS_ERR_QUORUM_TLS' : 'MCCS_ERR_QUORUM_UNREACHABLE'
      this.fail(
        socket,
        new MccsError(code, `${this.opts.host}:${this.opts.port ?? QUORUM_PORT}: ${err.message}`, {
          cause: err,
          data: { errno: err.code },
        }),
      )
    })
    socket.on('close', () => {
      clearTimeout(loginTimer)
      if (this.socket !== socket) return
      this.dropped('connection closed')
    })
  }

  private onLine(socket: tls.TLSSocket, line: string, cnonce: string, loginTimer: NodeJS.Timeout): void {
    let msg
    try {
      msg = parseServerMsg(line)
    } catch (err) {
      return this.fail(socket, err as MccsError)
    }
    switch (msg.t) {
      case 'hello': {
        if (msg.v !== PROTOCOL_VERSION)
          return this.fail(socket, new MccsError('MCCS_ERR_QUORUM_PROTOCOL', `server speaks protocol ${msg.v}`))
        const { cluster, node, key } = this.opts
        const asked = this.opts.timeoutMs !== undefined ? { intervalMs: this.opts.intervalMs ?? 1000, timeoutMs: this.opts.timeoutMs } : {}
        this.write(socket, {
          t: 'auth',
          v: PROTOCOL_VERSION,
          cluster,
          node,
          cnonce,
          mac: authMac(key, cluster, node, msg.nonce, cnonce),
          ...asked,
        })
        return
      }
      case 'welcome':
        clearTimeout(loginTimer)
        this.loggedIn = true
        this.attempts = 0
        this.lastError = null
        this.intervalMs = Math.min(this.opts.intervalMs ?? msg.intervalMs, msg.intervalMs)
        this.timeoutMs = msg.timeoutMs
        this.reason = 'logged in'
        this.log.log('info', 'quorum client: logged in', { host: this.opts.host, cluster: msg.cluster, node: msg.node })
        this.report()
        return
      case 'vote': {
        this.ackVseq = Math.max(this.ackVseq, msg.vseq)
        if (msg.seq < this.minVoteSeq) return // an answer about the partition we had before
        const sent = this.sentAt.get(msg.seq)
        if (sent !== undefined) {
          // The server forgets us timeoutMs after it received report `seq` (sent at `sent`); stop earlier.
          const margin = Math.min(1000, this.timeoutMs / 5)
          this.leaseUntil = Math.max(this.leaseUntil, sent + this.timeoutMs - margin)
          for (const s of this.sentAt.keys()) if (s < msg.seq) this.sentAt.delete(s)
        }
        // A vote about another partition than the last one (granted for {n1, n2}, then granted for {n2} once
        // the server forgot the dead n1) changes voteFor() although vote() stays 'granted': say so, or the
        // role waits out its whole tie bound (the quorum failover bench: +700 ms) before it looks again.
        const answered = this.serverVote !== msg.vote || this.votePartition !== partitionKey(msg.partition)
        this.serverVote = msg.vote
        this.votePartition = partitionKey(msg.partition)
        this.holder = msg.holder
        this.reason = msg.reason
        this.armLease()
        this.changed()
        if (answered) this.emit('answer', msg.vote, msg.partition)
        return
      }
      case 'error': {
        const code = msg.code === 'MCCS_ERR_QUORUM_AUTH' ? 'MCCS_ERR_QUORUM_AUTH' : 'MCCS_ERR_QUORUM_PROTOCOL'
        return this.fail(socket, new MccsError(code, `quorum server: ${msg.message}`, { data: { serverCode: msg.code } }))
      }
    }
  }

  private write(socket: tls.TLSSocket, msg: ClientMsg): void {
    if (!socket.destroyed) socket.write(JSON.stringify(msg) + '\n')
  }

  private report(): void {
    if (this.reportTimer) clearTimeout(this.reportTimer)
    this.reportTimer = null
    const socket = this.socket
    if (!socket || !this.loggedIn || this.stopped) return
    let partition: string[]
    try {
      partition = this.currentPartition()
    } catch (err) {
      this.log.log('error', 'quorum client: the partition is invalid; reporting only this node', { error: (err as Error).message })
      partition = [this.opts.node]
    }
    this.seq++
    this.sentAt.set(this.seq, performance.now())
    if (this.sentAt.size > 256) this.sentAt.delete(this.sentAt.keys().next().value!)
    this.write(socket, { t: 'report', seq: this.seq, ack: this.ackVseq, partition })
    this.reportTimer = setTimeout(() => this.report(), this.intervalMs)
    this.reportTimer.unref()
    // No answer within the lease: the link is dead even if TCP has not noticed; start afresh.
    if (this.serverVote !== null && performance.now() >= this.leaseUntil) {
      this.fail(socket, new MccsError('MCCS_ERR_QUORUM_UNREACHABLE', `no answer from the quorum server within ${this.timeoutMs} ms`))
    }
  }

  private armLease(): void {
    if (this.leaseTimer) clearTimeout(this.leaseTimer)
    const ms = this.leaseUntil - performance.now()
    if (ms <= 0) return
    this.leaseTimer = setTimeout(() => {
      this.leaseTimer = null
      this.changed()
    }, ms + 1)
    this.leaseTimer.unref()
  }

  private changed(): void {
    const v = this.vote()
    if (v === this.lastVote) return
    const prev = this.lastVote
    this.lastVote = v
    this.log.log(v === 'granted' ? 'info' : 'warn', 'quorum vote changed', { vote: v, previous: prev, reason: this.reason })
    this.emit('vote', v, prev)
  }

  private fail(socket: tls.TLSSocket, err: MccsError): void {
    if (this.socket !== socket) return
    this.lastError = err
    this.reason = err.message
    this.log.log('warn', 'quorum client: connection failed', { code: err.code, error: err.message })
    this.emit('error', err)
    socket.destroy()
    this.dropped(err.message)
  }

  private dropped(reason: string): void {
    if (this.reportTimer) clearTimeout(this.reportTimer)
    this.reportTimer = null
    const wasUp = this.loggedIn
    this.socket = null
    this.loggedIn = false
    this.serverVote = null
    this.leaseUntil = 0
    this.sentAt.clear()
    this.changed()
    if (wasUp) this.emit('disconnected', reason)
    if (this.stopped) return
    const min = this.opts.backoff?.minMs ?? 200
    const max = this.opts.backoff?.maxMs ?? 10_000
    const delay = Math.min(max, min * 2 ** Math.min(this.attempts, 20)) * (0.5 + Math.random() / 2)
    this.attempts++
    this.reconnects++
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.connect()
    }, delay)
    this.retryTimer.unref()
  }
}

/** The partition key the server uses (exported for callers that compare partitions). */
export { partitionKey }
