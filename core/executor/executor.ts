// Runs the engine's plans: each action starts once every action in its `after` list succeeded
// (plan.ts, rule 1); independent actions run in parallel; `cancel` drops a waiting action or aborts a
// running one (its hook is killed through the call's abort signal). Every action except `cancel` is
// answered with exactly one actionResult (rule 5) — a cancelled one too, since the engine has already
// forgotten it and ignores the late result.
import type { Action, Plan, ActionResultEvent } from '../engine/index.js'
import type { Answer, ExecStatus } from '../../sdk/src/types.js'
import type { ErrorCode } from '../errors.js'

/** `code`: set when the node refused to run the action (the code's words are not repeated in `reason`). */
export interface ActionOutcome {
  status: ExecStatus
  answer: Answer
  recoverable: boolean
  code?: ErrorCode
  reason?: string
}
export type ActionRunner = (action: Action, signal: AbortSignal) => Promise<ActionOutcome>

interface Entry {
  action: Action
  state: 'waiting' | 'running' | 'ok' | 'failed' | 'cancelled'
  controller?: AbortController
  /** Actions waiting for this one. */
  dependents: string[]
}

export class Executor {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly run: ActionRunner,
    private readonly report: (ev: ActionResultEvent) => void,
  ) {}

  submit(plan: Plan): void {
    for (const a of plan.actions) if (a.kind === 'cancel' && a.target) this.cancel(a.target)
    const fresh: Entry[] = []
    for (const a of plan.actions) {
      if (a.kind === 'cancel') continue
      const e: Entry = { action: a, state: 'waiting', dependents: [] }
      this.entries.set(a.id, e)
      fresh.push(e)
    }
    for (const e of fresh) for (const dep of e.action.after) this.entries.get(dep)?.dependents.push(e.action.id)
    for (const e of fresh) this.maybeStart(e)
  }

  /** Cancels every action of a group (flush needs nothing more than the engine's cancel actions, but
   *  an agent shutdown uses this). */
  cancelAll(): void {
    for (const id of [...this.entries.keys()]) this.cancel(id)
  }

  inFlight(): Action[] {
    return [...this.entries.values()].filter((e) => e.state === 'waiting' || e.state === 'running').map((e) => e.action)
  }

  private cancel(id: string): void {
    const e = this.entries.get(id)
    if (!e) return
    if (e.state === 'waiting') {
      e.state = 'cancelled'
      this.finish(e, { status: 'cancelled', answer: 'failed', recoverable: true, reason: 'cancelled before it started' })
    } else if (e.state === 'running') {
      e.controller?.abort()
    }
  }

  private maybeStart(e: Entry): void {
    if (e.state !== 'waiting') return
    for (const dep of e.action.after) {
      const d = this.entries.get(dep)
      // A predecessor missing from the table has finished ok and been forgotten (entries are only
      // dropped once ok and without waiting dependents), or belongs to an older plan.
      if (d && d.state !== 'ok') return
    }
    e.state = 'running'
    e.controller = new AbortController()
    let outcome: Promise<ActionOutcome>
    try {
      outcome = this.run(e.action, e.controller.signal)
    } catch (err) {
      outcome = Promise.resolve({ status: 'crashed', answer: 'failed', recoverable: true, reason: String(err) })
    }
    outcome.then(
      (o) => this.finish(e, e.controller?.signal.aborted && o.status !== 'done' ? { ...o, status: 'cancelled' } : o),
      (err: unknown) =>
        this.finish(e, { status: 'crashed', answer: 'failed', recoverable: true, reason: String((err as Error)?.message ?? err) }),
    )
  }

  private finish(e: Entry, o: ActionOutcome): void {
    if (e.state === 'running' || e.state === 'waiting') e.state = o.status === 'done' && o.answer === 'ok' ? 'ok' : 'failed'
    const ok = e.state === 'ok'
    this.report({
      type: 'actionResult',
      actionId: e.action.id,
      status: o.status,
      answer: o.answer,
      recoverable: o.recoverable,
      ...(o.code ? { code: o.code } : {}),
      ...(o.reason ? { reason: o.reason } : {}),
    })
    if (ok)
      for (const id of e.dependents) {
        const d = this.entries.get(id)
        if (d) this.maybeStart(d)
      }
    this.prune(e)
  }

  /** Drops finished entries nobody waits for any more. */
  private prune(e: Entry): void {
    const waiting = e.dependents.some((id) => this.entries.get(id)?.state === 'waiting')
    if (e.state !== 'waiting' && e.state !== 'running' && !waiting) {
      this.entries.delete(e.action.id)
      for (const dep of e.action.after) {
        const d = this.entries.get(dep)
        if (d) this.prune(d)
      }
    }
  }
}
