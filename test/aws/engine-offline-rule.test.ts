// Issue 14, What 10, engine side, on an aws-oip group (pure engine steps, no I/O):
//   - an offline resource stays offline whatever a probe or monitor finds, unless the operator or a rule says
//     otherwise: a group the operator took offline is held offline (GroupRuntime.operator, finding 8), so
//     policy.ts foundOnline does not adopt a leftover that looks "running" (an OIP whose state mark is lost,
//     a process started by hand after the operator stopped the group); it is taken down instead. Before that
//     rule both tests below failed: the group was adopted back (activeNode n1, notice `adopted`).
//   - adopted resources are monitored like any other (holds today: the engine schedules them; the lab bug was
//     in the monitor loop, fixed in core/executor/monitor-loop.ts).
import t from 'tap'
import { step, initialState, type EngineInput } from '../../core/engine/scheduler.js'
import { monitorSchedule } from '../../core/engine/monitor-schedule.js'
import type { EngineState } from '../../core/engine/state.js'
import type { Action } from '../../core/engine/plan.js'

const input: EngineInput = {
  nodes: ['n1', 'n2'],
  types: { 'aws-oip': { monitorIntervalS: 10, monitorTimeoutS: 20, toleranceLimit: 1 } },
  config: {
    generation: 1,
    types: {},
    dependencies: [],
    groups: [{ name: 'g-oip', nodes: ['n1', 'n2'], failoverOnFailure: true, autoStart: true, autoFailback: false }],
    resources: [
      {
        name: 'oip',
        type: 'aws-oip',
        group: 'g-oip',
        critical: true,
        monitored: true,
        policy: {},
        attrs: { ip: '192.168.77.7', routeTables: ['rtb-0demo1'] },
        nodeAttrs: { n1: { eni: 'eni-n1' }, n2: { eni: 'eni-n2' } },
      },
    ],
  },
}

/** Runs events; every action the plan asks for is answered at once with `answer(action)`. */
function run(state: EngineState, events: Parameters<typeof step>[2][], answer: (a: Action) => 'ok' | 'notRunning', now = 1000) {
  const notices: string[] = []
  const queue = [...events]
  while (queue.length) {
    const r = step(input, state, queue.shift()!, now++)
    state = r.state
    notices.push(...r.plan.notices.map((n) => n.kind))
    for (const a of r.plan.actions) {
      if (a.kind === 'cancel' || a.kind === 'fence') continue
      queue.push({ type: 'actionResult', actionId: a.id, status: 'done', answer: answer(a), recoverable: true })
    }
  }
  return { state, notices }
}

/** g-oip online on n1 (started), then taken offline by the operator. */
function offlineByOperator() {
  let routeOn: string | null = null
  const answer = (a: Action) => {
    if (a.kind === 'online') routeOn = a.node
    // Overlay: offline leaves the route; a probe/monitor by route alone finds it "running" on its node.
    if (a.kind === 'probe' || a.kind === 'monitor') return routeOn === a.node ? 'ok' : 'notRunning'
    return 'ok'
  }
  const started = run(initialState(input), [{ type: 'start' }], answer)
  const off = run(started.state, [{ type: 'groupOffline', group: 'g-oip', user: 'op' }], answer)
  return { state: off.state, answer, startedOn: started.state.groups['g-oip']!.activeNode }
}

t.test('setup: online on n1, then offline by the operator', async (t) => {
  const { state, startedOn } = offlineByOperator()
  t.equal(startedOn, 'n1')
  t.same([state.groups['g-oip']!.activeNode, state.groups['g-oip']!.nodes], [null, { n1: 'offline', n2: 'offline' }])
})

t.test('an offline group is not adopted back by a monitor that finds its leftover running', async (t) => {
  const { state, answer } = offlineByOperator()
  const r = run(state, [{ type: 'monitorResult', resource: 'oip', node: 'n1', status: 'done', answer: 'ok', recoverable: true }], answer)
  t.equal(r.state.groups['g-oip']!.activeNode, null, 'the group stays offline (activeNode null)')
  t.notOk(r.notices.includes('adopted'), `no adoption (notices: ${r.notices.join(', ')})`)
})

t.test('an offline group is not adopted back by an operator probe that finds its leftover running', async (t) => {
  const { state, answer } = offlineByOperator()
  const r = run(state, [{ type: 'groupProbe', group: 'g-oip', user: 'op' }], answer)
  t.equal(r.state.groups['g-oip']!.activeNode, null)
  t.notOk(r.notices.includes('adopted'), `no adoption (notices: ${r.notices.join(', ')})`)
})

t.test('a resource adopted at start is scheduled for monitoring like any other', async (t) => {
  // The route already targets n1 when the cluster starts: the start probes find it and the group is adopted.
  const r = run(initialState(input), [{ type: 'start' }], (a) => (a.kind === 'probe' && a.node === 'n1' ? 'ok' : 'notRunning'))
  t.ok(r.notices.includes('adopted'))
  t.same(r.state.groups['g-oip']!.nodes, { n1: 'online', n2: 'offline' })
  t.match(monitorSchedule(input.config, input.types, r.state, 'n1'), [{ resource: 'oip', state: 'online', intervalMs: 10_000 }])
  t.match(monitorSchedule(input.config, input.types, r.state, 'n2'), [{ resource: 'oip', state: 'offline', intervalMs: 60_000 }])
})
