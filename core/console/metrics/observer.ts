// Counters of what the engine did on this node, read from the agent's 'step' events (emitted after each
// engine step): action results and durations by kind, fences by node and result, notices by kind. Only
// the node that runs the engine (the coordinator, or a single node) counts; a counter starts at 0 when
// the agent starts (Prometheus' rate() handles the reset).
//
// An action starts when its plan is submitted or, if it follows others (`after`), when the last of them
// finished (the executor's rule): that is when its duration starts here too.
import type { Agent } from '../../agent/agent.js'
import type { Action, EngineEvent, StepResult } from '../../engine/index.js'

/** Upper bounds (seconds) of the action-duration histogram: a monitor in ms up to a slow start in minutes. */
export const DURATION_BOUNDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
/** How many finished action ids are remembered for the `after` rule (older ones finished long ago). */
const KEEP_FINISHED = 2000
const KEEP_PENDING = 10_000

export interface Histogram {
  bounds: number[]
  counts: number[]
  sum: number
  count: number
}

export class EngineCounters {
  readonly actionResults = new Map<string, number>() // `${kind}\0${status}`
  readonly durations = new Map<string, Histogram>() // kind
  readonly fences = new Map<string, number>() // `${node}\0${result}`
  readonly notices = new Map<string, number>() // kind
  steps = 0
  private readonly pending = new Map<string, { action: Action; submitted: number }>()
  private readonly finished = new Map<string, number>()
  private readonly onStep = (ev: EngineEvent, r: StepResult) => this.step(ev, r, performance.now())

  constructor(private readonly agent: Agent) {
    agent.on('step', this.onStep)
  }

  close(): void {
    this.agent.off('step', this.onStep)
  }

  /** One engine step (exposed for tests with a chosen clock). */
  step(ev: EngineEvent, r: StepResult, now: number): void {
    this.steps++
    if (ev.type === 'actionResult') this.result(ev.actionId, ev.status === 'done' ? ev.answer : ev.status, ev.status, now)
    for (const a of r.plan.actions) {
      if (a.kind === 'cancel') continue
      if (this.pending.size >= KEEP_PENDING) this.pending.delete(this.pending.keys().next().value!)
      this.pending.set(a.id, { action: a, submitted: now })
    }
    for (const n of r.plan.notices) bump(this.notices, n.kind)
  }

  private result(id: string, answer: string, status: string, now: number): void {
    const p = this.pending.get(id)
    if (!p) return // an action of an earlier coordinator, or one planned before the console started
    this.pending.delete(id)
    const a = p.action
    bump(this.actionResults, `${a.kind}\0${status}`)
    if (a.kind === 'fence') bump(this.fences, `${a.node}\0${status === 'done' ? answer : status}`)
    const start = Math.max(p.submitted, ...a.after.map((d) => this.finished.get(d) ?? -Infinity))
    if (this.finished.size >= KEEP_FINISHED) this.finished.delete(this.finished.keys().next().value!)
    this.finished.set(id, now)
    if (status === 'cancelled') return // never ran, or was cut: not a duration of the action
    const h = this.durations.get(a.kind) ?? { bounds: DURATION_BOUNDS, counts: DURATION_BOUNDS.map(() => 0), sum: 0, count: 0 }
    const s = Math.max(0, now - start) / 1000
    const i = DURATION_BOUNDS.findIndex((b) => s <= b)
    if (i >= 0) h.counts[i]!++
    h.sum += s
    h.count++
    this.durations.set(a.kind, h)
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1)
}
