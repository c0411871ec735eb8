// Bench: API calls per failover per AWS type, and switch time with simulated EC2 API latency, on real agents
// in the namespace lab with the EC2-compatible endpoint in the client namespace (test/aws/aws-lab.ts).
//   node --no-node-snapshot --import tsx scripts/bench/aws.ts [rounds] [latencyMs]   -> one JSON line
import { labAvailable } from '../lab/lab.js'
import { until } from '../lab/agent-cluster.js'
import { awsLab, GROUPS } from '../../test/aws/aws-lab.js'

const rounds = Number(process.argv[2] ?? 3)
const latencyMs = Number(process.argv[3] ?? 200)
const avail = await labAvailable()
if (!avail.ok) {
  console.log(JSON.stringify({ skipped: avail.reason }))
  process.exit(0)
}
const L = await awsLab(`mccs${process.pid}b-`, { latencyMs })
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN
}
try {
  L.c.start()
  await until(
    async () => {
      const s = await L.c.status('n1')
      return GROUPS.every((g) => s.groups.find((x) => x.name === g)?.nodes.n1 === 'online')
    },
    120_000,
    'AWS groups online on n1',
  )
  const per: Record<string, { ms: number[]; calls: number[]; byAction: Record<string, number> }> = {}
  let at = 'n1'
  for (let i = 0; i < rounds * 2; i++) {
    const to = at === 'n1' ? 'n2' : 'n1'
    for (const g of GROUPS) {
      const r = await L.switchTo(g, to)
      if (!r.reply.reached) throw new Error(`${g} did not reach ${to}: ${JSON.stringify(r.reply)}`)
      const p = (per[g] ??= { ms: [], calls: [], byAction: {} })
      p.ms.push(r.ms)
      p.calls.push(r.total)
      p.byAction = r.calls
    }
    at = to
  }
  const out = Object.fromEntries(
    Object.entries(per).map(([g, p]) => [
      g,
      { switchMedianMs: median(p.ms), switchMaxMs: Math.max(...p.ms), apiCallsMedian: median(p.calls), lastCalls: p.byAction },
    ]),
  )
  console.log(JSON.stringify({ latencyMs, switches: rounds * 2, groups: out }))
} finally {
  await L.destroy()
}
