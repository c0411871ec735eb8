// This node's role in a cluster of two or more nodes. Heartbeats tell who is up; membership computes the
// partition this node wants (the best clique of mutually connected nodes, and its quorum); the view change
// (view.ts, over the heartbeat: ext.vc) makes it an *agreed* view, installed only while every member
// acknowledges it (issue 14, finding 4). The role follows the installed view: its coordinator is the
// lowest-named member that announced it is ready (it has settled: wait for all; finding 5), and the engine
// steps, fences and starts only while that view is installed and quorate (quorumFresh()). A node without
// quorum is told to take its resources offline itself (self-fencing) and acts on nothing until it has
// quorum again. The role owns the heartbeat and the quorum client; it knows nothing of the agent and says
// what it decided through the ClusterHost callbacks (its role events).
import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { HeartbeatThread } from './heartbeat-worker-client.js'
import type { ProtocolRange } from './protocol-version.js'
import { computeMembership, quorum as quorumOf, type MembershipResult } from './membership.js'
import { monoMs } from './heartbeat-worker-messages.js'
import { ViewNode, viewKey, type Announce, type Installed, type PeerFacts } from './view.js'
import { EdgeGrace, graceKeep } from './edge-grace.js'
import { leftOutBy } from './left-out.js'
import { ViewCodec, heartbeatView, receivedLevel, type ReceivedLevel } from './view-messages.js'
import { Readmission } from './readmission.js'
import { QuorumClient } from './quorum-client.js'
import { probeIsolation } from './isolation.js'
import type { HbView } from './packet.js'
import type { HeartbeatStatus } from './heartbeat.js'
import type { HbConfig, HbQuorum } from '../config/hb-model.js'
import { QUORUM_PORT, quorumTiming } from './quorum-protocol.js'
import { MccsError } from '../errors.js'
import type { Log } from '../log/logger.js'
import type { Said } from '../i18n/messages.js'

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
  /** Still the coordinator: member `node` took its resources offline since we last heard (it lost quorum
   *  and self-fenced, then came back into a view with the same members). What ran there is unknown. */
  memberSelfFenced(node: string): void
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
  /** A view change that has not completed after this long is logged (default 3 dead times). Nothing is taken
   *  offline for it: a node acts only in an installed view, and the others fence it if they left it out. */
  limboMs?: number
  /** The protocol versions the heartbeat advertises (default: the build's; another range only for tests). */
  protocol?: ProtocolRange
}

export class Role {
  readonly hb: HeartbeatThread
  private membership: MembershipResult | null = null
  /** The view `membership` was computed from (viewKey; '' when none installed). */
  private membershipKey = ''
  private role: RoleName = 'starting'
  private lastUp = new Set<string>()
  private recompute: NodeJS.Immediate | null = null
  private settled = false
  /** The quorum server's client in force (hb.json quorum.server); replaced in place by a live change. */
  private quorum: QuorumClient | undefined
  /** What `quorum` was made from (settings and the files' contents): a change that keeps it keeps the client. */
  private quorumKey = ''
  /** A prepared change's quorum client, already connected, swapped in at commit (undefined: no server). */
  private nextQuorum: { key: string; client: QuorumClient | undefined } | null = null
  /** Every node has been heard once since start (two-node mode's wait for all). */
  private seenAll = false
  private isolationAddresses: readonly string[]
  private isolation: { at: number; isolated: boolean; checking: boolean } = { at: 0, isolated: false, checking: false }
  private isolationTimer: NodeJS.Timeout | undefined
  private settleTimer: NodeJS.Timeout | undefined
  /** The installed view acted on (viewKey), '' when none. */
  private actedKey = ''
  /** What heartbeats say: the partition this node wants, its quorum (computeMembership). */
  private desired: MembershipResult | null = null
  /** The agreed-membership protocol and its wire form. */
  private readonly view: ViewNode
  private codec: ViewCodec
  /** Other node lists whose announcements are read during a live hb.json change (the list being prepared,
   *  or the one just replaced, kept until the next change): peers change over one by one, and none must look
   *  mute meanwhile — nor a member that missed the commit, until it has fetched it. */
  private decoders: ViewCodec[] = []
  /** The hb.json in force here (a live change replaces it: reconfigure()). */
  private cfg: HbConfig
  /** Nodes added by a live change and not heard since: not counted missing (no fence, no "down"). */
  private readonly joining = new Set<string>()
  /** A prepared change's timing, until it is committed or aborted (transitional: see prepareConfig). */
  private prepared: HbConfig | null = null
  private holdTimer: NodeJS.Timeout | undefined
  private ann: Announce | null = null
  private vcJson = ''
  private payloadJson = ''
  private viewTimer: NodeJS.Timeout | undefined
  private limboTimer: NodeJS.Timeout | undefined
  private limboSince: number | null = null
  private limboMs: number
  /** Peers lost in this run count again only after a hold (flapping peers stay out). */
  private readonly readmit: Readmission
  private readonly edgeGrace: EdgeGrace
  private dead: number
  private readmitTimer: NodeJS.Timeout | undefined
  /** Refused announcements, per peer (logged once per reason). */
  private readonly refusedVc = new Map<string, string>()
  private lastWaitLog = ''
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
    return new Role(o, await quorumMaterial(o.hb, o.configDir))
  }

  private constructor(
    private readonly o: RoleOptions,
    quorum?: { ca: string; key: string },
  ) {
    this.self = o.self
    this.cfg = o.hb
    const dead = o.hb.timing?.deadMs ?? 600
    this.limboMs = o.limboMs ?? 3 * dead
    this.dead = dead
    const maxHold = 4 * dead
    this.readmit = new Readmission({ baseMs: 2 * dead, maxMs: maxHold, forgetMs: 20_000, quickMs: dead })
    // A peer that holds us out counts us within its longest hold: the edge to it waits that long on top.
    this.edgeGrace = new EdgeGrace(dead, maxHold)
    this.codec = new ViewCodec(o.hb.nodes.map((n) => n.name))
    // A grant counts for the holder for 90 % of the dead time after the send of its own that it echoes; the
    // grantor keeps its promise for the dead time after receiving that echo. Both are durations on one
    // node's monotonic clock, so the margin only has to cover clock *rates* (far below 10 %); leaving out a
    // node that has been silent for the dead time costs no wait, and a grant lapses only after as many lost
    // heartbeats as a link does.
    this.view = new ViewNode({
      self: this.self,
      leaseMs: 0.9 * dead,
      holdMs: dead,
      quorate: (ms) => quorumOf(ms, this.cfg.nodes, this.tieVote(ms)).quorate,
      now: monoMs(),
    })
    const me = o.hb.nodes.find((n) => n.name === this.self)
    if (!me) throw new MccsError('MCCS_ERR_HB_CONFIG', `this node (${this.self}) is not in hb.json`, { field: '/nodes' })
    const key = o.key
    // The heartbeat runs in a thread of its own: nothing on this thread can delay it past the dead time.
    this.hb = new HeartbeatThread({
      config: o.hb,
      self: this.self,
      key,
      log: o.log,
      stateFile: o.hbStateFile,
      ...(o.protocol ? { protocol: o.protocol } : {}),
    })
    this.hb.on('peer', (ev) => {
      o.log.log(ev.up ? 'info' : 'warn', `node ${ev.node} ${ev.up ? 'up' : 'down'}`, {
        node: ev.node,
        links: ev.links,
        restarted: ev.restarted,
      })
      this.schedule()
    })
    this.hb.on('view', () => this.schedule())
    const qs = o.hb.quorum?.server
    this.quorumKey = quorumIdentity(qs, quorum)
    if (qs && quorum) this.quorum = this.quorumClient(qs, quorum)
    this.isolationAddresses = me.isolationTestAddresses ?? []
  }

  private quorumClient(qs: NonNullable<HbQuorum['server']>, m: QuorumMaterial): QuorumClient {
    const client = new QuorumClient({
      host: qs.host,
      ...(qs.port ? { port: qs.port } : {}),
      ...(qs.servername ? { servername: qs.servername } : {}),
      ca: m.ca,
      key: m.key,
      cluster: this.o.hb.cluster,
      node: this.self,
      partition: () => this.desired?.partition ?? [this.self],
      // Ask for a lease that follows the heartbeat: a lost peer's part of the vote lapses a heartbeat
      // interval after the dead time declares it gone (the server's own default, 1000/5000, held a
      // two-node failover for ~5 s). Reports at twice the heartbeat interval: 5 a second at the shipped timing.
      ...quorumTiming(this.o.hb.timing),
      log: this.o.log.child({ component: 'quorum' }),
    })
    client.on('vote', (v: string, prev: string) => {
      if (client !== this.quorum) return // a prepared client's vote counts from the commit on
      this.o.log.log(v === 'granted' ? 'info' : 'warn', `quorum server vote: ${v} (was ${prev})`)
      this.schedule()
    })
    // The server's answer for the partition reported now (voteFor): a tie waiting for it is decided at once.
    client.on('answer', () => {
      if (client === this.quorum) this.schedule()
    })
    return client
  }

  /**
   * Live hb.json change, before phase 1 (prepareConfig): a change of the quorum server (its address, port,
   * name, CA or key, or to none) makes the new client now and connects it beside the one in force, which
   * keeps breaking ties until the commit; the commit swaps them, so the cluster is never without the
   * server's vote while the new one answers. With `waitMs`, the new server must answer this node (log it in
   * and vote on its partition) within that time, or the change is refused with its reason: a cluster moved
   * to a server none of its nodes reaches has no tie-breaker. Files that cannot be read are refused with the
   * field that names them.
   */
  async prepareQuorum(next: HbConfig, waitMs: number): Promise<void> {
    const qs = next.quorum?.server
    const m = await quorumMaterial(next, this.o.configDir, 'server.')
    this.dropNextQuorum()
    const key = quorumIdentity(qs, m)
    if (key === this.quorumKey) return
    if (!qs || !m) {
      this.nextQuorum = { key, client: undefined }
      return
    }
    let client: QuorumClient
    try {
      client = this.quorumClient(qs, m)
    } catch (e) {
      const err = e as MccsError
      const field = err.field === 'key' ? 'server.keyFile' : err.field === 'ca' ? 'server.caFile' : `server.${err.field ?? ''}`
      throw new MccsError(err.code ?? 'MCCS_ERR_INVALID', err.reason ?? err.message, { field })
    }
    client.start()
    this.nextQuorum = { key, client }
    if (waitMs <= 0) return
    const until = Date.now() + waitMs
    while (client.vote() === 'none' && Date.now() < until && this.nextQuorum?.client === client) await new Promise((r) => setTimeout(r, 20))
    if (client.vote() !== 'none') return
    const why = client.state().reason
    if (this.nextQuorum?.client === client) this.dropNextQuorum()
    else void client.stop()
    throw new MccsError(
      'MCCS_ERR_QUORUM_UNREACHABLE',
      `the quorum server ${qs.host}:${qs.port ?? QUORUM_PORT} did not answer ${this.self} within ${waitMs} ms (${why}): the cluster would have no tie-breaker`,
      { field: 'server.host', subject: this.self },
    )
  }

  private dropNextQuorum(): void {
    const c = this.nextQuorum?.client
    this.nextQuorum = null
    void c?.stop()
  }

  /** Starts the heartbeat and the quorum client (the peer channel is started before, by its owner). */
  async start(): Promise<void> {
    await this.hb.start()
    this.quorum?.start()
    const dead = this.cfg.timing?.deadMs ?? 600
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
    clearTimeout(this.viewTimer)
    clearTimeout(this.limboTimer)
    clearTimeout(this.tieTimer)
    clearTimeout(this.readmitTimer)
    clearTimeout(this.graceTimer)
    clearTimeout(this.isolationTimer)
    clearTimeout(this.holdTimer)
    void this.quorum?.stop()
    this.dropNextQuorum()
    this.hb.stop()
  }

  isCoordinator(): boolean {
    return this.role === 'coordinator'
  }
  /** The role taken (it follows the membership after the stability window). */
  current(): RoleName {
    return this.role
  }
  /** The membership this node acts on: the installed view (null before the first decision). While a view
   *  change is in progress, the partition wanted, not quorate, without a coordinator. */
  members(): MembershipResult | null {
    return this.membership
  }
  /** The installed view and the view change (status). */
  viewState(): {
    installed: { epoch: number; members: readonly string[]; ready: readonly string[] } | null
    announced: Announce | null
    waitingFor: string | null
  } {
    const now = monoMs()
    const inst = this.view.installed(now, this.facts(this.hb.status(), now))
    return { installed: inst ? { ...inst.view } : null, announced: this.ann, waitingFor: this.view.waitingFor() }
  }

  /**
   * Whether this node may act now: the view it acts on is still installed (every member's grant fresh on
   * our clock) and quorate. Checked before the engine steps and before a resource starts: after a pause
   * (SIGSTOP, a VM stall) the grants have expired by our own clock, and a node that lost its view while
   * paused must not act on its old role. A stale answer schedules a new decision.
   */
  quorumFresh(): boolean {
    this.hb.checkNow()
    const now = monoMs()
    const inst = this.view.acting(now, this.facts(this.hb.status(), now))
    const fresh =
      !!inst &&
      viewKey(inst.view) === this.actedKey &&
      (this.role === 'coordinator' || this.role === 'follower') &&
      inst.view.members.every((n) => n === this.self || this.hb.isUp(n))
    if (!fresh) this.schedule()
    return fresh
  }
  coordinator(): string | null {
    return this.membership?.coordinator ?? null
  }
  /** Whether `node` is a member of this node's current view: heard, and mutually connected with every
   *  member of our partition. A fence must never be issued against such a node (it is alive and talking
   *  to us; issue 14, finding 2). */
  inView(node: string): boolean {
    return node !== this.self && !!this.membership?.partition.includes(node)
  }
  /**
   * Whether the membership this node shows is current (status): the heartbeat thread has reported since any
   * pause of this process (it is not settling), and a quorate view shown is still installed on our clock.
   * After SIGSTOP/SIGCONT the last decision — a quorate view, a role — is from before the pause until the role
   * has re-decided on what the heartbeat reads now: a status answered meanwhile says so instead of claiming it
   * (issue 14). A view change in progress shows no quorate view, so it is current. Schedules a new decision
   * when not.
   */
  decisionCurrent(): boolean {
    this.hb.checkNow()
    let ok = !this.hb.status().thread.settling
    if (ok && this.membership?.quorate) {
      const now = monoMs()
      const inst = this.view.acting(now, this.facts(this.hb.status(), now))
      ok = !!inst && viewKey(inst.view) === this.membershipKey
    }
    if (!ok) this.schedule()
    return ok
  }
  /** Whether `node`'s agent restarted a moment ago (a new incarnation heard within the last `4 × dead`) and is
   *  heard now: it is on its way into the view (its start waits out its old grants, then it joins). */
  restartedAndHeard(node: string): boolean {
    const at = this.restartedAt.get(node)
    return at !== undefined && monoMs() - at <= 4 * this.dead && this.hb.isUp(node)
  }
  /** How long a fence waits for a node that restarted a moment ago to join (Fencing). */
  joinWaitMs(): number {
    return 4 * this.dead
  }
  /** Whether `node` is up on a current verdict of the heartbeat (none while it settles after a pause). */
  peerUpNow(node: string): boolean {
    return this.hb.isUp(node)
  }
  state(): {
    role: string
    membership: MembershipResult | null
    heartbeat: ReturnType<HeartbeatThread['status']>
    quorumServer: ReturnType<QuorumClient['state']> | null
    twoNode: boolean
  } {
    return {
      role: this.role,
      membership: this.membership,
      heartbeat: this.hb.status(),
      quorumServer: this.quorum?.state() ?? null,
      twoNode: this.cfg.quorum?.twoNode === true,
    }
  }

  /** A tie (half the votes) is broken by the quorum server, or in two-node mode once both nodes were seen. */
  private tieVote(members: readonly string[]): 'granted' | 'denied' | 'none' {
    if (this.quorum) return this.quorum.voteFor(members)
    return this.cfg.quorum?.twoNode && this.seenAll ? 'granted' : 'none'
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
        if (r.reachable === null && !was)
          this.o.log.log('error', `isolated: none of the isolation test addresses answers (${r.tried.join(', ')})`, { ms: r.ms })
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

  /** The hb.json in force here. */
  config(): Readonly<HbConfig> {
    return this.cfg
  }
  /** A node added by a live change that has not been heard yet (it never joined: not missing). */
  isJoining(node: string): boolean {
    return this.joining.has(node)
  }

  /**
   * Live hb.json change, phase 1 (issue 16, What 3; core/agent/hb-sync.ts runs the two phases). Nothing of
   * the membership changes yet; what must hold on every member before any of them commits is put in place:
   *   - announcements indexed by the new node list are read (a committed peer must not look mute here);
   *   - the timing becomes the transitional one: the shorter interval and the longer dead time of the two.
   *     Until every member has it, a node judges each peer with at least the dead time that peer's interval
   *     was chosen for; after the commit each takes the new timing, and a node still prepared sends at
   *     least as often as the new interval and waits at least the new dead time. So no node ever judges a
   *     peer with a dead time shorter than the one meant for the interval the peer sends at.
   *   - view leases shrink to 90 % of the shorter dead time and the grantor's hold grows to the longer one
   *     (a grant never outlives the promise behind it, whichever of the two a peer runs).
   */
  prepareConfig(next: HbConfig): void {
    const cur = this.cfg
    const ti = transitional(cur.timing, next.timing)
    this.hb.reconfigure({ ...cur, timing: ti })
    this.prepared = next
    this.decoders = [new ViewCodec(next.nodes.map((n) => n.name))]
    this.retime(ti.deadMs, Math.min(deadOf(cur), deadOf(next)), Math.max(deadOf(cur), deadOf(next)))
    this.o.log.log('info', `hb.json generation ${next.generation} prepared`, { timing: ti })
  }

  /** Phase 1 undone (the change was refused elsewhere, or never committed): the timing in force again. */
  abortConfig(): void {
    this.dropNextQuorum()
    if (!this.prepared) return
    const g = this.prepared.generation
    this.prepared = null
    this.decoders = []
    this.hb.reconfigure(this.cfg)
    this.retime(deadOf(this.cfg), deadOf(this.cfg), deadOf(this.cfg))
    this.o.log.log('info', `hb.json generation ${g} withdrawn: generation ${this.cfg.generation} stays in force`)
  }

  /** Whether a change is prepared here and not yet committed (its generation), or null. */
  preparedGeneration(): number | null {
    return this.prepared?.generation ?? null
  }

  /**
   * Live hb.json change, phase 2: the new configuration is in force here. The heartbeat takes the new
   * nodes, links and timing; announcements are indexed by the new node list (the old one is still read
   * until the others have changed over); a node added is not counted missing before it is first heard; the
   * grantor's hold stays at the longer dead time for a while (a peer that is still prepared holds grants
   * that long at most).
   */
  commitConfig(next: HbConfig): void {
    const prev = this.cfg
    const before = new Set(prev.nodes.map((n) => n.name))
    const after = new Set(next.nodes.map((n) => n.name))
    this.hb.reconfigure(next)
    this.cfg = next
    this.prepared = null
    const oldCodec = this.codec
    this.codec = new ViewCodec([...after])
    this.decoders = oldCodec.digest === this.codec.digest ? [] : [oldCodec]
    for (const n of after) if (!before.has(n) && n !== this.self) this.joining.add(n)
    for (const n of before) {
      if (after.has(n)) continue
      this.joining.delete(n)
      this.left.delete(n)
      this.standby.delete(n)
    }
    const me = next.nodes.find((n) => n.name === this.self)
    this.isolationAddresses = me?.isolationTestAddresses ?? []
    this.commitQuorum(prev, next)
    const longer = Math.max(deadOf(prev), deadOf(next))
    this.retime(deadOf(next), deadOf(next), longer)
    clearTimeout(this.holdTimer)
    // Every member is prepared before any commits, and commits follow within seconds: after a few of the
    // longer dead times no peer holds a grant of the transitional timing any more.
    this.holdTimer = setTimeout(
      () => {
        if (this.prepared) return // the next change sets its own
        this.retime(deadOf(this.cfg), deadOf(this.cfg), deadOf(this.cfg))
      },
      3 * longer + 10_000,
    )
    this.holdTimer.unref()
    this.o.log.log('info', `hb.json generation ${next.generation} in force`, {
      timing: next.timing,
      nodes: [...after],
      links: next.links.map((l) => l.name),
    })
    this.schedule()
  }

  /** The quorum client prepared for this change takes over; the one it replaces is stopped. */
  private commitQuorum(prev: HbConfig, next: HbConfig): void {
    const cand = this.nextQuorum
    this.nextQuorum = null
    if (!cand) {
      // Unchanged (prepareQuorum found the same client), or not prepared here (not through hb-sync.ts, which
      // prepares every change): the client in force stays unless the change removed the server.
      if (!next.quorum?.server && this.quorum) {
        void this.quorum.stop()
        this.quorum = undefined
        this.quorumKey = ''
      } else if (next.quorum?.server && JSON.stringify(prev.quorum?.server) !== JSON.stringify(next.quorum.server))
        this.o.log.log('error', 'the new quorum server settings were not prepared here: the quorum client in force stays until a restart')
      return
    }
    if (cand.key === this.quorumKey) {
      void cand.client?.stop()
      return
    }
    const old = this.quorum
    this.quorum = cand.client
    this.quorumKey = cand.key
    void old?.stop()
    const qs = next.quorum?.server
    this.o.log.log(
      'info',
      qs
        ? `quorum server is now ${qs.host}:${qs.port ?? QUORUM_PORT} (vote ${cand.client?.vote() ?? 'none'})`
        : `no quorum server any more${next.quorum?.twoNode ? ': two-node mode breaks a tie' : ''}`,
      { host: qs?.host, port: qs?.port },
    )
  }

  /** Times that follow the dead time: the view's lease (90 % of `leaseDead`) and hold, the readmission
   *  hold, the edge grace, the limbo log. */
  private retime(dead: number, leaseDead: number, holdDead: number): void {
    this.dead = dead
    this.limboMs = this.o.limboMs ?? 3 * dead
    this.view.setTimes(0.9 * leaseDead, holdDead)
    this.readmit.retime({ baseMs: 2 * dead, maxMs: 4 * dead, forgetMs: 20_000, quickMs: dead })
    this.edgeGrace.setGrace(dead, 4 * dead)
  }

  /** A peer's announcement, read with our node list or, during a live change, with the other one. */
  private decodeVc(vc: unknown, node: string): Announce {
    const h = (vc as { h?: unknown } | null)?.h
    const other = h !== this.codec.digest ? this.decoders.find((c) => c.digest === h) : undefined
    // A view naming a node this list lacks is read as it is: it is not ours, so nothing is installed with it.
    return (other ?? this.codec).decode(vc, node)
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
    this.o.log.log(
      'info',
      `this node announces ${mode === 'leaving' ? 'its leave' : mode === 'standby' ? 'standby' : 'it is active again'}`,
      { mode },
    )
    if (mode === 'leaving') {
      this.view.leave() // joins nothing more: its peers install views without it at once
      clearTimeout(this.limboTimer)
      if (this.role === 'coordinator') this.o.host.resign()
      this.role = 'leaving'
    }
    this.schedule()
  }
  nodeMode(): NodeMode {
    return this.mode
  }
  /** Whether the node announced its leave (and has not been heard since without it). */
  hasLeft(node: string): boolean {
    return this.left.has(node)
  }
  /** Whether the node is in standby (this node included). */
  inStandby(node: string): boolean {
    return node === this.self ? this.mode === 'standby' : this.standby.has(node)
  }
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
        if (!this.left.has(n))
          this.o.log.log('info', `node ${n} announced its leave: it runs nothing and leaves the membership without a fence`, { node: n })
        this.left.add(n)
        if (this.standby.has(n)) standby.add(n) // it comes back in standby
        continue
      }
      if (this.left.delete(n)) {
        // A planned leave and a restart are not a flapping link: the node counts at once, as at cluster start.
        this.readmit.forget(n)
        this.o.log.log('info', `node ${n} is back (it had left the cluster)`, { node: n })
      }
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
    this.recompute = setImmediate(() => {
      this.recompute = null
      this.decide()
    })
  }

  private decide(): void {
    const st = this.hb.status()
    const heard = st.peers.filter((p) => p.up).map((p) => p.node)
    const views = Object.fromEntries(st.peers.filter((p) => p.up && p.view).map((p) => [p.node, p.view!]))
    // A peer that announced its leave is out of the membership at once (and out of the `up` we show).
    const present = this.notePeerModes(heard, views)
    this.noteSelfFences(views)
    for (const n of present) if (this.joining.delete(n)) this.o.log.log('info', `node ${n} joined the cluster`, { node: n })
    // A peer with a new incarnation restarted (a crash and its restart, a fenced node that booted): that is
    // not a flapping link, so it counts at once, as at cluster start (random-fault seed 7: a fenced node's
    // return was held 1.2 s while the survivor, alone, had no quorum without it).
    for (const p of st.peers) {
      if (p.incarnation === null) continue
      const was = this.incarnations.get(p.node)
      if (was !== undefined && was !== p.incarnation) {
        this.readmit.forget(p.node)
        this.restartedAt.set(p.node, monoMs())
      }
      this.incarnations.set(p.node, p.incarnation)
    }
    if (present.length === this.cfg.nodes.length - 1) this.seenAll = true
    const now = monoMs()
    const facts = this.facts(st, now)
    // A peer lost in this run counts (and is shown up) again only after its readmission hold, unless it was
    // a member of the view installed here until a moment ago and is back at once (a pause: readmission.ts).
    const until = this.view.installedUntil(facts)
    const joined = this.view.joinedView()
    const inView = new Set(joined && until !== null && now - until <= this.dead ? joined.members : [])
    const up = this.readmitted(present, now, inView)
    const held = this.readmit
      .held()
      .map((h) => h.node)
      .filter((n) => present.includes(n))
    // An edge between members of the installed view that a peer stops reporting is missing only after a grace,
    // longer when the peer says it hears the other end and only holds it out (edge-grace.ts).
    const pending = this.pendingEdges(views)
    const keep = graceKeep(this.incumbent, pending)
    const graced = keep.length ? this.edgeGrace.apply(now, views, keep, pending) : views
    this.wakeForGrace(now)
    let m = computeMembership({
      self: this.self,
      nodes: this.cfg.nodes,
      up,
      views: graced,
      quorumServerVote: (p) => this.tieVote(p),
      prefer: this.incumbent,
      received: this.receivedLevels(st, views),
    })
    let isolated = false
    if (this.isolationAddresses.length && m.partition.length < this.cfg.nodes.length) {
      // A peer is missing: before acting on it, make sure the fault is not on our side.
      const v = this.isolationVerdict()
      if (v === 'pending' && this.settled) return
      if (v === 'isolated') {
        isolated = true
        m = {
          ...m,
          quorate: false,
          coordinator: null,
          reason: 'isolated: none of the isolation test addresses answers',
          said: { id: 'said.q.isolated' },
        }
      }
    }
    const reported = this.desired?.partition.join(',')
    this.desired = m
    // The quorum server's grant holds for the partition it was given to: ask for the new one at once.
    if (reported !== undefined && reported !== m.partition.join(',')) {
      this.quorum?.reportNow()
      this.nextQuorum?.client?.reportNow() // a prepared one must vote on the partition it will be asked about
    }
    // The view change: propose what we want (an isolated node wants no one), join it when allowed.
    const ann = this.view.step(
      now,
      { members: isolated ? [this.self] : m.partition, ready: this.settled && this.mode !== 'leaving' },
      facts,
      st.payloadVc === this.vcJson,
    )
    const inst = this.view.installed(now, facts)
    if (inst) this.incumbent = inst.view.members
    if (inst?.quorate) this.wasMember = true
    this.membership = this.effective(inst, m)
    this.membershipKey = inst ? viewKey(inst.view) : ''
    this.announce(ann, up, held)
    // Until the heartbeat sends what we announce now, the grants it sends are not final: look again soon.
    this.wakeForView(now, facts, st.payloadVc === this.vcJson)
    const waiting = this.view.waitingFor()
    if (waiting && waiting !== this.lastWaitLog) this.o.log.log('info', `view change waits: ${waiting}`)
    this.lastWaitLog = waiting ?? ''
    if (this.mode === 'leaving') return // a leaving node decides nothing more
    if (!this.settled) {
      // Every node heard and every node hearing every other: no need to wait longer. (Hearing them is not
      // enough: a peer that does not hear us yet is outside our partition and would be fenced at start.)
      // A peer that announced its leave runs nothing and is not waited for.
      const gone = [...this.left].filter((n) => !m.partition.includes(n)).length
      if (m.partition.length + gone === this.cfg.nodes.length) this.settle()
    }
    if (this.settled) this.o.host.viewsChanged(this.membership, views, this.role)
    const out = this.settled ? this.leftOutBy(facts, inst, now) : null
    if (out) {
      // The others installed a quorate view without us: they fence us, so what runs here goes offline now
      // (a node that resumed from a pause and is held out would otherwise wait in limbo with its resources
      // up; with a fence that spares the agent it then never cleaned them: safety-mirror lab).
      this.clearLimbo()
      this.loseQuorum(`left out of view ${out.epoch} by ${out.by}`, m)
      return
    }
    this.act(inst, m)
  }

  /** A quorate view without this node, installed by its members (left-out.ts). */
  private leftOutBy(facts: Record<string, PeerFacts>, inst: Installed | null, now: number): { by: string; epoch: number } | null {
    return leftOutBy({
      self: this.self,
      nodes: this.cfg.nodes,
      member: this.wasMember,
      facts,
      installedEpoch: inst?.view.epoch ?? null,
      now,
      deadMs: this.dead,
    })
  }

  private wakeForGrace(now: number): void {
    clearTimeout(this.graceTimer)
    const at = this.edgeGrace.nextAt(now)
    if (at === null) return
    this.graceTimer = setTimeout(() => this.schedule(), Math.max(1, at - now + 1))
    this.graceTimer.unref()
  }
  private graceTimer: NodeJS.Timeout | undefined

  private readmitted(present: string[], now: number, inView: ReadonlySet<string>): string[] {
    const up = this.readmit.filter(now, present, inView)
    clearTimeout(this.readmitTimer)
    const next = this.readmit.nextAt()
    if (next !== null) {
      this.readmitTimer = setTimeout(() => this.schedule(), Math.max(1, next - now + 1))
      this.readmitTimer.unref()
    }
    for (const h of this.readmit.held()) {
      if (!this.heldLogged.has(h.node)) {
        this.heldLogged.add(h.node)
        this.o.log.log(
          'info',
          `node ${h.node} is heard again after a loss: it counts once heard without a break for ${Math.round(h.at - now)} ms`,
          { node: h.node },
        )
      }
    }
    for (const n of this.heldLogged) if (up.includes(n) || !present.includes(n)) this.heldLogged.delete(n)
    return up
  }
  private readonly heldLogged = new Set<string>()
  /** This node has been a member of an installed quorate view since its start (the left-out rule applies). */
  private wasMember = false
  /** Members of the last view installed here: kept in a tie between equal partitions. */
  private incumbent: readonly string[] | undefined

  /** The membership this node acts on: the installed view, or (during a view change) none quorate. */
  private effective(inst: Installed | null, m: MembershipResult): MembershipResult {
    if (!inst)
      return {
        ...m,
        quorate: false,
        coordinator: null,
        reason: `view change in progress (${m.reason})`,
        said: { id: 'said.q.viewChange', params: { why: m.said ?? m.reason } },
      }
    const q = quorumOf(inst.view.members, this.cfg.nodes, this.tieVote(inst.view.members))
    const members = new Set(inst.view.members)
    const p = { votes: q.votes, total: q.totalVotes }
    const by = this.quorum ? 'quorum server' : 'two-node mode'
    const w: { reason: string; said: Said } = inst.quorate
      ? q.votes >= q.needed
        ? { reason: `majority: ${q.votes} of ${q.totalVotes} votes`, said: { id: 'said.q.majority', params: p } }
        : {
            reason: `tie (${q.votes} of ${q.totalVotes} votes) broken by the ${by}`,
            said: { id: this.quorum ? 'said.q.tieServer' : 'said.q.tieTwoNode', params: p },
          }
      : {
          reason: `minority: ${q.votes} of ${q.totalVotes} votes, ${q.needed} needed`,
          said: { id: 'said.q.minority', params: { ...p, needed: q.needed } },
        }
    const ready = !!inst.coordinator
    return {
      partition: [...inst.view.members],
      excluded: m.partition
        .concat(m.excluded)
        .filter((n) => !members.has(n))
        .sort(),
      ...q,
      quorate: inst.quorate,
      coordinator: inst.quorate ? inst.coordinator : null,
      reason: `${w.reason}; view ${inst.view.epoch}${ready ? '' : ', no member ready yet'}`,
      said: { id: ready ? 'said.q.inView' : 'said.q.inViewNotReady', params: { why: w.said, epoch: inst.view.epoch } },
    }
  }

  /** What the heartbeat tells of each peer, as the view change needs it (announcements validated here). */
  private facts(st: HeartbeatStatus, now: number): Record<string, PeerFacts> {
    const out: Record<string, PeerFacts> = {}
    for (const p of st.peers) {
      let ann: Announce | null = null
      const vc = p.view?.ext?.['vc']
      if (vc !== undefined) {
        try {
          ann = this.decodeVc(vc, p.node)
          this.refusedVc.delete(p.node)
        } catch (e) {
          const why = `${(e as MccsError).field ?? ''}: ${(e as Error).message}`
          if (this.refusedVc.get(p.node) !== why) {
            this.refusedVc.set(p.node, why)
            this.o.log.log('error', `view-change announcement of ${p.node} refused (no view is installed with it until it is valid)`, {
              node: p.node,
              field: (e as MccsError).field,
              error: (e as Error).message,
            })
          }
        }
      }
      const at = (age: number | null) => (age === null ? null : now - age)
      out[p.node] = { ann, annAt: ann ? at(p.ages.ann) : null, leaseAt: ann ? at(p.ages.lease) : null, grantAt: at(p.ages.grant) }
    }
    return out
  }

  /** Notes each peer's self-fence count (`ext.sf`); a rise is a member to probe again (selfFencedPeers). */
  private noteSelfFences(views: Record<string, HbView>): void {
    for (const [p, v] of Object.entries(views)) {
      const sf = v.ext?.['sf'] ?? 0
      if (typeof sf !== 'number' || !Number.isSafeInteger(sf) || sf < 0) {
        if (!this.refusedHeld.has(`sf:${p}`)) {
          this.refusedHeld.add(`sf:${p}`)
          this.o.log.log('error', `self-fence count of ${p} refused (ignored)`, {
            node: p,
            field: 'payload/ext/sf',
            error: 'must be a non-negative integer',
          })
        }
        continue
      }
      const was = this.peerSelfFences.get(p)
      this.peerSelfFences.set(p, sf)
      // A first sight, or a lower count (its agent restarted, which the view change handles), is no news.
      if (was !== undefined && sf > was) this.selfFencedPeers.add(p)
    }
  }
  private readonly incarnations = new Map<string, string>()
  /** node -> when a new incarnation of it was first heard (monoMs): its agent restarted. */
  private readonly restartedAt = new Map<string, number>()
  private selfFences = 0
  private readonly peerSelfFences = new Map<string, number>()
  /** Peers seen self-fencing since this node last acted as coordinator on them. */
  private readonly selfFencedPeers = new Set<string>()

  /** How well each node receives each other: ours from the heartbeat's counts (also what we announce as
   *  `ext.rq`), the peers' from their views (read only when their node list is ours, as `ext.hd`). */
  private receivedLevels(st: HeartbeatStatus, views: Record<string, HbView>): Record<string, Record<string, number>> {
    const own: Record<string, ReceivedLevel> = {}
    for (const p of st.peers) {
      const l = receivedLevel(p.received)
      if (l !== undefined) own[p.node] = l
    }
    this.ownReceived = own
    const out: Record<string, Record<string, number>> = { [this.self]: own }
    for (const [p, v] of Object.entries(views)) {
      const rq = v.ext?.['rq']
      if (rq === undefined || (v.ext?.['vc'] as { h?: unknown } | undefined)?.h !== this.codec.digest) continue
      try {
        out[p] = this.codec.decodeReceived(rq, p)
        this.refusedHeld.delete(`rq:${p}`)
      } catch (e) {
        if (!this.refusedHeld.has(`rq:${p}`)) {
          this.refusedHeld.add(`rq:${p}`)
          this.o.log.log('error', `received-levels field of ${p} refused (ignored)`, {
            node: p,
            field: (e as MccsError).field,
            error: (e as Error).message,
          })
        }
      }
    }
    return out
  }
  private ownReceived: Record<string, ReceivedLevel> = {}

  /** The edges "p>q" of peers p that hear q but hold it out for their readmission hold (`ext.hd`). */
  private pendingEdges(views: Record<string, HbView>): Set<string> {
    const out = new Set<string>()
    for (const [p, v] of Object.entries(views)) {
      const hd = v.ext?.['hd']
      // The mask indexes the sender's node list: read it only when that list is ours (a live hb.json change
      // may be half way).
      if (hd === undefined || (v.ext?.['vc'] as { h?: unknown } | undefined)?.h !== this.codec.digest) continue
      try {
        for (const q of this.codec.decodeHeld(hd, p)) if (q !== p) out.add(`${p}>${q}`)
        this.refusedHeld.delete(p)
      } catch (e) {
        if (!this.refusedHeld.has(p)) {
          this.refusedHeld.add(p)
          this.o.log.log('error', `held-peers field of ${p} refused (ignored)`, {
            node: p,
            field: (e as MccsError).field,
            error: (e as Error).message,
          })
        }
      }
    }
    return out
  }
  private readonly refusedHeld = new Set<string>()

  /** Our heartbeat view: whom we hear (and whom we hear but hold out), the installed view's coordinator and
   *  quorum, and the announcement. */
  private announce(ann: Announce, up: string[], held: string[]): void {
    const m = this.membership!
    const vc = this.codec.encode(ann)
    this.ann = ann
    this.vcJson = JSON.stringify(vc)
    const payload = heartbeatView({
      up,
      coordinator: m.coordinator,
      generation: this.generation,
      digest: this.digest ?? null,
      quorate: m.quorate,
      mode: this.mode,
      vc,
      hbGeneration: this.cfg.generation,
      held: held.length ? this.codec.encodeHeld(held) : null,
      received: this.codec.encodeReceived(this.ownReceived),
      selfFences: this.selfFences,
    })
    const json = JSON.stringify(payload)
    if (json === this.payloadJson) return
    this.payloadJson = json
    this.hb.setPayload(payload)
  }

  /** Decide again when a join refused for time may be allowed, or once the heartbeat sends our announcement. */
  private wakeForView(now: number, facts: Record<string, PeerFacts>, final: boolean): void {
    clearTimeout(this.viewTimer)
    const at = this.view.wakeAt(facts)
    let ms = at === null ? null : Math.max(1, at - now + 1)
    if (!final && this.view.joinedView() === null) ms = Math.min(ms ?? 20, 20)
    if (ms === null) return
    this.viewTimer = setTimeout(() => this.schedule(), ms)
    this.viewTimer.unref()
  }

  /** Takes the role the installed view gives this node. */
  private act(inst: Installed | null, m: MembershipResult): void {
    if (this.mode === 'leaving') return
    const h = this.o.host
    if (m.quorate) this.tieHoldSince = null
    else if (this.tieAwaitsServer(m)) return
    if (!m.quorate) {
      // Losing quorum is acted on at once (taking things offline is always safe).
      this.clearLimbo()
      if (this.settled) this.loseQuorum(`quorum lost (${m.reason})`, m)
      return
    }
    if (!inst?.quorate) {
      // A view change in progress: nothing is decided meanwhile (quorumFresh() is false, engine events wait
      // in order); what runs here runs on. If the others moved on without us they fence us; taking things
      // offline here would only add an outage when no one did. A change that lasts is logged.
      if (this.limboSince === null) {
        this.limboSince = Date.now()
        clearTimeout(this.limboTimer)
        this.limboTimer = setTimeout(() => {
          // Leases come back without an event: look at the view now, not at the last decision.
          const now = monoMs()
          const inst = this.view.acting(now, this.facts(this.hb.status(), now))
          if (this.limboSince === null || (inst && viewKey(inst.view) === this.actedKey)) {
            this.limboSince = null
            this.schedule()
            return
          }
          this.o.log.log(
            'warn',
            `no agreed view for ${this.limboMs} ms: this node decides nothing until its members acknowledge one (${this.view.waitingFor() ?? 'they do not all announce the same view'})`,
            { wanted: this.desired?.partition },
          )
        }, this.limboMs)
        this.limboTimer.unref()
      }
      return
    }
    this.clearLimbo()
    const key = viewKey(inst.view)
    if (key === this.actedKey && (this.role === 'coordinator' || this.role === 'follower')) {
      if (this.role === 'coordinator') this.probeSelfFenced(inst)
      return
    }
    this.actedKey = key
    const all = this.cfg.nodes.map((n) => n.name)
    const members = new Set(inst.view.members)
    const down = all.filter((n) => !members.has(n))
    const partition = [...inst.view.members]
    if (inst.coordinator === this.self) {
      if (this.role !== 'coordinator') {
        this.role = 'coordinator'
        this.lastUp = members
        this.selfFencedPeers.clear() // a new coordinator probes every node
        this.o.log.log('info', `this node is the coordinator (view ${inst.view.epoch})`, { partition, ready: inst.view.ready, down })
        h.becomeCoordinator(partition, down)
      } else if (!sameSet(members, this.lastUp)) {
        this.lastUp = members
        this.o.log.log('info', `view ${inst.view.epoch} installed`, { partition, down })
        h.membershipChanged(partition, down)
      }
      this.probeSelfFenced(inst)
      return
    }
    if (this.role === 'coordinator') h.resign()
    if (this.role !== 'follower')
      this.o.log.log(
        'info',
        inst.coordinator
          ? `following coordinator ${inst.coordinator} (view ${inst.view.epoch})`
          : `in view ${inst.view.epoch}; no member is ready to coordinate yet`,
        { partition, ready: inst.view.ready },
      )
    this.role = 'follower'
  }

  /** A member that self-fenced while we kept a view with the same members (random-fault seed 15: it went
   *  unprobed for 30 s while the engine believed its group ran there) is probed like a restarted agent. */
  private probeSelfFenced(inst: Installed): void {
    for (const n of [...this.selfFencedPeers]) {
      if (!inst.view.members.includes(n)) continue
      this.selfFencedPeers.delete(n)
      this.o.log.log('warn', `node ${n} took its resources offline (it lost quorum) and is back in view ${inst.view.epoch}: probing it`, {
        node: n,
      })
      this.o.host.memberSelfFenced(n)
    }
  }

  /**
   * A tie the quorum server breaks, for a partition whose answer is still coming (the standby died: this node
   * reports {self} and the server moves the vote once it has forgotten the dead peer, up to its timeout). What
   * runs here runs on meanwhile, as during a view change: nothing is decided (the view is not quorate), and any
   * other partition must be granted and fence this node before it starts anything. Taking the service offline
   * here was an outage caused by the loss of a node that ran nothing (quorum-standby-loss lab: 493 ms). Bounded
   * by the server's timeout; a denial that names another holder, or no answer, ends it at once.
   */
  private tieAwaitsServer(m: MembershipResult): boolean {
    const q = this.quorum
    const pending =
      !!q &&
      this.settled &&
      (this.role === 'coordinator' || this.role === 'follower') &&
      m.partition.includes(this.self) &&
      quorumOf(m.partition, this.cfg.nodes, 'granted').quorate &&
      q.pendingFor(m.partition)
    if (!pending) {
      this.tieHoldSince = null
      return false
    }
    const now = Date.now()
    if (this.tieHoldSince === null) {
      this.tieHoldSince = now
      this.o.log.log('warn', `partition [${m.partition.join(', ')}] waits for the quorum server's vote; what runs here runs on meanwhile`, {
        partition: m.partition,
      })
      clearTimeout(this.tieTimer)
      this.tieTimer = setTimeout(() => this.schedule(), q.transferBoundMs() + 10)
      this.tieTimer.unref()
    }
    return now - this.tieHoldSince <= q.transferBoundMs()
  }
  private tieHoldSince: number | null = null
  private tieTimer: NodeJS.Timeout | undefined

  private loseQuorum(why: string, m: MembershipResult): void {
    this.actedKey = ''
    if (this.role === 'inquorate') return
    const was = this.role
    this.role = 'inquorate'
    this.selfFences++ // told in our heartbeat (ext.sf): the coordinator probes us when we are back
    if (was === 'coordinator') this.o.host.resign()
    this.o.log.log('error', `${why}: taking local resources offline`, { partition: m.partition, votes: m.votes, needed: m.needed })
    void this.o.host.selfFence(why)
  }

  private clearLimbo(): void {
    this.limboSince = null
    clearTimeout(this.limboTimer)
  }
}

interface QuorumMaterial {
  ca: string
  key: string
}

/** The quorum server's CA and the cluster's quorum key hb.json names, read from the config folder (none
 *  without a server). `prefix` names the fields as the caller's input does. */
async function quorumMaterial(hb: HbConfig, configDir: string, prefix = '/quorum/server/'): Promise<QuorumMaterial | undefined> {
  const qs = hb.quorum?.server
  if (!qs) return undefined
  const read = (f: string, field: string) =>
    readFile(path.resolve(configDir, f), 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new MccsError('MCCS_ERR_HB_CONFIG', `cannot read ${f}: ${e.code ?? e.message}`, { field: prefix + field })
    })
  return { ca: await read(qs.caFile, 'caFile'), key: (await read(qs.keyFile, 'keyFile')).trim() }
}

/** What a quorum client is made of, as one string (compared, never shown: it holds the key). */
function quorumIdentity(qs: HbQuorum['server'] | undefined, m: QuorumMaterial | undefined): string {
  if (!qs || !m) return ''
  return JSON.stringify([qs.host, qs.port ?? QUORUM_PORT, qs.servername ?? '', m.ca, m.key])
}

const deadOf = (h: HbConfig): number => h.timing?.deadMs ?? 600

/** The timing both ends of a change can live with: the shorter interval, the longer dead time. */
export function transitional(a: HbConfig['timing'], b: HbConfig['timing']): HbConfig['timing'] {
  const ai = a?.intervalMs ?? 100
  const bi = b?.intervalMs ?? 100
  return { intervalMs: Math.min(ai, bi), deadMs: Math.max(a?.deadMs ?? 600, b?.deadMs ?? 600) }
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  if (a.size !== b.size) return false
  for (const x of a) if (!b.has(x)) return false
  return true
}
