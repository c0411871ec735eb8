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
import { execProvider } from '../plugins/caps/exec.js'
import { StateStore, stateProvider } from '../plugins/caps/state.js'
import { ProcManager } from '../plugins/caps/proc.js'
import { procProvider } from '../plugins/caps/proc-provider.js'
import { Executor, type ActionOutcome } from '../executor/executor.js'
import { MonitorLoop } from '../executor/monitor-loop.js'
import { createLog, type Log } from '../log/logger.js'
import { OpLog } from '../log/oplog.js'
import { MccsError } from '../errors.js'
import { readSavedState, restore, StateSaver } from './engine-state-file.js'
import { buildStatus, type AgentStatus } from './status.js'

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
    this.pluginState = new StateStore(path.join(b.stateDir, 'plugin-state'))
    this.host = new PluginHost({
      providers: [execProvider, procProvider(this.procs), stateProvider(this.pluginState)],
      logger: this.log,
      paths: { home: b.home, scripts: b.scriptDir },
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
    this.saver = new StateSaver(path.join(b.stateDir, 'engine.json'))
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
    this.state = restore(initialState(this.input), await readSavedState(path.join(b.stateDir, 'engine.json')))
    this.dispatch({ type: 'start', node: this.node })
    this.monitors.start()
    this.tickTimer = setInterval(() => this.dispatch({ type: 'tick' }), 1000)
    this.tickTimer.unref()
    this.log.log('info', 'agent started', { node: this.node, cluster: this.store.current().hb.cluster, generation: this.input.config.generation })
  }

  async stop(): Promise<void> {
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
    return buildStatus(this.node, cur.main, cur.hb, this.state, this.host, this.startedAt, this.recentNotices)
  }

  /** One event through the engine; its plan goes to the executor. */
  dispatch(ev: EngineEvent): { plan: Plan; outcome?: CommandOutcome } {
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
    await this.store.commit(next, { expectGeneration })
    this.input = this.engineInput()
    this.dispatch({ type: 'tick' })
  }

  /** `mccs config import` while the agent runs: validated and committed through the store. */
  async importConfig(file: string): Promise<{ ok: boolean; text: string; issues: unknown[] }> {
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
    const want = new Map(monitorSchedule(this.input.config, this.types, this.state, this.node).map((m) => [m.resource, m]))
    for (const m of want.values()) this.monitors.set(m.resource, m.intervalMs)
    for (const r of this.monitoredKeys) if (!want.has(r)) this.monitors.remove(r)
    this.monitoredKeys = new Set(want.keys())
    this.monitorTimeouts = new Map([...want.values()].map((m) => [m.resource, m.timeoutMs]))
  }
  private monitoredKeys = new Set<string>()
  private byName = new Map<string, EngineInput['config']['resources'][number]>()
  private byNameFor: EngineInput['config'] | undefined
  private monitorTimeouts = new Map<string, number>()

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
    this.dispatch({
      type: 'monitorResult', resource, node: this.node, status: res.status, answer: res.answer, recoverable: res.recoverable,
      ...(res.reason ?? res.error ? { reason: (res.reason ?? res.error)! } : {}),
    })
  }

  private async runAction(a: Action, signal: AbortSignal): Promise<ActionOutcome> {
    if (a.node !== this.node) {
      return { status: 'notSupported', answer: 'failed', recoverable: true, reason: `node ${a.node} is not reachable from ${this.node}` }
    }
    if (a.kind === 'fence') {
      return { status: 'notSupported', answer: 'failed', recoverable: false, reason: 'no fence device is configured' }
    }
    if (!a.resource) return { status: 'notSupported', answer: 'failed', recoverable: false, reason: `action ${a.kind} names no resource` }
    const cfg = this.resourceCfg(a.resource)
    const hook = a.kind === 'probe' || a.kind === 'monitor' ? 'monitor' : a.kind
    const res = await this.host.call(cfg.type, hook as 'online', {
      resource: a.resource, node: this.node, nodes: this.input.nodes, attrs: resolveAttrs(cfg, this.node), timeoutMs: a.timeoutMs, signal,
    })
    this.log.log(res.status === 'done' && res.answer !== 'failed' ? 'info' : 'warn', `${a.kind} ${a.resource}: ${res.status}/${res.answer}`, {
      action: a.id, resource: a.resource, group: a.group, ms: Math.round(res.durationMs), reason: res.reason ?? res.error,
    })
    return { status: res.status, answer: res.answer, recoverable: res.recoverable, ...(res.reason ?? res.error ? { reason: (res.reason ?? res.error)! } : {}) }
  }
}

export const currentUser = (): string => {
  try { return os.userInfo().username } catch { return `uid:${process.getuid?.() ?? '?'}` }
}
