// This node's role in a cluster of two or more nodes. Heartbeats tell who is up; membership picks the
// partition, its quorum and its coordinator (the lowest node name of a quorate partition). The role is
// taken only once membership has settled (wait for all) and held for the stability window; a node
// without quorum is told to take its resources offline itself (self-fencing) and acts on nothing until
// it has quorum again. The role owns the heartbeat and the quorum client; it knows nothing of the agent
// and says what it decided through the ClusterHost callbacks (its role events).
import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { HeartbeatThread } from './heartbeat-worker-client.js'
import { computeMembership, type MembershipResult } from './membership.js'
import { QuorumClient } from './quorum-client.js'
import { probeIsolation } from './isolation.js'
import type { HbView } from './packet.js'
import type { HbConfig } from '../config/hb-model.js'
import { MccsError } from '../errors.js'
import type { Log } from '../log/logger.js'

export type RoleName = 'starting' | 'coordinator' | 'follower' | 'inquorate' | 'leaving'

/** What a node announces of itself in its heartbeat view (`ext.mode`; absent: active). `standby`: it
 *  runs nothing and nothing may be started there (mccs node standby); `leaving`: it moved its groups
 *  away, runs nothing and is about to stop (SIGTERM): its peers take it out of the membership without
 *  fencing it. The node says so only once nothing of it runs (core/agent/node-mode.ts). */
export type NodeMode = 'active' | 'standby' | 'leaving'

/** The role events: what the role decided, for whoever runs the engine on this node. */
export interface ClusterHost {
  /** This node became the coordinator of a quorate partition (`down`: every node outside it). */
  becomeCoordinator(up: string[], down: string[]): void
  /** This node was the coordinator and no longer is. */
  resign(): void
  /** Still the coordinator, with other members. */
  membershipChanged(up: string[], down: string[]): void
  /** Quorum lost: take every local resource offline now. */
  selfFence(reason: string): Promise<void>
  /** Every membership decision, with the peers' views (generation and digest of their configuration). */
  viewsChanged(m: MembershipResult, views: Record<string, HbView>, role: string): void
}

export interface RoleOptions {
  hb: HbConfig
  /** This node's name. */
  self: string
  /** The cluster key (heartbeat HMAC). */
  key: Buffer
  /** Where hb.json's relative quorum server files (CA, key) are found. */
  configDir: string
  /** The heartbeat's state file (<state>/heartbeat.json): incarnations kept across restarts (issue 12, finding 5). */
  hbStateFile?: string
  log: Log
  host: ClusterHost
  /** At start, wait for every node this long at most before deciding anything (default 10 s, at least
   *  3 dead times); deciding ends earlier as soon as every node is heard. */
  settleMs?: number
  /** A quorate membership must hold this long before it is acted on (default: 3 heartbeat intervals). */
  stableMs?: number
}

export class Role {
  readonly hb: HeartbeatThread
  private membership: MembershipResult | null = null
  private role: RoleName = 'starting'
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
  readonly self: string
  private generation = 0
  private digest: string | undefined
  private mode: NodeMode = 'active'
  /** Peers that announced their leave, until they are heard again without it (a restart). */
  private readonly left = new Set<string>()
  /** Peers in standby (kept while one is silent: it comes back in standby, its mode is persisted). */
  private standby = new Set<string>()
  /** The peers heard and their views at the last decision (for leaveAcknowledged). */
  private lastHeard: { heard: string[]; views: Record<string, HbView> } = { heard: [], views: {} }

  /** Reads the quorum server's CA and key (hb.json `quorum.server`), then builds the role. */
  static async create(o: RoleOptions): Promise<Role> {
    const qs = o.hb.quorum?.server
    let quorum: { ca: string; key: string } | undefined
    if (qs) {
      const read = (f: string, field: string) => readFile(path.resolve(o.configDir, f), 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new MccsError('MCCS_ERR_HB_CONFIG', `cannot read ${f}: ${e.code ?? e.message}`, { field })
      })
      quorum = { ca: await read(qs.caFile, '/quorum/server/caFile'), key: (await read(qs.keyFile, '/quorum/server/keyFile')).trim() }
    }
    return new Role(o, quorum)
  }

  private constructor(private readonly o: RoleOptions, quorum?: { ca: string; key: string }) {
    this.self = o.self
    this.stableMs = o.stableMs ?? 3 * (o.hb.timing?.intervalMs ?? 100)
    const me = o.hb.nodes.find((n) => n.name === this.self)
    if (!me) throw new MccsError('MCCS_ERR_HB_CONFIG', `this node (${this.self}) is not in hb.json`, { field: '/nodes' })
    const key = o.key
    // The heartbeat runs in a thread of its own: nothing on this thread can delay it past the dead time.
    this.hb = new HeartbeatThread({ config: o.hb, self: this.self, key, log: o.log, stateFile: o.hbStateFile })
    this.hb.on('peer', (ev) => {
      o.log.log(ev.up ? 'info' : 'warn', `node ${ev.node} ${ev.up ? 'up' : 'down'}`, { node: ev.node, links: ev.links, restarted: ev.restarted })
      this.schedule()
    })
    this.hb.on('view', () => this.schedule())
    const qs = o.hb.quorum?.server
    if (qs && quorum) {
      this.quorum = new QuorumClient({
        host: qs.host, ...(qs.port ? { port: qs.port } : {}), ...(qs.servername ? { servername: qs.servername } : {}),
        ca: quorum.ca, key: quorum.key, cluster: o.hb.cluster, node: this.self,
        partition: () => this.membership?.partition ?? [this.self],
        log: o.log.child({ component: 'quorum' }),
      })
      this.quorum.on('vote', (v: string, prev: string) => {
        o.log.log(v === 'granted' ? 'info' : 'warn', `quorum server vote: ${v} (was ${prev})`)
        this.schedule()
      })
    }
    this.isolationAddresses = me.isolationTestAddresses ?? []
  }

  /** Starts the heartbeat and the quorum client (the peer channel is started before, by its owner). */
  async start(): Promise<void> {
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

  stop(): void {
    clearTimeout(this.settleTimer)
    clearTimeout(this.stableTimer)
    clearTimeout(this.isolationTimer)
    this.quorum?.stop()
    this.hb.stop()
  }

  isCoordinator(): boolean { return this.role === 'coordinator' }
  /** The role taken (it follows the membership after the stability window). */
  current(): RoleName { return this.role }
  /** The last membership decided (null before the first decision). */
  members(): MembershipResult | null { return this.membership }

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
  /** Whether `node` is a member of this node's current view: heard, and mutually connected with every
   *  member of our partition. A fence must never be issued against such a node (it is alive and talking
   *  to us; issue 14, finding 2). */
  inView(node: string): boolean {
    return node !== this.self && !!this.membership?.partition.includes(node)
  }
  state(): { role: string; membership: MembershipResult | null; heartbeat: ReturnType<HeartbeatThread['status']>; quorumServer: ReturnType<QuorumClient['state']> | null; twoNode: boolean } {
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
        if (r.reachable === null && !was) this.o.log.log('error', `isolated: none of the isolation test addresses answers (${r.tried.join(', ')})`, { ms: r.ms })
        if (r.reachable !== null && was) this.o.log.log('info', `no longer isolated: ${r.reachable} answers`)
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

  /** Announces this node's mode in its heartbeat view. `leaving` is final: from then on this node decides
   *  nothing (a coordinator resigns first) and its peers drop it from their membership. */
  setMode(mode: NodeMode): void {
    if (this.mode === mode) return
    this.mode = mode
    this.o.log.log('info', `this node announces ${mode === 'leaving' ? 'its leave' : mode === 'standby' ? 'standby' : 'it is active again'}`, { mode })
    if (mode === 'leaving') {
      clearTimeout(this.stableTimer)
      if (this.role === 'coordinator') this.o.host.resign()
      this.role = 'leaving'
    }
    this.schedule()
  }
  nodeMode(): NodeMode { return this.mode }
  /** Whether the node announced its leave (and has not been heard since without it). */
  hasLeft(node: string): boolean { return this.left.has(node) }
  /** Whether the node is in standby (this node included). */
  inStandby(node: string): boolean { return node === this.self ? this.mode === 'standby' : this.standby.has(node) }
  /** Whether every peer still heard has taken this node out of its view (its `up` no longer names us). */
  leaveAcknowledged(): boolean {
    const { heard, views } = this.lastHeard
    return heard.every((p) => !(views[p]?.up ?? []).includes(this.self))
  }

  /** Peers heard, without those that announced their leave; notes leaves, returns and standby changes. */
  private notePeerModes(heard: string[], views: Record<string, HbView>): string[] {
    this.lastHeard = { heard, views }
    const present: string[] = []
    const standby = new Set([...this.standby].filter((n) => !heard.includes(n)))
    for (const n of heard) {
      const mode = views[n]?.ext?.['mode']
      if (mode === 'leaving') {
        if (!this.left.has(n)) this.o.log.log('info', `node ${n} announced its leave: it runs nothing and leaves the membership without a fence`, { node: n })
        this.left.add(n)
        if (this.standby.has(n)) standby.add(n) // it comes back in standby
        continue
      }
      if (this.left.delete(n)) this.o.log.log('info', `node ${n} is back (it had left the cluster)`, { node: n })
      if (mode === 'standby') standby.add(n)
      present.push(n)
    }
    for (const n of standby) if (!this.standby.has(n)) this.o.log.log('info', `node ${n} is in standby`, { node: n })
    for (const n of this.standby) if (!standby.has(n)) this.o.log.log('info', `node ${n} is out of standby`, { node: n })
    this.standby = standby
    return present
  }

  /** The members of our partition other than us (empty when inquorate). */
  partitionPeers(): string[] {
    const m = this.membership
    return m?.quorate ? m.partition.filter((n) => n !== this.self) : []
  }

  private schedule(): void {
    if (this.recompute) return
    this.recompute = setImmediate(() => { this.recompute = null; this.decide() })
  }

  private decide(): void {
    const st = this.hb.status()
    const heard = st.peers.filter((p) => p.up).map((p) => p.node)
    const views = Object.fromEntries(st.peers.filter((p) => p.up && p.view).map((p) => [p.node, p.view!]))
    // A peer that announced its leave is out of the membership at once (and out of the `up` we show).
    const up = this.notePeerModes(heard, views)
    if (up.length === this.o.hb.nodes.length - 1) this.seenAll = true
    let m = computeMembership({ self: this.self, nodes: this.o.hb.nodes, up, views, quorumServerVote: this.tieVote() })
    if (this.isolationAddresses.length && m.partition.length < this.o.hb.nodes.length) {
      // A peer is missing: before acting on it, make sure the fault is not on our side.
      const v = this.isolationVerdict()
      if (v === 'pending' && this.settled) return
      if (v === 'isolated') m = { ...m, quorate: false, coordinator: null, reason: 'isolated: none of the isolation test addresses answers' }
    }
    this.membership = m
    this.hb.setPayload({ up, coordinator: m.coordinator, generation: this.generation, ...(this.digest ? { digest: this.digest } : {}), quorum: m.quorate ? 'quorate' : 'inquorate', ...(this.mode !== 'active' ? { ext: { mode: this.mode } } : {}) })
    if (this.mode === 'leaving') return // a leaving node decides nothing more
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
    if (!m || this.mode === 'leaving') return
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
        this.o.log.log('error', `quorum lost (${m.reason}): taking local resources offline`, { partition: m.partition, votes: m.votes, needed: m.needed })
        void h.selfFence(`quorum lost: ${m.reason}`)
      }
      return
    }
    if (m.coordinator === this.self) {
      if (this.role !== 'coordinator') {
        this.role = 'coordinator'
        this.lastUp = members
        this.o.log.log('info', 'this node is the coordinator', { partition: m.partition, down })
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
      this.o.log.log('info', `following coordinator ${m.coordinator}`, { partition: m.partition })
    }
  }
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false
  for (const x of a) if (!b.has(x)) return false
  return true
}
