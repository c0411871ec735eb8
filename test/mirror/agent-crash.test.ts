// Mirror disk (issue 15): the primary's agent crashes and its service manager starts it again at once —
// the commonest fault of all. Only the agent is killed -9: the mirror's daemons, its mount and the SQLite
// service live on. Two real agents in the namespace lab, two-node mode, fenced by the lab's power switch.
// What a user expects: the service answers on the VIP again within seconds (kept on n1, or moved), every
// acknowledged transaction is there, and the mirror is never primary on two nodes.
// Seen before (random-fault seed 7 with a restarted peer counted at once): the restarted agent could not
// take its mirror offline, fenced itself, and both copies then refused to become primary without force.
import t from 'tap'
import { runMirrorFailover } from '../../scripts/lab/mirror-failover.js'
import { sqliteLabSkip } from './lab-nodes.js'

const skip = await sqliteLabSkip()

t.test(
  "mirror disk: the primary's agent killed -9 and restarted at once: the service answers again with every acknowledged transaction",
  { skip },
  async (t) => {
    const r = await runMirrorFailover({
      prefix: `mccs${process.pid}ac-`,
      fault: 'agent',
      before: 20,
      ...(process.env.MCCS_DEBUG_LAB ? { debugDir: process.env.MCCS_DEBUG_LAB } : {}),
    })
    t.comment(
      `agent kill -9 -> settled (past the fence delay) and answering on the VIP: ${r.recoveryMs} ms (from ${r.back.node}); served at the end by ${r.servedBy}`,
    )
    t.ok(r.ackAfter, `a transaction acknowledged after the restart (by ${r.ackAfter?.node})`)
    t.ok(r.recoveryMs < 30_000, `settled and answering in ${r.recoveryMs} ms`)
    t.same(r.lost, [], `every acknowledged transaction is there (${r.acked} acknowledged, ${r.ackedByN1} by n1)`)
    t.same(r.mirror.overlaps, [], 'never primary on two nodes at once')
  },
)
