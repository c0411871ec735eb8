// A graceful stop (SIGTERM) of the last node that can run a group stops the group: nothing can take it.
// That stop is not the operator's word: when the cluster comes back, the group starts by its autoStart.
// The random-fault run found it (seed 2, two nodes: kill -9 of n1, then a graceful stop of n2): the leave
// stopped the group with an ordinary groupOffline, which the operator-intent record keeps as "held
// offline", so after both agents restarted the new coordinator never started it (38 s down, then the run
// ended). Pure engine steps here: start, the leave's offline, the record a restarted cluster starts from.
import t from 'tap'
import {
  step,
  initialState,
  intentOf,
  afterRestart,
  applyIntent,
  type EngineInput,
  type EngineState,
  type Action,
} from '../../core/engine/index.js'

const input: EngineInput = {
  nodes: ['n1', 'n2'],
  types: {},
  config: {
    generation: 1,
    types: {},
    dependencies: [],
    groups: [{ name: 'g', nodes: ['n1', 'n2'], failoverOnFailure: true, autoStart: true, autoFailback: false }],
    resources: [{ name: 'r', type: 'dummy', group: 'g', critical: true, monitored: true, policy: {}, attrs: {}, nodeAttrs: {} }],
  },
}

function run(state: EngineState, events: Parameters<typeof step>[2][]) {
  const running = new Set<string>()
  const queue = [...events]
  let now = 1000
  while (queue.length) {
    const r = step(input, state, queue.shift()!, now++)
    state = r.state
    for (const a of r.plan.actions as Action[]) {
      if (a.kind === 'cancel' || a.kind === 'fence') continue
      if (a.kind === 'online') running.add(a.node)
      if (a.kind === 'offline') running.delete(a.node)
      const answer = a.kind === 'probe' || a.kind === 'monitor' ? (running.has(a.node) ? 'ok' : 'notRunning') : 'ok'
      queue.push({ type: 'actionResult', actionId: a.id, status: 'done', answer, recoverable: true })
    }
  }
  return state
}

t.test("a group stopped by a node's graceful leave starts again when the cluster restarts", async (t) => {
  const up = run(initialState(input), [{ type: 'start' }])
  t.equal(up.groups.g!.activeNode, 'n1', 'online on n1')
  const left = run(up, [{ type: 'groupOffline', group: 'g', user: 'leave', leave: true }])
  t.equal(left.groups.g!.activeNode, null, 'the leave stopped it')
  t.equal(intentOf(left).groups.g!.target, undefined, 'no operator hold is recorded for it')
  const restarted = run(applyIntent(initialState(input), afterRestart(intentOf(left))), [{ type: 'start' }])
  t.equal(restarted.groups.g!.activeNode, 'n1', 'after a restart of the cluster it starts by autoStart')
})

t.test("the operator's own offline is still held across a restart", async (t) => {
  const up = run(initialState(input), [{ type: 'start' }])
  const off = run(up, [{ type: 'groupOffline', group: 'g', user: 'op' }])
  t.equal(intentOf(off).groups.g!.target, null, 'held offline')
  const restarted = run(applyIntent(initialState(input), afterRestart(intentOf(off))), [{ type: 'start' }])
  t.equal(restarted.groups.g!.activeNode, null, 'not started after a restart')
})
