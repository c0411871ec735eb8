// The agent of one node: plugin host + engine + executor + monitor loop + config store + control API.
// The engine decides (pure step), the executor acts, the monitor loop feeds results back as events.
// Every change of engine state goes through dispatch(), one event at a time.
import path from 'node:path'
import os from 'node:os'
import { EventEmitter } from 'node:events'
import type { Bootstrap } from '../config/bootstrap.js'
import { ConfigStore } from '../config/store.js'
import { configImport } from '../config/commands.js'
import type { TypeCatalog } from '../config/validate.js'
import { step, initialState, type EngineInput } from '../engine/scheduler.js'
import { monitorSchedule } from '../engine/monitor-schedule.js'
import type { EngineEvent, OperatorCommand } from '../engine/events.js'
import { isOperatorCommand } from '../engine/events.js'
import type { Action, CommandOutcome, Notice, Plan } from '../engine/plan.js'
import { pendingActions, type EngineState } from '../engine/state.js'
import { resolveAttrs, type TypeDefaults } from '../engine/model.js'
import { PluginHost } from '../plugins/host.js'
import { StateStore } from '../plugins/caps/state.js'
import { ProcManager } from '../plugins/caps/proc.js'
import { ConfigSync } from './config-sync.js'
import { PeerServices, fetchSupportBundle } from './peer-services.js'
import { discoverHere, checkDiscoverRequest, checkDiscoverAnswer, WIZARD_HOOK_TIMEOUT_MS, type DiscoverRequest, type DiscoverAnswer } from './wizard-hooks.js'
import { importIntoCluster } from './config-import-cluster.js'
import { agentProviders } from '../plugins/caps/index.js'
import { Executor, type ActionOutcome } from '../executor/executor.js'
import { MonitorLoop } from '../executor/monitor-loop.js'
import { createLog, type Log } from '../log/logger.js'
import { OpLog } from '../log/oplog.js'
import { MccsError } from '../errors.js'
import { readSavedState, restore, StateSaver } from './engine-state-file.js'
import { buildStatus, clusterStatus, type AgentStatus } from './status.js'
import { ClusterMode, clusterKeyPath, type ClusterHost } from './cluster-mode.js'
import type { MonitorEntry } from '../engine/monitor-schedule.js'
import type { MonitorResultEvent } from '../engine/events.js'
import { onlineOrder } from '../engine/graph.js'

export interface AgentOptions {
  bootstrap: Bootstrap
  log?: Log
  /** Monitor loop tick (ms). */
  monitorTickMs?: number
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
  readonly store: ConfigStore
  readonly oplog: OpLog
  private readonly executor: Executor
  private readonly monitors: MonitorLoop
  private readonly saver: StateSaver
  private state!: EngineState
  private input!: EngineInput
  private types: Record<string, Partial<TypeDefaults>> = {}
  private monitorDirty = true
  private tickTimer: NodeJS.Timeout | undefined
  private readonly startedAt = Date.now()
  private readonly recentNotices: Array<Notice & { at: string }> = []
  readonly catalog: TypeCatalog

  constructor(readonly opts: AgentOptions) {
    super()
    const b = opts.bootstrap
    this.node = b.nodeName
    this.log = opts.log ?? createLog({ file: path.join(b.logDir, 'mccs.log') })
    this.procs = new ProcManager({ stateDir: path.join(b.stateDir, 'proc'), log: (level, msg, data) => this.log.log(level, msg, { ...data, component: 'proc' }) })
    this.pluginState = new StateStore(path.join(b.stateDir, 'plugin-state'), this.log)
    this.host = new PluginHost({
      providers: agentProviders({ bootstrap: b, procs: this.procs, pluginState: this.pluginState }),
      logger: this.log,
      paths: { home: b.home, scripts: b.scriptDir },
      builtinDir: b.builtinPluginDir,
      onCatastrophicError: (msg) => {
        this.log.log('error', 'isolated-vm catastrophic error: exiting so the service manager restarts the agent', { msg })
        this.log.flush()
        process.exit(70)
      },
    })
    const catalog: TypeCatalog = this.catalog = {
      has: (t) => this.host.get(t) !== undefined,
      attributeSchema: (t) => this.host.get(t)?.manifest.wizard,
    }
    this.store = new ConfigStore(b.configDir, { types: catalog })
    this.oplog = new OpLog(path.join(b.logDir, 'operation.log'))
    this.saver = new StateSaver(path.join(b.stateDir, 'engine.json'), this.log)
    this.executor = new Executor((a, signal) => this.runAction(a, signal), (ev) => this.dispatch(ev))
    this.monitors = new MonitorLoop({ run: (r) => this.runMonitor(r), tickMs: opts.monitorTickMs ?? 100 })
  }

  async start(): Promise<void> {
    const b = this.opts.bootstrap
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
      void this.runMonitor(ev.resource)
    })
    this.input = this.engineInput()
    this.saved = await readSavedState(path.join(b.stateDir, 'engine.json'), this.log)
    this.state = restore(initialState(this.input), this.saved)
    const hb = this.store.current().hb
    if (hb.nodes.length > 1) {
      // A cluster: the engine runs on the coordinator only, once membership has settled.
      this.engineActive = false
      this.cluster = await ClusterMode.create({ hb, keyFile: clusterKeyPath(b.configDir), hbStateFile: path.join(b.stateDir, 'heartbeat.json'), host: this.clusterHost() })
      this.sync = new ConfigSync({ node: this.node, log: this.log, store: this.store, cluster: this.cluster, changed: () => this.configChanged() })
      this.sync.announce() // generation and digest shown to peers in our heartbeat view
      await this.cluster.start()
    } else {
      this.dispatch({ type: 'start', node: this.node })
    }
    this.monitors.start()
    this.tickTimer = setInterval(() => this.dispatch({ type: 'tick' }), 1000)
    this.tickTimer.unref()
    this.log.log('info', 'agent started', { node: this.node, cluster: this.store.current().hb.cluster, generation: this.input.config.generation })
  }

  async stop(): Promise<void> {
    await this.cluster?.stop()
    this.monitors.stop()
    clearInterval(this.tickTimer)
    await this.saver.flush()
    this.procs.close() // services keep running: an agent restart or upgrade must not stop them
    this.host.dispose()
    this.log.log('info', 'agent stopped', { node: this.node })
    this.log.flush()
  }

  engineState(): EngineState { return this.state }

  status(): AgentStatus {
    const cur = this.store.current()
    const st = buildStatus(this.node, cur.main, cur.hb, this.state, this.host, this.startedAt, this.recentNotices)
    if (this.cluster) st.membership = this.membershipHere(this.cluster)
    return st
  }

  private membershipHere(c: ClusterMode): NonNullable<AgentStatus['membership']> {
    return { ...clusterStatus(c), configDiverged: this.sync?.diverged ?? null }
  }

  /** What `mccs status` shows on any node: a follower asks the coordinator for the cluster's state. */
  async statusAnywhere(): Promise<AgentStatus> {
    if (!this.cluster || this.engineActive) return this.status()
    try {
      const st = await this.cluster.forward<AgentStatus>({ t: 'status' }, 5000)
      return { ...st, node: this.node, membership: this.membershipHere(this.cluster) }
    } catch {
      return this.status() // no coordinator: show what this node knows, with its cluster view
    }
  }

  /** One event through the engine; its plan goes to the executor. */
  dispatch(ev: EngineEvent): { plan: Plan; outcome?: CommandOutcome } {
    if (this.engineActive && this.cluster && !this.cluster.quorumFresh()) {
      // Quorum lost while this process could not notice (it was paused): decide nothing until the
      // membership is decided again (the cluster layer resigns or self-fences us).
      this.log.log('warn', 'engine step skipped: quorum is no longer certain (membership being re-decided)', { event: ev.type })
      return { plan: { actions: [], notices: [] }, ...(isOperatorCommand(ev) ? { outcome: { status: 'rejected' as const, code: 'MCCS_ERR_NO_QUORUM' as const, reason: 'quorum is being re-decided' } } : {}) }
    }
    if (!this.engineActive) {
      // Not the coordinator (or no quorum): this node decides nothing.
      return { plan: { actions: [], notices: [] }, ...(isOperatorCommand(ev) ? { outcome: { status: 'rejected' as const, code: 'MCCS_ERR_CONFLICT' as const, reason: 'this node is not the coordinator' } } : {}) }
    }
    const r = step(this.input, this.state, ev, Date.now())
    this.state = r.state
    // Monitor results and ticks that plan nothing change nothing the monitor loop or the disk cares about.
    const quiet = (ev.type === 'monitorResult' || ev.type === 'tick') && !r.plan.actions.length && !r.plan.notices.length
    if (!quiet) this.monitorDirty = true
    for (const n of r.plan.notices) this.notice(n)
    this.executor.submit(r.plan)
    // Only locks, faults and flags must survive a restart; they change only with a plan or a command.
    if (!quiet) this.saver.schedule(this.state)
    if (this.monitorDirty) this.syncMonitors()
    this.emit('step', ev, r)
    return { plan: r.plan, ...(r.outcome ? { outcome: r.outcome } : {}) }
  }

  /** An operator command (CLI, API, console): logged in the operation log, persisted before the reply. */
  async command(cmd: OperatorCommand, o: { wait?: boolean; timeoutMs?: number } = {}): Promise<CommandReply> {
    if (this.cluster && !this.engineActive) {
      // The coordinator decides (and logs the command in its operation log).
      return this.cluster.forward<CommandReply>({ t: 'command', cmd, wait: o.wait === true, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) }, (o.timeoutMs ?? 600_000) + 10_000)
    }
    const waiter = o.wait ? this.waitFor(cmd, o.timeoutMs ?? 600_000) : undefined
    const { outcome = { status: 'accepted' } } = this.dispatch(cmd)
    await this.saver.flush()
    const target = 'group' in cmd ? cmd.group : 'resource' in cmd ? cmd.resource : undefined
    const { type: _t, user, ...args } = cmd as OperatorCommand & Record<string, unknown>
    await this.oplog.append({
      user, node: this.node, command: cmd.type, ...(target ? { target } : {}), args,
      result: outcome.status, ...(outcome.status === 'rejected' ? { code: outcome.code, reason: outcome.reason } : {}),
    })
    this.log.log(outcome.status === 'accepted' ? 'info' : 'warn', `operator command ${cmd.type} ${outcome.status}`, { user, target, ...(outcome.status === 'rejected' ? { reason: outcome.reason } : {}) })
    if (outcome.status === 'rejected' || !waiter) { waiter?.cancel(); return { outcome } }
    const reached = await waiter.done
    return { outcome, reached, status: this.status() }
  }

  /** Waits until the command's target state holds (or a fault shows it cannot). */
  private waitFor(cmd: OperatorCommand, timeoutMs: number): { done: Promise<boolean>; cancel(): void } {
    const check = (): boolean | null => {
      const gname = 'group' in cmd ? cmd.group : 'resource' in cmd ? this.store.current().main.resources.find((x) => x.name === cmd.resource)?.group : undefined
      const g = gname ? this.state.groups[gname] : undefined
      const busy = g ? Object.keys(g.pending).length > 0 : pendingActions(this.state).length > 0
      if (busy) return null
      if (!g) return true
      const states = Object.values(g.nodes)
      switch (cmd.type) {
        case 'groupOnline': case 'groupSwitch': case 'resourceOnline':
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
    let timer: NodeJS.Timeout | undefined
    let onStep: (() => void) | undefined
    const done = new Promise<boolean>((resolve) => {
      const finish = (v: boolean) => { clearTimeout(timer); if (onStep) this.off('step', onStep); resolve(v) }
      // Judged after every step, starting with the command's own (the listener is added before it).
      onStep = () => {
        const v = check()
        if (v !== null) finish(v)
      }
      this.on('step', onStep)
      timer = setTimeout(() => finish(false), timeoutMs)
    })
    return { done, cancel: () => { clearTimeout(timer); if (onStep) this.off('step', onStep) } }
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
    const c = this.cluster
    if (!c) return Promise.reject(new MccsError('MCCS_ERR_NOT_FOUND', `no cluster: ${node} is not reachable from here`, { subject: node }))
    return fetchSupportBundle((msg, timeoutMs) => c.request(node, msg, timeoutMs))
  }

  /** Another node's license, viewed or installed over the peer channel. */
  licenseOf(node: string, install?: string): Promise<unknown> {
    const c = this.cluster
    if (!c) return Promise.reject(new MccsError('MCCS_ERR_NOT_FOUND', `no cluster: ${node} is not reachable from here`, { subject: node }))
    return c.request(node, install === undefined ? { t: 'licenseView' } : { t: 'licenseInstall', text: install }, 15_000)
  }

  /** The wizard's discover hook run on another node (its adapters, its ENIs), over the peer channel. */
  async discoverOn(node: string, req: DiscoverRequest): Promise<DiscoverAnswer> {
    const c = this.cluster
    if (!c) throw new MccsError('MCCS_ERR_NOT_FOUND', `no cluster: ${node} is not reachable from here`, { subject: node })
    return checkDiscoverAnswer(await c.request(node, { t: 'discover', ...req }, WIZARD_HOOK_TIMEOUT_MS + 5000), node)
  }

  /** `mccs config reconcile`: a diverged node takes the coordinator's configuration. */
  async reconcileConfig(): Promise<{ generation: number; from: string }> {
    if (!this.sync) throw new MccsError('MCCS_ERR_CONFLICT', 'this node is not part of a cluster: there is nothing to reconcile with', { subject: this.node })
    return this.sync.reconcile()
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
    return { config: cur.main as EngineInput['config'], types: this.types, nodes: cur.hb.nodes.map((n) => n.name) }
  }

  private notice(n: Notice): void {
    const level = /Faulted|Failed|Violation|needsFence|noFailover/.test(n.kind) ? 'error' : n.kind === 'commandRejected' || n.kind.startsWith('monitor') ? 'warn' : 'info'
    this.log.log(level, n.reason, { notice: n.kind, group: n.group, resource: n.resource, node: n.node })
    this.recentNotices.push({ ...n, at: new Date().toISOString() })
    if (this.recentNotices.length > 200) this.recentNotices.shift()
  }

  private syncMonitors(): void {
    this.monitorDirty = false
    if (this.cluster) {
      for (const n of this.input.nodes) {
        if (n === this.node || this.state.nodes[n]?.membership !== 'up') continue
        const entries = monitorSchedule(this.input.config, this.types, this.state, n)
        const key = JSON.stringify(entries)
        if (this.pushed.get(n) === key) continue
        this.pushed.set(n, key)
        this.cluster.pushSchedule(n, entries)
      }
    }
    this.applyMonitorSchedule(monitorSchedule(this.input.config, this.types, this.state, this.node))
  }

  /** Sets the local monitor loop to a schedule (ours, or the one the coordinator sent). */
  applyMonitorSchedule(entries: MonitorEntry[]): void {
    const want = new Map(entries.map((m) => [m.resource, m]))
    for (const m of want.values()) this.monitors.set(m.resource, m.intervalMs)
    for (const r of this.monitoredKeys) if (!want.has(r)) this.monitors.remove(r)
    this.monitoredKeys = new Set(want.keys())
    this.monitorTimeouts = new Map([...want.values()].map((m) => [m.resource, m.timeoutMs]))
  }
  private monitoredKeys = new Set<string>()
  private cluster?: ClusterMode
  private sync?: ConfigSync
  private servicesInst?: PeerServices
  private get services(): PeerServices {
    return (this.servicesInst ??= new PeerServices(this.opts.bootstrap, () => this.statusAnywhere()))
  }
  /** Bumped on every coordinator change: a deferred takeover checks it is still current. */
  private leadToken = 0
  /** The engine runs here: always on a single node; in a cluster, on the coordinator only. */
  private engineActive = true
  private saved: EngineState | null = null
  private readonly pushed = new Map<string, string>()
  private readonly localActions = new Map<string, AbortController>()
  private byName = new Map<string, EngineInput['config']['resources'][number]>()
  private byNameFor: EngineInput['config'] | undefined
  private monitorTimeouts = new Map<string, number>()
  /** Resources this node last saw running here (online ok, monitor ok): decides the fence delay. */
  private readonly localOnline = new Set<string>()

  private noteLocal(resource: string, kind: string, ok: boolean, answer: string): void {
    if (kind === 'offline' || kind === 'clean') { if (ok) this.localOnline.delete(resource); return }
    if (ok && answer === 'ok') this.localOnline.add(resource)
    else if (answer === 'notRunning' || answer === 'failed') this.localOnline.delete(resource)
  }

  private resourceCfg(name: string) {
    if (this.byNameFor !== this.input.config) {
      this.byName = new Map(this.input.config.resources.map((x) => [x.name, x]))
      this.byNameFor = this.input.config
    }
    const r = this.byName.get(name)
    if (!r) throw new MccsError('MCCS_ERR_NOT_FOUND', `no resource '${name}'`, { subject: name })
    return r
  }

  private async runMonitor(resource: string): Promise<void> {
    let cfg
    try { cfg = this.resourceCfg(resource) } catch { return }
    const res = await this.host.call(cfg.type, 'monitor', {
      resource, node: this.node, nodes: this.input.nodes, attrs: resolveAttrs(cfg, this.node),
      timeoutMs: this.monitorTimeouts.get(resource) ?? 10_000,
    })
    if (res.status !== 'done' || res.answer !== 'ok') this.log.log('debug', 'monitor', { resource, status: res.status, answer: res.answer, reason: res.reason ?? res.error })
    if (res.status === 'done') this.noteLocal(resource, 'monitor', true, res.answer)
    const ev: MonitorResultEvent = {
      type: 'monitorResult', resource, node: this.node, status: res.status, answer: res.answer, recoverable: res.recoverable,
      ...(res.reason ?? res.error ? { reason: (res.reason ?? res.error)! } : {}),
    }
    if (this.engineActive) this.dispatch(ev)
    else this.cluster?.sendMonitorResult(ev)
  }

  private async runAction(a: Action, signal: AbortSignal): Promise<ActionOutcome> {
    if (a.kind === 'fence') return this.fence(a, signal)
    if (a.node !== this.node) {
      if (this.cluster) return this.cluster.remoteAction(a, signal)
      return { status: 'notSupported', answer: 'failed', recoverable: true, reason: `node ${a.node} is not reachable from ${this.node}` }
    }
    return this.runLocalAction(a, signal)
  }

  /** The agent as the cluster layer sees it. */
  private clusterHost(): ClusterHost {
    return {
      node: this.node,
      log: this.log,
      becomeCoordinator: (_up, down) => {
        const token = ++this.leadToken
        // A newer configuration seen on a member is fetched before the engine runs on ours.
        void this.sync!.settled().catch(() => {}).then(() => {
          if (token !== this.leadToken || !this.cluster?.isCoordinator()) return
          // A new coordinator trusts nothing it did not see: every node is probed (start) before acting;
          // a node outside the partition is down and must be fenced before its groups move.
          this.input = this.engineInput()
          const membership = Object.fromEntries(this.input.nodes.map((n) => [n, down.includes(n) ? 'down' as const : 'up' as const]))
          this.state = restore(initialState(this.input, { membership }), this.saved)
          this.pushed.clear()
          this.engineActive = true
          this.dispatch({ type: 'start' })
        })
      },
      resign: () => {
        this.leadToken++
        this.engineActive = false
        this.executor.cancelAll()
        this.saved = this.state
      },
      membershipChanged: (up, down) => {
        for (const n of down) if (this.state.nodes[n]?.membership === 'up') this.dispatch({ type: 'nodeChange', node: n, membership: 'down' })
        for (const n of up) {
          if (n !== this.node && this.state.nodes[n]?.membership !== 'up') {
            this.pushed.delete(n)
            this.dispatch({ type: 'nodeChange', node: n, membership: 'up' })
            this.dispatch({ type: 'start', node: n })
          }
        }
      },
      onRemoteMonitorResult: (ev) => { this.dispatch(ev) },
      onRemoteCommand: (cmd, wait, timeoutMs) => this.command(cmd, { wait, ...(timeoutMs ? { timeoutMs } : {}) }),
      statusForPeers: () => this.status(),
      runLocalAction: (a, signal) => this.runLocalAction(a, signal),
      cancelLocal: (id) => this.cancelLocal(id),
      applyMonitorSchedule: (entries) => this.applyMonitorSchedule(entries),
      selfFence: (reason) => this.selfFence(reason),
      onConfigCommit: (from, main, gen) => this.sync!.onConfigCommit(from, main, gen),
      onConfigPush: (from, main, force) => this.sync!.onConfigPush(from, main, force),
      onConfigGet: () => this.sync!.onConfigGet(),
      viewsChanged: (m, views) => this.sync?.viewsChanged(m, views),
      onService: (_from, m) => m.t === 'discover'
        ? discoverHere(this.host, this.node, this.store.current().hb.nodes.map((n) => n.name), checkDiscoverRequest(m as unknown as Record<string, unknown>))
        : this.services.handle(m),
    }
  }

  /** Quorum lost: nothing of ours may keep running. Every resource of this node goes offline,
   *  parents first (clean when offline fails); monitors stop until a coordinator says otherwise. */
  private async selfFence(reason: string): Promise<void> {
    this.engineActive = false
    this.executor.cancelAll()
    this.applyMonitorSchedule([])
    const cfg = this.input.config
    const mine = cfg.groups.filter((g) => g.nodes.includes(this.node))
    await Promise.all(mine.map(async (g) => {
      const names = cfg.resources.filter((r) => r.group === g.name).map((r) => r.name)
      const order = onlineOrder(names, cfg.dependencies.filter((d) => names.includes(d.parent))).reverse()
      for (const r of order) {
        const rc = this.resourceCfg(r)
        const call = (hook: 'offline' | 'clean') => this.host.call(rc.type, hook, {
          resource: r, node: this.node, nodes: this.input.nodes, attrs: resolveAttrs(rc, this.node), timeoutMs: 30_000,
        })
        const off = await call('offline')
        if (off.status === 'done' && off.answer === 'ok') this.localOnline.delete(r)
        if (off.status !== 'done' || off.answer !== 'ok') {
          const clean = await call('clean')
          this.log.log('error', `self-fencing: ${r} offline failed (${off.reason ?? off.error}); clean ${clean.status}/${clean.answer}`, { resource: r })
        }
      }
    }))
    this.log.log('warn', `self-fenced: local resources taken offline (${reason})`)
  }

  /** Fences a node with its fence devices (hb.json `fencing`, tried level by level). */
  private async fence(a: Action, signal: AbortSignal): Promise<ActionOutcome> {
    const target = a.node
    const hb = this.store.current().hb
    const levels = hb.nodes.find((n) => n.name === target)?.fencing ?? []
    if (!levels.length) return { status: 'notSupported', answer: 'failed', recoverable: false, reason: `no fence device is configured for ${target}` }
    // Against mutual fencing (two nodes that lost each other both fence): the node that runs resources
    // fences at once, a node that runs none waits, so the active side wins the race.
    const delayMs = hb.quorum?.fenceDelayMs ?? (hb.quorum?.twoNode ? 5000 : 0) // with a quorum server only one side is quorate: no race
    if (delayMs > 0 && this.localOnline.size === 0) {
      this.log.log('warn', `fence ${target}: this node runs no resource, waiting ${delayMs} ms first (fence delay)`, { target })
      const aborted = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), delayMs)
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve(true) }, { once: true })
      })
      if (aborted) return { status: 'done', answer: 'failed', recoverable: true, reason: `fence of ${target} cancelled during its delay` }
    }
    const reasons: string[] = []
    for (const [i, dev] of levels.entries()) {
      const res = await this.host.call(dev.type, 'fence', {
        resource: `fence-${target}-${i + 1}`, node: this.node, nodes: this.input.nodes, attrs: dev.attrs ?? {}, args: [target],
        timeoutMs: Math.max(1000, a.timeoutMs - 1000), signal,
      })
      this.log.log(res.status === 'done' && res.answer === 'ok' ? 'warn' : 'error', `fence ${target} (level ${i + 1}, ${dev.type}): ${res.status}/${res.answer}`, { reason: res.reason ?? res.error })
      if (res.status === 'done' && res.answer === 'ok') return { status: 'done', answer: 'ok', recoverable: true, reason: `fenced by ${dev.type}` }
      reasons.push(`level ${i + 1} ${dev.type}: ${res.reason ?? res.error ?? res.answer}`)
    }
    return { status: 'done', answer: 'failed', recoverable: true, reason: reasons.join('; ') }
  }

  /** Runs an action on this node (ours, or sent by the coordinator). A repeat of an action still running
   *  (the coordinator asks again after losing the connection) joins the run in flight. */
  runLocalAction(a: Action, outer: AbortSignal): Promise<ActionOutcome> {
    const running = this.inflight.get(a.id)
    if (running) return running
    const p = this.runLocalActionOnce(a, outer).finally(() => this.inflight.delete(a.id))
    this.inflight.set(a.id, p)
    return p
  }
  private readonly inflight = new Map<string, Promise<ActionOutcome>>()

  private async runLocalActionOnce(a: Action, outer: AbortSignal): Promise<ActionOutcome> {
    const controller = new AbortController()
    const signal = controller.signal
    if (outer.aborted) controller.abort()
    else outer.addEventListener('abort', () => controller.abort(), { once: true })
    this.localActions.set(a.id, controller)
    if (a.kind === 'online' && this.cluster && !this.cluster.quorumFresh()) {
      this.localActions.delete(a.id)
      this.log.log('warn', `online ${a.resource} refused: quorum is no longer certain`, { resource: a.resource })
      return { status: 'done', answer: 'failed', recoverable: true, reason: 'MCCS_ERR_NO_QUORUM: quorum is no longer certain on this node' }
    }
    const diverged = a.kind === 'online' ? this.sync?.diverged : null
    if (diverged) {
      this.localActions.delete(a.id)
      this.log.log('error', `online ${a.resource} refused: ${diverged}`, { resource: a.resource, code: 'MCCS_ERR_CONFIG_DIVERGED' })
      return { status: 'done', answer: 'failed', recoverable: false, reason: `MCCS_ERR_CONFIG_DIVERGED: ${diverged}` }
    }
    try {
      return await this.runHook(a, signal)
    } finally {
      this.localActions.delete(a.id)
    }
  }

  cancelLocal(id: string): void {
    this.localActions.get(id)?.abort()
  }

  private async runHook(a: Action, signal: AbortSignal): Promise<ActionOutcome> {
    if (!a.resource) return { status: 'notSupported', answer: 'failed', recoverable: false, reason: `action ${a.kind} names no resource` }
    const cfg = this.resourceCfg(a.resource)
    const hook = a.kind === 'probe' || a.kind === 'monitor' ? 'monitor' : a.kind
    const res = await this.host.call(cfg.type, hook as 'online', {
      resource: a.resource, node: this.node, nodes: this.input.nodes, attrs: resolveAttrs(cfg, this.node), timeoutMs: a.timeoutMs, signal,
    })
    if (res.status === 'done') this.noteLocal(a.resource, hook, res.answer === 'ok', res.answer)
    this.log.log(res.status === 'done' && res.answer !== 'failed' ? 'info' : 'warn', `${a.kind} ${a.resource}: ${res.status}/${res.answer}`, {
      action: a.id, resource: a.resource, group: a.group, ms: Math.round(res.durationMs), reason: res.reason ?? res.error,
    })
    return { status: res.status, answer: res.answer, recoverable: res.recoverable, ...(res.reason ?? res.error ? { reason: (res.reason ?? res.error)! } : {}) }
  }
}

export const currentUser = (): string => {
  try { return os.userInfo().username } catch { return `uid:${process.getuid?.() ?? '?'}` }
}
