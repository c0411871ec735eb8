// Heartbeats over every configured link (UDP, default port 14321). One socket per link, bound to this
// node's address on that link; one interval timer for all links: each tick sends to every peer on every link
// and then checks every (peer, link) for silence. A (peer, link) is down after `deadMs` without an accepted packet;
// a peer is down only when all its links are. Packets are authenticated and replay-checked (packet.ts);
// rejections are counted by reason and visible in status().
//
// Freshness (issue 12, finding 5): a packet keeps a (peer, link) up only if it echoes one of this node's own
// last sends on that link (the last ceil(deadMs / intervalMs) + 1 of them). The peer can only know those
// values by having received them, so a recording (of an earlier boot, or made before this node restarted)
// proves nothing, however its clock compares to ours: node clocks need not agree. The window counts sends,
// not time, so a stall of this process (its sends stop too) does not make the queued packets stale. A packet
// without such an echo is kept only for its echo (the handshake: we echo its send time back, its next packet
// echoes ours); it is counted as a replay when its echo is older than a round trip can explain.
//
// Protocol versions (issue 16, What 4): every packet advertises the versions this node speaks (`ext.pv`,
// packet.ts); a peer whose range has no version in common with ours is refused (its packets count as
// 'version' rejections and keep nothing up, so it never becomes a member; no fence follows from that), with
// the reason naming both ranges logged once per range it advertises and kept in status (peers[].protocol).
// A packet without the field is from a release before it: version 1.
//
// Events: 'peer' (a peer went up or down, or came back with a new incarnation), 'link' (one (peer, link)
// changed), 'view' (a peer's piggybacked view changed), 'reject' (a packet was refused).

import dgram from 'node:dgram'
import dns from 'node:dns'
import { EventEmitter } from 'node:events'
import { isIP } from 'node:net'
import { performance } from 'node:perf_hooks'
import { MccsError, isMccsError, type ErrorCode } from '../errors.js'
import type { HbConfig } from '../config/hb-model.js'
import type { Log } from '../log/logger.js'
import { HbStateWriter, loadHbState } from './heartbeat-state.js'
import {
  HB_DEFAULT_PORT,
  KEY_BYTES,
  ReplayGuard,
  encodePacket,
  rejectError,
  tryDecodePacket,
  type DecodeExpect,
  encodeView,
  newIncarnation,
  validateView,
  type HbEcho,
  type HbPacket,
  type HbReject,
  type HbView,
} from './packet.js'
import { PROTOCOL, checkRange, formatRange, negotiate, type ProtocolRange } from './protocol-version.js'

/**
 * Shipped timing (docs/heartbeat.md): a heartbeat every 100 ms on every link, a link is dead after 600 ms of
 * silence. Node loss is detected in 0.5–0.7 s; 6 consecutive heartbeats must be lost on a link for a false
 * link-down, and on every link at once for a false node-down.
 */
export const DEFAULT_TIMING = Object.freeze({ intervalMs: 100, deadMs: 600 })

export interface HeartbeatOptions {
  /** hb.json (as loaded: defaults applied). `timing` and `port` fall back to DEFAULT_TIMING / 14321. */
  config: Pick<HbConfig, 'cluster' | 'nodes' | 'links'> & Partial<Pick<HbConfig, 'timing' | 'port' | 'generation'>>
  /** This node's name (one of config.nodes). */
  self: string
  /** The 256-bit cluster key (cluster-key.ts). */
  key: Buffer
  log?: Pick<Log, 'log'>
  /** The first view to piggyback. */
  payload?: HbView
  /** Debug tap: every datagram received, before validation (tests capture packets to replay them). */
  onPacket?: (raw: Buffer, link: string, from: { address: string; port: number }) => void
  /**
   * File that keeps this node's last incarnation and the newest incarnation seen from each peer across
   * restarts (heartbeat-state.ts; the agent uses <state>/heartbeat.json). Without it both live in memory
   * only: a restart of this node forgets which incarnations of its peers are old.
   */
  stateFile?: string
  /** Called after every tick, once its silence check is done (the worker thread reports its state then). */
  onTick?: () => void
  /** The protocol versions this node advertises (default PROTOCOL; another range only for tests). */
  protocol?: ProtocolRange
}

/** What this node and a peer agreed on: the version both speak, or why there is none. */
export interface PeerProtocol {
  /** The version in use with this peer (null: not heard yet, or refused). */
  version: number | null
  /** The range the peer advertised last (null: not heard yet). */
  range: ProtocolRange | null
  /** Why the peer is refused (null: it is not), naming both ranges. */
  refused: string | null
}

export type RejectReason = 'malformed' | 'version' | 'foreign' | 'auth' | 'replay' | 'misdirected'
export type RejectCounters = Record<RejectReason, number>

export interface PeerEvent {
  node: string
  up: boolean
  /** Wall-clock time of the change (ms since the epoch). */
  at: number
  /** State of each shared link. */
  links: Record<string, boolean>
  incarnation: string | null
  /** The peer came back with a new incarnation (it restarted) while we still saw it up. */
  restarted?: boolean
}
export interface LinkEvent {
  node: string
  link: string
  up: boolean
  at: number
}
export interface ViewEvent {
  node: string
  payload: HbView
}
export interface RejectEvent {
  link: string
  from: string
  reason: RejectReason
  code: ErrorCode
  field?: string
  message: string
}

export interface HeartbeatEvents {
  peer: [PeerEvent]
  link: [LinkEvent]
  view: [ViewEvent]
  reject: [RejectEvent]
}

export interface PeerLinkStatus {
  up: boolean
  address: string
  /** Ms since the last accepted packet on this link (null: never heard). */
  lastHeardMs: number | null
  /** Round-trip time from echoed timestamps (smoothed), ms. */
  rttMs: number | null
  /** Age of the last packet on arrival (includes any clock offset between the nodes), ms. */
  ageMs: number | null
  rx: number
  /** Authentic packets that did not prove the peer alive (no echo of a recent send of ours): the first
   *  packets of a handshake, or every packet of a link that works in one direction only. */
  unconfirmed: number
  /** Wall-clock time of the last state change. */
  since: number
}
export interface PeerStatus {
  node: string
  up: boolean
  since: number
  incarnation: string | null
  links: Record<string, PeerLinkStatus>
  /** The share of this peer's packets of the last two dead times that reached us (0..1, its best link; null:
   *  heard too briefly to say). Every authentic packet counts, echo or not: what this node *receives*, the
   *  one figure that tells a node whose inbound loses packets from the peers it cannot hear back
   *  (membership.ts). */
  received: number | null
  view: HbView | null
  /** What the agreed membership (view.ts) needs of this peer, as ages at the time of the status (ms; null:
   *  never): `ann`, since its last fresh packet (the one whose view is `view`); `lease`, since our own send
   *  that the freshest packet carrying that view echoed; `grant`, since we received the newest packet of
   *  this peer that we echoed while our view announced a joined view (`ext.vc.j`). */
  ages: { ann: number | null; lease: number | null; grant: number | null }
  protocol: PeerProtocol
}
export interface HbStateStatus {
  file: string | null
  /** Why the file could not be read or written (null: fine, or no file configured). */
  error: string | null
}
export interface LinkStatus {
  name: string
  address: string
  port: number
  bound: boolean
  tx: number
  rx: number
  /** Ticks whose sends on this link failed (ENETUNREACH while the interface is down, ...). */
  sendErrors: number
  lastError: string | null
}
export interface HeartbeatStatus {
  self: string
  cluster: string
  incarnation: string
  /** The protocol versions this node advertises. */
  protocol: ProtocolRange
  timing: { intervalMs: number; deadMs: number }
  links: LinkStatus[]
  peers: PeerStatus[]
  rejected: RejectCounters
  state: HbStateStatus
  /** The view-change announcement (`ext.vc`) of the view this heartbeat sends now, as JSON (null: none). */
  payloadVc: string | null
}

interface LinkState {
  name: string
  address: string
  port: number
  socket: dgram.Socket | null
  binding: boolean
  seq: number
  /** Our last sends' times on this link (ring): an echo of one of them proves the peer heard us lately. */
  sent: number[]
  sentNext: number
  tx: number
  rx: number
  sendErrors: number
  lastError: string | null
  lastErrorLogged: number
}

interface PeerLink {
  address: string
  up: boolean
  lastHeard: number | null // monotonic ms
  since: number // wall ms
  rx: number
  unconfirmed: number
  /** Mono arrival times of the authentic packets (echo or not) of the last RECEIVED_WINDOW dead times. */
  arrivals: number[]
  /** Mono time this peer's current boot was first heard on the link (a lower sequence number: a new boot). */
  firstAny: number | null
  lastSeq: number
  rttMs: number | null
  ageMs: number | null
  // For the echo we send back: the peer's last sentAt and when we received it.
  echoSentAt: number | null
  echoRecvAt: number
}

interface PeerState {
  node: string
  up: boolean
  since: number
  incarnation: bigint | null
  links: Map<string, PeerLink>
  view: HbView | null
  /** The decoded view object last taken (the decoder returns the same object for the same bytes). */
  viewSeen: HbView | null
  /** Mono time of the last fresh packet (the one `view` came from). */
  acceptedAt: number | null
  /** Our send time (clock()) echoed by the freshest fresh packet carrying the current view: a lease anchor. */
  leaseAt: number | null
  /** Mono time we received the newest packet of this peer that we echoed in a grant (a joined announcement). */
  grantAt: number | null
  protocol: PeerProtocol
}

const REASON_BY_CODE: Partial<Record<ErrorCode, RejectReason>> = {
  MCCS_ERR_HB_PACKET: 'malformed',
  MCCS_ERR_HB_VERSION: 'version',
  MCCS_ERR_HB_FOREIGN: 'foreign',
  MCCS_ERR_HB_AUTH: 'auth',
  MCCS_ERR_HB_REPLAY: 'replay',
  MCCS_ERR_HB_MISDIRECTED: 'misdirected',
}

/** Monotonic clock on the epoch scale (ms): what we put in `sentAt` and get back in echoes. */
const clock = () => performance.timeOrigin + performance.now()
const mono = () => performance.now()

export class Heartbeat extends EventEmitter<HeartbeatEvents> {
  readonly self: string
  readonly cluster: string
  readonly incarnation: bigint
  /** The timing in force (reconfigure() changes it live). */
  intervalMs: number
  deadMs: number
  private readonly key: Buffer
  private readonly log: Pick<Log, 'log'> | undefined
  private readonly onPacket: HeartbeatOptions['onPacket']
  /** What a packet must be, and the views decoded so far (decoding a known view again is skipped). */
  private readonly decodeExpect: DecodeExpect
  private readonly onTick: HeartbeatOptions['onTick']
  private readonly links = new Map<string, LinkState>()
  private readonly peers = new Map<string, PeerState>()
  private readonly guard = new ReplayGuard()
  /** How many of our own last sends on a link an echo may name (covers the dead time). */
  private echoWindow: number
  private readonly stateWriter: HbStateWriter | null
  private stateError: string | null = null
  private readonly protocol: ProtocolRange
  private readonly rejected: RejectCounters = { malformed: 0, version: 0, foreign: 0, auth: 0, replay: 0, misdirected: 0 }
  private payload: Buffer
  private running = false
  private muted = false
  private timer: NodeJS.Timeout | null = null

  constructor(opts: HeartbeatOptions) {
    super()
    const cfg = opts.config
    const checked = checkHeartbeatOptions(opts)
    this.self = opts.self
    this.cluster = cfg.cluster
    this.decodeExpect = { cluster: cfg.cluster, views: new Map() }
    this.key = opts.key
    this.log = opts.log
    this.onPacket = opts.onPacket
    this.onTick = opts.onTick
    this.intervalMs = checked.intervalMs
    this.deadMs = checked.deadMs
    for (const l of checked.links) this.links.set(l.name, newLinkState(l))
    const now = Date.now()
    for (const n of cfg.nodes) {
      if (n.name === opts.self) continue
      const links = new Map<string, PeerLink>()
      for (const l of this.links.values()) {
        const a = n.addresses[l.name]
        if (a) links.set(l.name, newPeerLink(a, now))
      }
      this.peers.set(n.name, newPeerState(n.name, links, now))
    }
    this.echoWindow = Math.ceil(this.deadMs / this.intervalMs) + 1
    // Persisted state: our incarnation never goes below the last one used (peers refuse older ones), and
    // peers' incarnations seen before this start stay "seen".
    let last: bigint | undefined
    if (opts.stateFile) {
      const { state, error } = loadHbState(opts.stateFile, { cluster: this.cluster, node: this.self })
      last = state.incarnation
      for (const [node, inc] of state.peers) if (this.peers.has(node)) this.guard.seed(node, inc)
      if (error) {
        this.stateError = error
        this.log?.log('error', 'heartbeat state file ignored', { error })
      }
      this.stateWriter = new HbStateWriter(opts.stateFile, (error) => {
        this.log?.log('error', "heartbeat state file not saved: a restart of this node may accept a replay of a peer's earlier boot", {
          error,
        })
      })
    } else this.stateWriter = null
    this.incarnation = newIncarnation(Date.now(), last)
    this.protocol = checkRange(opts.protocol ?? PROTOCOL, 'protocol')
    this.payload = encodeView(opts.payload ?? {}, this.protocol)
    this.noteVc(opts.payload ?? {})
  }

  /** Whether the view we send is a grant (a joined view-change announcement), and that announcement. */
  private noteVc(v: HbView): void {
    const vc = v.ext?.['vc'] as { j?: unknown } | undefined
    this.payloadGrant = vc?.j === 1
    this.payloadVc = vc === undefined ? null : JSON.stringify(vc)
  }
  private payloadGrant = false
  private payloadVc: string | null = null

  /** Binds a socket per link and starts the timer. A link whose address is missing is retried every tick. */
  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    // Our incarnation is on disk before any packet carries it: if this start's packets were seen and the
    // clock then went back, the next start must still pick a newer one.
    await this.saveState()
    if (!this.running) return
    await Promise.all([...this.links.values()].map((l) => this.bind(l)))
    if (!this.running) return
    // One timer for every link: each tick sends on every link, then checks every (peer, link) for silence.
    // A wakeup costs more than the packets it sends (measured: docs/heartbeat.md), so links share it.
    this.armTick()
    this.tick()
  }

  async stop(): Promise<void> {
    this.running = false
    const closes: Promise<void>[] = []
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    for (const l of this.links.values()) {
      const s = l.socket
      l.socket = null
      if (s)
        closes.push(
          new Promise((r) => {
            try {
              s.close(() => r())
            } catch {
              r()
            }
          }),
        )
    }
    await Promise.all(closes)
    await this.stateWriter?.idle()
  }

  /**
   * A new hb.json in force (issue 16, What 3: live heartbeat configuration): nodes, links and timing change
   * without a restart. Links of ours that are gone are closed, new ones bound; peers that are gone are
   * forgotten, new ones start unheard (down, never "lost": the role does not count a new node missing);
   * a peer's links follow its addresses (a changed address starts unheard). The timing takes effect at
   * once: the echo window keeps our latest sends, the timer restarts at the new interval. Which timing to
   * pass while the nodes change over is the caller's choice (the role passes the larger dead time first).
   */
  reconfigure(config: HeartbeatOptions['config']): void {
    const checked = checkHeartbeatOptions({ config, self: this.self, key: this.key })
    if (config.cluster !== this.cluster)
      throw new MccsError('MCCS_ERR_HB_CONFIG', 'the cluster name cannot change in a running cluster', { field: '/cluster' })
    const wall = Date.now()
    const want = new Map(checked.links.map((l) => [l.name, l]))
    for (const [name, l] of [...this.links]) {
      const w = want.get(name)
      if (w && w.address === l.address && w.port === l.port) continue
      this.links.delete(name)
      const sock = l.socket
      l.socket = null
      if (sock) {
        try {
          sock.close()
        } catch {
          /* closed */
        }
      }
      this.log?.log('info', 'heartbeat link closed (hb.json changed)', { link: name, address: l.address })
    }
    for (const w of checked.links) {
      if (this.links.has(w.name)) continue
      const l = newLinkState(w)
      this.links.set(w.name, l)
      if (this.running) void this.bind(l)
    }
    const nodes = new Map(config.nodes.filter((n) => n.name !== this.self).map((n) => [n.name, n]))
    for (const name of [...this.peers.keys()]) if (!nodes.has(name)) this.peers.delete(name)
    for (const n of nodes.values()) {
      let p = this.peers.get(n.name)
      if (!p) this.peers.set(n.name, (p = newPeerState(n.name, new Map(), wall)))
      for (const [name, pl] of [...p.links]) {
        if (!this.links.has(name) || n.addresses[name] !== pl.address) p.links.delete(name)
      }
      for (const l of this.links.values()) {
        const a = n.addresses[l.name]
        if (a && !p.links.has(l.name)) p.links.set(l.name, newPeerLink(a, wall))
      }
      if (p.up && ![...p.links.values()].some((x) => x.up)) {
        p.up = false
        p.since = wall
        this.log?.log('warn', 'peer down: no link left that hears it (hb.json changed)', { node: p.node })
        this.emit('peer', this.peerEvent(p, wall))
      }
    }
    const intervalChanged = checked.intervalMs !== this.intervalMs
    this.intervalMs = checked.intervalMs
    this.deadMs = checked.deadMs
    const window = Math.ceil(this.deadMs / this.intervalMs) + 1
    if (window !== this.echoWindow) {
      for (const l of this.links.values()) {
        // Oldest first, then the newest `window` of them: an echo of a recent send stays valid.
        const ordered = [...l.sent.slice(l.sentNext), ...l.sent.slice(0, l.sentNext)].filter((x) => x !== undefined).slice(-window)
        l.sent = ordered
        l.sentNext = ordered.length % window
      }
      this.echoWindow = window
    }
    if (intervalChanged && this.timer) {
      clearTimeout(this.timer)
      this.armTick()
    }
  }

  /** Sets the view piggybacked on every following heartbeat. Throws MCCS_ERR_HB_PAYLOAD if invalid or > 1 KiB. */
  setPayload(v: HbView): void {
    this.payload = encodeView(v, this.protocol)
    this.noteVc(v)
  }

  /** Peers seen up now. */
  upPeers(): string[] {
    return [...this.peers.values()].filter((p) => p.up).map((p) => p.node)
  }

  /** Latest views of the peers seen up. */
  views(): Record<string, HbView> {
    const out: Record<string, HbView> = {}
    for (const p of this.peers.values()) if (p.up && p.view) out[p.node] = p.view
    return out
  }

  isUp(node: string): boolean {
    return this.peers.get(node)?.up ?? false
  }

  status(): HeartbeatStatus {
    const now = mono()
    const clk = clock()
    return {
      self: this.self,
      cluster: this.cluster,
      incarnation: this.incarnation.toString(),
      protocol: { ...this.protocol },
      timing: { intervalMs: this.intervalMs, deadMs: this.deadMs },
      links: [...this.links.values()].map((l) => ({
        name: l.name,
        address: l.address,
        port: l.port,
        bound: l.socket !== null && !l.binding,
        tx: l.tx,
        rx: l.rx,
        sendErrors: l.sendErrors,
        lastError: l.lastError,
      })),
      peers: [...this.peers.values()].map((p) => ({
        node: p.node,
        up: p.up,
        since: p.since,
        incarnation: p.incarnation === null ? null : p.incarnation.toString(),
        view: p.view,
        ages: {
          ann: p.acceptedAt === null ? null : now - p.acceptedAt,
          lease: p.leaseAt === null ? null : clk - p.leaseAt,
          grant: p.grantAt === null ? null : now - p.grantAt,
        },
        protocol: { ...p.protocol, range: p.protocol.range && { ...p.protocol.range } },
        links: Object.fromEntries(
          [...p.links].map(([name, pl]) => [
            name,
            {
              up: pl.up,
              address: pl.address,
              lastHeardMs: pl.lastHeard === null ? null : Math.round(now - pl.lastHeard),
              rttMs: pl.rttMs === null ? null : round2(pl.rttMs),
              ageMs: pl.ageMs === null ? null : round2(pl.ageMs),
              rx: pl.rx,
              unconfirmed: pl.unconfirmed,
              since: pl.since,
            },
          ]),
        ),
        received: this.received(p, now),
      })),
      rejected: { ...this.rejected },
      state: { file: this.stateWriter?.file ?? null, error: this.stateWriter?.error ?? this.stateError },
      payloadVc: this.payloadVc,
    }
  }

  /**
   * What status() says that moves with every packet, as numbers in the order of status()'s peers and links
   * (NaN for null): per peer its received share and ages (ann, lease, grant), then per link lastHeardMs. Cheap to build and to
   * send to another thread each tick (heartbeat-worker.ts); `patchStatus` applies it to a whole status.
   */
  dynamic(): Float64Array {
    const now = mono()
    const clk = clock()
    let n = 0
    for (const p of this.peers.values()) n += 4 + p.links.size
    const out = new Float64Array(n)
    let i = 0
    const v = (x: number | null) => (x === null ? NaN : x)
    for (const p of this.peers.values()) {
      out[i++] = v(this.received(p, now))
      out[i++] = p.acceptedAt === null ? NaN : now - p.acceptedAt
      out[i++] = p.leaseAt === null ? NaN : clk - p.leaseAt
      out[i++] = p.grantAt === null ? NaN : now - p.grantAt
      for (const pl of p.links.values()) out[i++] = v(pl.lastHeard === null ? null : Math.round(now - pl.lastHeard))
    }
    return out
  }

  /** The peer's received share: its best link's (null when no link can say yet). */
  private received(p: PeerState, now: number): number | null {
    let best: number | null = null
    for (const pl of p.links.values()) {
      const r = linkReceived(pl.arrivals, pl.firstAny, now, this.intervalMs, this.deadMs * RECEIVED_WINDOW)
      if (r !== null && (best === null || r > best)) best = r
    }
    return best
  }

  // ------------------------------------------------------------------------------------------ internals

  private async bind(l: LinkState): Promise<void> {
    if (l.socket || l.binding || !this.running) return
    l.binding = true
    const s = dgram.createSocket({ type: isIP(l.address) === 6 ? 'udp6' : 'udp4', lookup: ipLookup })
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject)
        s.bind({ address: l.address, port: l.port, exclusive: true }, () => {
          s.off('error', reject)
          resolve()
        })
      })
    } catch (e) {
      l.binding = false
      this.noteError(l, `bind ${l.address}:${l.port}: ${(e as Error).message}`)
      try {
        s.close()
      } catch {
        /* never bound */
      }
      return
    }
    l.binding = false
    if (!this.running || this.links.get(l.name) !== l) {
      s.close() // stopped, or the link was removed or changed meanwhile (reconfigure)
      return
    }
    s.on('error', (e) => this.noteError(l, `socket: ${e.message}`))
    s.on('message', (msg, rinfo) => this.receive(l, msg, rinfo))
    l.socket = s
    this.log?.log('info', 'heartbeat link bound', { link: l.name, address: l.address, port: l.port })
  }

  private noteError(l: LinkState, msg: string): void {
    l.lastError = msg
    const t = mono()
    if (t - l.lastErrorLogged > 10_000) {
      // at most one log line per link per 10 s
      l.lastErrorLogged = t
      this.log?.log('warn', 'heartbeat link error', { link: l.name, error: msg })
    }
  }

  /**
   * Arms the next tick on the interval's grid of the epoch-based clock (clock(): what `sentAt` carries). Every
   * node ticks at the same moments (as far as the nodes' clocks agree), so a node's peers' heartbeats arrive
   * together and are read in one wakeup, not one per peer and link (issue 19). The next grid point at least a
   * quarter interval away: a timer that fires a little early does not tick twice for one point, and the tick
   * after a late one is back on the grid (lateness does not carry over, as it did with setInterval).
   */
  private armTick(): void {
    const iv = this.intervalMs
    const now = clock()
    const next = Math.ceil((now + iv / 4) / iv) * iv
    this.timer = setTimeout(() => {
      if (!this.running) return
      this.armTick()
      this.tick()
    }, next - now)
  }

  private tick(): void {
    if (!this.running) return
    for (const l of this.links.values()) {
      if (!l.socket) void this.bind(l)
      else if (!this.muted) this.send(l)
    }
    // Check after this loop iteration's I/O: if this process was stalled (GC, CPU starvation, SIGSTOP), the
    // heartbeats that queued up meanwhile are read first, so our own stall is not taken for the peers' silence.
    setImmediate(() => {
      if (!this.running) return
      this.checkSilence()
      this.onTick?.()
    })
  }

  /**
   * While muted, ticks send nothing (receiving and silence checks go on), so the peers see this node go
   * silent: the worker thread's watchdog mutes the heartbeat of an agent whose main thread hangs.
   */
  mute(on: boolean): void {
    this.muted = on
  }

  private send(l: LinkState): void {
    const s = l.socket!
    l.seq++
    const sentAt = clock()
    const now = mono()
    // Every peer on the link gets the same sentAt this tick: one ring entry per tick.
    l.sent[l.sentNext] = sentAt
    l.sentNext = (l.sentNext + 1) % this.echoWindow
    let first = true
    for (const p of this.peers.values()) {
      const pl = p.links.get(l.name)
      if (!pl) continue
      // A joined announcement echoing this peer's packet is a grant it may hold until that packet's send
      // time + its lease: remember when we received it (view.ts waits it out before leaving the peer out).
      if (this.payloadGrant && pl.echoSentAt !== null && (p.grantAt === null || pl.echoRecvAt > p.grantAt)) p.grantAt = pl.echoRecvAt
      const buf = encodePacket(
        {
          cluster: this.cluster,
          sender: this.self,
          to: p.node,
          link: l.name,
          incarnation: this.incarnation,
          seq: l.seq,
          sentAt,
          echo: pl.echoSentAt === null ? null : { sentAt: pl.echoSentAt, holdMs: now - pl.echoRecvAt },
          payload: this.payload,
        },
        this.key,
      )
      l.tx++
      // A send callback costs a trip through the event loop; only the tick's first send on a link has one
      // (a link that cannot send fails them all): sendErrors counts ticks whose sends failed.
      if (first) {
        first = false
        s.send(buf, l.port, pl.address, (e) => {
          if (e) {
            l.sendErrors++
            this.noteError(l, `send to ${p.node} (${pl.address}): ${e.message}`)
          }
        })
      } else s.send(buf, l.port, pl.address)
    }
  }

  /** Declares silent peers dead now (not at the next timer tick): after the process was paused, the
   *  timers that would have noticed may not have run before other work does. */
  checkNow(): void {
    this.checkSilence()
  }

  private checkSilence(): void {
    const now = mono()
    const wall = Date.now()
    for (const p of this.peers.values()) {
      let changed = false
      for (const [name, pl] of p.links) {
        if (pl.up && pl.lastHeard !== null && now - pl.lastHeard >= this.deadMs) {
          pl.up = false
          pl.since = wall
          changed = true
          this.emit('link', { node: p.node, link: name, up: false, at: wall })
        }
      }
      if (changed && p.up && ![...p.links.values()].some((x) => x.up)) {
        p.up = false
        p.since = wall
        this.log?.log('warn', 'peer down', { node: p.node, deadMs: this.deadMs })
        this.emit('peer', this.peerEvent(p, wall))
      }
    }
  }

  private receive(l: LinkState, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const now = mono()
    l.rx++
    this.onPacket?.(msg, l.name, { address: rinfo.address, port: rinfo.port })
    // Refusing what an outsider can send costs no exception (a flood of bad packets: docs/heartbeat.md).
    const d = tryDecodePacket(msg, this.key, this.decodeExpect)
    if ('reject' in d) {
      this.reject(l, rinfo, d.reject)
      return
    }
    const pkt: HbPacket = d.packet
    let peer: PeerState | undefined
    try {
      peer = this.peers.get(pkt.sender)
      if (!peer) throw new MccsError('MCCS_ERR_HB_MISDIRECTED', 'sender is not a node of this cluster', { field: 'sender' })
      if (pkt.to !== this.self)
        throw new MccsError('MCCS_ERR_HB_MISDIRECTED', `packet is for '${pkt.to}'`, { field: 'to', subject: pkt.sender })
      if (pkt.link !== l.name || !peer.links.has(l.name)) {
        throw new MccsError('MCCS_ERR_HB_MISDIRECTED', `packet of link '${pkt.link}' arrived on link '${l.name}'`, {
          field: 'link',
          subject: pkt.sender,
        })
      }
      if (this.guard.accept(pkt).newIncarnation) void this.saveState()
      this.negotiate(peer, pkt)
    } catch (e) {
      this.reject(l, rinfo, e)
      return
    }
    const pl = peer.links.get(l.name)!
    noteArrival(pl, pkt.seq, now, this.deadMs * RECEIVED_WINDOW)
    // Authentic and in order: echo its send time back from now on, fresh or not. This is the handshake
    // (its next packet echoes ours); it cannot be a lever for a recording, which is in order only until the
    // sender's first live packet (the sender's sequence numbers only grow).
    pl.echoSentAt = pkt.sentAt
    pl.echoRecvAt = now
    if (!pkt.echo || !l.sent.includes(pkt.echo.sentAt)) {
      if (pkt.echo && this.staleEcho(pkt.echo)) {
        this.reject(
          l,
          rinfo,
          new MccsError(
            'MCCS_ERR_HB_REPLAY',
            'echo names none of our recent sends and is older than a round trip: a recording, not a live packet',
            { field: 'echo', subject: pkt.sender },
          ),
        )
      } else pl.unconfirmed++ // first packets of a handshake, a one-way link, or a peer just back from a stall
      return
    }
    const wall = Date.now()
    pl.lastHeard = now
    pl.rx++
    pl.ageMs = Math.max(0, clock() - pkt.sentAt)
    const rtt = Math.max(0, clock() - pkt.echo.sentAt - pkt.echo.holdMs)
    if (rtt < 60_000) pl.rttMs = pl.rttMs === null ? rtt : pl.rttMs * 0.8 + rtt * 0.2
    const restarted = peer.incarnation !== null && peer.incarnation !== pkt.incarnation
    peer.incarnation = pkt.incarnation
    if (restarted) {
      // A new boot: what we knew of its links and view belongs to the old one. (Echoes of its old send times
      // may stay: the new boot finds them in none of its recent sends and waits for a fresh one.)
      for (const [name, x] of peer.links) if (name !== l.name) x.rttMs = null
      peer.viewSeen = null
    }
    if (!pl.up) {
      pl.up = true
      pl.since = wall
      this.emit('link', { node: peer.node, link: l.name, up: true, at: wall })
    }
    // The view before the peer event, so a listener of 'peer' already finds it.
    // The decoder returns the same object for the same bytes (DecodeExpect.views): a new object is a new view.
    const viewChanged = pkt.payload !== peer.viewSeen
    if (viewChanged) {
      peer.viewSeen = pkt.payload
      peer.view = pkt.payload
    }
    // The lease this view gives us runs from the newest of our sends that a packet carrying it echoes.
    peer.acceptedAt = now
    if (viewChanged || peer.leaseAt === null || pkt.echo.sentAt > peer.leaseAt) peer.leaseAt = pkt.echo.sentAt
    if (!peer.up || restarted) {
      const wasUp = peer.up
      peer.up = true
      peer.since = wall
      this.log?.log('info', wasUp ? 'peer restarted' : 'peer up', { node: peer.node, link: l.name })
      this.emit('peer', { ...this.peerEvent(peer, wall), ...(restarted && wasUp ? { restarted: true } : {}) })
    }
    if (viewChanged) this.emit('view', { node: peer.node, payload: peer.view! })
  }

  /**
   * The version to use with the sender of an authentic packet, or a refusal (thrown: the packet is rejected
   * as 'version' and proves nothing, so the peer is never up). Logged when it changes, not per packet.
   */
  private negotiate(peer: PeerState, pkt: HbPacket): void {
    const r = negotiate(this.protocol, pkt.protocol, peer.node)
    const pp = peer.protocol
    const same = pp.range !== null && pp.range.min === pkt.protocol.min && pp.range.max === pkt.protocol.max
    pp.range = pkt.protocol
    if ('refused' in r) {
      if (!same || pp.refused === null)
        this.log?.log('warn', 'peer refused: no protocol version in common', {
          node: peer.node,
          ours: formatRange(this.protocol),
          theirs: formatRange(pkt.protocol),
          reason: r.refused,
        })
      pp.version = null
      pp.refused = r.refused
      throw new MccsError('MCCS_ERR_HB_VERSION', r.refused, { field: 'payload/ext/pv', subject: peer.node })
    }
    if (pp.version !== r.version)
      this.log?.log('info', 'peer protocol version', {
        node: peer.node,
        version: r.version,
        ours: formatRange(this.protocol),
        theirs: formatRange(pkt.protocol),
      })
    pp.version = r.version
    pp.refused = null
  }

  /**
   * An echo that names none of our recent sends is still explicable when the peer held it for as long as it
   * is old (it heard nothing newer from us: it was stalled, or we restarted): our send time + its hold time
   * is then about now. A recording replayed later is older than that by the recording's age. Both times are
   * ours (the hold is a duration), so clock differences between the nodes play no part.
   */
  private staleEcho(e: HbEcho): boolean {
    const rtt = clock() - e.sentAt - e.holdMs
    return rtt > this.deadMs || rtt < -this.deadMs
  }

  /** Saves our incarnation and the peers' newest ones (in the background; no-op without a state file). */
  private saveState(): Promise<void> {
    if (!this.stateWriter) return Promise.resolve()
    const peers = new Map<string, bigint>()
    for (const node of this.peers.keys()) {
      const inc = this.guard.incarnationOf(node)
      if (inc !== undefined) peers.set(node, inc)
    }
    return this.stateWriter.save({ cluster: this.cluster, node: this.self, incarnation: this.incarnation, peers })
  }

  /** Counts a refused packet; builds its event only for a listener or the (rate-limited) log line. */
  private reject(l: LinkState, rinfo: dgram.RemoteInfo, r: HbReject | unknown): void {
    const coded = isReject(r) ? r : null
    const code: ErrorCode = coded ? coded.code : isMccsError(r) ? r.code : 'MCCS_ERR_HB_PACKET'
    const reason = REASON_BY_CODE[code] ?? 'malformed'
    this.rejected[reason]++
    const t = mono()
    const logIt = t - this.lastRejectLog > 5_000 // a flood of bad packets must not flood the log
    if (!logIt && this.listenerCount('reject') === 0) return
    const e = coded ? rejectError(coded) : r
    const ev: RejectEvent = {
      link: l.name,
      from: `${rinfo.address}:${rinfo.port}`,
      reason,
      code,
      message: e instanceof Error ? e.message : String(e),
      ...(isMccsError(e) && e.field ? { field: e.field } : {}),
    }
    this.emit('reject', ev)
    if (logIt) {
      this.lastRejectLog = t
      this.log?.log('warn', 'heartbeat packet rejected', { ...ev, counters: { ...this.rejected } })
    }
  }
  private lastRejectLog = -Infinity

  private peerEvent(p: PeerState, at: number): PeerEvent {
    return {
      node: p.node,
      up: p.up,
      at,
      links: Object.fromEntries([...p.links].map(([n, x]) => [n, x.up])),
      incarnation: p.incarnation === null ? null : p.incarnation.toString(),
    }
  }
}

/** dgram looks up every send's address; dns.lookup answers an IP address on the next tick, one deferral per
 *  datagram. hb.json's addresses are IP addresses (checkHeartbeatOptions): answered at once. */
function ipLookup(
  address: string,
  options: dns.LookupOneOptions, // dgram passes the family (4 or 6)
  cb: (e: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(address)
  if (family) cb(null, address, family)
  else dns.lookup(address, options, cb)
}

function newLinkState(l: { name: string; address: string; port: number }): LinkState {
  return {
    name: l.name,
    address: l.address,
    port: l.port,
    socket: null,
    binding: false,
    seq: 0,
    sent: [],
    sentNext: 0,
    tx: 0,
    rx: 0,
    sendErrors: 0,
    lastError: null,
    lastErrorLogged: 0,
  }
}

function newPeerLink(address: string, now: number): PeerLink {
  return {
    address,
    up: false,
    lastHeard: null,
    since: now,
    rx: 0,
    unconfirmed: 0,
    arrivals: [],
    firstAny: null,
    lastSeq: 0,
    rttMs: null,
    ageMs: null,
    echoSentAt: null,
    echoRecvAt: 0,
  }
}

function newPeerState(node: string, links: Map<string, PeerLink>, now: number): PeerState {
  return {
    node,
    up: false,
    since: now,
    incarnation: null,
    links,
    view: null,
    viewSeen: null,
    acceptedAt: null,
    leaseAt: null,
    grantAt: null,
    protocol: { version: null, range: null, refused: null },
  }
}

function isReject(r: unknown): r is HbReject {
  return (
    typeof r === 'object' &&
    r !== null &&
    !(r instanceof Error) &&
    typeof (r as HbReject).code === 'string' &&
    typeof (r as HbReject).reason === 'string'
  )
}

/**
 * Checks the options as the constructor does (throws MccsError naming the field) and returns the timing and
 * this node's links: the worker-thread heartbeat checks them on the caller's thread, so a bad hb.json fails
 * where it is passed.
 */
export function checkHeartbeatOptions(opts: Pick<HeartbeatOptions, 'config' | 'self' | 'key'>): {
  intervalMs: number
  deadMs: number
  links: Array<{ name: string; address: string; port: number }>
} {
  const cfg = opts.config
  if (!Buffer.isBuffer(opts.key) || opts.key.length !== KEY_BYTES) {
    throw new MccsError('MCCS_ERR_CLUSTER_KEY_INVALID', `the cluster key must be ${KEY_BYTES} bytes`, { field: 'key' })
  }
  const intervalMs = cfg.timing?.intervalMs ?? DEFAULT_TIMING.intervalMs
  const deadMs = cfg.timing?.deadMs ?? DEFAULT_TIMING.deadMs
  if (!(intervalMs > 0) || !(deadMs > intervalMs)) {
    throw new MccsError('MCCS_ERR_HB_CONFIG', `deadMs (${deadMs}) must exceed intervalMs (${intervalMs}) > 0`, { field: '/timing' })
  }
  const me = cfg.nodes.find((n) => n.name === opts.self)
  if (!me) throw new MccsError('MCCS_ERR_HB_CONFIG', `node '${opts.self}' is not in hb.json`, { field: '/nodes', subject: opts.self })
  const basePort = cfg.port ?? HB_DEFAULT_PORT
  const links: Array<{ name: string; address: string; port: number }> = []
  for (const l of cfg.links) {
    const address = me.addresses[l.name]
    if (!address) continue
    if (!isIP(address)) {
      throw new MccsError('MCCS_ERR_HB_CONFIG', `address '${address}' is not an IP address`, {
        field: `/nodes/${opts.self}/addresses/${l.name}`,
      })
    }
    links.push({ name: l.name, address, port: l.port ?? basePort })
  }
  if (links.length === 0) {
    throw new MccsError('MCCS_ERR_HB_CONFIG', `node '${opts.self}' has no address on any heartbeat link`, {
      field: `/nodes/${opts.self}/addresses`,
    })
  }
  return { intervalMs, deadMs, links }
}

/** The received share is counted over this many dead times (2: 12 packets at the shipped timing). */
const RECEIVED_WINDOW = 2

/** Records an authentic packet's arrival; a lower sequence number is a new boot (its numbers start again). */
function noteArrival(pl: PeerLink, seq: number, now: number, windowMs: number): void {
  if (pl.firstAny === null || seq <= pl.lastSeq) {
    pl.firstAny = now
    pl.arrivals.length = 0
  }
  pl.lastSeq = seq
  pl.arrivals.push(now)
  while (pl.arrivals.length && pl.arrivals[0]! < now - windowMs) pl.arrivals.shift()
  if (pl.arrivals.length > 1024) pl.arrivals.shift() // bounded whatever a peer's clock or rate
}

/** The share of one link's packets that arrived over the window: those that came, over those the peer sent
 *  meanwhile at the heartbeat interval (both ends run hb.json's timing). Null until the peer has been heard
 *  for two intervals; a peer that went quiet counts down to 0 without a new packet. */
export function linkReceived(
  arrivals: readonly number[],
  firstAny: number | null,
  now: number,
  intervalMs: number,
  windowMs: number,
): number | null {
  if (firstAny === null) return null
  const span = Math.min(windowMs, now - firstAny)
  if (span < 2 * intervalMs) return null
  let n = 0
  for (const a of arrivals) if (a >= now - windowMs) n++
  return round2(Math.min(1, n / (span / intervalMs)))
}

function round2(x: number): number {
  return Math.round(x * 100) / 100
}

/** A status with the numbers of `dynamic()` in place, or null when they do not fit its peers and links (the
 *  configuration changed in between: the next whole status comes with it). */
export function patchStatus(st: HeartbeatStatus, d: Float64Array): HeartbeatStatus | null {
  let n = 0
  for (const p of st.peers) n += 4 + Object.keys(p.links).length
  if (n !== d.length) return null
  let i = 0
  const v = (x: number) => (Number.isNaN(x) ? null : x)
  const peers = st.peers.map((p) => {
    const received = v(d[i++]!)
    const ages = { ann: v(d[i++]!), lease: v(d[i++]!), grant: v(d[i++]!) }
    const links: typeof p.links = {}
    for (const [name, l] of Object.entries(p.links)) links[name] = { ...l, lastHeardMs: v(d[i++]!) }
    return { ...p, received, ages, links }
  })
  return { ...st, peers }
}

/** Validates a view coming from outside (the API, a test) before setPayload. */
export { validateView }
