// Bench row (issue 15, acceptance 7): node loss -> the service with its data back, on the mirror disk
// (scripts/lab/mirror-failover.ts: two agents, two-node mode, power-switch fence, an SQLite service in WAL
// mode on the mirror behind a VIP). `runs` fresh clusters; per run the time from kill -9 of every process
// of n1 to the first answer on the VIP from n2, and the acknowledged transactions n2 lacks.
//   node --no-node-snapshot --import tsx scripts/bench/mirror-failover.ts [runs=5]
import { labAvailable } from '../lab/lab.js'
import { runMirrorFailover } from '../lab/mirror-failover.js'

const runs = Number(process.argv[2] ?? 5)
const avail = await labAvailable()
if (!avail.ok) {
  console.log(JSON.stringify({ skipped: avail.reason }))
  process.exit(0)
}
const ms: number[] = []
let acked = 0
let lost = 0
for (let i = 0; i < runs; i++) {
  const r = await runMirrorFailover({ prefix: `mccs${process.pid}f${i}-` })
  ms.push(r.recoveryMs)
  acked += r.acked
  lost += r.lost.length
  console.error(
    `run ${i + 1}: ${r.recoveryMs} ms, ${r.acked} acknowledged, ${r.lost.length} lost, mirror overlaps ${r.mirror.overlaps.length}`,
  )
}
const s = [...ms].sort((a, b) => a - b)
console.log(
  JSON.stringify({
    name: 'mirror node loss -> service with its data back',
    runs,
    medianMs: s[Math.floor(s.length / 2)] ?? null,
    maxMs: s.at(-1) ?? null,
    minMs: s[0] ?? null,
    acknowledged: acked,
    lost,
  }),
)
