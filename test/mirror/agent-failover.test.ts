// Mirror disk, acceptance 5 (issue 15): two real agents (dist/) in the namespace lab, two-node mode, fenced
// by the lab's power switch (every process of the target's namespace killed, its links down). Group `db` =
// mirror-disk `md` <- process `svc` <- address `vip`. The service keeps an SQLite database in WAL mode on the
// mounted mirror (test/fixtures/mirror-sqlite-service.cjs) and answers on the VIP. A client in the client
// namespace commits numbered transactions through the VIP and keeps each acknowledged one outside the
// cluster; every process of the primary node is killed (node loss); n2 fences it, takes the mirror over
// (no force: n1 had declared it up to date and is fenced), and the service answers on the VIP from n2 with
// every acknowledged transaction (scripts/lab/mirror-failover.ts; the bench repeats it). The mirror witness
// (the safety checker's) watches the primaries throughout, and is shown to fail on a forced second primary.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { until } from '../../scripts/lab/agent-cluster.js'
import { mirrorVerdict } from '../../scripts/lab/safety.js'
import { runMirrorFailover } from '../../scripts/lab/mirror-failover.js'
import { mnode, scrub, sqliteLabSkip } from './lab-nodes.js'

const skip = await sqliteLabSkip()

t.test('mirror disk: the SQLite service moves on node loss with every acknowledged transaction (fencing on)', { skip }, async (t) => {
  let forcedOverlaps: Array<[string, string]> | null = null
  const r = await runMirrorFailover({
    prefix: `mccs${process.pid}md-`,
    ...(process.env.MCCS_DEBUG_LAB ? { debugDir: process.env.MCCS_DEBUG_LAB } : {}),
    // The checker must be able to fail: n1's copy forced primary behind the cluster's back (its daemon in
    // n1's namespace, as an operator's hand-made promotion would run it) while n2 is primary.
    inspect: async ({ c, md, witness, fences }) => {
      const forcedAt = Date.now()
      // Its process records outside md.dir (removed with the cluster): scrub finds its supervisor by them.
      const procDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-rogue-'))
      const rogue = mnode(c.lab, md.dir, 0, procDir, 17799)
      t.teardown(async () => {
        await scrub(rogue, md.dir)
        fs.rmSync(procDir, { recursive: true, force: true })
      })
      await rogue.vol.becomePrimary({ force: true })
      await until(
        async () => witness.transitions.some((x) => x.node === 'n1' && x.ev === 'up' && x.at >= forcedAt) || undefined,
        5000,
        "the witness seeing n1's forced primary",
      )
      forcedOverlaps = mirrorVerdict(await witness.stop(), fences, Date.now()).overlaps.map(
        ([a, b]) => [a.node, b.node].sort() as [string, string],
      )
    },
  })
  t.equal(r.journalBefore, 'wal', 'the database is in WAL mode on the mirror')
  t.ok(
    r.back.last >= r.lastAckedByN1,
    `n2 answers with the last acknowledged transaction present (n2's last committed: ${r.back.last}; last acknowledged by n1: ${r.lastAckedByN1} of ${r.ackedByN1})`,
  )
  t.equal(r.back.journal, 'wal', 'still in WAL mode on n2')
  t.equal(r.servedBy, 'n2', 'the VIP is served by n2')
  t.same(r.lost, [], `every acknowledged transaction is on n2 (${r.acked} acknowledged, ${r.ackedByN1} by n1)`)
  t.comment(`node loss -> service answering on the VIP from n2 with its data: ${r.recoveryMs} ms`)
  t.ok(r.recoveryMs < 30_000, `recovered in ${r.recoveryMs} ms`)
  t.equal(r.groupOnN2, 'online', 'db online on n2')
  t.ok(
    r.fences.some((f) => f.node === 'n1'),
    'n1 fenced (the power switch) before n2 took over',
  )
  t.same(
    r.mirror.intervals.map((i) => i.node),
    ['n1', 'n2'],
    `the witness saw n1 then n2 primary (${r.mirror.samples} samples; ${r.mirror.intervals.map((i) => `${i.node} ${i.end}`).join(', ')})`,
  )
  t.same(r.mirror.overlaps, [], 'never primary on two nodes at once')
  t.same(forcedOverlaps, [['n1', 'n2']], 'with n1 forced primary by hand, the checker reports n1 and n2 primary at once')
})
