// What runs on this node's own resources: the actions the engine plans for this node (here, or sent by
// the coordinator), the monitors of this node's schedule, and self-fencing when quorum is lost. Every
// plugin hook call on a configured resource goes through here; fencing another node is fencing.ts.
import { type EngineInput, type MonitorResultEvent, type Action, resolveAttrs, type MonitorEntry, selfFenceOrder } from '../engine/index.js'
import type { ActionOutcome } from '../executor/executor.js'
import { MonitorLoop } from '../executor/monitor-loop.js'
import type { PluginHost } from '../plugins/host.js'
import type { Log } from '../log/logger.js'
import { MccsError } from '../errors.js'
import type { PeerMessage, PeerRpc } from './peer-rpc.js'

export interface LocalActionsOptions {
  node: string
  log: Log
  host: PluginHost
  /** The engine input in force (configuration, all nodes), read at each use. */
  input: () => EngineInput
  /** Where a monitor result goes: this node's engine, or the coordinator's. */
  report: (ev: MonitorResultEvent) => void
  /** Whether quorum still holds right now (asked before a resource starts; always true on a single node). */
  quorumFresh: () => boolean
  /** How long an online waits for quorum to be confirmed before it is refused (ms; default 2000). */
  quorumWaitMs?: number
  /** Why this node must not start resources (its configuration diverged), or null. */
  diverged: () => string | null
  /** Monitor loop tick (ms). */
  monitorTickMs: number
}

/** The coordinator's requests served here: run or cancel an action, and this node's monitor schedule. */
type LocalMessage = Extract<PeerMessage, { t: 'action' | 'cancel' | 'monitors' }>

export class LocalActions {
  private readonly monitors: MonitorLoop
  private monitoredKeys = new Set<string>()
  private monitorTimeouts = new Map<string, number>()
  private readonly running = new Map<string, AbortController>()
  private readonly inflight = new Map<string, Promise<ActionOutcome>>()
  private byName = new Map<string, EngineInput['config']['resources'][number]>()
  private byNameFor: EngineInput['config'] | undefined
  /** Resources this node last saw running here (online ok, monitor ok): decides the fence delay. */
  private readonly localOnline = new Set<string>()
  /** Why nothing may start here (standby, leaving), or null. */
  private parkedWhy: string | null = null

  constructor(private readonly o: LocalActionsOptions) {
    this.monitors = new MonitorLoop({ run: (r) => this.monitor(r), tickMs: o.monitorTickMs })
  }

  startMonitors(): void {
    this.monitors.start()
  }
  stopMonitors(): void {
    this.monitors.stop()
  }

  /** Whether a resource runs here, as last seen (fencing waits its delay when none does). */
  runsResources(): boolean {
    return this.localOnline.size > 0
  }

  /** Answers the coordinator's requests for this node (cluster mode). */
  serve(rpc: PeerRpc): void {
    rpc.serve<LocalMessage>({
      action: (from, m) => {
        rpc.assertOurCoordinator(from, true) // only our coordinator may make us act
        return this.run(m.action, new AbortController().signal)
      },
      cancel: (from, m) => {
        if (rpc.isOurCoordinator(from)) this.cancel(m.id)
        return { ok: true }
      },
      monitors: (from, m) => {
        if (!rpc.isOurCoordinator(from)) throw new MccsError('MCCS_ERR_NOT_COORDINATOR', `${from} is not this node's coordinator`)
        this.applySchedule(m.entries)
        return { ok: true }
      },
    })
  }

  /** Nothing starts here while parked (standby, leaving): an online is refused, and no monitor runs
   *  (the node runs nothing; the coordinator no longer schedules it). null: active again. */
  park(why: string | null): void {
    this.parkedWhy = why
    if (why) this.applySchedule([])
  }

  /** Sets the local monitor loop to a schedule (ours, or the one the coordinator sent). */
  applySchedule(entries: MonitorEntry[]): void {
    if (this.parkedWhy) entries = []
    const want = new Map(entries.map((m) => [m.resource, m]))
    for (const m of want.values()) this.monitors.set(m.resource, m.intervalMs)
    for (const r of this.monitoredKeys) if (!want.has(r)) this.monitors.remove(r)
    this.monitoredKeys = new Set(want.keys())
    this.monitorTimeouts = new Map([...want.values()].map((m) => [m.resource, m.timeoutMs]))
  }

  private noteLocal(resource: string, kind: string, ok: boolean, answer: string): void {
    if (kind === 'offline' || kind === 'clean') {
      if (ok) this.localOnline.delete(resource)
      return
    }
    if (ok && answer === 'ok') this.localOnline.add(resource)
    else if (answer === 'notRunning' || answer === 'failed') this.localOnline.delete(resource)
  }

  private resourceCfg(name: string) {
    const config = this.o.input().config
    if (this.byNameFor !== config) {
      this.byName = new Map(config.resources.map((x) => [x.name, x]))
      this.byNameFor = config
    }
    const r = this.byName.get(name)
    if (!r) throw new MccsError('MCCS_ERR_NOT_FOUND', `no resource '${name}'`, { subject: name })
    return r
  }

  /** Monitors one resource now (its schedule, or a managed process that exited) and reports the result. */
  async monitor(resource: string): Promise<void> {
    let cfg
    try {
      cfg = this.resourceCfg(resource)
    } catch {
      return
    }
    const res = await this.o.host.call(cfg.type, 'monitor', {
      resource,
      node: this.o.node,
      nodes: this.o.input().nodes,
      attrs: resolveAttrs(cfg, this.o.node),
      timeoutMs: this.monitorTimeouts.get(resource) ?? 10_000,
    })
    if (res.status !== 'done' || res.answer !== 'ok')
      this.o.log.log('debug', 'monitor', { resource, status: res.status, answer: res.answer, reason: res.reason ?? res.error })
    if (res.status === 'done') this.noteLocal(resource, 'monitor', true, res.answer)
    const ev: MonitorResultEvent = {
      type: 'monitorResult',
      resource,
      node: this.o.node,
      status: res.status,
      answer: res.answer,
      recoverable: res.recoverable,
      ...((res.reason ?? res.error) ? { reason: (res.reason ?? res.error)! } : {}),
    }
    this.o.report(ev)
  }

  /** Runs an action on this node (ours, or sent by the coordinator). A repeat of an action still running
   *  (the coordinator asks again after losing the connection) joins the run in flight. */
  run(a: Action, outer: AbortSignal): Promise<ActionOutcome> {
    const running = this.inflight.get(a.id)
    if (running) return running
    const p = this.runOnce(a, outer).finally(() => this.inflight.delete(a.id))
    this.inflight.set(a.id, p)
    return p
  }

  private async runOnce(a: Action, outer: AbortSignal): Promise<ActionOutcome> {
    const controller = new AbortController()
    const signal = controller.signal
    if (outer.aborted) controller.abort()
    else outer.addEventListener('abort', () => controller.abort(), { once: true })
    this.running.set(a.id, controller)
    if (a.kind === 'online' && !(await this.quorumConfirmed(signal))) {
      this.running.delete(a.id)
      this.o.log.log('warn', `online ${a.resource} refused: quorum is no longer certain`, { resource: a.resource })
      return {
        status: 'done',
        answer: 'failed',
        recoverable: true,
        code: 'MCCS_ERR_NO_QUORUM',
        reason: 'quorum is no longer certain on this node',
      }
    }
    if (a.kind === 'online' && this.parkedWhy) {
      this.running.delete(a.id)
      this.o.log.log('warn', `online ${a.resource} refused: ${this.parkedWhy}`, { resource: a.resource })
      return { status: 'done', answer: 'failed', recoverable: true, code: 'MCCS_ERR_NODE_UNAVAILABLE', reason: this.parkedWhy }
    }
    const diverged = a.kind === 'online' ? this.o.diverged() : null
    if (diverged) {
      this.running.delete(a.id)
      this.o.log.log('error', `online ${a.resource} refused: ${diverged}`, { resource: a.resource, code: 'MCCS_ERR_CONFIG_DIVERGED' })
      return { status: 'done', answer: 'failed', recoverable: false, code: 'MCCS_ERR_CONFIG_DIVERGED', reason: diverged }
    }
    try {
      return await this.runHook(a, signal)
    } finally {
      this.running.delete(a.id)
    }
  }

  /** Quorum certain now, or confirmed within the wait. A membership re-check (a peer fenced a moment ago,
   *  a view change) lasts a few heartbeats; refusing the online at once made it a resource fault and moved
   *  the group (random-fault seed 15). If quorum is lost instead, the role self-fences and the abort ends
   *  the wait. */
  private async quorumConfirmed(signal: AbortSignal): Promise<boolean> {
    const until = Date.now() + (this.o.quorumWaitMs ?? 2000)
    while (!this.o.quorumFresh()) {
      if (signal.aborted || Date.now() >= until) return false
      await new Promise((r) => setTimeout(r, 20))
    }
    return !signal.aborted
  }

  cancel(id: string): void {
    this.running.get(id)?.abort()
  }

  private async runHook(a: Action, signal: AbortSignal): Promise<ActionOutcome> {
    if (!a.resource) return { status: 'notSupported', answer: 'failed', recoverable: false, reason: `action ${a.kind} names no resource` }
    const cfg = this.resourceCfg(a.resource)
    const hook = a.kind === 'probe' || a.kind === 'monitor' ? 'monitor' : a.kind
    const res = await this.o.host.call(cfg.type, hook as 'online', {
      resource: a.resource,
      node: this.o.node,
      nodes: this.o.input().nodes,
      attrs: resolveAttrs(cfg, this.o.node),
      timeoutMs: a.timeoutMs,
      signal,
    })
    if (res.status === 'done') this.noteLocal(a.resource, hook, res.answer === 'ok', res.answer)
    this.o.log.log(
      res.status === 'done' && res.answer !== 'failed' ? 'info' : 'warn',
      `${a.kind} ${a.resource}: ${res.status}/${res.answer}`,
      {
        action: a.id,
        resource: a.resource,
        group: a.group,
        ms: Math.round(res.durationMs),
        reason: res.reason ?? res.error,
      },
    )
    return {
      status: res.status,
      answer: res.answer,
      recoverable: res.recoverable,
      ...((res.reason ?? res.error) ? { reason: (res.reason ?? res.error)! } : {}),
    }
  }

  /** Quorum lost: nothing of ours may keep running. Every resource of this node goes offline in the
   *  engine's self-fence order (clean when offline fails); monitors stop until a coordinator says otherwise.
   *  The caller has stopped its engine and cancelled the actions in flight first. */
  async selfFence(reason: string): Promise<void> {
    this.applySchedule([])
    await this.offlineAll(false)
    this.o.log.log('warn', `self-fenced: local resources taken offline (${reason})`)
  }

  /** Before this node leaves or goes to standby, once its groups were moved away: whatever of ours still
   *  runs here is taken offline, in the self-fence order, after the actions in flight have ended. Only
   *  what a monitor finds here (anything but notRunning) is touched: the groups now run elsewhere, and an
   *  offline of a cloud resource now held by another node must not be sent from here. */
  async stopLocal(): Promise<{ stopped: string[]; failed: string[] }> {
    await Promise.allSettled([...this.inflight.values()])
    return this.offlineAll(true)
  }

  /** Offline (clean when offline fails) of this node's resources; `failed`: neither offline nor clean
   *  answered ok — something may still run. */
  private async offlineAll(onlyRunning: boolean): Promise<{ stopped: string[]; failed: string[] }> {
    const stopped: string[] = []
    const failed: string[] = []
    await Promise.all(
      selfFenceOrder(this.o.input().config, this.o.node).map(async ({ resources }) => {
        for (const r of resources) {
          const rc = this.resourceCfg(r)
          const call = (hook: 'offline' | 'clean' | 'monitor') =>
            this.o.host.call(rc.type, hook, {
              resource: r,
              node: this.o.node,
              nodes: this.o.input().nodes,
              attrs: resolveAttrs(rc, this.o.node),
              timeoutMs: 30_000,
            })
          if (onlyRunning) {
            const m = await call('monitor')
            if (m.status === 'done' && m.answer === 'notRunning') {
              this.localOnline.delete(r)
              continue
            }
          }
          const off = await call('offline')
          if (off.status === 'done' && off.answer === 'ok') this.localOnline.delete(r)
          if (off.status !== 'done' || off.answer !== 'ok') {
            const clean = await call('clean')
            if (clean.status !== 'done' || clean.answer !== 'ok') failed.push(r)
            this.o.log.log(
              'error',
              `${onlyRunning ? 'stopping' : 'self-fencing'}: ${r} offline failed (${off.reason ?? off.error}); clean ${clean.status}/${clean.answer}`,
              { resource: r },
            )
          } else if (onlyRunning)
            this.o.log.log('info', `offline ${r}: done/ok (still running here before this node stops or goes to standby)`, { resource: r })
          stopped.push(r)
        }
      }),
    )
    return { stopped, failed }
  }
}
