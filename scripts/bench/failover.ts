// Failover in the lab with real agents: kill -9 of every process of the node running the group (and
// coordinating) -> first good answer from a survivor, as a prober in the client namespace sees it
// (every 10 ms). Detection = when the new coordinator logged the node down. One fresh cluster per run.
//   node --import tsx scripts/bench/failover.ts <runs> <intervalMs> <deadMs> [qs]
// With `qs`: two nodes and the quorum server (in the client namespace) instead of three nodes.
import { AgentCluster, until } from '../lab/agent-cluster.js'
import { labAvailable } from '../lab/lab.js'
import { labQuorumServer } from '../lab/quorum-lab.js'

const runs = Number(process.argv[2] ?? 20)
const timing = { intervalMs: Number(process.argv[3] ?? 100), deadMs: Number(process.argv[4] ?? 600) }
const withQs = process.argv[5] === 'qs'
const avail = await labAvailable()
if (!avail.ok) {
  console.log(JSON.stringify({ what: 'failover', skipped: avail.reason }))
  process.exit(0)
}
const detect: number[] = []
const failover: number[] = []
let violations = 0
for (let i = 0; i < runs; i++) {
  const qs = withQs ? await labQuorumServer() : null
  const c = await AgentCluster.create({ prefix: `mccsb${process.pid}x${i}-`, timing, ...(qs ? { nodes: 2, ...qs.options } : {}) })
  try {
    qs?.start(c)
    c.start()
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
    await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'answers from n1')
    const t0 = Date.now()
    await c.killNode('n1')
    const back = await until(async () => c.rounds.find((r) => r.at > t0 && r.who.some((w) => w !== 'n1')), 30_000, 'a survivor answering')
    failover.push(back.at - t0)
    await new Promise((r) => setTimeout(r, 300))
    const down = (await c.log('n2'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { time: string; msg: string })
      .find((l) => l.msg === 'node n1 down' && Date.parse(l.time) >= t0)
    if (down) detect.push(Date.parse(down.time) - t0)
    violations += c.rounds.filter((r) => r.who.length > 1).length
  } finally {
    await c.destroy()
    await qs?.cleanup()
  }
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN
}
console.log(
  JSON.stringify({
    what: 'failover',
    runs,
    ...timing,
    nodes: withQs ? '2 + quorum server' : '3',
    detectMedianMs: pct(detect, 0.5),
    detectMaxMs: Math.max(...detect),
    failoverMedianMs: pct(failover, 0.5),
    failoverP95Ms: pct(failover, 0.95),
    failoverMaxMs: Math.max(...failover),
    failoverMinMs: Math.min(...failover),
    violations,
  }),
)
