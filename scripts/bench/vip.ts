// VIP failover in the lab with real agents: group NIC <- address <- process on n1 of 3 nodes; kill -9
// of every n1 process (fencing = power-off: processes killed, links down) -> first HTTP answer on the
// VIP from n2, as a client namespace asking the VIP every 10 ms sees it. One fresh cluster per run.
// Also checks, each run, that the client's ARP cache moved to n2's MAC without a flush.
//   node --import tsx scripts/bench/vip.ts <runs> <intervalMs> <deadMs> [dadTimeoutMs]
// (the last for an A/B of the address's duplicate-probe wait: its default is 200 ms since 2026-12-07, 500 before)
import { until } from '../lab/agent-cluster.js'
import { labAvailable } from '../lab/lab.js'
import { VipCluster } from '../../test/network/vip-cluster.js'

const runs = Number(process.argv[2] ?? 20)
const timing = { intervalMs: Number(process.argv[3] ?? 100), deadMs: Number(process.argv[4] ?? 600) }
const dadTimeoutMs = process.argv[5] ? Number(process.argv[5]) : undefined
const avail = await labAvailable()
if (!avail.ok) {
  console.log(JSON.stringify({ what: 'vip', skipped: avail.reason }))
  process.exit(0)
}
const failover: number[] = []
let arpFollowed = 0
let startFailures = 0
for (let i = 0; i < runs; i++) {
  const v = await VipCluster.create({ prefix: `mccsv${process.pid}x${i}-`, timing, dadTimeoutMs })
  try {
    v.start()
    try {
      await until(async () => (await v.c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 30_000, 'web online on n1')
      await until(async () => v.rounds.at(-1)?.who === 'n1' || undefined, 10_000, 'the VIP answering from n1')
    } catch (e) {
      // A start-up race of the cluster layer (a late peer declared down): not a failover; run again.
      startFailures++
      console.error(`run ${i}: cluster did not start (${(e as Error).message}); repeating the run`)
      if (startFailures > runs) throw e
      i--
      continue
    }
    const n2mac = await v.macOf('n2')
    const from = v.rounds.length
    const t0 = Date.now()
    await v.c.killNode('n1')
    const back = await until(async () => v.rounds.slice(from).find((r) => r.at > t0 && r.who === 'n2'), 30_000, 'the VIP answering from n2')
    failover.push(back.at - t0)
    if ((await v.clientMacForVip()) === n2mac) arpFollowed++
    console.error(`run ${i}: ${back.at - t0} ms`)
  } finally {
    await v.destroy()
  }
}
const sorted = [...failover].sort((a, b) => a - b)
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN
console.log(
  JSON.stringify({
    what: 'vip',
    runs,
    ...timing,
    dadTimeoutMs: dadTimeoutMs ?? 'default',
    failoverMedianMs: pct(0.5),
    failoverP95Ms: pct(0.95),
    failoverMaxMs: sorted.at(-1),
    failoverMinMs: sorted[0],
    arpFollowed,
    startFailures,
  }),
)
