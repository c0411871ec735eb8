// Two nodes + the quorum server (issue 14, finding 3's kind: an outage nothing asked for). The standby dies
// (kill -9 of everything on n2): the active node n1 keeps the service running while the server moves its
// vote from {n1, n2} to {n1}. Before 2026-12-07 n1 read the moment between its report of {n1} and the
// server's answer as a lost quorum and took the service offline ("quorum lost (minority …)"), then started
// it again once granted: an outage caused by the loss of a node that ran nothing.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'
import { labQuorumServer } from '../../scripts/lab/quorum-lab.js'

const avail = await labAvailable()

if (!avail.ok) {
  t.test('two nodes and a quorum server in the lab', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('two nodes + quorum server: the standby dies, the active node keeps the service up', async (t) => {
    const qs = await labQuorumServer()
    t.teardown(() => qs.cleanup())
    const c = await AgentCluster.create({ prefix: `mccs${process.pid}w-`, nodes: 2, ...qs.options })
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `qs-standby-${n}.log`), await c.log(n))
      await c.destroy()
    })
    qs.start(c)
    c.start()
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
    await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1')
    for (const n of c.nodes)
      await until(
        async () => ((await c.status(n)).membership?.quorum.server?.vote === 'granted' ? true : undefined),
        20_000,
        `${n} granted`,
      )
    await new Promise((r) => setTimeout(r, 1000))

    const from = c.rounds.length
    const t0 = Date.now()
    await c.killNode('n2')
    // n1 alone, granted by the server, the service never stopped.
    await until(
      async () => {
        const s = await c.status('n1')
        return s.membership?.quorate && s.membership.partition.join() === 'n1' && s.membership.quorum.server?.vote === 'granted'
          ? true
          : undefined
      },
      20_000,
      'n1 alone and granted',
    )
    await new Promise((r) => setTimeout(r, 2000))
    const rounds = c.rounds.slice(from).filter((r) => r.at > t0)
    let worst = 0
    let since: number | null = null
    for (const r of rounds) {
      if (!r.who.includes('n1')) since ??= r.at
      else if (since !== null) {
        worst = Math.max(worst, r.at - since)
        since = null
      }
    }
    if (since !== null) worst = Math.max(worst, rounds.at(-1)!.at - since)
    t.ok(rounds.length > 50, `${rounds.length} probe rounds after the kill`)
    t.equal(worst, 0, `the service answered from n1 in every round after n2 died (longest gap ${worst} ms)`)
    const log = await c.log('n1')
    t.notMatch(log, /quorum lost/, 'n1 never lost quorum')
    t.notMatch(log, /self-fenced/, 'n1 never took its resources offline')
  })
}
