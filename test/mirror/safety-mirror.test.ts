// The safety checker with a mirror disk (issue 15, acceptance 6): three real agents, the group (mirror-disk
// <- process) on n1 and n2, n3 voting; a partition and a SIGSTOP of the node running it (scripts/lab/
// safety.ts runSafety with mirror). The services' records and the mirror witness (the process table) both
// say: never on two nodes at once. The checker's ability to fail is shown in agent-failover.test.ts.
import t from 'tap'
import { labAvailable } from '../../scripts/lab/lab.js'
import { runSafety } from '../../scripts/lab/safety.js'
import { missingTools } from './lab-nodes.js'

const avail = await labAvailable()
const missing = missingTools()

t.test(
  'safety checker with a mirror disk: a partition and a SIGSTOP of the primary, never primary on two nodes',
  { skip: !avail.ok ? avail.reason : missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const r = await runSafety({
      prefix: `mccs${process.pid}sm-`,
      kinds: ['partition', 'sigstop'],
      runsEach: 1,
      mirror: true,
      log: (m) => t.comment(m),
    })
    t.equal(r.runs.length, 2, 'two faults, each moved the group')
    t.same(
      [...new Set(r.mirror.intervals.map((i) => i.node))].sort(),
      ['n1', 'n2'],
      `the witness saw both copies primary in turn (${r.mirror.samples} samples; ${r.mirror.intervals.map((i) => `${i.node} ${i.to - i.from} ms (${i.end})`).join(', ')})`,
    )
    t.same(r.mirror.overlaps, [], 'the mirror disk was never primary on two nodes at once')
    t.same(r.overlaps, [], 'no two nodes ran the service at once')
    t.same(r.resumed, [], 'no faulted node started it again')
    t.equal(r.twoAnswers, 0, 'no probe round answered by two nodes')
  },
)
