// Loading and checking the scenarios of test/scenarios/<name>/scenario.json (format: test/scenarios/README.md).
// Plans are compared after normalising action ids to readable keys: `online db@n1 after online disk@n1`.

import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Action, Notice } from '../../core/engine/plan.js'
import type { SimulateResult } from '../../core/engine/simulate.js'
import { resourceState } from '../../core/engine/state.js'
import type { ScenarioFile as CoreScenario } from '../../core/engine/scenario.js'
export { buildConfig, runScenario } from '../../core/engine/scenario.js'

export interface ScenarioFile extends CoreScenario {
  expect: {
    events?: Record<string, EventExpectation>
    final?: FinalExpectation
  }
}

export interface EventExpectation {
  /** Actions of the event's own step (order-insensitive, exact). */
  plan?: string[]
  /** Actions of the event's step and of every result fed back because of it (order-insensitive, exact). */
  all?: string[]
  /** Notices that must appear among those steps. */
  notices?: string[]
  /** Notices that must not appear. */
  noNotices?: string[]
  outcome?: string
}

export interface FinalExpectation {
  resources?: Record<string, string>
  groups?: Record<string, string>
  activeNode?: Record<string, string | null>
  lock?: Record<string, string>
  running?: string[]
  inFlight?: string[]
  quiescent?: boolean
}

export function loadScenarios(root: string): { name: string; file: ScenarioFile }[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'scenario.json')))
    .map((d) => ({ name: d.name, file: JSON.parse(readFileSync(join(root, d.name, 'scenario.json'), 'utf8')) as ScenarioFile }))
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** Readable keys for every action of a run, by id. */
export function actionKeys(res: SimulateResult): Map<string, string> {
  const keys = new Map<string, string>()
  for (const s of res.steps) {
    for (const a of s.plan.actions) {
      keys.set(
        a.id,
        a.kind === 'cancel'
          ? `cancel ${keys.get(a.target ?? '') ?? a.target}`
          : a.kind === 'fence'
            ? `fence ${a.node}`
            : `${a.kind} ${a.resource ?? a.group ?? ''}@${a.node}`,
      )
    }
  }
  return keys
}

export function normAction(a: Action, keys: Map<string, string>): string {
  const k = keys.get(a.id)!
  if (!a.after.length) return k
  return `${k} after ${a.after
    .map((x) => keys.get(x) ?? `?${x}`)
    .sort()
    .join(', ')}`
}

export function normNotice(n: Notice): string {
  return `${n.kind} ${n.resource ?? n.group ?? ''}${n.node ? `@${n.node}` : ''}${n.code ? ` ${n.code}` : ''}`
}

/** A printable digest of a run: per input event, its steps' actions and notices. */
export function digest(res: SimulateResult): Record<string, { plan: string[]; all: string[]; notices: string[]; outcome?: string }> {
  const keys = actionKeys(res)
  const out: Record<string, { plan: string[]; all: string[]; notices: string[]; outcome?: string }> = {}
  for (const s of res.steps) {
    const first = !out[String(s.cause)]
    const e = (out[String(s.cause)] ??= { plan: [], all: [], notices: [] })
    const acts = s.plan.actions.map((a) => normAction(a, keys))
    if (first) e.plan.push(...acts)
    e.all.push(...acts)
    e.notices.push(...s.plan.notices.map(normNotice))
    if (s.outcome) e.outcome = s.outcome.status === 'accepted' ? 'accepted' : s.outcome.code
  }
  return out
}

/** Every mismatch between a run and the scenario's expectations, as readable lines. */
export function check(f: ScenarioFile, res: SimulateResult): string[] {
  const problems: string[] = []
  const dig = digest(res)
  for (const [i, exp] of Object.entries(f.expect.events ?? {})) {
    const got = dig[i] ?? { plan: [], all: [], notices: [] }
    const ev = JSON.stringify(f.events[Number(i)])
    if (exp.plan) diffSet(`event ${i} ${ev} plan`, exp.plan, got.plan, problems)
    if (exp.all) diffSet(`event ${i} ${ev} all actions`, exp.all, got.all, problems)
    for (const n of exp.notices ?? [])
      if (!got.notices.includes(n)) problems.push(`event ${i} ${ev}: missing notice "${n}"; got:\n    ${got.notices.join('\n    ')}`)
    for (const n of exp.noNotices ?? []) if (got.notices.includes(n)) problems.push(`event ${i} ${ev}: unexpected notice "${n}"`)
    if (exp.outcome && exp.outcome !== got.outcome) problems.push(`event ${i} ${ev}: outcome expected ${exp.outcome}, got ${got.outcome}`)
  }
  const fin = f.expect.final
  if (fin) {
    const st = res.state
    for (const [k, v] of Object.entries(fin.resources ?? {})) {
      const [r, n] = k.split('@')
      const got = resourceState(st, r!, n!)?.state
      if (got !== v) problems.push(`final resource ${k}: expected ${v}, got ${got}`)
    }
    for (const [k, v] of Object.entries(fin.groups ?? {})) {
      const [g, n] = k.split('@')
      const got = st.groups[g!]?.nodes[n!]
      if (got !== v) problems.push(`final group ${k}: expected ${v}, got ${got}`)
    }
    for (const [g, v] of Object.entries(fin.activeNode ?? {})) {
      const got = st.groups[g]?.activeNode
      if (got !== v) problems.push(`final activeNode ${g}: expected ${v}, got ${got}`)
    }
    for (const [g, v] of Object.entries(fin.lock ?? {})) {
      const got = st.groups[g]?.lock
      if (got !== v) problems.push(`final lock ${g}: expected ${v}, got ${got}`)
    }
    if (fin.running) diffSet('final running', fin.running, res.running, problems)
    const keys = actionKeys(res)
    if (fin.inFlight)
      diffSet(
        'final in flight',
        fin.inFlight,
        res.inFlight.map((a) => keys.get(a.id)!),
        problems,
      )
    if ((fin.quiescent ?? true) !== res.quiescent) problems.push(`quiescent: expected ${fin.quiescent ?? true}, got ${res.quiescent}`)
  }
  return problems
}

function diffSet(what: string, want: string[], got: string[], problems: string[]): void {
  const a = [...want].sort()
  const b = [...got].sort()
  if (JSON.stringify(a) === JSON.stringify(b)) return
  const missing = a.filter((x) => {
    const i = b.indexOf(x)
    if (i >= 0) {
      b.splice(i, 1)
      return false
    }
    return true
  })
  problems.push(
    `${what} differs:\n  - missing: ${JSON.stringify(missing)}\n  + extra:   ${JSON.stringify(b)}\n  (got all: ${JSON.stringify([...got].sort())})`,
  )
}
