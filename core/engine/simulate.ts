// The dry run (`mccs simulate`) and the scenario runner: events go through `step` from the initial
// state; with `autoComplete`, each ready action (its `after` done) is answered in turn from a toy world
// (what runs where) unless a scripted result says otherwise, until nothing is ready.

import type { Answer, ExecStatus } from '../../sdk/src/types.js'
import type { EngineEvent } from './events.js'
import type { MainConfig, NodeName, TypeDefaults } from './model.js'
import type { Action, ActionKind, CommandOutcome, Plan } from './plan.js'
import type { EngineState } from './state.js'
import { initialState, type InitialOptions } from './align.js'
import { step, type EngineInput } from './scheduler.js'

export interface ScriptedResult {
  /** The actions it applies to: every given field must match. */
  match: { kind?: ActionKind; resource?: string; node?: NodeName; group?: string }
  status?: ExecStatus
  answer?: Answer
  recoverable?: boolean
  reason?: string
  /** Never answer (a hung or slow action: only a cancel ends it). */
  hold?: boolean
  /** The action runs (in the toy world, and the executor starts what waits on it) but its result never
   *  reaches the engine: a dropped event. */
  lost?: boolean
  /** How many matching actions it answers (default 1; 0: all). */
  times?: number
}

/** Answers the oldest action in flight that matches (typically a held one), as the executor would. */
export interface CompleteEvent {
  type: 'complete'
  match: ScriptedResult['match']
  status?: ExecStatus
  answer?: Answer
  recoverable?: boolean
  reason?: string
}

/** A node's license state changes (installed, expired): EngineInput.limited is updated, then the engine
 *  steps `licenseChange`. `limited`: why the node is now in limited mode, or null when licensed. */
export interface LicenseSimEvent {
  type: 'license'
  node: NodeName
  limited: string | null
}

export type SimEvent = (EngineEvent | CompleteEvent | LicenseSimEvent) & {
  /** Absolute time of the event (ms); default: the previous one's. */
  at?: number
}

export interface SimulateOptions extends InitialOptions {
  /** Answer every ready action (default true). */
  autoComplete?: boolean
  results?: ScriptedResult[]
  /** Resources already running before the first event, as `resource@node`. */
  running?: string[]
  startMs?: number
  initial?: EngineState
  /** Bound of steps (events plus fed-back results); past it the run stops with `quiescent: false`. */
  maxSteps?: number
  /** Nodes in limited mode at the start, and why (EngineInput.limited). */
  limited?: Record<NodeName, string>
}

export interface SimStep {
  /** Index of the input event this step belongs to (its own step or one of its fed-back results). */
  cause: number
  event: EngineEvent
  now: number
  plan: Plan
  outcome?: CommandOutcome
}

export interface SimulateResult {
  steps: SimStep[]
  state: EngineState
  /** Actions still waiting (held, or waiting for held ones). */
  inFlight: Action[]
  /** Resources running in the toy world at the end, as `resource@node`. */
  running: string[]
  quiescent: boolean
}

export function simulate(
  config: MainConfig,
  types: Record<string, Partial<TypeDefaults>>,
  nodes: NodeName[],
  events: readonly SimEvent[],
  opts: SimulateOptions = {},
): SimulateResult {
  let input: EngineInput = { config, types, nodes, ...(opts.limited ? { limited: opts.limited } : {}) }
  let state = opts.initial ?? initialState(input, opts)
  let now = opts.startMs ?? 0
  const maxSteps = opts.maxSteps ?? 100_000
  const scripts = (opts.results ?? []).map((s) => ({ ...s, left: s.times === undefined ? 1 : s.times === 0 ? Infinity : s.times }))
  const running = new Set(opts.running ?? [])
  const inFlight: Action[] = []
  const held = new Set<string>()
  const succeeded = new Set<string>()
  const steps: SimStep[] = []
  let quiescent = true

  const apply = (cause: number, event: EngineEvent): void => {
    const res = step(input, state, event, now)
    state = res.state
    const s: SimStep = { cause, event, now, plan: res.plan }
    if (res.outcome) s.outcome = res.outcome
    steps.push(s)
    for (const a of res.plan.actions) {
      if (a.kind === 'cancel') {
        const i = inFlight.findIndex((x) => x.id === a.target)
        if (i >= 0) inFlight.splice(i, 1)
      } else inFlight.push(a)
    }
  }

  const answer = (a: Action): EngineEvent | null => {
    const sc = scripts.find((s) => s.left > 0 && matches(a, s.match))
    if (sc) {
      sc.left--
      if (sc.hold) return null
    }
    const key = `${a.resource}@${a.node}`
    const status = sc?.status ?? 'done'
    let ans: Answer = sc?.answer ?? 'ok'
    if (!sc?.answer && (a.kind === 'probe' || a.kind === 'monitor')) ans = running.has(key) ? 'ok' : 'notRunning'
    const ok = status === 'done' && (ans === 'ok' || ans === 'degraded')
    if (ok && a.kind === 'online') running.add(key)
    if (ok && (a.kind === 'offline' || a.kind === 'clean')) running.delete(key)
    if (ok && a.kind === 'fence') for (const k of [...running]) if (k.endsWith(`@${a.node}`)) running.delete(k)
    if (sc?.lost) {
      if (ok) succeeded.add(a.id)
      return null
    }
    const ev: EngineEvent = { type: 'actionResult', actionId: a.id, status, answer: ans, recoverable: sc?.recoverable ?? true }
    if (sc?.reason) ev.reason = sc.reason
    return ev
  }

  events.forEach((e, i) => {
    if (!quiescent) return
    if (e.at !== undefined) now = e.at
    const { at: _at, ...event } = e
    if (event.type === 'complete') {
      const a = inFlight.find((x) => matches(x, event.match))
      if (!a) return // nothing to complete: the engine already cancelled or forgot it
      inFlight.splice(inFlight.indexOf(a), 1)
      held.delete(a.id)
      const status = event.status ?? 'done'
      const ans = event.answer ?? 'ok'
      const key = `${a.resource}@${a.node}`
      if (status === 'done' && ans === 'ok') {
        succeeded.add(a.id)
        if (a.kind === 'online') running.add(key)
        if (a.kind === 'offline' || a.kind === 'clean') running.delete(key)
      }
      const ev: EngineEvent = { type: 'actionResult', actionId: a.id, status, answer: ans, recoverable: event.recoverable ?? true }
      if (event.reason) ev.reason = event.reason
      apply(i, ev)
    } else if (event.type === 'license') {
      const limited = { ...(input.limited ?? {}) }
      if (event.limited === null) delete limited[event.node]
      else limited[event.node] = event.limited
      input = { ...input, limited }
      apply(i, { type: 'licenseChange' })
    } else apply(i, event as EngineEvent)
    if (opts.autoComplete === false) return
    for (;;) {
      if (steps.length >= maxSteps) {
        quiescent = false
        return
      }
      const ready = inFlight.find((a) => !held.has(a.id) && a.after.every((x) => succeeded.has(x)))
      if (!ready) return
      const ev = answer(ready)
      if (!ev) {
        held.add(ready.id)
        continue
      }
      inFlight.splice(inFlight.indexOf(ready), 1)
      if (ev.type === 'actionResult' && ev.status === 'done' && (ev.answer === 'ok' || ev.answer === 'degraded')) succeeded.add(ready.id)
      apply(i, ev)
    }
  })
  return { steps, state, inFlight, running: [...running].sort(), quiescent }
}

function matches(a: Action, m: ScriptedResult['match']): boolean {
  return (
    (m.kind === undefined || m.kind === a.kind) &&
    (m.resource === undefined || m.resource === a.resource) &&
    (m.node === undefined || m.node === a.node) &&
    (m.group === undefined || m.group === a.group)
  )
}
