// The safety checker with real agents (scripts/lab/safety.ts): repeated partitions and SIGSTOPs of the
// node running the group; the group never runs on two nodes at once and a paused node never starts it
// again. `npm test` runs 2 of each (MCCS_SAFETY_RUNS to change): each kind twice, the second time on the node
// that took the group over after the first; `npm run bench` runs 20 of each.
import t from 'tap'
import { labAvailable } from '../../scripts/lab/lab.js'
import { runSafety, intervalsOf, overlapsOf, mirrorVerdict } from '../../scripts/lab/safety.js'

t.test('the checker itself finds an overlap and cuts intervals at fences', async (t) => {
  const iv = intervalsOf(
    [
      { node: 'n1', ev: 'up', at: 0 },
      { node: 'n2', ev: 'up', at: 100 },
      { node: 'n2', ev: 'down', at: 200 },
      { node: 'n3', ev: 'up', at: 300 },
    ],
    [{ node: 'n1', at: 250 }],
    1000,
  )
  t.same(
    iv.map((x) => [x.node, x.from, x.to, x.end]),
    [
      ['n1', 0, 250, 'fenced'],
      ['n2', 100, 200, 'down'],
      ['n3', 300, 1000, 'running'],
    ],
  )
  t.equal(overlapsOf(iv).length, 1, 'n1 (0-250) and n2 (100-200) overlap')
  t.equal(
    overlapsOf(
      intervalsOf(
        [
          { node: 'n1', ev: 'up', at: 0 },
          { node: 'n1', ev: 'down', at: 50 },
          { node: 'n2', ev: 'up', at: 60 },
        ],
        [],
        100,
      ),
    ).length,
    0,
  )
})

t.test('the checker finds a mirror primary on two nodes at once, and none in a clean switch', async (t) => {
  const both = mirrorVerdict(
    [
      { node: 'n1', ev: 'up', at: 0 },
      { node: 'n2', ev: 'up', at: 500 },
      { node: 'n1', ev: 'down', at: 600 },
    ],
    [],
    1000,
  )
  t.same(
    both.overlaps.map(([a, b]) => [a.node, b.node]),
    [['n1', 'n2']],
    'n1 primary 0-600 and n2 from 500: an overlap',
  )
  t.same(
    mirrorVerdict(
      [
        { node: 'n1', ev: 'up', at: 0 },
        { node: 'n2', ev: 'up', at: 500 },
      ],
      [{ node: 'n1', at: 400 }],
      1000,
    ).overlaps,
    [],
    "n1's primary ends at its fence (400), before n2's begins",
  )
})

const avail = await labAvailable()
if (!avail.ok) {
  t.test('safety runs in the lab', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('partitions and SIGSTOPs: never two nodes at once, no resume without quorum', async (t) => {
    const runsEach = Number(process.env.MCCS_SAFETY_RUNS ?? 2)
    const r = await runSafety({ prefix: `mccs${process.pid}x-`, kinds: ['partition', 'sigstop'], runsEach, log: (m) => t.comment(m) })
    t.equal(r.runs.length, 2 * runsEach, `${r.runs.length} fault runs`)
    t.ok(r.intervals.length >= r.runs.length + 1, `${r.intervals.length} running intervals recorded by the services`)
    t.same(r.overlaps, [], 'no two nodes ran the group at the same time')
    t.same(r.resumed, [], 'no faulted node started the group again')
    t.equal(r.twoAnswers, 0, `${r.probeRounds} probe rounds, none answered by two nodes`)
    for (const x of r.runs) t.ok(x.outageMs < 10_000, `${x.kind} of ${x.victim}: service back on ${x.to} after ${x.outageMs} ms`)
  })
}
