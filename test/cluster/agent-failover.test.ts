// Real agents in the network-namespace lab (scripts/lab/agent-cluster.ts): 3 nodes, 2 links, a group
// (a small HTTP service) that starts on n1, the coordinator. A prober in the client namespace asks
// every node every 10 ms; the service must come back on a survivor after each fault and never answer
// from two nodes in the same round.
import t, { type Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'

const avail = await labAvailable()

async function cluster(t: Test, tag: string): Promise<AgentCluster> {
  const c = await AgentCluster.create({ prefix: `mccs${process.pid}${tag}-` })
  t.teardown(async () => {
    if (process.env.MCCS_DEBUG_LAB)
      for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `${tag}-${n}.log`), await c.log(n))
    await c.destroy()
  })
  c.start()
  await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
  await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1')
  return c
}

const twoAtOnce = (c: AgentCluster) => c.rounds.filter((r) => r.who.length > 1)

if (!avail.ok) {
  t.test('agents fail over in the lab', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('node loss: the survivors fence n1, then the service answers from n2', async (t) => {
    const c = await cluster(t, 'k')
    const st = await c.status('n1')
    t.equal(st.membership?.coordinator, 'n1')
    t.same(st.membership?.partition, c.nodes)
    // n2 takes its role after its own settle time and stability window, possibly after n1 started the group.
    const s2 = await until(
      async () => {
        const x = await c.status('n2')
        return x.membership?.role === 'follower' ? x : undefined
      },
      10_000,
      'n2 following',
    )
    t.equal(s2.membership?.role, 'follower', 'n2 follows')
    t.equal(s2.groups[0]?.nodes.n1, 'online', 'a follower shows the cluster state from the coordinator')

    const from = c.rounds.length
    const t0 = Date.now()
    await c.killNode('n1')
    const back = await until(
      async () => c.rounds.slice(from).find((r) => r.at > t0 && r.who.some((w) => w !== 'n1')),
      30_000,
      'the service back on a survivor',
    )
    const outage = back.at - t0
    t.same(back.who, ['n2'], 'the next node by priority took the group')
    t.ok(outage < 5000, `kill -9 of every n1 process to the first answer from n2: ${outage} ms`)
    const after = await c.status('n2')
    t.equal(after.membership?.coordinator, 'n2')
    t.equal(after.nodes.find((n) => n.name === 'n1')?.membership, 'fenced', 'n1 was fenced before the group moved')
    await until(async () => (await c.status('n2')).groups[0]?.nodes.n2 === 'online' || undefined, 10_000, 'web online on n2 in the status')
    t.match(await c.log('n2'), /fence n1 \(level 1, fence-script\): done\/ok/)
    await writeFile(path.join(os.tmpdir(), `mccs-failover-${process.pid}.json`), JSON.stringify({ outageMs: outage }))
    t.equal(twoAtOnce(c).length, 0, `${c.rounds.length} probe rounds, none with two answers`)
  })

  t.test('partition {n1} | {n2,n3}: n1 gives up without quorum, the majority fences it and takes over', async (t) => {
    const c = await cluster(t, 'p')
    const from = c.rounds.length
    const t0 = Date.now()
    await c.lab.partition([['n1'], ['n2', 'n3', 'client']])
    const back = await until(async () => c.rounds.slice(from).find((r) => r.who.includes('n2')), 30_000, 'the service on n2')
    t.ok(back.at - t0 < 5000, `partition to the first answer from n2: ${back.at - t0} ms`)
    const st = await c.status('n2')
    t.equal(st.membership?.coordinator, 'n2')
    t.equal(st.nodes.find((n) => n.name === 'n1')?.membership, 'fenced')
    t.equal(twoAtOnce(c).length, 0, `${c.rounds.length} probe rounds, none with two answers`)
  })

  t.test('a paused coordinator (SIGSTOP for 3 dead times) is fenced and never resumes the group', async (t) => {
    const c = await cluster(t, 's')
    const agent = c.agents.n1!
    const from = c.rounds.length
    const t0 = Date.now()
    agent.kill('SIGSTOP')
    const back = await until(async () => c.rounds.slice(from).find((r) => r.who.includes('n2')), 30_000, 'the service on n2')
    t.ok(back.at - t0 < 5000, `SIGSTOP to the first answer from n2: ${back.at - t0} ms`)
    await new Promise((r) => setTimeout(r, 1800 - (Date.now() - t0)))
    try {
      agent.kill('SIGCONT')
    } catch {
      /* fenced: it is gone */
    }
    await new Promise((r) => setTimeout(r, 1500))
    t.notOk(
      c.rounds.slice(from).some((r) => r.who.includes('n1') && r.at > back.at),
      'n1 never answered again',
    )
    t.equal(twoAtOnce(c).length, 0, `${c.rounds.length} probe rounds, none with two answers`)
  })
}
