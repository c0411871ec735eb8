// The random-fault run's short form in npm test (issue 14, acceptance 2; the long form is npm run bench:
// scripts/bench/chaos.ts, 20 runs x 60 s over 2 and 3 nodes). Three real agents at the shipped timing keep
// nic <- VIP <- process up through a seeded schedule of faults (kill -9, SIGSTOP, links down, loss, one-way
// loss, a partition, a graceful stop and start); the three verdicts come from witnesses outside the agents:
// no overlap (service, own-address prober, VIP holders), no fence of a node in the fencer's installed view
// (the acceptance's verdict), and the VIP back within 5 s of each episode's last fault. A fence of a node no
// fault touched in its window (the bench's stricter count, goal 0) is shown here with the episodes' times,
// not asserted: the window is a heuristic of fixed length, and on a loaded host a fault's effects outlast it
// (agents took up to 8 s to boot). A loaded fresh-clone run at f82d973 and 1 of 3 loaded local runs after
// this session's fixes had one such fence.
// That one-run, one-seed verdict is the bench's to judge.
import t from 'tap'
import { labAvailable } from '../../scripts/lab/lab.js'
import { runChaos } from '../../scripts/lab/chaos.js'

const avail = await labAvailable()
if (!avail.ok) {
  t.test('random-fault run', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  // 30 s of schedule: seed 1 starts its episodes at about +0, +8, +16 and +25 s (one-way loss, a graceful
  // stop, a link down, SIGSTOP; a loaded run), 5 s to spare for a slower host; 40 s only added a second link
  // down and a second one-way loss. Every kind is in the bench's 20 x 60 s runs.
  t.test('random faults on 3 nodes for 30 s: no overlap, no fence of a member of the view, the service back within 5 s', async (t) => {
    const r = await runChaos({ prefix: `mccs${process.pid}c-`, nodes: 3, seconds: 30, seed: 1, overlap: false, log: (m) => t.comment(m) })
    const kinds = new Set(r.episodes.flatMap((e) => e.faults.map((f) => f.kind)))
    t.ok(r.episodes.length >= 4, `${r.episodes.length} episodes (${[...kinds].join(', ')})`)
    t.ok(kinds.size >= 4, `${kinds.size} fault kinds: the node stopped, paused, cut off and losing packets one way`)
    t.same(r.overlaps, [], "no two nodes ran the service at once (services' own records, cut at fences)")
    t.equal(r.twoAnswers, 0, 'no probe round answered by two nodes')
    t.equal(r.vipTwoHolders, 0, 'no sample with the VIP on two up interfaces')
    t.same(
      r.fences.filter((f) => f.inView),
      [],
      `no fence of a member of the fencer's installed view (${r.fences.length} fences)`,
    )
    const iso = (ms: number) => new Date(ms).toISOString().slice(11, 23)
    for (const f of r.badFences.filter((x) => !x.inView))
      t.comment(`fence of a node no fault touched in its window: ${f.fencer} fenced ${f.target} at ${iso(f.at)}`)
    if (r.badFences.length)
      for (const e of r.episodes)
        t.comment(
          `  episode ${iso(e.start)}-${iso(e.end)}: ${e.faults.map((x) => `${x.kind}@${x.node} ${iso(x.start)}-${iso(x.end)}`).join(' + ')}`,
        )
    t.same(r.liveness, [], "the VIP answered within 5 s of every episode's end")
    t.ok(r.probeRounds > 1000, `${r.probeRounds} VIP probe rounds`)
  })
}
