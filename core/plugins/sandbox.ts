// One plugin type's sandbox: an isolated-vm isolate with a memory limit, and contexts in it —
// one shared context per type (default) or one per resource (`contextMode: 'perResource'`);
// docs/BENCHMARKS.md gives the measured cost of each. The isolate never sees Node: no require,
// process, timers or host objects; only the bridge functions kept in the bootstrap's closure.
//
// Calls issued in the same turn of the event loop enter the isolate as one batch and their results
// come back batched: a thread hop costs more than a small hook, and the monitor loop issues many.
// For the plugins shipped with MCCS (`hostThread`), a batch meeting an idle isolate runs on the host's
// thread (applySync, no hop) under a small CPU budget up to each hook's first host callback; the rest
// of a hook, and batches meeting a busy isolate, run on the isolate's own thread. A plugin that
// overruns the budget is cut, its calls re-run on the isolate's thread, and its later calls always
// take the hop (docs/plugins.md). A third-party plugin's code never runs on the host's thread: V8
// cannot interrupt some of its own operations (JSON.stringify, flattening or copying a string), so a
// budget there does not bound a hostile plugin: 500 MB through JSON.stringify held the thread for 2 s.
//
// The host's thread enters an isolate only when it is provably quiet: no call of ours inside, no
// context being made, and a probe (a no-op call queued behind every answer the host sent in) has come
// back since the last answer — isolated-vm runs an isolate's tasks in order, each with its microtasks,
// so nothing of the plugin can still be running. Entering a busy isolate would make the host's thread
// wait for its lock for as long as the plugin likes (issue 12, finding 7).
//
// Faults: a batch whose synchronous run exceeds the CPU budget is terminated by V8; the isolate's CPU
// time is sampled while calls are inside (every CPU_WATCH_MS) and charged to each of them, so a hook
// that computes after an await is held to the same budget; CPU spent with no call inside (work a
// finished hook left behind) is held to it too; all the type's isolates together are held to a CPU share
// (CPU_SHARE; past it the type is stopped for a while); a call that is still busy in CPU at its wall deadline
// gets the isolate disposed; an isolate over its memory limit is disposed by isolated-vm. A disposed
// isolate is recreated on the next call. Calls that were in flight on a dead isolate and are not known
// culprits re-run once, alone, in a quarantine isolate — so a bad resource costs only itself a failed
// action (hooks are idempotent by contract).
import ivm from 'isolated-vm'
import { BOOTSTRAP } from './isolate-bootstrap.js'
import { CPU_SHARE, CPU_WATCH_MS, LIMITS } from './limits.js'

export type ContextMode = 'shared' | 'perResource'

export interface SandboxOptions {
  name: string
  code: string
  memoryMb: number
  /** CPU budget of one hook call, across all its awaits (and of one synchronous run). */
  cpuMs: number
  /** The plugin's code may run on the host's thread (plugins shipped with MCCS only). Default false. */
  hostThread?: boolean
  contextMode: ContextMode
  capSpec: Array<[string, string[]]>
  bridge: (token: string, cap: string, method: string, argsJson: string) => Promise<string>
  log: (token: string, level: string, msg: string, dataJson: string) => void
  /** A limit the plugin went past that no single call answers for (CPU with no call inside). */
  onLimit?: (message: string) => void
  /** isolated-vm lost control of one of the type's isolates (it could not stop a script within 5 s of
   *  a timeout — a 100 MiB stringify on a loaded host — or V8's heap ran out). The sandbox has already
   *  abandoned that isolate and goes on in a fresh one; this tells the host what to log. */
  onCatastrophicError: (message: string) => void
}

/** Isolates a type may lose to isolated-vm before the type is disabled: each lost one keeps a
 *  suspended thread and its heap for the life of the process. */
export const LOST_ISOLATE_LIMIT = 3

export type RawOutcome =
  | { kind: 'value'; value: unknown }
  | { kind: 'thrown'; message: string; code?: string }
  | { kind: 'notSupported' }
  | { kind: 'timeout'; spinning: boolean }
  | { kind: 'cpuLimit'; usedMs: number; budgetMs: number }
  | { kind: 'cpuShare'; share: number; burstMs: number; stoppedForMs: number }
  | { kind: 'limit'; message: string; field: string }
  | { kind: 'memoryExceeded' }
  | { kind: 'crashed'; message: string }

interface Settled {
  outcome: RawOutcome
  collateral: boolean
}

interface Pending {
  hook: string
  token: string
  key: string
  baseJson: string
  argsJson: string
  deadline: number
  timer?: NodeJS.Timeout
  resolve(s: Settled): void
}

interface Entry {
  context: ivm.Context
  invokeMany: ivm.Reference<Function>
  start: ivm.Reference<Function>
  collect: ivm.Reference<Function>
}

/** CPU budget of a batch run on the host's thread. A plugin whose batch needs more is cut there,
 *  its calls re-run on the isolate's own thread, and it never takes the host's thread again. */
export const SYNC_BUDGET_MS = 20

interface Slot {
  isolate: ivm.Isolate
  script: ivm.Script
  contexts: Map<string, Entry | Promise<Entry>>
  /** Calls started in this isolate and not yet answered, by token. */
  pending: Map<string, Pending>
  /** Tokens that entered the isolate and have not reported back (settled or not): while any is
   *  there, plugin code may be running on the isolate's thread, so nothing takes the host's. */
  inIsolate: Set<string>
  queue: Pending[]
  flushScheduled: boolean
  sentinel?: boolean
  dead: boolean
  /** Token of the call we disposed the isolate for, or a word for why. */
  killedBy?: string
  /** Batches sent through the thread hop and not yet returned, and contexts being made. */
  hops: number
  creating: number
  /** Events after which plugin code may run on the isolate's thread (answers sent in, results
   *  reported from there), counted; `proven` is the count the last probe came back behind. */
  seq: number
  proven: number
  probe?: 'queued' | 'out'
  /** CPU watch: the isolate's CPU time at the last sample (ns), each call's CPU so far (ns), the CPU
   *  used with no call inside (ns, leaking away at half a core), and the sampling timer. */
  cpuSeen: bigint
  charged: Map<string, number>
  idleCpu: number
  /** Calls that entered while the slot was not quiet: CPU charged to them may be someone else's. */
  enteredBusy: Set<string>
  watch?: NodeJS.Timeout
  /** Settles once the isolate has really stopped (its sentinel is rejected): a disposed isolate's
   *  thread finishes what V8 cannot interrupt first, and a process that exits meanwhile can crash. */
  gone: Promise<void>
  markGone: () => void
}

const SHARED = '*'

const LIMITS_JSON = JSON.stringify(LIMITS)

/** Any ready context of a slot (the sentinel lives in one). */
function entryFor(slot: Slot): Entry | undefined {
  for (const e of slot.contexts.values()) if (!(e instanceof Promise)) return e
  return undefined
}

export class PluginSandbox {
  private slot: Slot | null = null
  private readonly bridgeRef: ivm.Reference
  private readonly logRef: ivm.Reference
  private readonly doneRef: ivm.Reference
  private readonly capJson: string
  /** Slot that each token runs in, for routing batched results. */
  private readonly owner = new Map<string, Slot>()
  /** Slot of each token inside an isolate, until the isolate reports it (even after a deadline). */
  private readonly entered = new Map<string, Slot>()
  /** Isolates created over this sandbox's life (for status and tests). */
  isolatesCreated = 0
  /** Isolates isolated-vm lost control of: kept referenced so that no finaliser ever touches them
   *  (their thread is suspended holding the isolate's lock). */
  private readonly lost: ivm.Isolate[] = []
  /** Why the type takes no more calls (too many lost isolates), or null. */
  private disabled: string | null = null
  /** Disposed: no new isolate. */
  private closed = false
  /** Set once a batch overran SYNC_BUDGET_MS on the host's thread: calls take the thread hop. */
  syncOff = false
  /** Batches run on the host's thread and through the thread hop (status, tests, bench). */
  readonly batches = { hostThread: 0, hop: 0 }
  /** The type's CPU allowance (ns, refilled at CPU_SHARE of a core, at most two call budgets), when it
   *  was last refilled (performance.now() ms), and until when the type is stopped for going past it. */
  private cpuAllowance: number
  private allowanceAt = performance.now()
  private stoppedUntil = 0

  constructor(private readonly opts: SandboxOptions) {
    this.syncOff = !opts.hostThread
    this.cpuAllowance = this.burstNs()
    this.bridgeRef = new ivm.Reference((token: string, cap: string, method: string, argsJson: string) =>
      this.onBridge(token, cap, method, argsJson),
    )
    this.logRef = new ivm.Reference(opts.log)
    this.doneRef = new ivm.Reference((json: string) => this.onDone(json))
    this.capJson = JSON.stringify(opts.capSpec)
  }

  /** Compiles the plugin in a fresh isolate: load-time errors surface here, not on first use. */
  async warm(): Promise<void> {
    const slot = await this.ensureSlot()
    await this.ensureContext(slot, SHARED)
  }

  async invoke(hook: string, token: string, resource: string, baseJson: string, argsJson: string, deadline: number): Promise<RawOutcome> {
    // A type stopped for its CPU share: a call that can wait for the end of the stop waits; one whose
    // deadline comes first fails now.
    for (let stoppedFor = this.stoppedUntil - performance.now(); stoppedFor > 0; stoppedFor = this.stoppedUntil - performance.now()) {
      if (Date.now() + stoppedFor + 50 > deadline) return this.shareOutcome(stoppedFor)
      await new Promise((resolve) => setTimeout(resolve, stoppedFor))
    }
    if (this.disabled) return { kind: 'limit', message: this.disabled, field: 'isolate' }
    let slot: Slot
    try {
      slot = await this.ensureSlot()
    } catch (err) {
      return { kind: 'crashed', message: `cannot start the plugin's isolate: ${(err as Error).message}` }
    }
    const key = this.opts.contextMode === 'perResource' ? resource : SHARED
    const first = await this.enqueue(slot, { hook, token, key, baseJson, argsJson, deadline })
    if (first.collateral && Date.now() < deadline) {
      // Another call killed the isolate under us: re-run alone so the culprit cannot hurt us twice.
      return this.quarantine(hook, token, baseJson, argsJson, deadline)
    }
    return first.outcome
  }

  /** Disposes the isolate and releases the host references it held (plugin unload, agent stop).
   *  Releasing them before the process exits matters: isolated-vm aborts the process when a
   *  reference is finalised after Node's environment is gone. */
  dispose(): void {
    // No isolate is made after this: a call still waiting (out a CPU-share stop, for its quarantine
    // re-run) would otherwise start the plugin again in an isolate nobody disposes, and a process with a
    // running isolate never exits.
    this.closed = true
    // Every live isolate: the current one and any quarantine ones re-running a call alone.
    for (const slot of [...this.liveSlots]) this.kill(slot, 'disposed')
    this.slot = null
    for (const r of [this.bridgeRef, this.logRef, this.doneRef]) {
      try {
        r.release()
      } catch {
        /* released already */
      }
    }
  }

  stats(): { isolates: number; alive: boolean; contexts: number; heap?: ivm.HeapStatistics } {
    const s = this.slot && !this.slot.dead ? this.slot : null
    return {
      isolates: this.isolatesCreated,
      alive: !!s,
      contexts: s?.contexts.size ?? 0,
      ...(s ? { heap: s.isolate.getHeapStatisticsSync() } : {}),
    }
  }

  /** Drops a resource's context (resource deleted). */
  releaseContext(resource: string): void {
    const s = this.slot
    const e = s?.contexts.get(resource)
    if (s && e && !(e instanceof Promise) && this.opts.contextMode === 'perResource') {
      s.contexts.delete(resource)
      for (const r of [e.invokeMany, e.start, e.collect]) r.release()
      e.context.release()
    }
  }

  /** A capability call from an isolate. Its answer lets plugin code run there again: the slot is not
   *  quiet until a probe has come back behind it. */
  private async onBridge(token: string, cap: string, method: string, argsJson: string): Promise<string> {
    const res = await this.opts.bridge(token, cap, method, argsJson)
    const slot = this.entered.get(token) ?? this.owner.get(token)
    for (const s of slot ? [slot] : this.liveSlots) this.mayRun(s)
    return res
  }

  /** Slots alive now (the current one and any quarantine ones), and disposed ones still stopping. */
  private readonly liveSlots = new Set<Slot>()
  private readonly dying = new Set<Promise<void>>()

  /** Resolves once every isolate this sandbox disposed has really stopped, or after `timeoutMs`.
   *  Await it before the process exits (agent stop, end of a test). */
  async whenGone(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
      timer.unref()
    })
    await Promise.race([Promise.all([...this.dying]), late])
    clearTimeout(timer)
  }

  /** Notes that plugin code may run on the slot's thread; a probe will tell when it has. */
  private mayRun(slot: Slot): void {
    if (slot.dead) return
    slot.seq++
    this.watch(slot)
    if (slot.probe) return
    slot.probe = 'queued'
    // After isolated-vm has queued the answer's task (it does so when the promise we return settles).
    setImmediate(() => this.sendProbe(slot))
  }

  private sendProbe(slot: Slot): void {
    const entry = entryFor(slot)
    if (slot.dead || !entry) {
      slot.probe = undefined
      return
    }
    const upTo = slot.seq
    slot.probe = 'out'
    ;(entry.invokeMany.apply(undefined, ['__ping__'], { result: { promise: true } }) as Promise<unknown>).then(
      () => {
        slot.probe = undefined
        slot.proven = Math.max(slot.proven, upTo)
        if (slot.seq !== slot.proven) this.mayRun(slot) // more came in meanwhile: probe again
      },
      () => {
        slot.probe = undefined
      },
    )
  }

  /** Nothing of the plugin can be running on the isolate's thread: the host's thread may enter. */
  private quiet(slot: Slot): boolean {
    return slot.inIsolate.size === 0 && slot.hops === 0 && slot.creating === 0 && slot.proven === slot.seq
  }

  /** Samples the isolate's CPU time while anything may run there (see the file's header). */
  private watch(slot: Slot): void {
    if (slot.watch || slot.dead) return
    slot.cpuSeen = this.cpuOf(slot)
    slot.watch = setInterval(() => this.sample(slot), CPU_WATCH_MS)
    slot.watch.unref()
  }

  private cpuOf(slot: Slot): bigint {
    try {
      return slot.isolate.isDisposed ? slot.cpuSeen : slot.isolate.cpuTime
    } catch {
      return slot.cpuSeen
    }
  }

  private sample(slot: Slot): void {
    if (slot.dead) {
      clearInterval(slot.watch)
      slot.watch = undefined
      return
    }
    const now = this.cpuOf(slot)
    const used = Number(now - slot.cpuSeen)
    slot.cpuSeen = now
    if (this.spend(used)) return
    const budgetNs = this.opts.cpuMs * 1e6
    if (slot.inIsolate.size > 0) {
      // Charged to every call inside: with one call it is exact; with several, the first over the
      // budget recycles the isolate and the others re-run alone in quarantine, where it is exact again.
      let over: string | undefined
      for (const t of slot.inIsolate) {
        const c = (slot.charged.get(t) ?? 0) + used
        slot.charged.set(t, c)
        if (c > budgetNs && !over) over = t
      }
      if (over) this.overBudget(slot, over, (slot.charged.get(over) ?? 0) / 1e6)
      return
    }
    // No call inside: what runs is left over from finished hooks. Allowed while it averages under
    // half a core; past that, a whole budget of it recycles the isolate.
    slot.idleCpu = Math.max(0, slot.idleCpu + used - CPU_WATCH_MS * 0.5e6)
    if (slot.idleCpu > budgetNs) {
      const ms = Math.round(slot.idleCpu / 1e6)
      this.opts.onLimit?.(
        `kept its isolate busy for ${ms} ms of CPU with no hook call in progress (work a finished hook left running): isolate recycled`,
      )
      this.kill(slot, 'background CPU')
      return
    }
    if (slot.idleCpu === 0 && this.quiet(slot) && !slot.probe) {
      clearInterval(slot.watch)
      slot.watch = undefined
    }
  }

  private burstNs(): number {
    return 2 * this.opts.cpuMs * 1e6
  }

  /** Takes CPU used by any of the type's isolates from its allowance; true when that stopped the type. */
  private spend(usedNs: number): boolean {
    const now = performance.now()
    this.cpuAllowance = Math.min(this.burstNs(), this.cpuAllowance + (now - this.allowanceAt) * 1e6 * CPU_SHARE) - usedNs
    this.allowanceAt = now
    if (this.cpuAllowance >= 0) return false
    // Stopped until the allowance is back at half (one call budget): every call now fails at once.
    const stopFor = (this.burstNs() / 2 - this.cpuAllowance) / 1e6 / CPU_SHARE
    this.stoppedUntil = now + stopFor
    this.opts.onLimit?.(
      `used more than its CPU share (${CPU_SHARE} of a core on average, bursts up to ${this.burstNs() / 1e6} ms): ` +
        `its isolates were stopped; its calls wait ${Math.round(stopFor)} ms (those whose deadline comes first fail)`,
    )
    for (const s of [...this.liveSlots]) {
      for (const p of [...s.pending.values()]) this.settle(s, p.token, { outcome: this.shareOutcome(stopFor), collateral: false })
      this.kill(s, 'cpu share')
    }
    return true
  }

  private shareOutcome(stoppedForMs: number): RawOutcome {
    return { kind: 'cpuShare', share: CPU_SHARE, burstMs: this.burstNs() / 1e6, stoppedForMs: Math.round(stoppedForMs) }
  }

  private overBudget(slot: Slot, token: string, usedMs: number): void {
    if (slot.inIsolate.size === 1 && slot.pending.has(token) && !slot.enteredBusy.has(token)) {
      this.settle(slot, token, { outcome: { kind: 'cpuLimit', usedMs: Math.round(usedMs), budgetMs: this.opts.cpuMs }, collateral: false })
      this.kill(slot, token)
      return
    }
    // Not one known culprit: several calls inside, or a call that came in while work a finished hook
    // left behind may still have been running. Each re-runs alone, where the count is exact.
    const why =
      slot.inIsolate.size > 1 ? `${slot.inIsolate.size} calls were inside` : 'work a finished hook left running may have been inside'
    this.opts.onLimit?.(
      `kept its isolate busy past the CPU budget of ${this.opts.cpuMs} ms (${why}): isolate recycled, the calls re-run alone`,
    )
    this.kill(slot, 'cpu budget')
  }

  private async quarantine(hook: string, token: string, baseJson: string, argsJson: string, deadline: number): Promise<RawOutcome> {
    let slot: Slot
    try {
      slot = await this.newSlot()
    } catch (err) {
      return { kind: 'crashed', message: (err as Error).message }
    }
    try {
      return (await this.enqueue(slot, { hook, token, key: SHARED, baseJson, argsJson, deadline })).outcome
    } finally {
      this.kill(slot, 'quarantine done')
    }
  }

  private enqueue(slot: Slot, p: Omit<Pending, 'resolve'>): Promise<Settled> {
    return new Promise<Settled>((resolve) => {
      const remaining = p.deadline - Date.now()
      if (remaining <= 0) return resolve({ outcome: { kind: 'timeout', spinning: false }, collateral: false })
      const pending: Pending = { ...p, resolve }
      pending.timer = setTimeout(() => void this.onDeadline(slot, pending), remaining)
      slot.pending.set(p.token, pending)
      this.owner.set(p.token, slot)
      slot.queue.push(pending)
      if (!slot.flushScheduled) {
        // Coalesce the calls issued in this turn of the event loop (the monitor loop starts many at
        // once); a queue microtask is enough for that and adds nothing to a lone call's latency.
        slot.flushScheduled = true
        queueMicrotask(() => void this.flush(slot))
      }
    })
  }

  private settle(slot: Slot, token: string, s: Settled): void {
    const p = slot.pending.get(token)
    if (!p) return
    slot.pending.delete(token)
    if (this.owner.get(token) === slot) this.owner.delete(token)
    clearTimeout(p.timer)
    p.resolve(s)
  }

  private async flush(slot: Slot): Promise<void> {
    slot.flushScheduled = false
    const batch = slot.queue.splice(0)
    if (slot.dead) return
    const byKey = new Map<string, Pending[]>()
    for (const p of batch) byKey.set(p.key, [...(byKey.get(p.key) ?? []), p])
    for (const [key, items] of byKey) {
      let entry: Entry
      try {
        entry = await this.ensureContext(slot, key)
      } catch (err) {
        this.onBatchError(slot, items, err)
        continue
      }
      const live = items.filter((p) => slot.pending.has(p.token))
      if (!live.length || slot.dead) continue
      const budget = Math.max(1, Math.min(this.opts.cpuMs, Math.max(...live.map((p) => p.deadline)) - Date.now()))
      const json = JSON.stringify(live.map((p) => [p.hook, p.token, p.baseJson, p.argsJson]))
      const quiet = this.quiet(slot)
      for (const p of live) {
        slot.inIsolate.add(p.token)
        this.entered.set(p.token, slot)
        if (!quiet) slot.enteredBusy.add(p.token)
      }
      this.watch(slot)
      if (quiet && !this.syncOff) {
        this.batches.hostThread++
        this.runSync(slot, entry, live, json, budget)
        continue
      }
      this.batches.hop++
      slot.hops++
      const back = () => {
        slot.hops--
        this.mayRun(slot)
      }
      // No isolated-vm timeout here: the CPU watch cuts a run over budget by disposing the isolate.
      // isolated-vm's own timeout, when V8 cannot stop the script within 5 s (a 100 MiB stringify on
      // a loaded host), suspends the isolate's thread by signal wherever it is — inside a GC or
      // holding the platform's task-queue lock — and the agent's thread then waits on that lock forever.
      ;(entry.invokeMany.apply(undefined, [json], { result: { promise: true } }) as Promise<string>).then(
        (early) => {
          back()
          this.onDone(early)
        },
        (err: unknown) => {
          back()
          this.onBatchError(slot, live, err, false, budget === this.opts.cpuMs)
        },
      )
    }
  }

  /** A batch run on the host's thread: a thread hop costs 30–100 times a small hook, and an idle
   *  isolate (no call of ours inside it) cannot make the host wait for its lock. The part of each
   *  hook up to its first host callback runs here, under SYNC_BUDGET_MS of CPU; what follows a
   *  host callback runs on the isolate's thread as before. */
  private runSync(slot: Slot, entry: Entry, live: Pending[], json: string, budget: number): void {
    const timeout = Math.min(SYNC_BUDGET_MS, budget)
    let early: string
    try {
      entry.start.applySync(undefined, [json], { timeout })
      early = entry.collect.applySync(undefined, [], { timeout }) as string
    } catch (err) {
      if (timeout === SYNC_BUDGET_MS && /timed out/i.test(String((err as Error)?.message))) {
        // Over the host-thread budget, not the calls' own: re-run them (collateral) on the isolate's thread.
        this.syncOff = true
        this.kill(slot, 'host-thread budget')
        return
      }
      this.onBatchError(slot, live, err)
      return
    }
    this.onDone(early, true)
  }

  /** Batched results from the isolate: [[token, resultJson], ...]. */
  private onDone(json: string, fromHostThread = false): void {
    let batch: Array<[string, string]>
    try {
      batch = JSON.parse(json) as Array<[string, string]>
    } catch {
      return
    }
    for (const [token, res] of batch) {
      const from = this.entered.get(token)
      from?.inIsolate.delete(token)
      from?.charged.delete(token)
      from?.enteredBusy.delete(token)
      this.entered.delete(token)
      // Reported from the isolate's thread: that task may still be running microtasks.
      if (from && !fromHostThread) this.mayRun(from)
      const slot = this.owner.get(token)
      if (!slot) continue
      let outcome: RawOutcome
      try {
        // Answers are bounded inside the isolate (LIMITS.answer); this is only a second look.
        if (res.length > LIMITS.answer + 4096) throw new Error('oversized')
        const parsed = JSON.parse(res) as {
          value?: unknown
          thrown?: { message: string; code?: string }
          notSupported?: true
          limit?: { message: string; field: string }
        }
        outcome = parsed.notSupported
          ? { kind: 'notSupported' }
          : parsed.limit
            ? { kind: 'limit', message: String(parsed.limit.message), field: String(parsed.limit.field) }
            : parsed.thrown
              ? { kind: 'thrown', ...parsed.thrown }
              : { kind: 'value', value: parsed.value }
      } catch {
        outcome = { kind: 'crashed', message: 'unreadable result from the isolate' }
      }
      this.settle(slot, token, { outcome, collateral: false })
    }
  }

  private async onDeadline(slot: Slot, p: Pending): Promise<void> {
    if (!slot.pending.has(p.token)) return
    const spinning = await this.isSpinning(slot)
    if (!slot.pending.has(p.token)) return
    this.settle(slot, p.token, { outcome: { kind: 'timeout', spinning }, collateral: false })
    if (spinning) this.kill(slot, p.token)
  }

  /** `cpuCut`: the run's timeout was the CPU budget (not what was left of a deadline). */
  private onBatchError(slot: Slot, items: Pending[], err: unknown, sentinel = false, cpuCut = false): void {
    const message = String((err as Error)?.message ?? err)
    const live = items.filter((p) => slot.pending.has(p.token))
    if (/timed out/i.test(message)) {
      // V8 cut the batch's synchronous run. With one call it is the culprit; with more, all re-run
      // alone. The isolate is recycled either way: the plugin's globals may be half-updated.
      if (live.length === 1) {
        this.settle(slot, live[0]!.token, {
          outcome: cpuCut ? { kind: 'cpuLimit', usedMs: this.opts.cpuMs, budgetMs: this.opts.cpuMs } : { kind: 'timeout', spinning: true },
          collateral: false,
        })
      }
      this.kill(slot, live.length === 1 ? live[0]!.token : 'cpu budget')
      return
    }
    if (/abandoned/i.test(message) && !slot.isolate.isDisposed && !slot.dead) {
      // Either the isolate is dying (isolated-vm marks it disposed a moment later) or V8 merely
      // collected a promise nobody held: look again once the dust settles.
      setTimeout(() => {
        if (slot.isolate.isDisposed || slot.dead) this.onBatchError(slot, items, new Error('isolate disposed'))
        else if (sentinel) this.armSentinel(slot, entryFor(slot))
        else
          for (const p of items.filter((x) => slot.pending.has(x.token)))
            this.settle(slot, p.token, { outcome: { kind: 'crashed', message }, collateral: false })
      }, 20)
      return
    }
    if (slot.isolate.isDisposed || slot.dead || /disposed/i.test(message)) {
      // isolated-vm disposes an isolate on its own only when it exceeds its memory limit (async
      // calls then see "Promise was abandoned" rather than the memory message).
      const byMemory = /memory limit/i.test(message) || slot.killedBy === undefined
      const sole = slot.pending.size === 1 ? [...slot.pending.values()][0] : undefined
      if (sole && slot.killedBy === undefined) {
        this.settle(slot, sole.token, { outcome: byMemory ? { kind: 'memoryExceeded' } : { kind: 'crashed', message }, collateral: false })
      }
      this.kill(slot, byMemory ? 'memory' : 'crash')
      return
    }
    for (const p of live) {
      // The batch's run failed as a whole: nothing of these calls is left running in the isolate.
      slot.inIsolate.delete(p.token)
      this.entered.delete(p.token)
      this.settle(slot, p.token, { outcome: { kind: 'crashed', message }, collateral: false })
    }
  }

  private async isSpinning(slot: Slot): Promise<boolean> {
    if (slot.isolate.isDisposed) return false
    try {
      const c0 = slot.isolate.cpuTime
      await new Promise((r) => setTimeout(r, 20))
      if (slot.isolate.isDisposed) return false
      return Number(slot.isolate.cpuTime - c0) > 10e6
    } catch {
      return false
    }
  }

  /** Disposes a slot's isolate; every call still pending there is settled as collateral (re-run). */
  private kill(slot: Slot, by: string): void {
    if (!slot.dead) {
      slot.dead = true
      slot.killedBy ??= by
    }
    clearInterval(slot.watch)
    slot.watch = undefined
    if (this.liveSlots.delete(slot)) {
      // Without a sentinel nothing of the plugin ever ran there.
      if (!slot.sentinel) slot.markGone()
      const going = slot.gone.finally(() => this.dying.delete(going))
      this.dying.add(going)
    }
    if (this.slot === slot) this.slot = null
    for (const t of slot.inIsolate) this.entered.delete(t)
    // A lost isolate's suspended thread holds its lock: disposing it could block this thread.
    if (slot.killedBy !== 'lost' && !slot.isolate.isDisposed) {
      try {
        slot.isolate.dispose()
      } catch {
        /* already gone */
      }
    }
    const culprit = slot.killedBy === 'memory' && slot.pending.size === 1
    for (const p of [...slot.pending.values()]) {
      this.settle(
        slot,
        p.token,
        culprit
          ? { outcome: { kind: 'memoryExceeded' }, collateral: false }
          : {
              outcome: {
                kind: 'crashed',
                message: `the plugin's isolate was recycled (${slot.killedBy === 'memory' ? 'memory limit' : 'another call'})`,
              },
              collateral: slot.killedBy !== 'disposed',
            },
      )
    }
  }

  /** A promise that never settles while the isolate lives, held by the bootstrap's closure:
   *  isolated-vm rejects it when the isolate dies (memory limit), which tells us even when no call
   *  of ours is inside the isolate at that moment. */
  private armSentinel(slot: Slot, entry: Entry | undefined): void {
    if (!entry || slot.dead) return
    ;(entry.invokeMany.apply(undefined, ['__sentinel__'], { result: { promise: true } }) as Promise<unknown>).catch((err: unknown) => {
      if (slot.dead || slot.isolate.isDisposed) slot.markGone()
      this.onBatchError(slot, [...slot.pending.values()], err, true)
    })
  }

  private async ensureSlot(): Promise<Slot> {
    if (this.slot && !this.slot.dead && !this.slot.isolate.isDisposed) return this.slot
    this.slot = await this.newSlot()
    return this.slot
  }

  private async newSlot(): Promise<Slot> {
    if (this.closed) throw new Error("the plugin's sandbox was disposed")
    let made: Slot | undefined
    const isolate = new ivm.Isolate({
      memoryLimit: this.opts.memoryMb,
      onCatastrophicError: (msg: string) => this.onLost(isolate, made, msg),
    })
    this.isolatesCreated++
    try {
      const script = await isolate.compileScript(this.opts.code, { filename: `file:///plugins/${this.opts.name}.js` })
      if (this.closed) throw new Error("the plugin's sandbox was disposed")
      let markGone = () => {}
      const gone = new Promise<void>((resolve) => {
        markGone = resolve
      })
      const slot: Slot = {
        isolate,
        script,
        contexts: new Map(),
        pending: new Map(),
        inIsolate: new Set(),
        queue: [],
        flushScheduled: false,
        dead: false,
        hops: 0,
        creating: 0,
        seq: 0,
        proven: 0,
        cpuSeen: 0n,
        charged: new Map(),
        idleCpu: 0,
        enteredBusy: new Set(),
        gone,
        markGone,
      }
      this.liveSlots.add(slot)
      made = slot
      return slot
    } catch (err) {
      isolate.dispose()
      throw err
    }
  }

  /** isolated-vm gave up on an isolate and suspended its thread (which holds the isolate's lock):
   *  never touch it again — no dispose, no sync call, no finaliser — settle its calls as crashed
   *  and go on in a fresh isolate. Exiting instead (isolated-vm's advice) would let one hostile
   *  plugin take the node's heartbeat down and get it fenced. */
  private onLost(isolate: ivm.Isolate, slot: Slot | undefined, message: string): void {
    this.lost.push(isolate)
    if (this.lost.length >= LOST_ISOLATE_LIMIT && !this.disabled) {
      this.disabled = `isolated-vm lost control of ${this.lost.length} of its isolates (${message}): the type is disabled until the agent restarts`
    }
    this.opts.onCatastrophicError(
      `${message}: isolate abandoned${this.disabled ? `; ${this.disabled}` : ', the type goes on in a new one'}`,
    )
    if (!slot) return
    slot.dead = true
    slot.killedBy ??= 'lost'
    clearInterval(slot.watch)
    slot.watch = undefined
    this.liveSlots.delete(slot)
    slot.markGone() // it never will stop: nobody may wait for it
    if (this.slot === slot) this.slot = null
    for (const t of slot.inIsolate) this.entered.delete(t)
    for (const p of [...slot.pending.values()]) {
      this.settle(slot, p.token, {
        outcome: { kind: 'crashed', message: `isolated-vm lost control of the plugin's isolate (${message})` },
        collateral: false,
      })
    }
  }

  private ensureContext(slot: Slot, key: string): Promise<Entry> | Entry {
    const have = slot.contexts.get(key)
    if (have) return have
    // Plugin code runs on the isolate's thread meanwhile (the bundle's top level): the slot is not quiet.
    slot.creating++
    this.watch(slot) // the top level is cut by the CPU watch, like a hook (no isolated-vm timeout: see flush)
    const making = (async () => {
      try {
        const context = await slot.isolate.createContext()
        const fns = (await context.evalClosure(BOOTSTRAP, [this.bridgeRef, this.logRef, this.capJson, this.doneRef, LIMITS_JSON], {
          result: { reference: true },
        })) as ivm.Reference<Function[]>
        // Asynchronous gets: a synchronous one would wait for the isolate's lock on the host's thread.
        const fn = (i: number) => fns.get(i, { reference: true }) as Promise<ivm.Reference<Function>>
        const [invokeMany, start, collect] = await Promise.all([fn(0), fn(1), fn(2)])
        const entry = { context, invokeMany, start, collect }
        fns.release()
        await slot.script.run(context)
        slot.contexts.set(key, entry)
        if (!slot.sentinel) {
          slot.sentinel = true
          this.armSentinel(slot, entry)
        }
        return entry
      } finally {
        slot.creating--
      }
    })()
    slot.contexts.set(key, making)
    making.catch(() => slot.contexts.delete(key))
    return making
  }
}
