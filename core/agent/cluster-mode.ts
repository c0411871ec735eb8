// The agent in a cluster of two or more nodes. Heartbeats tell who is up; membership picks the
// partition, its quorum and its coordinator (the lowest node name of a quorate partition). Only the
// coordinator runs the engine: it sends actions to the node they concern over the peer channel and
// gets monitor results back; every other node executes what it is sent and monitors what the
// coordinator's schedule lists for it. A node without quorum takes its resources offline itself
// (self-fencing) and acts on nothing until it has quorum again.
import path from 'node:path'
import { EventEmitter } from 'node:events'
import { Heartbeat } from '../cluster/heartbeat.js'
import { computeMembership, type MembershipResult } from '../cluster/membership.js'
import { PeerChannel, PEER_PORT_OFFSET, type Endpoint } from '../cluster/peer-channel.js'
import { loadClusterKey } from '../cluster/cluster-key.js'
import { QuorumClient } from '../cluster/quorum-client.js'
import { probeIsolation } from '../cluster/isolation.js'
import { readFile } from 'node:fs/promises'
import type { HbConfig } from '../engine/model.js'
import type { HbView } from '../cluster/packet.js'
import type { ServiceMessage } from './peer-services.js'
import type { Action } from '../engine/plan.js'
import type { MonitorResultEvent, OperatorCommand } from '../engine/events.js'
import type { MonitorEntry } from '../engine/monitor-schedule.js'
import type { ActionOutcome } from '../executor/executor.js'
import { MccsError } from '../errors.js'
import type { Log } from '../log/logger.js'

/** What a follower can be asked by the coordinator, and the coordinator by a follower. */
export type PeerMessage =
  | { t: 'action'; action: Action }
  | { t: 'cancel'; id: string }
  | { t: 'monitors'; entries: MonitorEntry[] }
  | { t: 'monitorResult'; ev: MonitorResultEvent }
  | { t: 'command'; cmd: OperatorCommand; wait: boolean; timeoutMs?: number }
  | { t: 'status' }
  | { t: 'selfFence'; reason: string }
  // configuration replication (config-sync.ts)
  | { t: 'configCommit'; main: unknown; expectGeneration: number }
  | { t: 'config'; main: unknown; force?: boolean }
  | { t: 'configGet' }
  | ServiceMessage

export interface ClusterHost {
  readonly node: string
  readonly log: Log
  /** Coordinator side. */
  becomeCoordinator(up: string[], down: string[]): void
  resign(): void
  membershipChanged(up: string[], down: string[]): void
  onRemoteMonitorResult(ev: MonitorResultEvent): void
  onRemoteCommand(cmd: OperatorCommand, wait: boolean, timeoutMs?: number): Promise<unknown>
  statusForPeers(): unknown
  /** Follower side. */
  runLocalAction(a: Action, signal: AbortSignal): Promise<ActionOutcome>
  cancelLocal(id: string): void
  applyMonitorSchedule(entries: MonitorEntry[]): void
  /** Quorum lost: take every local resource offline now. */
  selfFence(reason: string): Promise<void>
  /** Configuration replication: a change sent to the coordinator, a configuration pushed by it, ours asked for. */
  onConfigCommit(from: string, main: unknown, expectGeneration: number): Promise<unknown>
  onConfigPush(from: string, main: unknown, force: boolean): Promise<unknown>
  onConfigGet(): unknown
  /** Every membership decision, with the peers' views (generation and digest of their configuration). */
  viewsChanged(m: MembershipResult, views: Record<string, HbView>, role: string): void
  /** Support bundle and license requests of another node (peer-services.ts). */
  onService(from: string, m: ServiceMessage): Promise<unknown>
}

export interface ClusterModeOptions {
  hb: HbConfig
  keyFile: string
  /** The heartbeat's state file (<state>/heartbeat.json): incarnations kept across restarts (issue 12, finding 5). */
  hbStateFile?: string
  host: ClusterHost
  /** At start, wait for every node this long at most before deciding anything (default 10 s, at least
   *  3 dead times); deciding ends earlier as soon as every node is heard. */
  settleMs?: number
  /** A quorate membership must hold this long before it is acted on (default: 3 heartbeat intervals). */
  stableMs?: number
}

export class ClusterMode extends EventEmitter {
  readonly hb: Heartbeat
  readonly peers: PeerChannel
  private membership: MembershipResult | null = null
  private role: 'starting' | 'coordinator' | 'follower' | 'inquorate' = 'starting'
  private lastUp = new Set<string>()
  private recompute: NodeJS.Immediate | null = null
  private settled = false
  private readonly quorum: QuorumClient | undefined
  /** Every node has been heard once since start (two-node mode's wait for all). */
  private seenAll = false
  private readonly isolationAddresses: readonly string[]
  private isolation: { at: number; isolated: boolean; checking: boolean } = { at: 0, isolated: false, checking: false }
  private isolationTimer: NodeJS.Timeout | undefined
  private settleTimer: NodeJS.Timeout | undefined
  private pendingKey = ''
  private actedKey = ''
  private stableTimer: NodeJS.Timeout | undefined
  /** How long a new quorate membership must hold before this node acts on it. */
  private readonly stableMs: number
  private readonly self: string
  private generation = 0
  private digest: string | undefined

  static async create(o: ClusterModeOptions): Promise<ClusterMode> {
    const key = await loadClusterKey(o.keyFile)
    const qs = o.hb.quorum?.server
    let quorum: { ca: string; key: string } | undefined
    if (qs) {
      const dir = path.dirname(o.keyFile)
      const read = (f: string, field: string) => readFile(path.resolve(dir, f), 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new MccsError('MCCS_ERR_HB_CONFIG', `cannot read ${f}: ${e.code ?? e.message}`, { field })
      })
      quorum = { ca: await read(qs.caFile, '/quorum/server/caFile'), key: (await read(qs.keyFile, '/quorum/server/keyFile')).trim() }
    }
    return new ClusterMode(o, key, quorum)
  }

  private constructor(private readonly o: ClusterModeOptions, key: Buffer, quorum?: { ca: string; key: string }) {
    super()
    this.self = o.host.node
    this.stableMs = o.stableMs ?? 3 * (o.hb.timing?.intervalMs ?? 100)
    const me = o.hb.nodes.find((n) => n.name === this.self)
    if (!me) throw new MccsError('MCCS_ERR_HB_CONFIG', `this node (${this.self}) is not in hb.json`, { field: '/nodes' })
    const links = [...o.hb.links].sort((a, b) => a.priority - b.priority)
    const port = (o.hb.port ?? 14321) + PEER_PORT_OFFSET
    const eps = (addrs: Record<string, string>): Endpoint[] =>
      links.filter((l) => addrs[l.name]).map((l) => ({ host: addrs[l.name]!, port }))
    this.hb = new Heartbeat({ config: o.hb, self: this.self, key, log: o.host.log, stateFile: o.hbStateFile })
    this.peers = new PeerChannel({
      cluster: o.hb.cluster, node: this.self, key,
      listen: eps(me.addresses),
      peers: Object.fromEntries(o.hb.nodes.filter((n) => n.name !== this.self).map((n) => [n.name, eps(n.addresses)])),
      onRequest: (from, body) => this.onRequest(from, body as PeerMessage),
      reachable: (peer, ep) => {
        const n = o.hb.nodes.find((x) => x.name === peer)
        const link = n && Object.keys(n.addresses).find((l) => n.addresses[l] === ep.host)
        return link ? this.hb.status().peers.find((p) => p.node === peer)?.links[link]?.up === true : false
      },
      log: (level, msg, data) => o.host.log.log(level, msg, { ...data, component: 'peer' }),
    })
    this.hb.on('peer', (ev) => {
      o.host.log.log(ev.up ? 'info' : 'warn', `node ${ev.node} ${ev.up ? 'up' : 'down'}`, { node: ev.node, links: ev.links, restarted: ev.restarted })
      this.schedule()
    })
    this.hb.on('view', () => this.schedule())
    this.hb.on('link', (ev: { node: string; link: string; up: boolean }) => {
      const addr = o.hb.nodes.find((x) => x.name === ev.node)?.addresses[ev.link]
      if (!ev.up && addr) this.peers.dropVia(ev.node, addr)
    })
    const qs = o.hb.quorum?.server
    if (qs && quorum) {
      this.quorum = new QuorumClient({
        host: qs.host, ...(qs.port ? { port: qs.port } : {}), ...(qs.servername ? { servername: qs.servername } : {}),
        ca: quorum.ca, key: quorum.key, cluster: o.hb.cluster, node: this.self,
        partition: () => this.membership?.partition ?? [this.self],
        log: { log: (level, msg, data) => o.host.log.log(level, msg, { ...data, component: 'quorum' }) },
      })
      this.quorum.on('vote', (v: string, prev: string) => {
        o.host.log.log(v === 'granted' ? 'info' : 'warn', `quorum server vote: ${v} (was ${prev})`)
        this.schedule()
      })
    }
    this.isolationAddresses = me.isolationTestAddresses ?? []
  }

  async start(): Promise<void> {
    await this.peers.start()
    await this.hb.start()
    this.quorum?.start()
    const dead = this.o.hb.timing?.deadMs ?? 600
    // Wait for all (corosync's wait_for_all): decide nothing until every node is heard or the wait is
    // over. A node whose agent is still starting (plugins load, a busy host) must not look dead and be
    // fenced at start; a node that is really down delays the first decision by this wait only.
    this.settleTimer = setTimeout(() => this.settle(), this.o.settleMs ?? Math.max(10_000, dead * 3))
    this.settleTimer.unref()
  }

  private settle(): void {
    if (this.settled) return
    clearTimeout(this.settleTimer)
    this.settled = true
    this.schedule()
  }

  async stop(): Promise<void> {
    clearTimeout(this.settleTimer)
    clearTimeout(this.stableTimer)
    clearTimeout(this.isolationTimer)
    this.quorum?.stop()
    this.hb.stop()
    await this.peers.stop()
  }

  isCoordinator(): boolean { return this.role === 'coordinator' }

  /**
   * Whether our quorate partition still holds right now. Checked before the engine acts and before a
   * resource starts: after a pause (SIGSTOP, a VM stall) the timers that would notice silent peers may
   * fire after the work that was due meanwhile, and a node that lost quorum while paused must not act
   * on its old role. A stale answer schedules a new membership decision.
   */
  quorumFresh(): boolean {
    this.hb.checkNow()
    const m = this.membership
    const fresh = !!m?.quorate && m.partition.every((n) => n === this.self || this.hb.isUp(n))
    if (!fresh) this.schedule()
    return fresh
  }
  coordinator(): string | null { return this.membership?.coordinator ?? null }
  state(): { role: string; membership: MembershipResult | null; heartbeat: ReturnType<Heartbeat['status']>; quorumServer: ReturnType<QuorumClient['state']> | null; twoNode: boolean } {
    return { role: this.role, membership: this.membership, heartbeat: this.hb.status(), quorumServer: this.quorum?.state() ?? null, twoNode: this.o.hb.quorum?.twoNode === true }
  }

  /** A tie (half the votes) is broken by the quorum server, or in two-node mode once both nodes were seen. */
  private tieVote(): 'granted' | 'denied' | 'none' {
    if (this.quorum) return this.quorum.vote()
    return this.o.hb.quorum?.twoNode && this.seenAll ? 'granted' : 'none'
  }

  /** 'pending' while the isolation test addresses are being asked; a verdict holds for one second. */
  private isolationVerdict(): 'ok' | 'isolated' | 'pending' {
    const iso = this.isolation
    if (Date.now() - iso.at < 1000 && !iso.checking) return iso.isolated ? 'isolated' : 'ok'
    if (!iso.checking) {
      iso.checking = true
      void probeIsolation(this.isolationAddresses).then((r) => {
        const was = iso.isolated
        this.isolation = { at: Date.now(), isolated: r.reachable === null, checking: false }
        if (r.reachable === null && !was) this.o.host.log.log('error', `isolated: none of the isolation test addresses answers (${r.tried.join(', ')})`, { ms: r.ms })
        if (r.reachable !== null && was) this.o.host.log.log('info', `no longer isolated: ${r.reachable} answers`)
        this.schedule()
        // While a peer is missing, ask again every second (the verdict may change either way).
        clearTimeout(this.isolationTimer)
        this.isolationTimer = setTimeout(() => this.schedule(), 1000)
        this.isolationTimer.unref()
      })
    }
    // A verdict older than a second is not trusted: the peer may have gone missing just now.
    return 'pending'
  }

  /** The configuration this node runs, shown to peers in its heartbeat view. */
  setGeneration(g: number, digest?: string): void {
    this.generation = g
    this.digest = digest
    this.schedule()
  }

  /** The members of our partition other than us (empty when inquorate). */
  partitionPeers(): string[] {
    const m = this.membership
    return m?.quorate ? m.partition.filter((n) => n !== this.self) : []
  }

  /** A request to one peer over the peer channel. */
  request<T>(node: string, msg: PeerMessage, timeoutMs: number): Promise<T> {
    return this.peers.request<T>(node, msg, timeoutMs)
  }

  /** Coordinator: runs an action on another node. */
  async remoteAction(a: Action, signal: AbortSignal): Promise<ActionOutcome> {
    const onAbort = () => { void this.peers.request(a.node, { t: 'cancel', id: a.id } satisfies PeerMessage, 5000).catch(() => {}) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      // A node that has not yet seen us as its coordinator (it settles on its own clock) refuses:
      // ask again for a few heartbeat dead times before calling the outcome unknown.
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.peers.request<ActionOutcome>(a.node, { t: 'action', action: a } satisfies PeerMessage, a.timeoutMs + 5000)
        } catch (err) {
          const code = (err as { code?: string }).code
          // A connection lost while the node is still heard (a link went down under it; the channel closed it)
          // is asked again over another link: the node runs an action id at most once at a time (the agent
          // joins a repeat to the run in flight) and hooks are idempotent.
          const lost = code === 'MCCS_ERR_PEER_UNREACHABLE' && this.hb.isUp(a.node) && attempt < 3
          if ((code !== 'MCCS_ERR_NOT_COORDINATOR' || attempt >= 20) && !lost) throw err
          if (signal.aborted || this.role !== 'coordinator') throw err
          await new Promise((r) => setTimeout(r, lost ? 100 : 200))
        }
      }
    } catch (err) {
      // Unknown outcome: the node may or may not have run it (the engine then probes or fences).
      return { status: 'crashed', answer: 'failed', recoverable: true, reason: `${a.node}: ${(err as Error).message}` }
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** Coordinator: the monitor schedule of another node. */
  pushSchedule(node: string, entries: MonitorEntry[]): void {
    void this.peers.request(node, { t: 'monitors', entries } satisfies PeerMessage, 5000).catch((err: Error) =>
      this.o.host.log.log('warn', `cannot send the monitor schedule to ${node}: ${err.message}`))
  }

  /** Follower: a local monitor result for the coordinator. */
  sendMonitorResult(ev: MonitorResultEvent): void {
    const c = this.coordinator()
    if (!c || c === this.self) return
    void this.peers.request(c, { t: 'monitorResult', ev } satisfies PeerMessage, 5000).catch(() => {})
  }

  /** Follower: an operator command for the coordinator. */
  forward<T>(msg: PeerMessage, timeoutMs: number): Promise<T> {
    const c = this.coordinator()
    if (!c) return Promise.reject(new MccsError('MCCS_ERR_NO_QUORUM', 'this node has no quorum: no coordinator to send the request to', { subject: this.self }))
    // Membership names us but we have not taken the role yet (stability window, or quorum just lost).
    if (c === this.self) return Promise.reject(new MccsError('MCCS_ERR_NO_QUORUM', 'membership is being decided on this node: retry in a moment', { subject: this.self }))
    return this.peers.request<T>(c, msg, timeoutMs)
  }

  private async onRequest(from: string, m: PeerMessage): Promise<unknown> {
    const h = this.o.host
    if (!m || typeof m !== 'object' || typeof (m as { t?: unknown }).t !== 'string') throw new MccsError('MCCS_ERR_INVALID', 'not a peer message', { field: 't' })
    switch (m.t) {
      case 'action':
        // Only the coordinator of our quorate partition may make us act. Our own view is enough even
        // before we have settled (the coordinator may have settled a moment earlier).
        if (this.role === 'coordinator' || this.role === 'inquorate' || !this.membership?.quorate || from !== this.membership.coordinator) {
          throw new MccsError('MCCS_ERR_NOT_COORDINATOR', `${from} is not this node's coordinator`, { subject: from })
        }
        return h.runLocalAction(m.action, new AbortController().signal)
      case 'cancel':
        if (from === this.coordinator()) h.cancelLocal(m.id)
        return { ok: true }
      case 'monitors':
        if (from !== this.coordinator()) throw new MccsError('MCCS_ERR_NOT_COORDINATOR', `${from} is not this node's coordinator`)
        h.applyMonitorSchedule(m.entries)
        return { ok: true }
      case 'monitorResult':
        if (this.role !== 'coordinator') throw new MccsError('MCCS_ERR_CONFLICT', 'not the coordinator')
        h.onRemoteMonitorResult(m.ev)
        return { ok: true }
      case 'command':
        if (this.role !== 'coordinator') throw new MccsError('MCCS_ERR_CONFLICT', 'not the coordinator')
        return h.onRemoteCommand(m.cmd, m.wait, m.timeoutMs)
      case 'status':
        if (this.role !== 'coordinator') throw new MccsError('MCCS_ERR_CONFLICT', 'not the coordinator')
        return h.statusForPeers()
      case 'configCommit':
        if (this.role !== 'coordinator') throw new MccsError('MCCS_ERR_NOT_COORDINATOR', 'not the coordinator')
        if (typeof m.expectGeneration !== 'number') throw new MccsError('MCCS_ERR_INVALID', 'expectGeneration must be a number', { field: 'expectGeneration' })
        return h.onConfigCommit(from, m.main, m.expectGeneration)
      case 'config':
        // Only our coordinator replicates to us (a stale coordinator of a lost partition cannot).
        if (!this.membership?.quorate || from !== this.membership.coordinator) throw new MccsError('MCCS_ERR_NOT_COORDINATOR', `${from} is not this node's coordinator`, { subject: from })
        return h.onConfigPush(from, m.main, m.force === true)
      case 'configGet':
        return h.onConfigGet()
      case 'support': case 'supportChunk': case 'licenseView': case 'licenseInstall': case 'discover':
        return h.onService(from, m)
      default:
        throw new MccsError('MCCS_ERR_INVALID', `unknown peer message ${JSON.stringify((m as { t: string }).t)}`, { field: 't' })
    }
  }

  private schedule(): void {
    if (this.recompute) return
    this.recompute = setImmediate(() => { this.recompute = null; this.decide() })
  }

  private decide(): void {
    const st = this.hb.status()
    const up = st.peers.filter((p) => p.up).map((p) => p.node)
    const views = Object.fromEntries(st.peers.filter((p) => p.up && p.view).map((p) => [p.node, p.view!]))
    if (up.length === this.o.hb.nodes.length - 1) this.seenAll = true
    let m = computeMembership({ self: this.self, nodes: this.o.hb.nodes, up, views, quorumServerVote: this.tieVote() })
    if (this.isolationAddresses.length && m.partition.length < this.o.hb.nodes.length) {
      // A peer is missing: before acting on it, make sure the fault is not on our side.
      const v = this.isolationVerdict()
      if (v === 'pending' && this.settled) return
      if (v === 'isolated') m = { ...m, quorate: false, coordinator: null, reason: 'isolated: none of the isolation test addresses answers' }
    }
    this.membership = m
    this.hb.setPayload({ up, coordinator: m.coordinator, generation: this.generation, ...(this.digest ? { digest: this.digest } : {}), quorum: m.quorate ? 'quorate' : 'inquorate' })
    if (!this.settled) {
      // Every node heard and every node hearing every other: no need to wait longer. (Hearing them is not
      // enough: a peer that does not hear us yet is outside our partition and would be fenced at start.)
      if (m.partition.length === this.o.hb.nodes.length) this.settle()
      return
    }
    this.o.host.viewsChanged(m, views, this.role)
    if (m.quorate) {
      // Views change one heartbeat at a time, so during a partition a node can briefly compute a
      // quorate partition that its peers are already leaving (a node still heard that no longer
      // hears us). Act on a quorate membership only once it has held for a few heartbeats; losing
      // quorum is acted on at once (taking things offline is always safe).
      const key = `${m.coordinator}|${m.partition.join(',')}`
      if (key === this.actedKey) return
      if (key !== this.pendingKey) {
        this.pendingKey = key
        clearTimeout(this.stableTimer)
        this.stableTimer = setTimeout(() => { this.pendingKey = ''; this.act() }, this.stableMs)
      }
      return
    }
    this.pendingKey = ''
    clearTimeout(this.stableTimer)
    this.act()
  }

  /** Takes the role the current membership gives this node. */
  private act(): void {
    const m = this.membership
    if (!m) return
    const h = this.o.host
    this.actedKey = `${m.coordinator}|${m.partition.join(',')}`
    const all = this.o.hb.nodes.map((n) => n.name)
    const members = new Set(m.partition)
    const down = all.filter((n) => !members.has(n))
    if (!m.quorate) {
      if (this.role !== 'inquorate') {
        const was = this.role
        this.role = 'inquorate'
        if (was === 'coordinator') h.resign()
        h.log.log('error', `quorum lost (${m.reason}): taking local resources offline`, { partition: m.partition, votes: m.votes, needed: m.needed })
        void h.selfFence(`quorum lost: ${m.reason}`)
      }
      return
    }
    if (m.coordinator === this.self) {
      if (this.role !== 'coordinator') {
        this.role = 'coordinator'
        this.lastUp = members
        h.log.log('info', 'this node is the coordinator', { partition: m.partition, down })
        h.becomeCoordinator(m.partition, down)
      } else if (!sameSet(members, this.lastUp)) {
        this.lastUp = members
        h.membershipChanged(m.partition, down)
      }
      return
    }
    if (this.role !== 'follower') {
      if (this.role === 'coordinator') h.resign()
      this.role = 'follower'
      h.log.log('info', `following coordinator ${m.coordinator}`, { partition: m.partition })
    }
  }
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false
  for (const x of a) if (!b.has(x)) return false
  return true
}

export const clusterKeyPath = (configDir: string): string => path.join(configDir, 'cluster.key')
