// The safety checker's long run (issue 4, acceptance 3): 20 partitions and 20 SIGSTOPs of the node running
// the group, 3 real agents (scripts/lab/safety.ts).   node --no-node-snapshot --import tsx scripts/bench/safety.ts [runs]
import { labAvailable } from '../lab/lab.js'
import { runSafety } from '../lab/safety.js'

const runsEach = Number(process.argv[2] ?? 20)
const avail = await labAvailable()
if (!avail.ok) {
  console.log(JSON.stringify({ skipped: avail.reason }))
  process.exit(0)
}
const r = await runSafety({ prefix: `mccs${process.pid}y-`, kinds: ['partition', 'sigstop'], runsEach, log: (m) => console.error(m) })
const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? 0
}
const of = (k: string) => r.runs.filter((x) => x.kind === k).map((x) => x.outageMs)
console.log(
  JSON.stringify({
    runsEach,
    runs: r.runs.length,
    overlaps: r.overlaps.length,
    resumed: r.resumed.length,
    twoAnswers: r.twoAnswers,
    probeRounds: r.probeRounds,
    intervals: r.intervals.length,
    partitionOutageMedianMs: med(of('partition')),
    partitionOutageMaxMs: Math.max(...of('partition')),
    sigstopOutageMedianMs: med(of('sigstop')),
    sigstopOutageMaxMs: Math.max(...of('sigstop')),
  }),
)
