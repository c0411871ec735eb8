// monitorSchedule, configuration changes, and rejected commands at the API level.

import t from 'tap'
import { initialState, monitorSchedule, simulate, step, stuckResources, type EngineInput } from '../../core/engine/index.js'
import { resourceState } from '../../core/engine/state.js'
import type { MainConfig, ResourceConfig } from '../../core/engine/model.js'

const res = (name: string, extra: Partial<ResourceConfig> = {}): ResourceConfig => ({
  name,
  type: 'ip',
  group: 'g1',
  critical: true,
  attrs: {},
  nodeAttrs: {},
  policy: {},
  monitored: true,
  ...extra,
})
const config: MainConfig = {
  generation: 1,
  groups: [{ name: 'g1', nodes: ['n1', 'n2'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
  resources: [res('a'), res('b', { policy: { monitorIntervalS: 3 } }), res('c', { monitored: false })],
  dependencies: [{ parent: 'b', child: 'a' }],
  types: { ip: { monitorTimeoutS: 7 } },
}
const input: EngineInput = { config, types: { ip: { monitorIntervalS: 5, offlineMonitorIntervalS: 50 } }, nodes: ['n1', 'n2'] }

function settle(
  inp: EngineInput,
  state: ReturnType<typeof initialState>,
  actions: { id: string; kind: string; resource?: string }[],
  running = new Set<string>(),
) {
  const queue = [...actions]
  while (queue.length) {
    const a = queue.shift()!
    if (a.kind === 'cancel') continue
    const answer = a.kind === 'probe' ? (running.has(a.resource!) ? 'ok' : 'notRunning') : 'ok'
    const r = step(inp, state, { type: 'actionResult', actionId: a.id, status: 'done', answer, recoverable: true }, 0)
    state = r.state
    queue.push(...r.plan.actions)
  }
  return state
}

t.test('monitorSchedule: intervals by state, type defaults, overrides, unmonitored skipped', async (t) => {
  let state = initialState(input)
  const s = step(input, state, { type: 'start' }, 0)
  state = settle(input, s.state, s.plan.actions)
  const on = step(input, state, { type: 'groupOnline', group: 'g1', node: 'n1', user: 'u' }, 0)
  state = settle(input, on.state, on.plan.actions)
  t.same(monitorSchedule(config, input.types, state, 'n1'), [
    { resource: 'a', group: 'g1', state: 'online', intervalMs: 5000, timeoutMs: 7000 },
    { resource: 'b', group: 'g1', state: 'online', intervalMs: 3000, timeoutMs: 7000 },
  ])
  t.same(
    monitorSchedule(config, input.types, state, 'n2').map((e) => [e.resource, e.state, e.intervalMs]),
    [
      ['a', 'offline', 50000],
      ['b', 'offline', 50000],
    ],
  )
  const down = step(input, state, { type: 'nodeChange', node: 'n2', membership: 'down' }, 0)
  t.same(monitorSchedule(config, input.types, down.state, 'n2'), [], 'nothing is monitored on a lost node')
  // An inconclusive probe leaves the state unknown, which blocks auto-start: asked again at the online interval.
  const fresh = step(input, initialState(input), { type: 'start' }, 0)
  const probeA = fresh.plan.actions.find((a) => a.kind === 'probe' && a.resource === 'a' && a.node === 'n2')!
  const unk = step(
    input,
    fresh.state,
    { type: 'actionResult', actionId: probeA.id, status: 'crashed', answer: 'failed', recoverable: true, reason: 'peer unreachable' },
    0,
  )
  t.same(
    monitorSchedule(config, input.types, unk.state, 'n2')
      .filter((e) => e.resource === 'a')
      .map((e) => [e.state, e.intervalMs]),
    [['unknown', 5000]],
  )
})

t.test('a new configuration generation: added resources are probed, removed ones forgotten', async (t) => {
  let state = initialState(input)
  const s = step(input, state, { type: 'start' }, 0)
  state = settle(input, s.state, s.plan.actions)
  const next: MainConfig = { ...config, generation: 2, resources: [...config.resources.filter((r) => r.name !== 'c'), res('d')] }
  const inp2 = { ...input, config: next }
  const r = step(inp2, state, { type: 'tick' }, 1000)
  t.same(r.plan.actions.map((a) => `${a.kind} ${a.resource}@${a.node}`).sort(), ['probe d@n1', 'probe d@n2'])
  t.equal(r.state.generation, 2)
  t.equal(resourceState(r.state, 'c', 'n1'), undefined)
  t.equal(resourceState(r.state, 'a', 'n1')?.state, 'offline', 'known states are kept')
})

t.test('commands are rejected as data, never thrown', async (t) => {
  const state = initialState(input)
  const r = step(input, state, { type: 'groupSwitch', group: 'nope', user: 'alice' }, 0)
  // The reason in English and in words of the locale files (core/engine/said.ts).
  const said = { id: 'said.no.group', params: { name: 'nope' } }
  t.same(r.outcome, { status: 'rejected', code: 'MCCS_ERR_NOT_FOUND', reason: 'no group nope', said })
  t.same(r.plan.notices[0], {
    kind: 'commandRejected',
    command: 'groupSwitch',
    user: 'alice',
    code: 'MCCS_ERR_NOT_FOUND',
    reason: 'no group nope',
    said,
    group: 'nope',
  })
  t.same(r.plan.actions, [])
  t.equal(r.state, state, 'a rejected command changes nothing')
})

t.test('stuckResources: what a fence of a member is for (a clean failed there)', async (t) => {
  const config = {
    generation: 1,
    types: {},
    dependencies: [],
    groups: [{ name: 'g1', nodes: ['n1', 'n2'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
    resources: [{ name: 'app', type: 'dummy', group: 'g1', critical: true, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true }],
  }
  const r = simulate(
    config,
    {},
    ['n1', 'n2'],
    [{ type: 'start' }, { type: 'groupOnline', group: 'g1', user: 't' }, { type: 'groupSwitch', group: 'g1', to: 'n2', user: 't' }],
    {
      results: [
        { match: { kind: 'offline' }, status: 'done', answer: 'failed' },
        { match: { kind: 'clean' }, status: 'done', answer: 'failed' },
        { match: { kind: 'fence' }, hold: true },
      ],
    },
  )
  t.same(stuckResources(r.state, 'n1'), ['app'], 'app is stuck on n1')
  t.same(stuckResources(r.state, 'n2'), [], 'nothing on n2')
  t.ok(
    r.inFlight.some((a) => a.kind === 'fence' && a.node === 'n1'),
    'and n1, up, is being fenced for it',
  )
})
