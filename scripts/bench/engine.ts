// Engine plan time on a large cluster: 1,000 groups x 10 resources (a chain each), two nodes.
// The cluster is brought online through the engine itself (simulate, every action answered ok),
// then single events are timed: a monitor fault (plans a restart/failover) and an operator command.
import { simulate } from '../../core/engine/simulate.js'
import { step, type EngineInput } from '../../core/engine/scheduler.js'
import type { MainConfig } from '../../core/engine/model.js'

const groups = Number(process.argv[2] ?? 1000)
const per = Number(process.argv[3] ?? 10)
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
const nodes = ['n1', 'n2']
const input: EngineInput = { config, types: {}, nodes }
const t0 = performance.now()
const sim = simulate(config, {}, nodes, [{ type: 'start' }], { maxSteps: 10_000_000 })
const settleMs = performance.now() - t0
const online = Object.values(sim.state.groups).filter((g) => Object.values(g.nodes).includes('online')).length
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!
}
const time = (mk: (i: number) => Parameters<typeof step>[2]): number[] => {
  const out: number[] = []
  for (let i = 0; i < 200; i++) {
    const t = performance.now()
    step(input, sim.state, mk(i), 10_000_000 + i)
    out.push(performance.now() - t)
  }
  return out
}
const fault = time((i) => ({
  type: 'monitorResult',
  resource: `g${i % groups}r${per >> 1}`,
  node: 'n1',
  status: 'done',
  answer: 'notRunning',
  recoverable: true,
}))
const healthy = time((i) => ({
  type: 'monitorResult',
  resource: `g${i % groups}r${per >> 1}`,
  node: 'n1',
  status: 'done',
  answer: 'ok',
  recoverable: true,
}))
const cmd = time((i) => ({ type: 'groupSwitch', group: `g${i % groups}`, user: 'bench' }))
console.log(
  JSON.stringify({
    what: 'engine',
    groups,
    resources: groups * per,
    onlineGroups: online,
    bringUpAllMs: settleMs,
    faultMedianMs: pct(fault, 0.5),
    faultP99Ms: pct(fault, 0.99),
    healthyMedianMs: pct(healthy, 0.5),
    switchMedianMs: pct(cmd, 0.5),
  }),
)
