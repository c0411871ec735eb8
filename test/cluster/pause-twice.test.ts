// Issue 14, the random-fault run of the thirteenth session (run 6, a fence of a node no fault touched): the
// active node of a two-node cluster paused twice, 1.6 s and then 2.7 s, a few seconds apart. After the second
// pause it installed a view of itself alone and fenced the healthy peer within 30 ms of its resume: the edge
// grace remembered the first pause's missing spell (nothing ran its check while the cluster was quiet), took
// the second for its continuation and cut the edge at once (core/cluster/edge-grace.ts nextAt). What a user
// expects, as for one pause (two-node.test.ts): nobody is fenced and the service keeps answering from n1.
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

t.test(
  'two nodes: the active node paused twice (1.6 s, then 2.7 s) fences nobody and keeps the service',
  { skip: avail.ok ? false : `network-namespace lab unavailable: ${avail.reason}` },
  async (t) => {
    const c = await AgentCluster.create({ prefix: `mccs${process.pid}pt-`, nodes: 2, hb: (hb) => void (hb.quorum = { twoNode: true }) })
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `pause-twice-${n}.log`), await c.log(n))
      await c.destroy()
    })
    c.start()
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
    await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1')
    await until(async () => (await c.status('n2')).membership?.role === 'follower' || undefined, 15_000, 'n2 following')
    const from = c.rounds.length
    for (const ms of [1600, 2700]) {
      c.agents.n1!.kill('SIGSTOP')
      await new Promise((r) => setTimeout(r, ms))
      c.agents.n1!.kill('SIGCONT')
      await new Promise((r) => setTimeout(r, 2500))
    }
    await until(
      async () => ((await c.status('n2')).membership?.partition.length === 2 && (await c.status('n1')).membership?.quorate) || undefined,
      15_000,
      'both nodes in one view again',
    )
    await new Promise((r) => setTimeout(r, 6000)) // past n2's fence delay (5 s)
    t.same(await entries(c, 'n1', /fence n2 .*done\/ok/), [], 'n1 fenced nobody')
    t.same(await entries(c, 'n2', /fence n1 .*done\/ok/), [], "n2's fence of n1 was withdrawn")
    t.equal(c.agents.n1!.exitCode, null, "n1's agent runs")
    t.equal(c.agents.n2!.exitCode, null, "n2's agent runs")
    t.equal(c.rounds.slice(from).filter((r) => r.who.some((w) => w !== 'n1')).length, 0, 'the service answered from n1 alone')
  },
)
