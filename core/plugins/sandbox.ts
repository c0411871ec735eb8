// One plugin type's sandbox: an isolated-vm isolate with a memory limit, and contexts in it —
// one shared context per type (default) or one per resource (`contextMode: 'perResource'`);
// docs/BENCHMARKS.md gives the measured cost of each. The isolate never sees Node: no require,
// process, timers or host objects; only the bridge function kept in the bootstrap's closure.
//
// Faults: a hook that spins past its CPU budget is terminated by V8; one that spins past its wall
// deadline gets the isolate disposed; an isolate that exceeds its memory limit is disposed by
// isolated-vm. A disposed isolate is recreated on the next call. Calls of other resources that were
// in flight on the dead isolate are re-run once in a quarantine isolate of their own, so a bad
// resource costs only itself a failed action (hooks are idempotent by contract).
import ivm from 'isolated-vm'
import { BOOTSTRAP } from './isolate-bootstrap.js'

export type ContextMode = 'shared' | 'perResource'

export interface SandboxOptions {
  name: string
  code: string
  memoryMb: number
  /** CPU budget of one synchronous run inside the isolate. */
  cpuMs: number
  contextMode: ContextMode
  capSpec: Array<[string, string[]]>
  bridge: (token: string, cap: string, method: string, argsJson: string) => Promise<string>
  log: (token: string, level: string, msg: string, dataJson: string) => void
  onCatastrophicError: (message: string) => void
}

export type RawOutcome =
  | { kind: 'value'; value: unknown }
  | { kind: 'thrown'; message: string; code?: string }
  | { kind: 'notSupported' }
  | { kind: 'timeout'; spinning: boolean }
  | { kind: 'memoryExceeded' }
  | { kind: 'crashed'; message: string }

interface Slot {
  isolate: ivm.Isolate
  script: ivm.Script
  contexts: Map<string, { context: ivm.Context; invoke: ivm.Reference<Function> }>
  /** Tokens of calls running in this isolate. */
  inflight: Set<string>
  dead: boolean
  /** Why we disposed it ourselves (so in-flight calls know they are collateral). */
  killedBy?: string
}

const SHARED = '*'

export class PluginSandbox {
  private slot: Slot | null = null
  private readonly bridgeRef: ivm.Reference
  private readonly logRef: ivm.Reference
  private readonly capJson: string
  /** Isolates created over this sandbox's life (for status and tests). */
  isolatesCreated = 0

  constructor(private readonly opts: SandboxOptions) {
    this.bridgeRef = new ivm.Reference(opts.bridge)
    this.logRef = new ivm.Reference(opts.log)
    this.capJson = JSON.stringify(opts.capSpec)
  }

  /** Compiles the plugin in a fresh isolate: load-time errors surface here, not on first use. */
  async warm(): Promise<void> {
    const slot = await this.ensureSlot()
    await this.ensureContext(slot, SHARED)
  }

  async invoke(hook: string, token: string, resource: string, baseJson: string, argsJson: string, deadline: number): Promise<RawOutcome> {
    let slot: Slot
    try {
      slot = await this.ensureSlot()
    } catch (err) {
      return { kind: 'crashed', message: `cannot start the plugin's isolate: ${(err as Error).message}` }
    }
    const first = await this.run(slot, this.opts.contextMode === 'perResource' ? resource : SHARED, hook, token, baseJson, argsJson, deadline)
    if (first.collateral && Date.now() < deadline) {
      // Another call killed the isolate under us: re-run alone so the culprit cannot hurt us twice.
      return this.quarantine(hook, token, baseJson, argsJson, deadline)
    }
    return first.outcome
  }

  /** Disposes the isolate (tests, plugin unload). */
  dispose(): void {
    if (this.slot) this.kill(this.slot, 'disposed')
    this.slot = null
  }

  stats(): { isolates: number; alive: boolean; contexts: number; heap?: ivm.HeapStatistics } {
    const s = this.slot && !this.slot.dead ? this.slot : null
    return { isolates: this.isolatesCreated, alive: !!s, contexts: s?.contexts.size ?? 0, ...(s ? { heap: s.isolate.getHeapStatisticsSync() } : {}) }
  }

  private async quarantine(hook: string, token: string, baseJson: string, argsJson: string, deadline: number): Promise<RawOutcome> {
    let slot: Slot
    try {
      slot = await this.newSlot()
    } catch (err) {
      return { kind: 'crashed', message: (err as Error).message }
    }
    try {
      const r = await this.run(slot, SHARED, hook, token, baseJson, argsJson, deadline)
      return r.outcome
    } finally {
      this.kill(slot, 'quarantine done')
    }
  }

  private async run(slot: Slot, key: string, hook: string, token: string, baseJson: string, argsJson: string, deadline: number):
    Promise<{ outcome: RawOutcome; collateral: boolean }> {
    let entry
    try {
      entry = await this.ensureContext(slot, key)
    } catch (err) {
      return this.classify(slot, token, err)
    }
    const remaining = deadline - Date.now()
    if (remaining <= 0) return { outcome: { kind: 'timeout', spinning: false }, collateral: false }
    slot.inflight.add(token)
    let timer: NodeJS.Timeout | undefined
    const wall = new Promise<'wall'>((resolve) => { timer = setTimeout(() => resolve('wall'), remaining) })
    const call = entry.invoke.apply(undefined, [hook, token, baseJson, argsJson], {
      timeout: Math.max(1, Math.min(this.opts.cpuMs, remaining)),
      result: { promise: true },
    }) as Promise<string>
    try {
      const res = await Promise.race([call, wall])
      if (res === 'wall') {
        call.catch(() => {}) // settles later (or never); nothing waits for it
        const spinning = await this.isSpinning(slot)
        if (spinning) this.kill(slot, token)
        return { outcome: { kind: 'timeout', spinning }, collateral: false }
      }
      const parsed = JSON.parse(res) as { value?: unknown; thrown?: { message: string; code?: string }; notSupported?: true }
      if (parsed.notSupported) return { outcome: { kind: 'notSupported' }, collateral: false }
      if (parsed.thrown) return { outcome: { kind: 'thrown', ...parsed.thrown }, collateral: false }
      return { outcome: { kind: 'value', value: parsed.value }, collateral: false }
    } catch (err) {
      return this.classify(slot, token, err)
    } finally {
      clearTimeout(timer)
      slot.inflight.delete(token)
    }
  }

  private classify(slot: Slot, token: string, err: unknown): { outcome: RawOutcome; collateral: boolean } {
    const message = String((err as Error)?.message ?? err)
    if (/timed out/i.test(message)) {
      // V8 terminated this call's own synchronous run: it is the culprit. Recycle the isolate: the
      // plugin's globals may be half-updated.
      this.kill(slot, token)
      return { outcome: { kind: 'timeout', spinning: true }, collateral: false }
    }
    if (slot.isolate.isDisposed || slot.dead) {
      const collateral = slot.killedBy !== undefined && slot.killedBy !== token
      // isolated-vm disposes an isolate on its own only when it exceeds its memory limit (async calls
      // then see "Promise was abandoned" rather than the memory message).
      const byMemory = /memory limit/i.test(message) || (slot.isolate.isDisposed && slot.killedBy === undefined)
      this.kill(slot, slot.killedBy ?? (byMemory ? 'memory' : 'crash'))
      // With one call in flight the culprit is certain; with several, each re-runs in quarantine.
      if (!collateral && slot.inflight.size > 1) return { outcome: { kind: byMemory ? 'memoryExceeded' : 'crashed', message }, collateral: true }
      if (collateral) return { outcome: { kind: 'crashed', message }, collateral: true }
      return { outcome: byMemory ? { kind: 'memoryExceeded' } : { kind: 'crashed', message }, collateral: false }
    }
    return { outcome: { kind: 'crashed', message }, collateral: false }
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

  private kill(slot: Slot, by: string): void {
    if (!slot.dead) {
      slot.dead = true
      slot.killedBy ??= by
    }
    if (this.slot === slot) this.slot = null
    if (!slot.isolate.isDisposed) {
      try { slot.isolate.dispose() } catch { /* already gone */ }
    }
  }

  private async ensureSlot(): Promise<Slot> {
    if (this.slot && !this.slot.dead && !this.slot.isolate.isDisposed) return this.slot
    this.slot = await this.newSlot()
    return this.slot
  }

  private async newSlot(): Promise<Slot> {
    const isolate = new ivm.Isolate({ memoryLimit: this.opts.memoryMb, onCatastrophicError: this.opts.onCatastrophicError })
    this.isolatesCreated++
    try {
      const script = await isolate.compileScript(this.opts.code, { filename: `file:///plugins/${this.opts.name}.js` })
      return { isolate, script, contexts: new Map(), inflight: new Set(), dead: false }
    } catch (err) {
      isolate.dispose()
      throw err
    }
  }

  private async ensureContext(slot: Slot, key: string): Promise<{ context: ivm.Context; invoke: ivm.Reference<Function> }> {
    const have = slot.contexts.get(key)
    if (have) return have
    const context = await slot.isolate.createContext()
    const invoke = await context.evalClosure(BOOTSTRAP, [this.bridgeRef, this.logRef, this.capJson], {
      result: { reference: true },
      timeout: this.opts.cpuMs,
    }) as ivm.Reference<Function>
    await slot.script.run(context, { timeout: this.opts.cpuMs })
    const entry = { context, invoke }
    slot.contexts.set(key, entry)
    return entry
  }

  /** Drops a resource's context (resource deleted). */
  releaseContext(resource: string): void {
    const s = this.slot
    const e = s?.contexts.get(resource)
    if (s && e && this.opts.contextMode === 'perResource') {
      s.contexts.delete(resource)
      e.invoke.release()
      e.context.release()
    }
  }
}
