// The random-fault run's long form (issue 14, acceptance 2): `runs` runs of `seconds` each, alternating
// 2 and 3 nodes and single / overlapping faults, seeds 1..runs (a failing run replays with its seed).
//   node --no-node-snapshot --import tsx scripts/bench/chaos.ts [runs=20] [seconds=60] [mirror]
// With `mirror`, every run is on 2 nodes with a mirror-disk in the group (issue 15, acceptance 6), and the
// mirror witness's overlaps (primary on two nodes) count with the others.
import { labAvailable } from '../lab/lab.js'
import { runChaos, CHAOS_KINDS, type ChaosReport } from '../lab/chaos.js'

const runs = Number(process.argv[2] ?? 20)
const seconds = Number(process.argv[3] ?? 60)
const mirror = process.argv[4] === 'mirror'
const avail = await labAvailable()
if (!avail.ok) {
  console.log(JSON.stringify({ skipped: avail.reason }))
  process.exit(0)
}
const reports: ChaosReport[] = []
for (let i = 0; i < runs; i++) {
  const nodes = mirror || i % 2 === 1 ? 2 : 3
  const overlap = Math.floor(i / 2) % 2 === 1
  const r = await runChaos({
    prefix: `mccs${process.pid}k${i}-`,
    nodes,
    seconds,
    seed: i + 1,
    overlap,
    mirror,
    log: (m) => console.error(`run ${i + 1} (${nodes} nodes${overlap ? ', overlapping' : ''}${mirror ? ', mirror' : ''}): ${m}`),
  })
  reports.push(r)
  console.error(
    `run ${i + 1}: overlaps ${r.overlaps.length + r.twoAnswers + r.vipTwoHolders + r.mirror.overlaps.length}, bad fences ${r.badFences.length}, liveness ${r.liveness.length}`,
  )
  for (const f of r.badFences) console.error(`  bad fence: ${JSON.stringify(f)}`)
  for (const l of r.liveness) console.error(`  liveness: episode ${l.episode + 1} back ${l.backAfterEndMs} ms after its end`)
}
const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[Math.floor(s.length / 2)]! : null
}
type KindRow = { faults: number; worstOutageMs: number; medianActiveOutageMs: number | null }
const rowsOf = (rs: ChaosReport[]): Record<string, KindRow> => {
  const out: Record<string, KindRow> = {}
  for (const k of CHAOS_KINDS) {
    // An episode is charged to its first fault's kind (in overlapping runs a second fault adds to it).
    const eps = rs.flatMap((r) => r.episodes).filter((e) => e.faults[0]!.kind === k)
    out[k] = {
      faults: eps.length,
      worstOutageMs: Math.max(0, ...eps.map((e) => e.outageMs)),
      medianActiveOutageMs: med(eps.filter((e) => e.faults[0]!.active && e.outageMs > 0).map((e) => e.outageMs)),
    }
  }
  return out
}
const byKind = rowsOf(reports)
// Two nodes: the standby waits out the two-node fence delay before it fences a silent active node, so
// medians there include it; three nodes and single faults are the failover rows' conditions.
const byKind3Single = rowsOf(reports.filter((r) => r.nodes === 3 && !r.overlap))
const byKind2 = rowsOf(reports.filter((r) => r.nodes === 2))
console.log(
  JSON.stringify({
    runs,
    seconds,
    faults: reports.reduce((n, r) => n + r.episodes.reduce((m, e) => m + e.faults.length, 0), 0),
    mirror,
    overlaps: reports.reduce((n, r) => n + r.overlaps.length + r.twoAnswers + r.vipTwoHolders + r.mirror.overlaps.length, 0),
    mirrorOverlaps: reports.reduce((n, r) => n + r.mirror.overlaps.length, 0),
    badFences: reports.reduce((n, r) => n + r.badFences.length, 0),
    fences: reports.reduce((n, r) => n + r.fences.length, 0),
    liveness: reports.reduce((n, r) => n + r.liveness.length, 0),
    worstOutageMs: Math.max(0, ...reports.flatMap((r) => r.episodes.map((e) => e.outageMs))),
    fencesInView: reports.reduce((n, r) => n + r.badFences.filter((f) => f.inView).length, 0),
    byKind,
    byKind3Single,
    byKind2,
  }),
)
