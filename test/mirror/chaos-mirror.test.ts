// The mirror disk in the random-fault run (issue 15, acceptance 6): two real agents (two-node mode, the
// power-switch fence) keep a group mirror-disk + nic <- VIP <- process up through a seeded schedule of
// faults (scripts/lab/chaos.ts), and the safety checker's mirror witness (the process table, not the
// agents' word) finds the volume never primary on two nodes at once. The checker's ability to fail is
// shown in agent-failover.test.ts (a primary forced by hand on the fenced node is reported).
import t from 'tap'
import { labAvailable } from '../../scripts/lab/lab.js'
import { runChaos } from '../../scripts/lab/chaos.js'
import { missingTools } from './lab-nodes.js'

const avail = await labAvailable()
const missing = missingTools()

t.test(
  'random faults on 2 nodes with a mirror disk for 30 s: never primary on two nodes, no service overlap',
  { skip: !avail.ok ? avail.reason : missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const r = await runChaos({
      prefix: `mccs${process.pid}cm-`,
      nodes: 2,
      seconds: 30,
      seed: 7,
      overlap: false,
      mirror: true,
      log: (m) => t.comment(m),
    })
    const kinds = new Set(r.episodes.flatMap((e) => e.faults.map((f) => f.kind)))
    // A failover costs the two-node fence delay (2.3 s in the lab): under load a 30 s schedule holds 3 to 4 episodes.
    t.ok(r.episodes.length >= 3, `${r.episodes.length} episodes (${[...kinds].join(', ')})`)
    t.ok(r.mirror.samples > 1000, `the mirror witness sampled ${r.mirror.samples} times`)
    t.ok(
      r.mirror.intervals.length >= 1,
      `primary intervals: ${r.mirror.intervals.map((i) => `${i.node} ${i.to - i.from} ms (${i.end})`).join(', ')}`,
    )
    t.same(r.mirror.overlaps, [], 'the mirror disk was never primary on two nodes at once')
    t.same(r.overlaps, [], "no two nodes ran the service at once (services' own records, cut at fences)")
    t.equal(r.twoAnswers, 0, 'no probe round answered by two nodes')
    t.equal(r.vipTwoHolders, 0, 'no sample with the VIP on two up interfaces')
    t.comment(
      `fences ${r.fences.length} (bad ${r.badFences.length}); liveness misses ${r.liveness.length}: ${JSON.stringify(r.liveness)}; worst outage ${Math.max(0, ...r.episodes.map((e) => e.outageMs))} ms`,
    )
  },
)
