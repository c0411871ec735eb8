// Issue 14, finding 2: a fence that was waiting out its delay is withdrawn when its target is back in
// the fencer's view; it killed a healthy member before. Two real agents in two-node mode with isolation
// test addresses (the client on both links). The group runs on n2; n1 is the coordinator and runs
// nothing, so it waits its fence delay (5 s, set here: the default in this lab is 2.3 s, shorter than the
// blip and the rejoin) before fencing. n2's links go down for 1.5 s: n2 finds itself
// isolated and gives up its resources (fencing nobody), n1 loses n2 and starts the fence's delay, then
// n2 comes back well within it. Before the fix n1 fenced n2 when the delay ran out, 4.3 s after n2 was
// back (the lab's fence script kills every process in n2's namespace, the agent with them).
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { labAvailable, addressOf } from '../../scripts/lab/lab.js'
import { AgentCluster, until, SERVICE_PORT } from '../../scripts/lab/agent-cluster.js'

const avail = await labAvailable()
const entries = async (c: AgentCluster, n: string, re: RegExp) =>
  (await c.log(n))
    .split('\n')
    .filter((l) => re.test(l))
    .map((l) => JSON.parse(l) as { time: string; msg: string })

if (!avail.ok) {
  t.test('fence withdrawn when its target rejoins', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('a link blip of the active node in two-node mode: the waiting fence is withdrawn, nobody is fenced', async (t) => {
    const server = (n: string) => `require('http').createServer((q,s)=>s.end('${n}')).listen(${SERVICE_PORT},'0.0.0.0')`
    const c = await AgentCluster.create({
      prefix: `mccs${process.pid}f-`,
      nodes: 2,
      hb: (hb) => {
        hb.quorum = { twoNode: true, fenceDelayMs: 5000 }
        for (const n of hb.nodes) n.isolationTestAddresses = [addressOf('client', 0), addressOf('client', 1)]
      },
      main: (_lab, nodes) => ({
        generation: 1,
        types: {},
        // n2 first: the group runs on n2, and n1 (the coordinator, lowest name) runs nothing.
        groups: [{ name: 'web', nodes: [...nodes].reverse(), failoverOnFailure: true, autoStart: true, autoFailback: false }],
        resources: [
          {
            name: 'svc',
            type: 'process',
            group: 'web',
            critical: true,
            monitored: true,
            policy: { monitorIntervalS: 2 },
            attrs: { argv: [process.execPath, '-e', server('x')], stopGraceS: 2 },
            nodeAttrs: Object.fromEntries(nodes.map((n) => [n, { argv: [process.execPath, '-e', server(n)] }])),
          },
        ],
        dependencies: [],
      }),
    })
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `fw-${n}.log`), await c.log(n))
      await c.destroy()
    })
    c.start()
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n2 === 'online' || undefined, 60_000, 'web online on n2')
    await until(async () => c.rounds.at(-1)?.who.join() === 'n2' || undefined, 10_000, 'the service answering from n2')
    await until(async () => (await c.status('n2')).membership?.role === 'follower' || undefined, 15_000, 'n2 following')
    t.equal((await c.status('n1')).membership?.role, 'coordinator', 'n1 coordinates and runs nothing')

    const t0 = Date.now()
    await c.lab.linkDown('n2', 0)
    await c.lab.linkDown('n2', 1)
    // n1 loses n2 and waits its fence delay (it runs nothing).
    await until(
      async () => (await entries(c, 'n1', /fence n2: this node runs no resource, waiting 5000 ms first/)).length > 0 || undefined,
      5000,
      'n1 waiting its fence delay',
    )
    const waited = Date.now() - t0
    await new Promise((r) => setTimeout(r, Math.max(0, 1500 - waited)))
    await c.lab.linkUp('n2', 0)
    await c.lab.linkUp('n2', 1)
    const back = Date.now()
    t.comment(`links of n2 down for ${back - t0} ms; n1 began its fence delay ${waited} ms after the cut`)
    await until(async () => (await c.status('n1')).membership?.partition.join() === 'n1,n2' || undefined, 5000, "n2 back in n1's partition")
    // Past the end of the delay, with margin for the fence script to have run.
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + waited + 5000 + 3000 - Date.now())))

    const fenced = await entries(c, 'n1', /fence n2 \(level 1, fence-script\)/)
    t.same(
      fenced.map((e) => e.msg),
      [],
      'n1 issued no fence against n2',
    )
    t.equal(c.agents.n2!.exitCode, null, "n2's agent is alive")
    t.equal(c.agents.n2!.signalCode, null, "n2's agent was not killed")
    // Withdrawn by the fencing runner (the target is in n1's view when the delay ends), or cancelled
    // during the delay by the engine once n2 is back in the membership: either way, logged.
    const stopped = await entries(c, 'n1', /fence of n2 (withdrawn|cancelled during its delay)/)
    t.ok(stopped.length > 0, `the fence was withdrawn or cancelled, and logged on n1: ${stopped.map((e) => e.msg).join('; ')}`)
    t.same(await entries(c, 'n2', /fence n1 \(level 1/), [], 'the isolated node fenced nobody')
    const st = await c.status('n2')
    t.ok(st.membership?.quorate, 'n2 is a quorate member again')
  })
}
