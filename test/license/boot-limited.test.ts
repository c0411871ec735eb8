// Issue 17, What 1, at a cluster's start: two real agents without licenses boot with an autoStart group.
// No node may auto-start it — not even in the moment before the coordinator has heard a peer's license
// (a node whose license is not known yet is not a target of an automatic start).
import t from 'tap'
import path from 'node:path'
import { startConsoleCluster } from '../console/browser.js'
import { rpc } from '../../core/cli/control-client.js'
import type { AgentStatus } from '../../core/agent/status.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('an unlicensed cluster boots: the autoStart group starts nowhere, and the status says why', async (t) => {
  const c = await startConsoleCluster({
    nodes: 2,
    licenses: false,
    hb: (hb) => ({ ...hb, quorum: { twoNode: true } }),
    main: (nodes) => ({
      generation: 1,
      types: {},
      groups: [{ name: 'app', nodes: [...nodes].reverse(), failoverOnFailure: true, autoStart: true, autoFailback: false }],
      resources: [{ name: 'svc', type: 'dummy', group: 'app', critical: true, attrs: {}, monitored: true }],
      dependencies: [],
    }),
  })
  t.teardown(() => c.stop(t))
  const status = (i: number) => rpc<AgentStatus>(path.join(c.nodes[i]!.home, 'state/mccs.sock'), 'status', {}, 5000).catch(() => null)
  const seen: string[] = []
  const end = Date.now() + 12_000
  let last: AgentStatus | null = null
  while (Date.now() < end) {
    for (const i of [0, 1]) {
      const s = await status(i)
      if (!s) continue
      last = s
      const g = s.groups.find((x) => x.name === 'app')
      for (const [n, st] of Object.entries(g?.nodes ?? {})) if (st !== 'offline' && st !== 'unknown') seen.push(`${n}:${st}`)
      if (g?.activeNode) seen.push(`active ${g.activeNode}`)
    }
    await sleep(100)
  }
  t.same([...new Set(seen)], [], 'the group never started (nor was placed) on either node')
  t.match(last?.licenses, { n1: { mode: 'limited' }, n2: { mode: 'limited' } }, 'both nodes in limited mode in the status')
})
