// The agent of one node: plugin host + engine + executor + config store + control API, and in a cluster
// the role and the peer protocol. The engine decides (pure step), the executor carries out its plan
// through one runner per kind of action (fencing.ts, peer-rpc.ts, local-actions.ts), and monitor results
// come back as events. Every change of engine state goes through dispatch(), one event at a time.
import path from 'node:path'
import os from 'node:os'
import { EventEmitter } from 'node:events'
import type { Bootstrap } from '../config/bootstrap.js'
import { ConfigStore } from '../config/store.js'
import { configImport } from '../config/commands.js'
import type { TypeCatalog } from '../config/validate.js'
import {
  step,
  initialState,
  type EngineInput,
  monitorSchedule,
  type EngineEvent,
  type OperatorCommand,
  isOperatorCommand,
  type Action,
  type CommandOutcome,
  type Notice,
  type Plan,
  pendingActions,
  type EngineState,
  type TypeDefaults,
} from '../engine/index.js'
import { PluginHost } from '../plugins/host.js'
import { StateStore } from '../plugins/caps/state.js'
import { ProcManager } from '../plugins/caps/proc.js'
import { ConfigSync } from './config-sync.js'
import { HbSync, type HbChangeResult } from './hb-sync.js'
import { checkHbChange } from './hb-change.js'
import type { HbConfig } from '../config/hb-model.js'
import { PeerServices, fetchSupportBundle, type ServiceMessage } from './peer-services.js'
import {
  discoverHere,
  checkDiscoverRequest,
  checkDiscoverAnswer,
  WIZARD_HOOK_TIMEOUT_MS,
  type DiscoverRequest,
  type DiscoverAnswer,
} from './wizard-hooks.js'
import { importIntoCluster } from './config-import-cluster.js'
import { agentProviders } from '../plugins/caps/index.js'
import { MirrorManager, type MirrorSecret } from '../mirror/manager.js'
import { serveMirror, requestPeers, mirrorPeersOf, mirrorAttrsOf, mirrorResourcesOf, mountPointsOf } from '../mirror/peer.js'
import { Executor, type ActionOutcome } from '../executor/executor.js'
import { createLog, type Log } from '../log/logger.js'
import { OpLog } from '../log/oplog.js'
import { LogLevel, LOG_LEVEL_FILE } from './log-level.js'
import { AwsNode, serveAws, ASK_MS as AWS_ASK_MS, type AwsMessage } from './aws-node.js'
import { Timeline, TIMELINE_FILE } from '../log/timeline.js'
import { serveTimeline, gatherTimelines, type GatheredTimelines } from './timeline-peers.js'
import { serveOplog, gatherOplogs, type GatheredOplogs } from './oplog-peers.js'
import { MccsError } from '../errors.js'
import { readSavedState, restore, StateSaver } from './engine-state-file.js'
import { noticeText, type ParkReason } from './notice-text.js'
import { buildStatus, clusterStatus, markUnknown, type AgentStatus } from './status.js'
import { Role, type ClusterHost } from '../cluster/role.js'
import { clusterKeyPath, loadClusterKey } from '../cluster/cluster-key.js'
import { PeerRpc, type PeerMessage } from './peer-rpc.js'
import { AccountSync } from './account-sync.js'
import { LocalActions } from './local-actions.js'
import { Fencing } from './fencing.js'
import { QuorumGate } from './quorum-gate.js'
import { NodeModes, type MoveReport } from './node-mode.js'
import { AgentLicenses } from '../license/agent-licenses.js'
import type { LicenseView } from '../license/store.js'
import { IntentSync } from './intent-sync.js'
import { applyIntent, type OperatorIntent } from '../engine/index.js'
import { TEST_RANGE_ENV, advertisedRange } from './protocol-range.js'
import { formatRange } from '../cluster/protocol-version.js'

export interface AgentOptions {
  bootstrap: Bootstrap
  log?: Log
  /** Monitor loop tick (ms). */
  monitorTickMs?: number
}

export interface DispatchResult {
  plan: Plan
  outcome?: CommandOutcome
  /** The event waits for quorum to be confirmed (quorum-gate.ts); it is stepped later, in order. */
  held?: true
}

export interface CommandReply {
  outcome: CommandOutcome
  /** With wait: whether the target state was reached, and the status then. */
  reached?: boolean
  status?: AgentStatus
}

export class Agent extends EventEmitter {
  readonly node: string
  readonly log: Log
  readonly host: PluginHost
  readonly procs: ProcManager
  readonly pluginState: StateStore
  /** Mirror disks' data plane (issue 15); its replication key is the cluster key, known once start() loaded it. */
  readonly mirror: MirrorManager
  private mirrorSecret: MirrorSecret | null = null
  readonly store: ConfigStore
  readonly oplog: OpLog
  /** This node's log level, changed at run time and kept across restarts (log-level.ts). */
  readonly logLevel: LogLevel
  /** This node's AWS settings and profiles, for the console of any node (aws-node.ts). */
  readonly aws: AwsNode
  /** Inputs and decisions, on disk before a fence or an online starts (core/log/timeline.ts). */
  readonly timeline: Timeline
  private readonly executor: Executor
  private readonly local: LocalActions
  private readonly fencing: Fencing
  /** Engine events waiting while quorum is re-checked (cluster mode). */
  private readonly gate: QuorumGate<DispatchResult>
  /** This node's mode: graceful leave, standby. */
  private readonly modes: NodeModes
  private readonly saver: StateSaver
  /** The operator's intent, replicated to every node (issue 14, finding 8). */
  private readonly intents: IntentSync
  private state!: EngineState
  private input!: EngineInput
  private types: Record<string, Partial<TypeDefaults>> = {}
  private monitorDirty = true
  private tickTimer: NodeJS.Timeout | undefined
  private readonly startedAt = Date.now()
  private readonly recentNotices: Array<Notice & { at: string }> = []
  readonly catalog: TypeCatalog
  /** This node's license and every node's limited mode, an input of the engine (issue 17). */
  readonly licenses: AgentLicenses

  constructor(readonly opts: AgentOptions) {
    super()
    const b = opts.bootstrap
    this.node = b.nodeName
    this.log = opts.log ?? createLog({ file: path.join(b.logDir, 'mccs.log') })
    this.timeline = new Timeline(path.join(b.logDir, TIMELINE_FILE), this.node)
    this.procs = new ProcManager({ stateDir: path.join(b.stateDir, 'proc'), log: this.log.child({ component: 'proc' }) })
    this.pluginState = new StateStore(path.join(b.stateDir, 'plugin-state'), this.log)
    this.mirror = new MirrorManager({
      procs: this.procs,
      runBase: path.join(b.stateDir, 'mirror'),
      secret: () => this.mirrorSecret,
      // The engine's word that the other copy's node is fenced: this node's on the coordinator, its
      // coordinator's on a follower (the node that fenced it and ordered the online); false otherwise.
      peerFenced: (r) => this.mirrorPeerFenced(r),
      // The other copy's node over the peer channel: a primary that lost its replication link outdates it there first.
      peerRequest: (r, msg, ms) => requestPeers(this.rpc, mirrorPeersOf(this.input?.config, r, this.node), { ...msg, resource: r }, ms),
      resources: () => mirrorResourcesOf(this.input?.config),
      mountPoints: (r) => mountPointsOf(this.input?.config, r, this.node),
      attrsOf: (r) => mirrorAttrsOf(this.input?.config, r, this.node),
      log: (msg, data) => this.log.log('info', msg, { ...data, component: 'mirror' }),
    })
    this.host = new PluginHost({
      providers: agentProviders({ bootstrap: b, procs: this.procs, pluginState: this.pluginState, mirror: this.mirror }),
      logger: this.log,
      paths: { home: b.home, scripts: b.scriptDir },
      builtinDir: b.builtinPluginDir,
    })
    const catalog: TypeCatalog = (this.catalog = {
      has: (t) => this.host.get(t) !== undefined,
      attributeSchema: (t) => this.host.get(t)?.manifest.wizard,
    })
    this.store = new ConfigStore(b.configDir, { types: catalog, log: this.log })
    this.oplog = new OpLog(path.join(b.logDir, 'operation.log'))
    this.logLevel = new LogLevel({ file: path.join(b.stateDir, LOG_LEVEL_FILE), node: this.node, log: this.log, oplog: this.oplog })
    this.aws = new AwsNode({ node: this.node, settingsFile: path.join(b.configDir, 'aws.json'), log: this.log, oplog: this.oplog })
    this.licenses = new AgentLicenses({
      bootstrap: b,
      log: this.log,
      oplog: this.oplog,
      fetch: (n) => this.licenseOf(n) as Promise<LicenseView>,
      peers: () => (this.input?.nodes ?? []).filter((n) => n !== this.node && this.role?.inView(n)),
      changed: () => {
        if (!this.input) return
        this.input = { ...this.input, limited: this.licenses.limited(), limitedSaid: this.licenses.limitedSaid() }
        if (this.engineActive) this.dispatch({ type: 'licenseChange' })
      },
    })
    this.saver = new StateSaver(path.join(b.stateDir, 'engine.json'), this.log)
    this.intents = new IntentSync({ node: this.node, log: this.log, file: path.join(b.stateDir, 'intent.json') })
    this.executor = new Executor(
      (a, signal) => this.runAction(a, signal),
      (ev) => this.dispatch(ev),
    )
    this.gate = new QuorumGate<DispatchResult>({
      fresh: () => !this.role || this.role.quorumFresh(),
      step: (ev) => this.stepNow(ev),
      log: this.log,
    })
    this.local = new LocalActions({
      node: this.node,
      log: this.log,
      host: this.host,
      input: () => this.input,
      monitorTickMs: opts.monitorTickMs ?? 100,
      report: (ev) => {
        if (this.engineActive) this.dispatch(ev)
        else this.rpc?.sendMonitorResult(ev)
      },
      quorumFresh: () => !this.role || this.role.quorumFresh(),
      diverged: () => this.sync?.diverged ?? null,
    })
    this.fencing = new Fencing({
      node: this.node,
      log: this.log,
      host: this.host,
      hb: () => this.store.current().hb,
      nodes: () => this.input.nodes,
      runsResources: () => this.local.runsResources(),
      inView: (n) => this.role?.inView(n) ?? false,
      joinWaitMs: (n) => (this.role?.restartedAndHeard(n) ? this.role.joinWaitMs() : 0),
    })
    this.modes = new NodeModes({
      node: this.node,
      log: this.log,
      file: path.join(b.stateDir, 'node-mode.json'),
      local: this.local,
      role: () => this.role,
      status: () => this.statusAnywhere(),
      command: (cmd, o) => this.command(cmd, o),
      user: `${currentUser()} (mccs agent)`,
      inMaintenance: () => this.intents.current().intent?.nodes?.[this.node]?.maintenance === true,
      quiesce: async (until) => {
        while (this.engineActive && pendingActions(this.state).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
      },
    })
  }

  async start(): Promise<void> {
    const b = this.opts.bootstrap
    // The protocol versions to advertise: the build's. Checked before anything starts: the test hook's range
    // refuses to start a production agent, and a malformed one any agent.
    const { range: protocol, testHook } = advertisedRange(process.env, b.home)
    await this.logLevel.load() // first: what follows is logged at the level the operator chose
    for (const dir of b.pluginDirs) {
      const { loaded, errors } = await this.host.loadAll(dir)
      for (const e of errors) this.log.log('error', 'plugin refused', { error: e.message, code: e.code })
      for (const p of loaded) this.types[p.manifest.name] = p.manifest.defaults ?? {}
    }
    await this.store.load() // throws with every issue named; the caller reports and exits
    const reattached = await this.procs.reattach()
    if (reattached.length) this.log.log('info', 're-attached to running processes', { count: reattached.filter((p) => p.running).length })
    this.procs.on('exit', (ev: { resource: string; expected: boolean; name: string; code: number | null; signal: string | null }) => {
      if (ev.expected) return
      // An exit is an event, not something for the next poll: monitor the resource now.
      this.log.log('warn', 'managed process exited', { resource: ev.resource, process: ev.name, code: ev.code, signal: ev.signal })
      void this.local.monitor(ev.resource)
    })
    await this.licenses.start()
    this.input = this.engineInput()
    this.saved = await readSavedState(path.join(b.stateDir, 'engine.json'), this.log)
    await this.intents.load()
    this.state = withIntent(restore(initialState(this.input), this.saved), this.intents.startIntent())
    const mode = await this.modes.load()
    const hb = this.store.current().hb
    if (hb.nodes.length > 1) {
      // A cluster: the engine runs on the coordinator only, once membership has settled.
      this.engineActive = false
      const key = await loadClusterKey(clusterKeyPath(b.configDir))
      this.mirrorSecret = { cluster: hb.cluster, key }
      if (testHook)
        this.log.log('warn', `TEST ONLY: advertising protocol versions ${formatRange(protocol)} (${TEST_RANGE_ENV})`, { protocol })
      const role = await Role.create({
        hb,
        self: this.node,
        key,
        configDir: b.configDir,
        hbStateFile: path.join(b.stateDir, 'heartbeat.json'),
        log: this.log,
        host: this.roleEvents(),
        protocol,
      })
      const rpc = new PeerRpc({ hb, role, key, log: this.log, protocol })
      this.role = role
      this.rpc = rpc
      this.sync = new ConfigSync({ node: this.node, log: this.log, store: this.store, role, rpc, changed: () => this.configChanged() })
      this.accountSync = new AccountSync({ node: this.node, log: this.log, role, rpc })
      this.hbSync = new HbSync({
        node: this.node,
        log: this.log,
        oplog: this.oplog,
        store: this.store,
        role,
        rpc,
        removable: (n, op) => this.removable(n, op),
        changed: (prev, next) => this.hbChanged(prev, next),
      })
      // Each owner answers its own kinds of peer message.
      this.local.serve(rpc)
      this.sync.serve()
      this.accountSync.serve()
      this.hbSync.serve()
      this.intents.serve(rpc)
      new PeerServices(b, () => this.statusAnywhere(), this.licenses.watch).serve(rpc)
      this.serve(rpc)
      serveMirror(rpc, this.mirror)
      serveTimeline(rpc, this.timeline)
      serveOplog(rpc, this.node, this.oplog)
      serveAws(rpc, this.aws)
      this.sync.announce() // generation and digest shown to peers in our heartbeat view
      if (mode === 'standby') role.setMode('standby') // said in our first heartbeats
      await rpc.start() // listening before our heartbeat says we are here
      await role.start()
    } else {
      this.dispatch({ type: 'start', node: this.node })
      this.syncParked()
    }
    this.local.startMonitors()
    this.tickTimer = setInterval(() => this.dispatch({ type: 'tick' }), 1000)
    this.tickTimer.unref()
    this.log.log('info', 'agent started', {
      node: this.node,
      cluster: this.store.current().hb.cluster,
      generation: this.input.config.generation,
    })
  }

  async stop(): Promise<void> {
    this.role?.stop()
    this.accountSync?.stop()
    await this.licenses.stop() // a floating seat goes back to the server
    await this.rpc?.stop()
    this.local.stopMonitors()
    clearInterval(this.tickTimer)
    await this.saver.flush()
    this.mirror.close() // the mirror daemons keep running too
    this.procs.close() // services keep running: an agent restart or upgrade must not stop them
    this.host.dispose()
    // isolated-vm can crash the process if it exits while a disposed isolate still runs (a huge stringify).
    await this.host.whenGone(3000)
    await this.timeline.close()
    await this.oplog.close() // an open handle left to the garbage collector is closed at a random time
    this.log.log('info', 'agent stopped', { node: this.node })
    this.log.flush()
  }

  engineState(): EngineState {
    return this.state
  }

  status(): AgentStatus {
    const cur = this.store.current()
    const st = buildStatus(this.node, cur.main, cur.hb, this.state, this.host, this.startedAt, this.recentNotices)
    if (this.role) st.membership = this.membershipHere(this.role)
    for (const n of st.nodes) {
      const why = this.parkReason(n.name)
      if (why && (n.membership === 'fenced' || why === 'standby')) n.membership = why
      if (this.state.nodes[n.name]?.maintenance) n.membership = why === 'left' ? 'maintenance (left)' : 'maintenance'
    }
    st.logs = this.logsHere()
    st.licenses = this.licenses.all()
    // The engine's state is the cluster's only on the coordinator, and only while its view is current; on
    // any other node it is what was last known here (a resigned or self-fenced coordinator's, or none).
    const m = st.membership
    if (this.role && m && (m.stale || !this.engineActive))
      markUnknown(
        st,
        m.stale ? 'the view this node last decided on no longer holds; it decides again' : `this node is not the coordinator (${m.role})`,
      )
    return st
  }

  private logsHere(): NonNullable<AgentStatus['logs']> {
    return { agent: this.log.health(), operations: this.oplog.health() }
  }

  private membershipHere(r: Role): NonNullable<AgentStatus['membership']> {
    return { ...clusterStatus(r, this.rpc?.peers.protocols()), configDiverged: this.sync?.diverged ?? null }
  }

  /** Whether every node holding another copy of mirror `resource` is fenced in the engine's state. The
   *  engine runs on the coordinator only: a follower asks it (2 s; no answer is a no). */
  private async mirrorPeerFenced(resource: string): Promise<boolean> {
    const peers = mirrorPeersOf(this.input?.config, resource, this.node)
    if (peers.length === 0) return false
    let fenced: unknown
    if (this.engineActive) fenced = this.fencedNodes()
    else if (this.rpc) fenced = await this.rpc.forward<string[]>({ t: 'fencedNodes' }, 2000).catch(() => [])
    return Array.isArray(fenced) && peers.every((p) => fenced.includes(p))
  }

  private fencedNodes(): string[] {
    return Object.entries(this.state?.nodes ?? {})
      .filter(([, s]) => s.membership === 'fenced')
      .map(([n]) => n)
  }

  /** What `mccs status` shows on any node: a follower asks the coordinator for the cluster's state. */
  async statusAnywhere(): Promise<AgentStatus> {
    if (!this.role || !this.rpc || this.engineActive) return this.status()
    try {
      const st = await this.rpc.forward<AgentStatus>({ t: 'status' }, 5000)
      return { ...st, node: this.node, membership: this.membershipHere(this.role), logs: this.logsHere() }
    } catch {
      return this.status() // no coordinator: show what this node knows, with its cluster view
    }
  }

  /** One event through the engine; its plan goes to the executor. In a cluster, an event that arrives
   *  while quorum is re-checked waits in order and is stepped once quorum is confirmed (quorum-gate.ts):
   *  the plan returned is then empty, and `held` is set. */
  dispatch(ev: EngineEvent): DispatchResult {
    if (!this.engineActive) {
      // Not the coordinator (or no quorum): this node decides nothing.
      return {
        plan: { actions: [], notices: [] },
        ...(isOperatorCommand(ev)
          ? {
              outcome: {
                status: 'rejected' as const,
                code: 'MCCS_ERR_NOT_COORDINATOR' as const,
                reason: 'this node is not the coordinator',
              },
            }
          : {}),
      }
    }
    if (!this.role) return this.stepNow(ev)
    return this.gate.submit(ev) ?? { plan: { actions: [], notices: [] }, held: true }
  }

  /** dispatch() for a caller that needs the step's outcome (an operator command): waits while the event
   *  is held, and is answered "no quorum" if quorum is lost meanwhile. */
  private dispatchSettled(ev: EngineEvent): Promise<DispatchResult> {
    if (!this.engineActive || !this.role) return Promise.resolve(this.dispatch(ev))
    return new Promise((resolve) => {
      this.gate.submit(ev, (r) =>
        resolve(
          r ?? {
            plan: { actions: [], notices: [] },
            ...(isOperatorCommand(ev)
              ? {
                  outcome: {
                    status: 'rejected' as const,
                    code: 'MCCS_ERR_NO_QUORUM' as const,
                    reason: 'quorum was lost while the command waited for it to be confirmed',
                  },
                }
              : {}),
          },
        ),
      )
    })
  }

  private stepNow(ev: EngineEvent): DispatchResult {
    if (!this.engineActive) return this.dispatch(ev) // resigned while it waited
    const r = step(this.input, this.state, ev, Date.now())
    this.state = r.state
    // Monitor results and ticks that plan nothing change nothing the monitor loop or the disk cares about.
    const quiet = (ev.type === 'monitorResult' || ev.type === 'tick') && !r.plan.actions.length && !r.plan.notices.length
    if (!quiet) this.monitorDirty = true
    for (const n of r.plan.notices) this.notice(n, ev)
    this.timeline.step(ev, r) // before any action of the plan starts
    this.executor.submit(r.plan)
    // Only locks, faults and flags must survive a restart; they change only with a plan or a command.
    if (!quiet) this.saver.schedule(this.state)
    // The operator's intent goes to every member when it changed (a command is answered once it is there).
    if (!quiet) this.intents.track(this.state, this.rpc, () => this.role?.partitionPeers() ?? [])
    if (this.monitorDirty) this.syncMonitors()
    this.emit('step', ev, r)
    return { plan: r.plan, ...(r.outcome ? { outcome: r.outcome } : {}) }
  }

  /** An operator command (CLI, API, console): logged in the operation log, persisted before the reply. */
  async command(cmd: OperatorCommand, o: { wait?: boolean; timeoutMs?: number; via?: string } = {}): Promise<CommandReply> {
    if (this.rpc && !this.engineActive) {
      // The coordinator decides (and logs the command in its operation log).
      return this.rpc.forward<CommandReply>(
        { t: 'command', cmd, wait: o.wait === true, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) },
        (o.timeoutMs ?? 600_000) + 10_000,
      )
    }
    const deadline = Date.now() + (o.timeoutMs ?? 600_000)
    let waiter = o.wait ? this.waitFor(cmd, o.timeoutMs ?? 600_000) : undefined
    const accepted: CommandOutcome = { status: 'accepted' }
    let outcome = (await this.dispatchSettled(cmd)).outcome ?? accepted
    // With --wait the operator asked for the end state, not for a race with the actions a fault or a join
    // just started: a command refused only because its group is busy is sent again once the group is idle.
    while (o.wait && outcome.status === 'rejected' && outcome.code === 'MCCS_ERR_GROUP_BUSY' && Date.now() < deadline) {
      waiter?.cancel()
      if (!(await this.groupIdle(cmd, deadline - Date.now()))) break
      waiter = this.waitFor(cmd, Math.max(1, deadline - Date.now()))
      outcome = (await this.dispatchSettled(cmd)).outcome ?? accepted
    }
    await this.saver.flush()
    await this.intents.settled() // on every member before the answer: no coordinator change undoes it
    if (cmd.type === 'nodeMaintenance') this.syncParked() // a node that left in maintenance is lost once it ends
    const target = 'group' in cmd ? cmd.group : 'resource' in cmd ? cmd.resource : cmd.type === 'nodeMaintenance' ? cmd.node : undefined
    const { type: _t, user, ...args } = cmd as OperatorCommand & Record<string, unknown>
    await this.oplog.append({
      user,
      node: this.node,
      command: cmd.type,
      ...(o.via && o.via !== this.node ? { via: o.via } : {}),
      ...(target ? { target } : {}),
      args,
      result: outcome.status,
      ...(outcome.status === 'rejected'
        ? { code: outcome.code, reason: outcome.reason, ...(outcome.said ? { said: outcome.said } : {}) }
        : {}),
    })
    this.log.log(outcome.status === 'accepted' ? 'info' : 'warn', `operator command ${cmd.type} ${outcome.status}`, {
      user,
      target,
      ...(outcome.status === 'rejected' ? { reason: outcome.reason } : {}),
    })
    if (outcome.status === 'rejected' || !waiter) {
      waiter?.cancel()
      return { outcome }
    }
    const reached = await waiter.done
    return { outcome, reached, status: this.status() }
  }

  /** The group a command acts on (a resource command: the resource's group). */
  private groupOf(cmd: OperatorCommand): string | undefined {
    if ('group' in cmd) return cmd.group
    if ('resource' in cmd) return this.store.current().main.resources.find((x) => x.name === cmd.resource)?.group
    return undefined
  }

  /** Resolves true once the command's group has no action in progress; false at the timeout, or when this
   *  node stops deciding (the command is then answered with its refusal). */
  private groupIdle(cmd: OperatorCommand, timeoutMs: number): Promise<boolean> {
    const name = this.groupOf(cmd)
    const idle = () => {
      const g = name ? this.state.groups[name] : undefined
      return !g || Object.keys(g.pending).length === 0 ? true : null
    }
    // Idle already (a step between the refusal and now): no further step may come to say so.
    return idle() ? Promise.resolve(true) : this.untilStep(idle, timeoutMs).done
  }

  /** Resolves true once `group` has no probe in progress here (at once when it has none); false at the timeout
   *  or when this node stops deciding. Probes only: a short monitor interval keeps monitors in flight. */
  whenProbed(group: string, timeoutMs: number): Promise<boolean> {
    const done = () => (Object.values(this.state.groups[group]?.pending ?? {}).some((a) => a.kind === 'probe') ? null : true)
    return done() ? Promise.resolve(true) : this.untilStep(done, timeoutMs).done
  }

  /** Waits until the command's target state holds (or a fault shows it cannot). */
  private waitFor(cmd: OperatorCommand, timeoutMs: number): { done: Promise<boolean>; cancel(): void } {
    const check = (): boolean | null => {
      const gname = this.groupOf(cmd)
      const g = gname ? this.state.groups[gname] : undefined
      const busy = g ? Object.keys(g.pending).length > 0 : pendingActions(this.state).length > 0
      if (busy) return null
      if (!g) return true
      const states = Object.values(g.nodes)
      switch (cmd.type) {
        case 'groupOnline':
        case 'groupSwitch':
        case 'resourceOnline':
          return states.includes('online') ? true : states.includes('faulted') || states.includes('partial') ? false : null
        case 'groupOffline':
          return states.every((s) => s === 'offline') ? true : states.includes('faulted') ? false : null
        case 'resourceOffline': {
          const r = g.resources[(cmd as { resource: string }).resource] ?? {}
          return Object.values(r).every((s) => s.state === 'offline') ? true : null
        }
        default:
          return true
      }
    }
    // Judged after every step, starting with the command's own (the listener is added before it).
    return this.untilStep(check, timeoutMs)
  }

  /** Resolves with `check()`'s first non-null verdict, judged after every engine step; false at the timeout,
   *  or when this node stops deciding (no further step will tell). */
  private untilStep(check: () => boolean | null, timeoutMs: number): { done: Promise<boolean>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined
    let onStep: (() => void) | undefined
    let onResign: (() => void) | undefined
    const stop = () => {
      clearTimeout(timer)
      if (onStep) this.off('step', onStep)
      if (onResign) this.off('resigned', onResign)
    }
    const done = new Promise<boolean>((resolve) => {
      const finish = (v: boolean) => {
        stop()
        resolve(v)
      }
      onStep = () => {
        const v = check()
        if (v !== null) finish(v)
      }
      this.on('step', onStep)
      onResign = () => finish(false)
      this.on('resigned', onResign)
      timer = setTimeout(() => finish(false), timeoutMs)
      timer.unref() // a waiter never keeps a stopping agent alive
    })
    return { done, cancel: stop }
  }

  /** Replaces the configuration through the store (validated, atomic, generation checked). */
  async applyConfig(next: Parameters<ConfigStore['commit']>[0], expectGeneration: number): Promise<void> {
    if (this.sync) {
      await this.sync.commit(next, expectGeneration) // through the coordinator, replicated; configChanged() follows
      return
    }
    await this.store.commit(next, { expectGeneration })
    this.configChanged()
  }

  /** Another node's support bundle (the console's "all nodes"), over the peer channel. */
  supportBundleOf(node: string): Promise<Buffer> {
    const c = this.rpc
    if (!c) return Promise.reject(new MccsError('MCCS_ERR_NOT_FOUND', `no cluster: ${node} is not reachable from here`, { subject: node }))
    return fetchSupportBundle((msg, timeoutMs) => c.request(node, msg, timeoutMs))
  }

  /** This node's timeline and every reachable member's (mccs explain merges them). */
  timelines(since: unknown): Promise<GatheredTimelines> {
    return gatherTimelines(
      this.rpc,
      this.store.current().hb.nodes.map((n) => n.name),
      this.node,
      this.timeline,
      since,
    )
  }

  /** The newest operation log records of this node and every reachable member (the console's log dialog). */
  oplogs(limit: unknown): Promise<GatheredOplogs> {
    return gatherOplogs(
      this.rpc,
      this.store.current().hb.nodes.map((n) => n.name),
      this.node,
      this.oplog,
      limit,
    )
  }

  /** Another node's license, viewed or installed over the peer channel. */
  licenseOf(node: string, install?: string): Promise<unknown> {
    const c = this.rpc
    if (!c) return Promise.reject(new MccsError('MCCS_ERR_NOT_FOUND', `no cluster: ${node} is not reachable from here`, { subject: node }))
    return c.request(
      node,
      install === undefined
        ? ({ t: 'licenseView' } satisfies ServiceMessage)
        : ({ t: 'licenseInstall', text: install } satisfies ServiceMessage),
      15_000,
    )
  }

  /** A node's AWS settings: viewed, changed, a profile added or checked against EC2, here or over the peer channel. */
  awsOn(node: string, msg: AwsMessage): Promise<unknown> {
    if (node === this.node) return this.aws.handle(msg)
    const c = this.rpc
    if (!c) return Promise.reject(new MccsError('MCCS_ERR_NOT_FOUND', `no cluster: ${node} is not reachable from here`, { subject: node }))
    return c.request(node, msg, AWS_ASK_MS)
  }

  /** The wizard's discover hook run on another node (its adapters, its ENIs), over the peer channel. */
  async discoverOn(node: string, req: DiscoverRequest): Promise<DiscoverAnswer> {
    const c = this.rpc
    if (!c) throw new MccsError('MCCS_ERR_NOT_FOUND', `no cluster: ${node} is not reachable from here`, { subject: node })
    return checkDiscoverAnswer(
      await c.request(node, { t: 'discover', ...req } satisfies ServiceMessage, WIZARD_HOOK_TIMEOUT_MS + 5000),
      node,
    )
  }

  /** `mccs config reconcile`: a diverged node takes the coordinator's configuration. */
  async reconcileConfig(): Promise<{ generation: number; from: string }> {
    if (!this.sync)
      throw new MccsError('MCCS_ERR_CONFLICT', 'this node is not part of a cluster: there is nothing to reconcile with', {
        subject: this.node,
      })
    return this.sync.reconcile()
  }

  /** `mccs hb ...`, the console's heartbeat dialog: a live hb.json change through the coordinator (hb-sync.ts). */
  async hbChange(change: unknown, o: { user: string; expectGeneration?: unknown }): Promise<HbChangeResult> {
    if (this.hbSync) return this.hbSync.change(change, o) // checks, runs and records it
    const args = change && typeof change === 'object' && !Array.isArray(change) ? (change as Record<string, unknown>) : {}
    let e: MccsError
    try {
      checkHbChange(change) // the change's own fields first, wherever it is given
      e = new MccsError('MCCS_ERR_CONFLICT', 'this node is not part of a cluster: change hb.json and restart the agent', {
        subject: this.node,
      })
    } catch (err) {
      e = err as MccsError
    }
    await this.oplog
      .append({
        user: o.user,
        node: this.node,
        command: `hb.${typeof args.op === 'string' ? args.op : 'change'}`,
        target: 'hb.json',
        args,
        result: 'rejected',
        code: e.code,
        reason: e.reason,
      })
      .catch(() => {})
    throw e
  }

  /** Why the engine here would lose track of `node` if it were removed now, or null. */
  private removable(node: string, op?: 'removeNode' | 'renameNode'): string | null {
    if (!this.engineActive) return null
    if (this.state.nodes[node]?.needsFence) return 'it was lost and is not fenced yet'
    // Out of the view but not yet out of the engine's (its loss is still on its way there): a fence may
    // still be due, and the node would leave the engine's list before it is asked for.
    if (this.state.nodes[node]?.membership === 'up' && !this.role?.inView(node) && !this.role?.hasLeft(node))
      return 'its loss is still being handled (a fence may be due): try again in a few seconds'
    // The operator put it in maintenance under its name: ending that is the operator's word, not a rename's.
    if (op === 'renameNode' && this.state.nodes[node]?.maintenance)
      return `it is in maintenance (end it first: mccs node unmaintenance ${node})`
    const on = Object.entries(this.state.groups).filter(([, g]) => g.activeNode === node)
    if (on.length) return `group ${on.map(([g]) => g).join(', ')} is active there`
    return null
  }

  /** A new hb.json is in force here (live change): the peer channel, the engine's nodes and fencing follow
   *  (fencing reads the store at each fence). A node added is parked until it joins (parkReason). */
  private async hbChanged(prev: HbConfig, next: HbConfig): Promise<void> {
    await this.rpc?.reconfigure(next)
    this.sync?.announce() // a rename changes main.json with hb.json: peers see its new generation
    const gone = prev.nodes.filter((n) => !next.nodes.some((x) => x.name === n.name)).map((n) => n.name)
    for (const n of gone) {
      this.parked.delete(n)
      this.parkSent.delete(n)
      this.leftInMaintenance.delete(n)
      this.pushed.delete(n)
    }
    // The engine's node list and the parking of an added node in one go: it is parked (runs nothing, no
    // fence) in the same step that first lists it, never "down".
    this.input = this.engineInput()
    this.syncParked()
    this.configChanged()
  }

  private configChanged(): void {
    this.input = this.engineInput()
    this.monitorDirty = true
    if (this.engineActive) this.dispatch({ type: 'tick' })
  }

  /** `mccs config import` while the agent runs: validated and committed through the store. */
  async importConfig(file: string): Promise<{ ok: boolean; text: string; issues: unknown[] }> {
    if (this.sync) return importIntoCluster(file, this.store, (main, gen) => this.applyConfig(main, gen))
    const r = await configImport(this.store, file, { types: this.catalog })
    if (r.ok) {
      this.input = this.engineInput()
      this.dispatch({ type: 'tick' })
    }
    return { ok: r.ok, text: r.text, issues: r.issues }
  }

  private engineInput(): EngineInput {
    const cur = this.store.current()
    return {
      config: cur.main as EngineInput['config'],
      types: this.types,
      nodes: cur.hb.nodes.map((n) => n.name),
      limited: this.licenses.limited(),
      limitedSaid: this.licenses.limitedSaid(),
    }
  }

  private notice(raw: Notice, ev: EngineEvent): void {
    const n = noticeText(raw, ev, this.parked)
    const level = /Faulted|Failed|Violation|needsFence|noFailover/.test(n.kind)
      ? 'error'
      : n.kind === 'commandRejected' || n.kind.startsWith('monitor')
        ? 'warn'
        : 'info'
    this.log.log(level, n.reason, { notice: n.kind, group: n.group, resource: n.resource, node: n.node })
    this.recentNotices.push({ ...n, at: new Date().toISOString() })
    if (this.recentNotices.length > 200) this.recentNotices.shift()
  }

  private syncMonitors(): void {
    this.monitorDirty = false
    if (this.rpc) {
      for (const n of this.input.nodes) {
        if (n === this.node || this.state.nodes[n]?.membership !== 'up') continue
        const entries = monitorSchedule(this.input.config, this.types, this.state, n)
        const key = JSON.stringify(entries)
        if (this.pushed.get(n) === key) continue
        this.pushed.set(n, key)
        this.rpc.pushSchedule(n, entries)
      }
    }
    this.local.applySchedule(monitorSchedule(this.input.config, this.types, this.state, this.node))
  }

  private role?: Role
  private rpc?: PeerRpc
  /** The console's accounts replicated through the coordinator (a cluster only; undefined on a single node). */
  accountSync?: AccountSync
  private sync?: ConfigSync
  private hbSync?: HbSync
  /** Bumped on every coordinator change: a deferred takeover checks it is still current. */
  private leadToken = 0
  /** The engine runs here: always on a single node; in a cluster, on the coordinator only. */
  private engineActive = true
  private saved: EngineState | null = null
  private readonly pushed = new Map<string, string>()

  /** Who carries out an action of the engine's plan: fencing another node, the peer protocol for an
   *  action on another node, local actions for one on this node. */
  private readonly runners: Record<'fence' | 'remote' | 'local', (a: Action, signal: AbortSignal) => Promise<ActionOutcome>> = {
    fence: (a, signal) => this.fencing.fence(a, signal),
    remote: async (a, signal) => {
      if (this.rpc) return this.rpc.remoteAction(a, signal)
      return { status: 'notSupported', answer: 'failed', recoverable: true, reason: `node ${a.node} is not reachable from ${this.node}` }
    },
    local: (a, signal) => this.local.run(a, signal),
  }

  private async runAction(a: Action, signal: AbortSignal): Promise<ActionOutcome> {
    if (a.kind === 'fence' || a.kind === 'online') await this.timeline.durable() // the decision is on disk first
    return this.runners[a.kind === 'fence' ? 'fence' : a.node !== this.node ? 'remote' : 'local'](a, signal)
  }

  /** The peer messages the engine loop answers on the coordinator: followers' monitor results, operator
   *  commands and status requests; and the wizard's discover run here for another node's console. */
  private serve(rpc: PeerRpc): void {
    rpc.serve<Extract<PeerMessage, { t: 'monitorResult' | 'command' | 'status' | 'fencedNodes' }>>({
      monitorResult: (_from, m) => {
        rpc.assertCoordinator('MCCS_ERR_NOT_COORDINATOR')
        this.dispatch(m.ev)
        return { ok: true }
      },
      command: (from, m) => {
        rpc.assertCoordinator('MCCS_ERR_NOT_COORDINATOR')
        return this.command(m.cmd, { wait: m.wait, ...(m.timeoutMs ? { timeoutMs: m.timeoutMs } : {}), via: from })
      },
      status: () => {
        rpc.assertCoordinator('MCCS_ERR_NOT_COORDINATOR')
        return this.status()
      },
      // A follower's mirror about to take over a copy whose primary did not hand over (mirrorPeerFenced).
      fencedNodes: () => {
        rpc.assertCoordinator('MCCS_ERR_NOT_COORDINATOR')
        if (!this.engineActive) throw new MccsError('MCCS_ERR_NOT_COORDINATOR', 'the engine is not running here yet')
        return this.fencedNodes()
      },
    })
    rpc.serve<Extract<PeerMessage, { t: 'nodeMode' }>>({
      // Another node's operator put this node in standby or out of it (mccs node standby n2 on n1).
      nodeMode: async (_from, m) => {
        if (m.mode !== 'standby' && m.mode !== 'active')
          throw new MccsError('MCCS_ERR_INVALID', "must be 'standby' or 'active'", { field: 'mode' })
        const timeoutMs = typeof m.timeoutMs === 'number' && m.timeoutMs > 0 ? Math.min(m.timeoutMs, 600_000) : 120_000
        const report = await this.modes.setStandby(m.mode === 'standby', timeoutMs)
        return { node: this.node, mode: m.mode, report }
      },
    })
    rpc.serve<Extract<ServiceMessage, { t: 'discover' }>>({
      discover: (_from, m) =>
        discoverHere(
          this.host,
          this.node,
          this.store.current().hb.nodes.map((n) => n.name),
          checkDiscoverRequest(m as unknown as Record<string, unknown>),
        ),
    })
  }

  /** Graceful stop (SIGTERM): this node's groups move to their next node (or stop), whatever still runs
   *  here is taken offline, and the leave is announced; the caller then stops the agent. */
  leave(timeoutMs = 60_000): Promise<MoveReport & { acknowledged: boolean }> {
    return this.modes.leave(timeoutMs)
  }

  /** mccs node standby | unstandby <node>: run on that node (over the peer channel when it is another),
   *  logged in this node's operation log. Answers once the node's groups have moved. */
  async setNodeMode(
    node: string,
    mode: 'standby' | 'active',
    user: string,
    timeoutMs = 120_000,
  ): Promise<{ node: string; mode: string; report: MoveReport | null }> {
    if (!this.input.nodes.includes(node))
      throw new MccsError('MCCS_ERR_NOT_FOUND', `no node ${node} in this cluster`, { subject: node, field: 'node' })
    const command = mode === 'standby' ? 'nodeStandby' : 'nodeUnstandby'
    try {
      let out: { node: string; mode: string; report: MoveReport | null }
      if (node === this.node) {
        out = { node, mode, report: await this.modes.setStandby(mode === 'standby', timeoutMs) }
        this.syncParked()
      } else {
        if (!this.rpc) throw new MccsError('MCCS_ERR_NOT_FOUND', `no cluster: ${node} is not reachable from here`, { subject: node })
        out = await this.rpc.request(node, { t: 'nodeMode', mode, timeoutMs } satisfies PeerMessage, timeoutMs + 10_000)
      }
      await this.oplog.append({ user, node: this.node, command, target: node, args: {}, result: 'done' })
      return out
    } catch (err) {
      const e = err as MccsError
      await this.oplog.append({
        user,
        node: this.node,
        command,
        target: node,
        args: {},
        result: 'failed',
        ...(e.code ? { code: e.code } : {}),
        reason: e.message,
      })
      throw err
    }
  }

  /** Nodes the engine here treats as running nothing without a fence, and why. */
  private readonly parked = new Map<string, ParkReason>()
  /** The reason a node's `fenced` (runs nothing) was last dispatched for, until the node is unparked or the
   *  engine starts again (a new coordinator's engine starts from the parked nodes itself). */
  private readonly parkSent = new Map<string, 'left' | 'standby' | 'joining'>()
  /** Nodes that left while in maintenance: still running what they ran, kept as they were. */
  private readonly leftInMaintenance = new Set<string>()

  /** Why a node runs nothing by its own word (it announced its leave, or is in standby), or null. */
  private parkReason(n: string): 'left' | 'standby' | 'joining' | null {
    if (!this.role) return n === this.node && this.modes.current() === 'standby' ? 'standby' : null
    // A node added by a live hb.json change that has never been heard runs nothing of ours: not missing.
    return this.role.hasLeft(n) ? 'left' : this.role.inStandby(n) ? 'standby' : this.role.isJoining(n) ? 'joining' : null
  }

  /** Coordinator: a node that left or went to standby said it runs nothing once it did: the engine marks it
   *  `fenced` (runs nothing, nothing is placed there, no fence is needed). A node out of standby, or back
   *  after its leave, is probed and usable again. */
  private syncParked(): void {
    if (!this.engineActive) return
    for (const n of this.input.nodes) {
      const why = this.parkReason(n)
      const ms = this.state.nodes[n]?.membership
      if (why === 'left' && this.state.nodes[n]?.maintenance) {
        // It left in maintenance with its services running: its groups stay where they are (no fence,
        // nothing moves) until it is back or the maintenance ends.
        if (!this.leftInMaintenance.has(n))
          this.log.log('info', `node ${n} left in maintenance: what runs there is left as it is`, { node: n })
        this.leftInMaintenance.add(n)
        continue
      }
      if (why === 'left' && this.leftInMaintenance.delete(n) && ms === 'up') {
        // The maintenance ended while it was away: what it runs is unknown, so it is a lost node (fenced
        // before its groups move), not one that runs nothing.
        this.log.log(
          'warn',
          `maintenance of ${n} ended while it is away: it may still run services, so it is fenced before its groups move`,
          { node: n },
        )
        this.dispatch({ type: 'nodeChange', node: n, membership: 'down' })
        continue
      }
      if (!why) this.leftInMaintenance.delete(n)
      const inView = n === this.node || this.role?.inView(n) === true
      if (why === 'standby') {
        // Standby is a state of its own in the engine (node-mode.ts): a member that runs nothing of ours by its
        // own word; nothing is placed there, it is still probed and monitored.
        this.parked.set(n, 'standby')
        if (!this.state.nodes[n]?.standby) {
          this.log.log('info', `node ${n} is in standby: it runs nothing, nothing will be started there`, { node: n })
          this.dispatch({ type: 'nodeMode', node: n, standby: true })
        }
        // Away in standby it still runs nothing (no fence); back, it is probed.
        if (!inView && ms === 'up') this.dispatch({ type: 'nodeChange', node: n, membership: 'fenced' })
        else if (inView && ms === 'fenced') {
          this.pushed.delete(n)
          this.dispatch({ type: 'nodeChange', node: n, membership: 'up' })
          this.dispatch({ type: 'start', node: n })
        }
        continue
      }
      if (why) {
        if (this.parked.get(n) !== why || ms !== 'fenced') {
          this.parked.set(n, why)
          // Once per reason: while engine events are held (a view change), the state still shows the node
          // as before, and every decision meanwhile would ask again (hundreds of events in 0.2 s were seen).
          if (ms !== 'fenced' && this.parkSent.get(n) !== why) {
            this.parkSent.set(n, why)
            this.log.log(
              'info',
              why === 'left'
                ? `node ${n} left the cluster: it runs nothing, no fence is needed`
                : why === 'joining'
                  ? `node ${n} was added: it counts once it has joined (no fence, nothing placed there before)`
                  : `node ${n} is in standby: it runs nothing, nothing will be started there`,
              { node: n },
            )
            this.dispatch({ type: 'nodeChange', node: n, membership: 'fenced' })
          }
        }
        continue
      }
      const was = this.parked.get(n)
      this.parkSent.delete(n)
      if (!was) continue
      this.parked.delete(n)
      if (this.state.nodes[n]?.standby) {
        this.log.log('info', `node ${n} is out of standby: groups may start there again`, { node: n })
        this.dispatch({ type: 'nodeMode', node: n, standby: false })
      }
      // Back in our view (out of standby, or started again after its leave): probed, then usable. (A
      // node that is not in view yet comes back through membershipChanged.)
      if (ms === 'fenced' && (n === this.node || this.role?.inView(n))) {
        this.log.log('info', `node ${n} is ${was === 'standby' ? 'out of standby' : 'back'}: probing it`, { node: n })
        this.pushed.delete(n)
        this.dispatch({ type: 'nodeChange', node: n, membership: 'up' })
        this.dispatch({ type: 'start', node: n })
      }
    }
  }

  /** The role events: what this node does when its role in the cluster changes. */
  private roleEvents(): ClusterHost {
    return {
      becomeCoordinator: () => {
        const token = ++this.leadToken
        // A newer configuration seen on a member is fetched before the engine runs on ours.
        void this.sync!.settled()
          .catch(() => {})
          .then(async () => {
            if (token !== this.leadToken || !this.role?.isCoordinator()) return
            // What the operator said, from the newest record of the members (intent-sync.ts), not from the
            // configuration's autoStart: a group taken offline stays offline, a lock holds.
            const intent = await this.intents.gather(this.rpc!, this.role.partitionPeers(), (n) => this.role?.inView(n) === true)
            if (token !== this.leadToken || !this.role?.isCoordinator()) return
            // Nothing auto-starts on a member whose license was never heard (it would count as licensed).
            await this.licenses.learn(this.role.partitionPeers(), 2000)
            if (token !== this.leadToken || !this.role?.isCoordinator()) return
            // The partition is read from the installed quorate view. During a view change in progress the role
            // still coordinates but shows no partition (partitionPeers() is empty): every peer would be taken
            // for lost and fenced, and once the same view held again nothing would tell the engine otherwise
            // (ui-operate in a loaded full run: n1 retried fencing n2 for the rest of the run while n2 followed
            // it in view 6). A real loss of quorum resigns, which ends this wait.
            while (!this.role.members()?.quorate) {
              await new Promise((r) => setTimeout(r, 20))
              if (token !== this.leadToken || !this.role?.isCoordinator()) return
            }
            // A new coordinator trusts nothing it did not see: every node is probed (start) before acting;
            // a node outside the partition is down and must be fenced before its groups move. The partition
            // as it is now, not as it was when this node became coordinator: a membership change while the
            // configuration settled or the intent was gathered (a member partitioned away, whose answer
            // then timed out) came before the engine existed, and the engine would have taken that member
            // for up, probed it, never fenced it and never moved its groups (safety lab: the service never
            // came back after the second partition).
            const inPartition = new Set([this.node, ...this.role.partitionPeers()])
            const down = (n: string) => !inPartition.has(n)
            this.input = this.engineInput()
            // A node that left or is in standby runs nothing: no fence, nothing placed there.
            // One that left in maintenance still runs what it ran: kept as a member in maintenance (left alone).
            const keptInMaintenance = (n: string) => this.parkReason(n) === 'left' && intent?.nodes?.[n]?.maintenance === true
            // A member in standby is up (standby is told to the engine below); one away in standby runs nothing.
            const standby = (n: string) => this.parkReason(n) === 'standby' && (n === this.node || this.role?.inView(n) === true)
            const membership = Object.fromEntries(
              this.input.nodes.map((n) => [
                n,
                keptInMaintenance(n) || standby(n)
                  ? ('up' as const)
                  : this.parkReason(n)
                    ? ('fenced' as const)
                    : down(n)
                      ? ('down' as const)
                      : ('up' as const),
              ]),
            )
            for (const n of this.input.nodes) {
              const why = this.parkReason(n)
              if (why && !keptInMaintenance(n)) this.parked.set(n, why)
            }
            this.state = withIntent(restore(initialState(this.input, { membership }), this.saved), intent)
            this.pushed.clear()
            this.parkSent.clear()
            this.engineActive = true
            for (const n of this.input.nodes) if (standby(n)) this.dispatch({ type: 'nodeMode', node: n, standby: true })
            this.dispatch({ type: 'start' })
            this.intents.syncMembers(this.rpc!, this.role.partitionPeers())
          })
      },
      resign: () => {
        this.leadToken++
        this.engineActive = false
        this.gate.release('this node is no longer the coordinator')
        this.emit('resigned')
        this.executor.cancelAll()
        this.saved = this.state
      },
      membershipChanged: (up, down) => {
        if (this.engineActive && this.rpc) this.intents.syncMembers(this.rpc, up)
        this.syncParked() // a node that announced its leave is out without a fence
        for (const n of down)
          if (this.state.nodes[n]?.membership === 'up' && !this.parkReason(n))
            this.dispatch({ type: 'nodeChange', node: n, membership: 'down' })
        for (const n of up) {
          if (n !== this.node && this.state.nodes[n]?.membership !== 'up' && !this.parkReason(n)) {
            this.pushed.delete(n)
            this.dispatch({ type: 'nodeChange', node: n, membership: 'up' })
            this.dispatch({ type: 'start', node: n })
          }
        }
      },
      selfFence: (reason) => this.selfFence(reason),
      memberSelfFenced: (n) => {
        if (!this.engineActive || this.parkReason(n)) return
        // Like an agent restart there: its actions ended, its resources went offline; probe it.
        this.pushed.delete(n)
        this.dispatch({ type: 'start', node: n })
      },
      viewsChanged: (m, views) => {
        this.timeline.view(m)
        this.sync?.viewsChanged(m, views)
        this.accountSync?.viewsChanged(m)
        this.hbSync?.viewsChanged(m, views)
        this.syncParked()
        this.gate.drain() // a membership decision was just made: quorum may be certain again
      },
    }
  }

  /** Quorum lost: this node decides nothing more, stops what it was carrying out, and takes its own
   *  resources offline (local-actions.ts, in the engine's self-fence order). */
  private selfFence(reason: string): Promise<void> {
    this.engineActive = false
    this.gate.release(`self-fencing (${reason})`)
    this.executor.cancelAll()
    return this.local.selfFence(reason)
  }
}

/** The operator's intent over a fresh state (core/engine/intent.ts); without a record, the state as it is. */
function withIntent(s: EngineState, intent: OperatorIntent | null): EngineState {
  return intent ? applyIntent(s, intent) : s
}

export const currentUser = (): string => {
  try {
    return os.userInfo().username
  } catch {
    return `uid:${process.getuid?.() ?? '?'}`
  }
}
