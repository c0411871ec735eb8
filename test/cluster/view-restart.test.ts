// Issue 14, finding 5, in the lab: a restarted node with the lowest name must not block a quorate pair. Three
// agents; n3 is lost (fenced), then n1 (the coordinator, running the service) is lost too: n2 alone has no
// quorum. n1's agent is started again; it cannot settle before its wait for all ends (10 s: n3 stays down).
// Before, n2 took n1 (the lowest name) as its coordinator as soon as it heard it, and n1 decided nothing until
// its wait ended: the pair sat idle ~10 s. Now the coordinator is the lowest-named *ready* member of the
// agreed view: n2 coordinates the pair at once, and the service is back long before n1's wait ends.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'

const avail = await labAvailable()
const entries = async (c: AgentCluster, n: string, re: RegExp) =>
  (await c.log(n))
    .split('\n')
    .filter((l) => re.test(l))
    .map((l) => JSON.parse(l) as { time: string; msg: string })

if (!avail.ok) {
  t.test(
    'a restarted lowest-named node does not block the pair',
    { skip: `network-namespace lab unavailable: ${avail.reason}` },
    async () => {},
  )
} else {
  t.test('a restarted lowest-named node that is not ready yet does not block a quorate pair', async (t) => {
    const c = await AgentCluster.create({ prefix: `mccs${process.pid}r-` })
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `restart-${n}.log`), await c.log(n))
      await c.destroy()
    })
    c.start()
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
    await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1')
    for (const n of c.nodes)
      await until(async () => (await c.status(n)).membership?.partition?.length === 3 || undefined, 15_000, `${n} in the view of all three`)

    await c.killNode('n3')
    await until(
      async () => (await c.status('n1')).nodes.find((n) => n.name === 'n3')?.membership === 'fenced' || undefined,
      15_000,
      'n3 fenced by n1',
    )
    await c.killNode('n1')
    await until(async () => (await c.status('n2')).membership?.quorate === false || undefined, 10_000, 'n2 alone, without quorum')
    await new Promise((r) => setTimeout(r, 1000))
    const restart = Date.now()
    c.startAgent('n1')
    // When n2 hears n1 again (its log), then the service's first answer.
    const heard = await until(
      async () => (await entries(c, 'n2', /"node n1 up"/)).find((e) => Date.parse(e.time) >= restart),
      30_000,
      'n2 hearing n1 again',
    )
    const heardAt = Date.parse(heard.time)
    const back = await until(async () => c.rounds.find((r) => r.at > restart && r.who.length > 0), 30_000, 'the service answering again')
    const st2 = await c.status('n2')
    const ms = back.at - heardAt
    t.comment(
      `n1's agent started; n2 heard it ${heardAt - restart} ms later; the service answered (from ${back.who.join()}) ${ms} ms after that; n2 is ${st2.membership?.role}`,
    )
    const coordinated = await entries(c, 'n2', /this node is the coordinator/)
    t.ok(
      coordinated.some((e) => Date.parse(e.time) >= heardAt),
      'n2 (ready) coordinated the pair while n1 was not ready',
    )
    t.ok(ms < 6000, `the pair acted before n1's wait for all (10 s) ended: service back ${ms} ms after n1 was heard`)
    t.equal(c.rounds.filter((r) => r.who.length > 1).length, 0, 'never two answers in a round')
    // n1 settles when its wait ends and, as the lowest-named ready member, takes over: the service stays up.
    await until(async () => (await c.status('n1')).membership?.role === 'coordinator' || undefined, 20_000, 'n1 coordinating once ready')
    t.equal(c.rounds.filter((r) => r.who.length > 1).length, 0, 'never two answers in a round (handover included)')
  })
}
