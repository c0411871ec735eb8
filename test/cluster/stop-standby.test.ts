// Issue 14, finding 7: `mccs node standby|unstandby <node>` (Pacemaker's standby) in the lab with real
// agents, 3 nodes. Standby of the active node, asked on another node: the group moves to the next node
// (one switch), the node stays a member and nothing starts there — not even when the group must move
// again (it skips the standby node) — and it keeps its standby across an agent restart. Unstandby makes it
// usable again. Nobody is fenced at any point.
import t from 'tap'
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'
import { packageRoot } from '../../core/paths.js'

const avail = await labAvailable()

function cli(c: AgentCluster, node: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, MCCS_HOME: c.homes[node]!, MCCS_NODE_NAME: node }
  delete env.NODE_OPTIONS
  delete env.MCCS_CONFIG
  return new Promise((resolve) =>
    execFile(path.join(packageRoot(), 'bin/mccs'), args, { env, timeout: 120_000 }, (err, out, errOut) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut }),
    ),
  )
}
async function stopAgent(c: AgentCluster, n: string): Promise<void> {
  const child = c.agents[n]!
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)))
  child.kill('SIGTERM')
  const code = await Promise.race([exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 30_000).unref())])
  if (code !== 0) throw new Error(`the agent of ${n} did not exit 0 within 30 s of SIGTERM (${code})`)
}
const fences = async (c: AgentCluster) =>
  (
    await Promise.all(
      c.nodes.map(async (n) => (await c.log(n)).split('\n').filter((l) => /"msg":"fence n\d+ \(level|"msg":"fencing n\d+ with/.test(l))),
    )
  ).flat()

if (!avail.ok) {
  t.test('node standby', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('3 nodes: standby of the active node moves its group and keeps it away; unstandby; nobody is fenced', async (t) => {
    const c = await AgentCluster.create({ prefix: `mccs${process.pid}y-`, nodes: 3 })
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `y-${n}.log`), await c.log(n))
      await c.destroy()
    })
    c.start()
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
    await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1')
    for (const n of ['n2', 'n3'])
      await until(async () => (await c.status(n)).membership?.role === 'follower' || undefined, 15_000, `${n} following`)

    // Asked on n2 for n1 (the active node and the coordinator).
    const from = c.rounds.length
    const t0 = Date.now()
    const r = await cli(c, 'n2', 'node', 'standby', 'n1')
    t.equal(r.code, 0, `mccs node standby n1: ${r.out}${r.err}`)
    t.match(r.out, /n1: in standby; web moved to n2/)
    const moved = c.rounds.slice(from).find((x) => x.who.includes('n2'))
    t.ok(moved, 'the service answers from n2')
    const gaps = c.rounds.slice(from).filter((x) => x.at >= t0)
    let worst = 0
    for (let i = 1; i < gaps.length; i++)
      if (gaps[i]!.who.length)
        worst = Math.max(
          worst,
          gaps[i]!.at -
            (gaps
              .slice(0, i)
              .reverse()
              .find((x) => x.who.length)?.at ?? t0),
        )
    t.ok(worst <= 1000, `one switch: the service was silent at most ${worst} ms`)
    t.equal(c.rounds.slice(from).filter((x) => x.who.length > 1).length, 0, 'never two answers in one round')
    let st = await c.status('n2')
    t.equal(st.nodes.find((x) => x.name === 'n1')?.membership, 'standby', 'status shows n1 in standby')
    t.ok(st.membership?.partition.includes('n1'), 'n1 is still a member')
    t.equal(st.membership?.coordinator, 'n1', 'and still the coordinator (it decides, it runs nothing)')
    t.equal(st.groups[0]?.activeNode, 'n2')
    t.equal((await cli(c, 'n3', 'group', 'online', 'web', '--node', 'n1')).code, 3, 'group online on the standby node is rejected')

    // The group must move again (n2 stops): it goes to n3, never to the standby n1.
    const from2 = c.rounds.length
    await stopAgent(c, 'n2')
    await until(async () => c.rounds.slice(from2).find((x) => x.who.includes('n3')), 15_000, 'the service answering from n3')
    t.pass('the group moved to n3')
    t.equal(c.rounds.slice(from2).filter((x) => x.who.includes('n1')).length, 0, 'nothing started on the standby node')
    c.startAgent('n2')
    await until(async () => (await c.status('n2')).membership?.role === 'follower' || undefined, 30_000, 'n2 following again')

    // The standby is kept across an agent restart of n1.
    await stopAgent(c, 'n1')
    c.startAgent('n1')
    await until(async () => (await c.status('n1')).membership?.partition.length === 3 || undefined, 30_000, 'n1 back in a full partition')
    await until(
      async () => (await c.status('n3')).nodes.find((x) => x.name === 'n1')?.membership === 'standby' || undefined,
      10_000,
      'n1 still in standby after its restart',
    )
    t.pass('n1 is still in standby after its agent restarted')
    await new Promise((r) => setTimeout(r, 1500))
    t.equal(c.rounds.slice(from2).filter((x) => x.who.includes('n1')).length, 0, 'still nothing on n1')
    t.equal((await c.status('n1')).groups[0]?.activeNode, 'n3', 'the group stays on n3')

    // Unstandby: n1 is probed and usable again (the group stays where it is: no failback).
    const u = await cli(c, 'n3', 'node', 'unstandby', 'n1')
    t.equal(u.code, 0, `mccs node unstandby n1: ${u.out}${u.err}`)
    await until(
      async () => (await c.status('n3')).nodes.find((x) => x.name === 'n1')?.membership === 'up' || undefined,
      10_000,
      'n1 up again',
    )
    const sw = await cli(c, 'n3', 'group', 'switch', 'web', '--node', 'n1', '--wait', '--timeout', '30')
    t.equal(sw.code, 0, `the group can be switched to n1 again: ${sw.err}`)
    await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1')
    st = await c.status('n1')
    t.equal(st.groups[0]?.nodes.n1, 'online')
    t.same(await fences(c), [], 'nobody was fenced')
    t.equal(c.rounds.filter((x) => x.who.length > 1).length, 0, `${c.rounds.length} probe rounds, never two answers`)
  })
}
