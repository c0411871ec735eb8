// Keeps `step` cheap on a large cluster: 1,000 groups x 10 resources, two nodes. One event touches
// one group; the state is copied on write, not rebuilt. (The bound is loose so a busy CI stays green;
// the typical figure is printed in the assertion message.)

import t from 'tap'
import { initialState, step, type EngineInput } from '../../core/engine/scheduler.js'
import type { MainConfig } from '../../core/engine/model.js'
import type { EngineState } from '../../core/engine/state.js'

function bigConfig(groups: number, per: number): MainConfig {
  const config: MainConfig = { generation: 1, groups: [], resources: [], dependencies: [], types: {} }
  for (let g = 0; g < groups; g++) {
    config.groups.push({ name: `g${g}`, nodes: ['n1', 'n2'], failoverOnFailure: true, autoStart: true, autoFailback: false })
    for (let r = 0; r < per; r++) {
      config.resources.push({
        name: `g${g}r${r}`,
        type: 'dummy',
        group: `g${g}`,
        critical: true,
        attrs: {},
        nodeAttrs: {},
        policy: {},
        monitored: true,
      })
      if (r > 0) config.dependencies.push({ parent: `g${g}r${r}`, child: `g${g}r${r - 1}` })
    }
  }
  return config
}

t.test('one event on 1,000 groups x 10 resources plans fast', async (t) => {
  const input: EngineInput = { config: bigConfig(1000, 10), types: {}, nodes: ['n1', 'n2'] }
  // Every group online on n1 (built directly: the state is plain data), then one start step to derive.
  const base = initialState(input)
  const groups: EngineState['groups'] = {}
  for (const [g, gs] of Object.entries(base.groups)) {
    const resources: typeof gs.resources = {}
    const want: Record<string, boolean> = {}
    for (const [r, perNode] of Object.entries(gs.resources)) {
      resources[r] = { n1: { ...perNode['n1']!, state: 'online', healthySince: 0 }, n2: { ...perNode['n2']!, state: 'offline' } }
      want[r] = true
    }
    groups[g] = { ...gs, activeNode: 'n1', want, autoStartPending: false, resources, nodes: { n1: 'online', n2: 'offline' } }
  }
  let state: EngineState = { ...base, groups }
  let now = 0
  t.equal(state.groups['g999']!.nodes['n1'], 'online', 'all groups online')

  const times: number[] = []
  for (let i = 0; i < 50; i++) {
    now += 1000
    const t0 = performance.now()
    const res = step(
      input,
      state,
      { type: 'monitorResult', resource: `g${i}r5`, node: 'n1', status: 'done', answer: 'notRunning', recoverable: true },
      now,
    )
    times.push(performance.now() - t0)
    t.ok(res.plan.actions.length > 0, 'a fault plans a failover')
  }
  times.sort((a, b) => a - b)
  const median = times[times.length >> 1]!
  t.ok(median < 50, `median step ${median.toFixed(2)} ms (max ${times[times.length - 1]!.toFixed(2)} ms)`)
})
