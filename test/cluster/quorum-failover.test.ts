// Two nodes + the quorum server, real agents in the lab (issue 4, acceptance 1): the quorum server runs in
// the client namespace and breaks the tie. kill -9 of everything on n1 → n2 alone holds half the votes,
// the server gives n2 its vote, n2 fences n1 and starts the group; the client gets answers from n2.
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
  t.test('two nodes + quorum server: node loss moves the group, the server giving the survivor its vote', async (t) => {
    const qs = await labQuorumServer()
    t.teardown(() => qs.cleanup())
    const c = await AgentCluster.create({ prefix: `mccs${process.pid}q-`, nodes: 2, ...qs.options })
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `qs-${n}.log`), await c.log(n))
      await c.destroy()
    })
    qs.start(c)
    c.start()
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
    await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1')
    const q = await until(
      async () => {
        const s = await c.status('n2')
        return s.membership?.quorum.server?.vote === 'granted' ? s : undefined
      },
      20_000,
      'n2 granted',
    )
    t.equal(q.membership?.quorum.server?.connected, true, 'status shows the quorum server connected')

    const from = c.rounds.length
    const t0 = Date.now()
    await c.killNode('n1')
    const back = await until(
      async () => c.rounds.slice(from).find((r) => r.at > t0 && r.who.includes('n2')),
      30_000,
      'the service answering from n2',
    )
    t.ok(
      back.at - t0 < 5000,
      `kill -9 of n1 to the first answer from n2: ${back.at - t0} ms (no fence delay: only one side can be quorate)`,
    )
    const st = await c.status('n2')
    t.equal(st.membership?.quorate, true, 'n2 alone is quorate with the server vote')
    t.equal(st.membership?.quorum.server?.vote, 'granted')
    t.equal(st.nodes.find((n) => n.name === 'n1')?.membership, 'fenced', 'n1 was fenced before the group moved')
    t.equal(c.rounds.filter((r) => r.who.length > 1).length, 0, 'never two answers in one round')
  })
}
