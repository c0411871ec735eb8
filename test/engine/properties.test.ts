// Property tests of the scheduler: random dependency DAGs, random operator commands, monitor results,
// node losses and action failures, executed by a random-order executor that keeps the plan's `after`
// edges. A small seeded PRNG makes every failure reproducible (the seed is in the message).

import t from 'tap'
import { step, initialState, type EngineInput } from '../../core/engine/scheduler.js'
import type { EngineEvent } from '../../core/engine/events.js'
import { isOperatorCommand } from '../../core/engine/events.js'
import type { MainConfig } from '../../core/engine/model.js'
import type { Action } from '../../core/engine/plan.js'
import { pendingActions, resourceState, type EngineState } from '../../core/engine/state.js'

/** mulberry32: tiny, fast, good enough to explore. */
function prng(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
    chance: (p) => next() < p,
  }
}
type Rng = ReturnType<typeof prng>

function randomConfig(rng: Rng): { input: EngineInput; parents: Map<string, string[]>; children: Map<string, string[]> } {
  const nodes = ['n1', 'n2', 'n3'].slice(0, 1 + rng.int(3))
  const groupCount = 1 + rng.int(2)
  const groups = Array.from({ length: groupCount }, (_, i) => {
    const gn = [...nodes].sort(() => rng.next() - 0.5)
    return {
      name: `g${i}`,
      nodes: gn.slice(0, 1 + rng.int(gn.length)),
      failoverOnFailure: rng.chance(0.7),
      autoStart: rng.chance(0.5),
      autoFailback: rng.chance(0.2),
    }
  })
  const count = 1 + rng.int(12)
  const resources = Array.from({ length: count }, (_, i) => ({
    name: `r${i}`,
    type: 'dummy',
    group: groups[rng.int(groupCount)]!.name,
    critical: rng.chance(0.8),
    attrs: {},
    nodeAttrs: {},
    monitored: rng.chance(0.9),
    policy: {
      toleranceLimit: rng.int(2),
      restartLimit: rng.int(3),
      onlineRetryLimit: rng.int(2),
      monitorTimeoutLimit: 1 + rng.int(3),
      confidenceIntervalS: 30,
      failureTimeoutS: rng.pick([0, 0, 30]),
    },
  }))
  const dependencies: { parent: string; child: string }[] = []
  // Edges only from a later to an earlier resource of the same group: always a DAG.
  for (let j = 0; j < count; j++) {
    for (let i = 0; i < j; i++) {
      if (resources[i]!.group === resources[j]!.group && rng.chance(0.3)) dependencies.push({ parent: `r${j}`, child: `r${i}` })
    }
  }
  const config: MainConfig = { generation: 1, groups, resources, dependencies, types: {} }
  const parents = new Map<string, string[]>()
  const children = new Map<string, string[]>()
  for (const r of resources) {
    parents.set(r.name, [])
    children.set(r.name, [])
  }
  for (const d of dependencies) {
    parents.get(d.child)!.push(d.parent)
    children.get(d.parent)!.push(d.child)
  }
  return { input: { config, types: {}, nodes }, parents, children }
}

interface Run {
  input: EngineInput
  state: EngineState
  now: number
  inFlight: Action[]
  succeeded: Set<string>
  /** What runs as the cluster made it: online succeeded, not taken down or killed since (`r@n`). */
  done: Set<string>
  /** The world the monitors see. */
  running: Set<string>
  up: Set<string>
  violations: string[]
  /** The last events and plans, shown when a property fails. */
  trace: string[]
  groupOf: Map<string, string>
  parents: Map<string, string[]>
  children: Map<string, string[]>
}

function apply(run: Run, ev: EngineEvent): void {
  const before = run.state
  const res = step(run.input, run.state, ev, run.now)
  run.state = res.state
  run.trace.push(
    `${JSON.stringify(ev)} -> ${res.plan.actions.map((a) => `${a.id}:${a.kind} ${a.resource ?? ''}@${a.node}${a.after.length ? `<${a.after}` : ''}${a.target ? `>${a.target}` : ''}`).join(' ')} | ${res.plan.notices.map((n) => `${n.kind} ${n.resource ?? n.group ?? ''}@${n.node ?? ''}`).join(', ')}`,
  )
  if (run.trace.length > 60) run.trace.shift()
  // nextDeadline is a lower bound of the deadlines in flight (a quiet tick trusts it and looks no further).
  const bound = res.state.nextDeadline
  if (bound !== undefined) {
    for (const a of pendingActions(res.state)) {
      if (bound === null || a.deadline === undefined || a.deadline < bound)
        run.violations.push(`${a.id} due at ${a.deadline}, before nextDeadline ${bound}`)
    }
  }
  // A locked group is moved only by operator commands (and the results of their actions).
  if (!isOperatorCommand(ev) && ev.type !== 'actionResult') {
    for (const a of res.plan.actions) {
      if ((a.kind === 'online' || a.kind === 'offline') && a.group && before.groups[a.group]?.lock !== 'none') {
        run.violations.push(`${ev.type} planned ${a.kind} ${a.resource}@${a.node} for locked ${a.group}`)
      }
    }
    for (const [g, gs] of Object.entries(before.groups)) {
      const after = run.state.groups[g]!.activeNode
      if (gs.lock !== 'none' && gs.activeNode !== null && after !== null && after !== gs.activeNode) {
        run.violations.push(`${ev.type} moved locked ${g} from ${gs.activeNode} to ${after}`)
      }
    }
  }
  for (const a of res.plan.actions) {
    if (a.kind === 'cancel') {
      const i = run.inFlight.findIndex((x) => x.id === a.target)
      if (i >= 0) run.inFlight.splice(i, 1)
    } else run.inFlight.push(a)
  }
}

/** Executes ready actions in random order, checking the ordering invariants, until none is ready.
 *  `lossP`: the chance that an action runs but its result never reaches the engine (a dropped event). */
function settle(run: Run, rng: Rng, failP: number, lossP = 0): boolean {
  for (let guard = 0; guard < 3000; guard++) {
    const ready = run.inFlight.filter((a) => a.after.every((x) => run.succeeded.has(x)) && (run.up.has(a.node) || a.kind === 'fence'))
    if (!ready.length) return true
    const a = rng.pick(ready)
    run.inFlight.splice(run.inFlight.indexOf(a), 1)
    const key = `${a.resource}@${a.node}`
    if (a.kind === 'online') {
      for (const c of run.children.get(a.resource!) ?? []) {
        // A child killed behind the engine's back (and not yet noticed) is the world's doing, not the plan's.
        if (!run.done.has(`${c}@${a.node}`) && resourceState(run.state, c, a.node)?.state !== 'online') {
          run.violations.push(`online ${key} ran while child ${c} was not online`)
        }
      }
      const g = run.groupOf.get(a.resource!)!
      for (const x of run.done) {
        const [r, n] = x.split('@')
        if (n !== a.node && run.groupOf.get(r!) === g) run.violations.push(`online ${key} while ${g} has ${x} online elsewhere`)
      }
    }
    if (a.kind === 'offline' || a.kind === 'clean') {
      for (const p of run.parents.get(a.resource!) ?? []) {
        if (run.done.has(`${p}@${a.node}`)) run.violations.push(`${a.kind} ${key} ran while parent ${p} was online`)
      }
    }
    let ok = !rng.chance(failP)
    let answer: 'ok' | 'notRunning' | 'failed' = ok ? 'ok' : 'failed'
    if (a.kind === 'probe' || a.kind === 'monitor') {
      ok = true
      answer = run.running.has(key) ? 'ok' : 'notRunning'
    }
    if (ok && a.kind === 'online') {
      run.done.add(key)
      run.running.add(key)
    }
    if (ok && (a.kind === 'offline' || a.kind === 'clean')) {
      run.done.delete(key)
      run.running.delete(key)
    }
    if (ok && a.kind === 'fence') {
      for (const x of [...run.done]) if (x.endsWith(`@${a.node}`)) run.done.delete(x)
      for (const x of [...run.running]) if (x.endsWith(`@${a.node}`)) run.running.delete(x)
      run.up.delete(a.node)
    }
    if (ok) run.succeeded.add(a.id)
    if (lossP && rng.chance(lossP)) continue
    apply(run, { type: 'actionResult', actionId: a.id, status: 'done', answer, recoverable: rng.chance(0.9) })
  }
  return false
}

function randomEvent(run: Run, rng: Rng): EngineEvent {
  const { config, nodes } = run.input
  const g = rng.pick(config.groups).name
  const r = config.resources.length ? rng.pick(config.resources).name : 'none'
  const n = rng.pick(nodes)
  const user = 'prop'
  const roll = rng.int(100)
  if (roll < 30) {
    const rs = config.resources.filter((x) => config.groups.find((y) => y.name === x.group)!.nodes.some((m) => run.up.has(m)))
    if (rs.length) {
      const res = rng.pick(rs)
      const node = rng.pick(config.groups.find((y) => y.name === res.group)!.nodes.filter((m) => run.up.has(m)))
      const key = `${res.name}@${node}`
      if (rng.chance(0.3)) {
        run.running.delete(key)
        run.done.delete(key)
      } // the world breaks it
      const st = rng.int(10)
      if (st === 0) return { type: 'monitorResult', resource: res.name, node, status: 'timeout', answer: 'unknown', recoverable: true }
      if (st === 1) return { type: 'monitorResult', resource: res.name, node, status: 'done', answer: 'unknown', recoverable: true }
      return {
        type: 'monitorResult',
        resource: res.name,
        node,
        status: 'done',
        answer: run.running.has(key) ? 'ok' : 'notRunning',
        recoverable: rng.chance(0.9),
      }
    }
  }
  if (roll < 40) return { type: 'tick' }
  if (roll < 48 && nodes.length > 1) {
    const m = rng.pick(['down', 'fenced', 'up'] as const)
    if (m === 'down') {
      run.up.delete(n)
      run.inFlight = run.inFlight.filter((a) => a.node !== n || a.kind === 'fence')
    }
    if (m === 'fenced') {
      run.up.delete(n)
      run.inFlight = run.inFlight.filter((a) => a.node !== n || a.kind === 'fence')
      for (const x of [...run.done]) if (x.endsWith(`@${n}`)) run.done.delete(x)
      for (const x of [...run.running]) if (x.endsWith(`@${n}`)) run.running.delete(x)
    }
    if (m === 'up') run.up.add(n)
    return { type: 'nodeChange', node: n, membership: m }
  }
  const cmds: EngineEvent[] = [
    { type: 'groupOnline', group: g, user },
    { type: 'groupOnline', group: g, node: n, user },
    { type: 'groupOffline', group: g, user },
    { type: 'groupSwitch', group: g, user },
    { type: 'groupLock', group: g, persistent: rng.chance(0.5), user },
    { type: 'groupUnlock', group: g, user },
    { type: 'groupClear', group: g, user },
    { type: 'groupFlush', group: g, user },
    { type: 'groupProbe', group: g, user },
    { type: 'resourceOnline', resource: r, user },
    { type: 'resourceOffline', resource: r, user },
    { type: 'groupFailover', group: g, enabled: rng.chance(0.5), user },
  ]
  return rng.pick(cmds)
}

t.test('random DAGs, faults and commands keep the invariants', async (t) => {
  const runs = 2000
  let steps = 0
  for (let seed = 1; seed <= runs; seed++) {
    const rng = prng(seed)
    const { input, parents, children } = randomConfig(rng)
    const run: Run = {
      input,
      state: initialState(input),
      now: 0,
      inFlight: [],
      succeeded: new Set(),
      done: new Set(),
      running: new Set(),
      up: new Set(input.nodes),
      violations: [],
      trace: [],
      parents,
      children,
      groupOf: new Map(input.config.resources.map((x) => [x.name, x.group])),
    }
    const failP = rng.pick([0, 0.05, 0.2])
    apply(run, { type: 'start' })
    let quiet = settle(run, rng, failP)
    const events = 10 + rng.int(40)
    for (let i = 0; i < events && quiet && !run.violations.length; i++) {
      run.now += rng.int(20_000)
      apply(run, randomEvent(run, rng))
      quiet = settle(run, rng, failP)
      steps++
    }
    if (!quiet) run.violations.push('feedback loop did not reach quiescence within 3000 results')
    // Quiescent: nothing the engine waits for is left unanswered, nothing stuck behind a failed action.
    if (quiet && run.inFlight.some((a) => run.up.has(a.node)))
      run.violations.push(`stuck actions: ${run.inFlight.map((a) => `${a.kind} ${a.resource}@${a.node}`).join(', ')}`)
    const waiting = pendingActions(run.state)
    if (quiet && run.inFlight.length === 0 && waiting.length)
      run.violations.push(`engine still waits for ${waiting.map((a) => a.id).join(', ')}`)
    if (seed % 97 === 0) t.same(JSON.parse(JSON.stringify(run.state)), run.state, `seed ${seed}: state is plain JSON`)
    if (run.violations.length) {
      t.fail(
        `seed ${seed}: ${run.violations.slice(0, 5).join('\n')}\nconfig: ${JSON.stringify({ groups: input.config.groups, deps: input.config.dependencies, res: input.config.resources.map((x) => `${x.name}:${x.group}${x.critical ? '' : ' (non-critical)'}`) })}\ntrace:\n${run.trace.join('\n')}`,
      )
      break
    }
  }
  t.pass(`${runs} random runs, ${steps} events`)
})

t.test('lost results never leave the engine waiting past a deadline', async (t) => {
  // The same random runs, but some results never reach the engine. Then the losses stop and time
  // passes: one tick past every deadline must end every wait, and what it plans must complete.
  const runs = 1000
  let lostCount = 0
  for (let seed = 1; seed <= runs; seed++) {
    const rng = prng(seed * 104729)
    const { input, parents, children } = randomConfig(rng)
    const run: Run = {
      input,
      state: initialState(input),
      now: 0,
      inFlight: [],
      succeeded: new Set(),
      done: new Set(),
      running: new Set(),
      up: new Set(input.nodes),
      violations: [],
      trace: [],
      parents,
      children,
      groupOf: new Map(input.config.resources.map((x) => [x.name, x.group])),
    }
    const lossP = rng.pick([0.05, 0.2])
    apply(run, { type: 'start' })
    let quiet = settle(run, rng, 0.05, lossP)
    for (let i = 0, n = 10 + rng.int(30); i < n && quiet && !run.violations.length; i++) {
      run.now += rng.int(20_000)
      apply(run, randomEvent(run, rng))
      quiet = settle(run, rng, 0.05, lossP)
    }
    for (let round = 0; round < 3 && quiet; round++) {
      const waiting = pendingActions(run.state)
      if (!waiting.length) break
      const undated = waiting.filter((a) => a.deadline === undefined)
      if (undated.length) run.violations.push(`no deadline: ${undated.map((a) => `${a.id} ${a.kind}`).join(', ')}`)
      run.now = Math.max(...waiting.map((a) => a.deadline ?? 0), run.now) + 1
      const before = run.trace.length
      apply(run, { type: 'tick' })
      lostCount += run.trace.slice(before).join('').split('actionLost').length - 1
      quiet = settle(run, rng, 0, 0)
      const overdue = pendingActions(run.state).filter((a) => (a.deadline ?? 0) <= run.now)
      if (overdue.length)
        run.violations.push(
          `still waiting past the deadline after a tick: ${overdue.map((a) => `${a.id} ${a.kind} ${a.resource ?? ''}@${a.node}`).join(', ')}`,
        )
    }
    if (!quiet) run.violations.push('feedback loop did not reach quiescence within 3000 results')
    const left = pendingActions(run.state).filter((a) => run.up.has(a.node) || a.kind === 'fence')
    if (quiet && left.length)
      run.violations.push(
        `engine still waits for ${left.map((a) => `${a.id} ${a.kind} ${a.resource ?? ''}@${a.node}`).join(', ')} after the ticks`,
      )
    if (run.violations.length) {
      t.fail(`seed ${seed * 104729}: ${run.violations.slice(0, 5).join('\n')}\ntrace:\n${run.trace.join('\n')}`)
      break
    }
  }
  t.ok(lostCount > 100, `${runs} lossy runs; ${lostCount} results declared lost and recovered`)
})

t.test('offline order is the reverse of online order, for random DAGs', async (t) => {
  for (let seed = 1; seed <= 1000; seed++) {
    const rng = prng(seed * 7919)
    const { input } = randomConfig(rng)
    const config: MainConfig = { ...input.config, groups: input.config.groups.map((g) => ({ ...g, nodes: ['n1'], autoStart: false })) }
    const inp: EngineInput = { config, types: {}, nodes: ['n1'] }
    let state = initialState(inp)
    const answerAll = (actions: Action[]): void => {
      const queue = [...actions]
      while (queue.length) {
        const a = queue.shift()!
        const res = step(
          inp,
          state,
          { type: 'actionResult', actionId: a.id, status: 'done', answer: a.kind === 'probe' ? 'notRunning' : 'ok', recoverable: true },
          0,
        )
        state = res.state
        queue.push(...res.plan.actions)
      }
    }
    const st = step(inp, state, { type: 'start' }, 0)
    state = st.state
    answerAll(st.plan.actions)
    for (const g of config.groups) {
      const on = step(inp, state, { type: 'groupOnline', group: g.name, user: 'p' }, 0)
      state = on.state
      answerAll(on.plan.actions)
      const off = step(inp, state, { type: 'groupOffline', group: g.name, user: 'p' }, 0)
      state = off.state
      answerAll(off.plan.actions)
      const edges = (plan: Action[], flip: boolean): string[] => {
        const byId = new Map(plan.map((a) => [a.id, a.resource!]))
        return plan.flatMap((a) => a.after.map((x) => (flip ? `${a.resource}<${byId.get(x)}` : `${byId.get(x)}<${a.resource}`))).sort()
      }
      const onR = on.plan.actions.map((a) => a.resource).sort()
      const offR = off.plan.actions.map((a) => a.resource).sort()
      if (
        JSON.stringify(onR) !== JSON.stringify(offR) ||
        JSON.stringify(edges(on.plan.actions, false)) !== JSON.stringify(edges(off.plan.actions, true))
      ) {
        t.fail(
          `seed ${seed} group ${g.name}: ${JSON.stringify(onR)} ${JSON.stringify(offR)} ${JSON.stringify(on.outcome)} online ${JSON.stringify(edges(on.plan.actions, false))} vs offline reversed ${JSON.stringify(edges(off.plan.actions, true))}`,
        )
        return
      }
    }
  }
  t.pass('1000 graphs')
})

t.test('step is deterministic and does not mutate its input state', async (t) => {
  const rng = prng(42)
  const { input } = randomConfig(rng)
  const s0 = initialState(input)
  const frozen = JSON.stringify(s0)
  const a = step(input, s0, { type: 'start' }, 5)
  const b = step(input, s0, { type: 'start' }, 5)
  t.same(a, b)
  t.equal(JSON.stringify(s0), frozen)
})
