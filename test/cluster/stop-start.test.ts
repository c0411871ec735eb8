// Issue 14, finding 7 / acceptance 3: a node can be stopped. SIGTERM to an agent (what `systemctl stop
// mccs_agent` sends) moves its groups to the next node, announces the leave, and exits; the peers take
// it out of the membership without fencing it; a start rejoins cleanly. Real agents in the lab at the
// shipped heartbeat timing (100 / 600 ms), 3 nodes and 2 nodes (two-node mode), stopping and starting
// a standby and the active node (here also the coordinator). The prober asks every node every 10 ms:
// a planned stop of the active node may cost one switch (the service's longest silence at most 1 s),
// never two answers at once, and nobody may be fenced.
import t, { type Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until, type ProbeRound } from '../../scripts/lab/agent-cluster.js'

const avail = await labAvailable()

async function cluster(t: Test, tag: string, nodes: number): Promise<AgentCluster> {
  const c = await AgentCluster.create({
    prefix: `mccs${process.pid}${tag}-`,
    nodes,
    ...(nodes === 2
      ? {
          hb: (hb: Record<string, unknown>) => {
            hb.quorum = { twoNode: true }
          },
        }
      : {}),
  })
  t.teardown(async () => {
    if (process.env.MCCS_DEBUG_LAB)
      for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `${tag}-${n}.log`), await c.log(n))
    await c.destroy()
  })
  c.start()
  await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
  await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1')
  for (const n of c.nodes.slice(1))
    await until(async () => (await c.status(n)).membership?.role === 'follower' || undefined, 15_000, `${n} following`)
  return c
}

const lines = async (c: AgentCluster, n: string, re: RegExp) => (await c.log(n)).split('\n').filter((l) => re.test(l))
/** Fences issued anywhere (the lab's fence script kills every process of the target's namespace). */
const fences = async (c: AgentCluster) =>
  (await Promise.all(c.nodes.map((n) => lines(c, n, /"msg":"fence n\d+ \(level|"msg":"fencing n\d+ with/)))).flat()

/** SIGTERM to a node's agent; resolves with its exit code and how long it took. */
async function stopAgent(
  c: AgentCluster,
  n: string,
  boundMs = 60_000,
): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const child = c.agents[n]!
  const t0 = Date.now()
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  child.kill('SIGTERM')
  const r = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), boundMs).unref())])
  if (!r) throw new Error(`the agent of ${n} did not exit within ${boundMs} ms of SIGTERM`)
  return { ...r, ms: Date.now() - t0 }
}

/** The longest time without any answer, between `from` and the last round. */
function longestSilence(rounds: ProbeRound[], from: number): number {
  let last = rounds.find((r) => r.at >= from && r.who.length)?.at ?? from
  let worst = 0
  for (const r of rounds) {
    if (r.at < from || !r.who.length) continue
    worst = Math.max(worst, r.at - last)
    last = r.at
  }
  return worst
}

async function stopAndStartStandby(t: Test, c: AgentCluster, n: string): Promise<void> {
  const from = c.rounds.length
  const t0 = Date.now()
  const stop = await stopAgent(c, n)
  t.equal(stop.code, 0, `the agent of ${n} exited 0 on SIGTERM (${stop.ms} ms; signal ${stop.signal})`)
  await until(async () => !(await c.status('n1')).membership?.partition.includes(n) || undefined, 5000, `${n} out of n1's partition`)
  await new Promise((r) => setTimeout(r, 2000)) // past the dead time and a fence delay's start
  const st = await c.status('n1')
  t.equal(st.nodes.find((x) => x.name === n)?.membership, 'left', `n1 shows ${n} as left`)
  t.equal(st.nodes.find((x) => x.name === n)?.needsFence, false, `${n} needs no fence`)
  t.same(await fences(c), [], 'nobody was fenced')
  const during = c.rounds.slice(from)
  t.equal(during.filter((r) => r.who.join() !== 'n1').length, 0, 'the service answered from n1 alone throughout')
  t.ok(longestSilence(c.rounds, t0) < 200, `no gap in the service (${longestSilence(c.rounds, t0)} ms)`)

  c.startAgent(n)
  await until(async () => (await c.status(n)).membership?.role === 'follower' || undefined, 30_000, `${n} following again`)
  await until(
    async () => (await c.status('n1')).nodes.find((x) => x.name === n)?.membership === 'up' || undefined,
    10_000,
    `${n} up in n1's engine`,
  )
  await new Promise((r) => setTimeout(r, 1500))
  t.same(await fences(c), [], `nobody was fenced after ${n} rejoined`)
  t.equal(c.agents[n]!.exitCode, null, `${n}'s new agent runs`)
  t.equal(
    c.rounds.slice(from).filter((r) => r.who.join() !== 'n1' && r.who.length).length,
    0,
    'the service never answered from another node',
  )
}

async function stopAndStartActive(t: Test, c: AgentCluster): Promise<void> {
  const from = c.rounds.length
  const t0 = Date.now()
  const stop = await stopAgent(c, 'n1')
  t.equal(stop.code, 0, `the agent of n1 exited 0 on SIGTERM (${stop.ms} ms; signal ${stop.signal})`)
  const moved = await until(async () => c.rounds.slice(from).find((r) => r.who.includes('n2')), 10_000, 'the service answering from n2')
  const silence = longestSilence(c.rounds, t0)
  t.ok(silence <= 1000, `one switch: the service was silent at most ${silence} ms (≤ 1000)`)
  t.ok(moved.at - t0 < 10_000, `SIGTERM to the first answer from n2: ${moved.at - t0} ms`)
  t.equal(c.rounds.slice(from).filter((r) => r.who.length > 1).length, 0, 'never two answers in one round')
  t.notOk(
    c.rounds.slice(from).some((r) => r.who.includes('n1') && r.at > moved.at),
    'n1 no longer answers once n2 does',
  )
  await until(async () => (await c.status('n2')).membership?.coordinator === 'n2' || undefined, 5000, 'n2 coordinator')
  await new Promise((r) => setTimeout(r, 2000))
  const st = await c.status('n2')
  t.equal(st.nodes.find((x) => x.name === 'n1')?.membership, 'left', 'n2 shows n1 as left')
  t.equal(st.groups[0]?.nodes.n2, 'online', 'web online on n2')
  t.same(await fences(c), [], 'nobody was fenced')
  t.comment(
    `stop of the active node: agent exit after ${stop.ms} ms, longest silence ${silence} ms, first answer from n2 after ${moved.at - t0} ms`,
  )

  const back = c.rounds.length
  c.startAgent('n1')
  await until(
    async () => (await c.status('n1')).membership?.partition.length === c.nodes.length || undefined,
    30_000,
    'n1 back in a full partition',
  )
  await until(
    async () => (await c.status('n2')).nodes.find((x) => x.name === 'n1')?.membership === 'up' || undefined,
    15_000,
    'n1 up in the engine',
  )
  await new Promise((r) => setTimeout(r, 2000))
  t.same(await fences(c), [], 'nobody was fenced after n1 rejoined')
  t.equal(c.agents.n1!.exitCode, null, "n1's new agent runs")
  const after = c.rounds.slice(back)
  t.equal(
    after.filter((r) => r.who.length !== 1 || r.who[0] !== 'n2').length,
    0,
    'the service stayed on n2 (no failback), one answer per round',
  )
}

/** Seed 6 of the random-fault run: the active node is stopped just as the standby comes back from a restart.
 *  The group must reach the standby within a few seconds (it took 8.8 s: the leaving node saw the standby held
 *  for its readmission and stopped the group, and the standby waited out its start before taking it). */
async function stopActiveAsStandbyReturns(t: Test, c: AgentCluster, active: string, standby: string): Promise<void> {
  const stop1 = await stopAgent(c, standby)
  t.equal(stop1.code, 0, `${standby} stopped (signal ${stop1.signal})`)
  await until(
    async () => (await c.status(active)).nodes.find((x) => x.name === standby)?.membership === 'left' || undefined,
    5000,
    `${standby} left`,
  )
  c.startAgent(standby)
  await until(
    async () => (await lines(c, active, /is back \(it had left the cluster\)/)).length > 1 || undefined,
    30_000,
    `${active} hears ${standby} again`,
  )
  const from = c.rounds.length
  const t0 = Date.now()
  const stop2 = await stopAgent(c, active)
  t.equal(stop2.code, 0, `${active} stopped (signal ${stop2.signal})`)
  const moved = await until(
    async () => c.rounds.slice(from).find((r) => r.who.includes(standby)),
    20_000,
    `the service answering from ${standby}`,
  )
  t.ok(moved.at - t0 < 5000, `SIGTERM to ${active} to the first answer from ${standby}: ${moved.at - t0} ms (< 5000)`)
  t.equal(c.rounds.slice(from).filter((r) => r.who.length > 1).length, 0, 'never two answers in one round')
  t.same(await fences(c), [], 'nobody was fenced')
}

if (!avail.ok) {
  t.test('graceful stop and start', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('3 nodes: stop and start a standby, then the active node; nobody is fenced', async (t) => {
    const c = await cluster(t, 'g', 3)
    await t.test('standby n3', (t) => stopAndStartStandby(t, c, 'n3'))
    await t.test('active n1', (t) => stopAndStartActive(t, c))
  })

  t.test('2 nodes (two-node mode): stop and start the standby, then the active node; nobody is fenced', async (t) => {
    const c = await cluster(t, 'h', 2)
    await t.test('standby n2', (t) => stopAndStartStandby(t, c, 'n2'))
    await t.test('active n1', (t) => stopAndStartActive(t, c))
    await t.test('active n2 stopped as the standby n1 comes back from a restart', (t) => stopActiveAsStandbyReturns(t, c, 'n2', 'n1'))
  })
}
