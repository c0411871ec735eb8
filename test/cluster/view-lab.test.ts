// Issue 14, finding 4, in the lab: 3 real agents, 90 % of the heartbeats into n2 dropped for 3 s (nft rule in
// n2's namespace, heartbeat port only). Before agreed membership, n1 acted on {n1, n2} and fenced the healthy
// n3 while n2 acted on {n2, n3} and fenced the active n1. Now a node acts only inside an installed view, which
// needs every member's acknowledgement: the healthy pair n1–n3 may exclude (and fence) n2, whose network is
// broken, but neither n1 nor n3 is fenced, and the service never answers from two nodes.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'

const avail = await labAvailable()
const EPISODES = Number(process.env.MCCS_VIEW_LAB_EPISODES ?? 3)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

if (!avail.ok) {
  t.test('agreed membership in the lab', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('90 % of the heartbeats into n2 dropped for 3 s: the healthy nodes are never fenced', async (t) => {
    const c = await AgentCluster.create({ prefix: `mccs${process.pid}v-` })
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `view-${n}.log`), await c.log(n))
      await c.destroy()
    })
    c.start()
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
    await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1')
    for (const n of c.nodes)
      await until(async () => (await c.status(n)).membership?.partition?.length === 3 || undefined, 15_000, `${n} in the view of all three`)
    // The agent is the process the lab started: gone means fenced (the lab's fence kills the whole namespace).
    const alive = (n: string) => c.agents[n]!.exitCode === null && c.agents[n]!.signalCode === null
    const t0 = Date.now()
    // The finding's fault, three times (one episode does not always make n2 lose its peers).
    // (The nft command runs in n2's namespace: a fence of n2 at that moment kills it too; try again.)
    const retry = async (f: () => Promise<void>) => {
      for (let i = 0; ; i++) {
        try {
          return await f()
        } catch (e) {
          if (i >= 3) throw e
        }
      }
    }
    for (let i = 0; i < EPISODES && alive('n2'); i++) {
      await retry(async () => {
        await c.lab.clearLoss('n2')
        await c.lab.loss('n2', 90, { direction: 'in' })
      })
      await sleep(3000)
      await retry(() => c.lab.clearLoss('n2'))
      await sleep(2000)
    }
    await sleep(4000)
    const log = (
      await Promise.all(
        c.nodes.map(async (n) =>
          (await c.log(n))
            .split('\n')
            .filter((l) => /fenc|quorum|view|coordinator| down"/i.test(l))
            .slice(-15)
            .map((l) => `${n}: ${l.slice(0, 240)}`),
        ),
      )
    ).flat()
    t.comment(log.join('\n'))
    t.ok(alive('n1'), 'n1 (the active node, healthy) was not fenced')
    t.ok(alive('n3'), 'n3 (healthy) was not fenced')
    const rounds = c.rounds.filter((r) => r.at >= t0)
    t.equal(rounds.filter((r) => r.who.length > 1).length, 0, `${rounds.length} probe rounds from the loss on, none with two answers`)
    let gap = 0
    let last = t0
    for (const r of rounds) {
      if (r.who.length) {
        gap = Math.max(gap, r.at - last)
        last = r.at
      }
    }
    t.comment(`n2 ${alive('n2') ? 'alive' : 'fenced'}; longest time without an answer from the service: ${gap} ms`)
    t.ok(c.rounds.at(-1)!.who.length === 1, `the service answers at the end (from ${c.rounds.at(-1)!.who.join()})`)
  })
}
