// Mirror disk (issue 15): the primary's agent is killed -9 and started again at once while its mirror is
// online; its daemons, the mount its predecessor made (in that agent's mount namespace: the lab starts
// every agent through `ip netns exec`, which gives it a mount namespace of its own, as a unit with
// PrivateTmp= or a container would) and the SQLite service live on. What a user expects: the restarted
// agent adopts what it left, so the group stays online on n1 with no fault and no fence; then an operator
// switch to n2 takes the mirror offline on n1 and online on n2 without force, and a switch back does the
// same the other way, with every acknowledged transaction. Before the fix the restarted agent saw the
// volume as "not attached", its offline failed with "/dev/loopN is still in use: its file system is
// mounted at … in the mount namespace of pid … ", its clean failed, and n1 was fenced.
import t from 'tap'
import { runMirrorFailover } from '../../scripts/lab/mirror-failover.js'
import { sqliteLabSkip } from './lab-nodes.js'

const skip = await sqliteLabSkip()

t.test('mirror disk: a restarted primary agent adopts its mirror and takes it offline cleanly on a switch', { skip }, async (t) => {
  const r = await runMirrorFailover({
    prefix: `mccs${process.pid}ar-`,
    fault: 'agent',
    before: 20,
    switchAfter: true,
    // An agent start takes up to ~5 s on a loaded 2-core host: n1 must be back before n2 may fence it.
    fenceDelayMs: 20_000,
    ...(process.env.MCCS_DEBUG_LAB ? { debugDir: process.env.MCCS_DEBUG_LAB } : {}),
  })
  t.comment(`agent kill -9 -> settled on ${r.settledOn} and answering: ${r.recoveryMs} ms`)
  for (const s of r.switches ?? []) t.comment(`switch to ${s.to}: ${s.ms} ms, reached ${s.reached}`)
  t.same(r.faults, [], 'no fault and no failed action after the restart')
  t.same(
    r.fences.map((f) => f.node),
    [],
    'no node fenced',
  )
  t.equal(r.settledOn, 'n1', 'the group stayed online on n1 (adopted by the restarted agent)')
  t.same(
    (r.switches ?? []).map((s) => [s.to, s.reached, s.onlineOn]),
    [
      ['n2', true, ['n2']],
      ['n1', true, ['n1']],
    ],
    `switched to n2 and back to n1 without force (${JSON.stringify((r.switches ?? []).map((s) => s.outcome))})`,
  )
  t.equal(r.servedBy, 'n1', 'served by n1 at the end')
  t.same(r.lost, [], `every acknowledged transaction is there (${r.acked} acknowledged)`)
  t.same(r.mirror.overlaps, [], 'never primary on two nodes at once')
})
