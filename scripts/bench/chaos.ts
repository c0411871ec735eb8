// The random-fault run's long form (issue 14, acceptance 2): `runs` runs of `seconds` each, alternating
// 2 and 3 nodes and single / overlapping faults, seeds 1..runs (a failing run replays with its seed).
//   node --no-node-snapshot --import tsx scripts/bench/chaos.ts [runs=20] [seconds=60] [mirror]
// With `mirror`, every run is on 2 nodes with a mirror-disk in the group (issue 15, acceptance 6), and the
// mirror witness's overlaps (primary on two nodes) count with the others.
import { labAvailable } from '../lab/lab.js'
import { abortChaosRuns, runChaos, CHAOS_KINDS, type ChaosReport } from '../lab/chaos.js'

const runs = Number(process.argv[2] ?? 20)
const seconds = Number(process.argv[3] ?? 60)
const mirror = process.argv[4] === 'mirror'
const avail = await labAvailable()
if (!avail.ok) {
  console.log(JSON.stringify({ skipped: avail.reason }))
  process.exit(0)
}
// The bench runner ends this process with SIGTERM at its time limit: tear the current run's lab down first.
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.once(sig, () => {
    console.error(`${sig}: tearing down the run in progress`)
    void abortChaosRuns().finally(() => process.exit(sig === 'SIGTERM' ? 143 : 130))
  })
const reports: ChaosReport[] = []
/** Each verdict that failed, with the run (its seed replays it) and the episode, so the table can say which. */
const problems: string[] = []
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
  const where = `run ${i + 1} (seed ${r.seed}, ${nodes} nodes${overlap ? ', overlapping' : ''})`
  const what = (e: number) =>
    r.episodes[e]!.faults.map((f) => `${f.kind}@${f.node}${f.active ? ' (active)' : ''}${f.detail ? ` ${f.detail}` : ''}`).join(' + ')
  const at = (t: number) => `${((t - (r.episodes[0]?.start ?? t)) / 1000).toFixed(1)} s into the faults`
  for (const f of r.badFences) {
    const m = `${where}: ${f.fencer} fenced ${f.target} at ${at(f.at)}: ${f.inView ? 'in its view' : 'no fault touched it'}`
    console.error(`  bad fence: ${m}`)
    problems.push(`fence: ${m}`)
  }
  for (const l of r.liveness) {
    const m = `${where}: episode ${l.episode + 1} (${what(l.episode)}) back ${l.backAfterEndMs === null ? 'never' : `${l.backAfterEndMs} ms`} after its end`
    console.error(`  liveness: ${m}`)
    problems.push(`liveness: ${m}`)
  }
  for (const [a, b] of r.overlaps) problems.push(`overlap: ${where}: ${JSON.stringify(a)} and ${JSON.stringify(b)}`)
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
const worst = reports
  .flatMap((r, ri) => r.episodes.map((e, i) => ({ run: ri + 1, i, e })))
  .reduce<{ run: number; i: number; e: ChaosReport['episodes'][number] } | null>(
    (w, x) => (!w || x.e.outageMs > w.e.outageMs ? x : w),
    null,
  )
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
    worstOutageMs: worst?.e.outageMs ?? 0,
    worstWhere: worst
      ? `run ${worst.run} (seed ${reports[worst.run - 1]!.seed}), episode ${worst.i + 1}: ${worst.e.faults.map((f) => `${f.kind}@${f.node}${f.active ? ' (active)' : ''}`).join(' + ')}`
      : '—',
    fencesInView: reports.reduce((n, r) => n + r.badFences.filter((f) => f.inView).length, 0),
    fencesOfHealthy: reports.reduce((n, r) => n + r.badFences.filter((f) => !f.inView && f.healthy).length, 0),
    problems,
    byKind,
    byKind3Single,
    byKind2,
  }),
)
