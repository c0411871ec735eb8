// The left-out rule (core/cluster/left-out.ts): a node takes its resources offline for a quorate view
// without it only once that view's members have all joined it — not for one member's own proposal.
import t from 'tap'
import { leftOutBy } from '../../core/cluster/left-out.js'
import type { Announce, PeerFacts } from '../../core/cluster/view.js'

const nodes = [{ name: 'n1' }, { name: 'n2' }, { name: 'n3' }]
const ann = (epoch: number, members: string[], joined: boolean): Announce => ({
  epoch,
  members,
  ready: members,
  joined,
  rd: true,
  floor: joined ? epoch : epoch - 1,
})
const fact = (a: Announce, annAt = 1000): PeerFacts => ({ ann: a, annAt, leaseAt: annAt, grantAt: null })
const base = { self: 'n2', nodes, member: true, installedEpoch: 11, now: 1100, deadMs: 600 }

t.test('one member joined its own proposal, the other still in the view with us: not left out', async (t) => {
  // safety-mirror in CI: n1, back from a partition, proposed {n1, n3} while holding n2 on readmission; n3 kept
  // the installed {n2, n3}. n2, running the group, self-fenced for it before.
  const facts = { n1: fact(ann(12, ['n1', 'n3'], true)), n3: fact(ann(11, ['n2', 'n3'], true)) }
  t.equal(leftOutBy({ ...base, facts }), null)
})

t.test('every member joined a quorate view without us: left out, named', async (t) => {
  const facts = { n1: fact(ann(12, ['n1', 'n3'], true)), n3: fact(ann(12, ['n1', 'n3'], true)) }
  t.same(leftOutBy({ ...base, facts }), { by: 'n1', epoch: 12 })
})

t.test('a member proposing it but not joined yet: not left out', async (t) => {
  const facts = { n1: fact(ann(12, ['n1', 'n3'], true)), n3: fact(ann(12, ['n1', 'n3'], false)) }
  t.equal(leftOutBy({ ...base, facts }), null)
})

t.test('stale announcements, an older view, or a tie do not count', async (t) => {
  const both = (e: number, at: number) => ({ n1: fact(ann(e, ['n1', 'n3'], true), at), n3: fact(ann(e, ['n1', 'n3'], true), at) })
  t.equal(leftOutBy({ ...base, facts: both(12, 400) }), null, 'older than the dead time')
  t.equal(leftOutBy({ ...base, facts: both(11, 1000) }), null, 'not newer than the view installed here')
  t.same(leftOutBy({ ...base, installedEpoch: null, facts: both(3, 1000) }), { by: 'n1', epoch: 3 }, 'no view here: any joined one')
  const two = [{ name: 'n1' }, { name: 'n2' }]
  t.equal(leftOutBy({ ...base, nodes: two, facts: { n1: fact(ann(12, ['n1'], true)) } }), null, 'one of two is a tie')
})

t.test('a node never in an installed quorate view since its start (late start, restart) is not left out', async (t) => {
  // The lab (late-start.test.ts): a late n3 heard everyone while n1 and n2 still announced {n1, n2}, and
  // self-fenced on its way in.
  const facts = { n1: fact(ann(7, ['n1', 'n3'], true)), n3: fact(ann(7, ['n1', 'n3'], true)) }
  t.equal(leftOutBy({ ...base, member: false, installedEpoch: null, facts }), null)
  t.same(leftOutBy({ ...base, member: true, installedEpoch: null, facts }), { by: 'n1', epoch: 7 }, 'once a member, it is')
})
