// Cluster cost and robustness with real agents (issue 4, acceptance 6), 3 nodes × 2 links in the lab,
// default timing, the group `web` online on n1:
//   idle:  each agent's CPU (whole process, % of one core; and split: main thread, heartbeat thread, the rest,
//          with the two threads' wakeups/s) and its heartbeat traffic (UDP 14321 bytes/s sent and received,
//          counted by nft in the node's namespace) over --idle seconds. Goal (issue 19): < 1 % per agent.
//   hog:   --hog seconds with every core of the host spinning (one busy process per CPU, nice 0): false
//          'node down' events in the agents' logs, group moves and probe rounds with two answers
//   node --no-node-snapshot --import tsx scripts/bench/cluster-load.ts [--idle 20] [--hog 60]
import { spawn, type ChildProcess } from 'node:child_process'
import os from 'node:os'
import { labAvailable, run } from '../lab/lab.js'
import { AgentCluster, until } from '../lab/agent-cluster.js'
import { countHeartbeat, cpuTicks, heartbeatCounters, heartbeatTid, HZ, threadSplit, threadTimes } from '../lab/meter.js'

const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(`--${n}`)
  return i >= 0 ? Number(process.argv[i + 1]) : d
}
const idleS = arg('idle', 20)
const hogS = arg('hog', 60)
const avail = await labAvailable()
if (!avail.ok) {
  console.log(JSON.stringify({ skipped: avail.reason }))
  process.exit(0)
}

const hogs: ChildProcess[] = []
const c = await AgentCluster.create({ prefix: `mccs${process.pid}b-` })
try {
  c.start()
  await until(async () => (c.rounds.at(-1)?.who.join() === 'n1' ? true : undefined), 90_000, 'web answering from n1')
  await until(async () => ((await c.status('n3')).membership?.role === 'follower' ? true : undefined), 30_000, 'n3 following')
  await new Promise((r) => setTimeout(r, 3000))
  for (const n of c.nodes) await countHeartbeat(c, n)
  const counters = (n: string) => heartbeatCounters(c, n)
  const pids = Object.fromEntries(c.nodes.map((n) => [n, c.agents[n]!.pid!]))
  const hbTids = Object.fromEntries(await Promise.all(c.nodes.map(async (n) => [n, heartbeatTid(await c.log(n))] as const)))
  const t0 = Date.now()
  const cpu0 = Object.fromEntries(await Promise.all(c.nodes.map(async (n) => [n, await cpuTicks(pids[n]!)] as const)))
  const th0 = Object.fromEntries(await Promise.all(c.nodes.map(async (n) => [n, await threadTimes(pids[n]!)] as const)))
  const net0 = Object.fromEntries(await Promise.all(c.nodes.map(async (n) => [n, await counters(n)] as const)))
  await new Promise((r) => setTimeout(r, idleS * 1000))
  const secs = (Date.now() - t0) / 1000
  const idle: Record<string, unknown> = {}
  for (const n of c.nodes) {
    const cpu = (((await cpuTicks(pids[n]!)) - cpu0[n]!) / HZ / secs) * 100
    const nn = await counters(n)
    idle[n] = {
      cpuPct: Number(cpu.toFixed(2)),
      ...threadSplit(pids[n]!, hbTids[n]!, th0[n]!, await threadTimes(pids[n]!), secs),
      txBytesPerS: Math.round((nn.tx.bytes - net0[n]!.tx.bytes) / secs),
      rxBytesPerS: Math.round((nn.rx.bytes - net0[n]!.rx.bytes) / secs),
      txPacketsPerS: Math.round((nn.tx.packets - net0[n]!.tx.packets) / secs),
    }
  }
  // CPU hog on every core.
  const logBefore = Object.fromEntries(await Promise.all(c.nodes.map(async (n) => [n, (await c.log(n)).length] as const)))
  const from = c.rounds.length
  for (let i = 0; i < os.cpus().length; i++) hogs.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }))
  await new Promise((r) => setTimeout(r, hogS * 1000))
  for (const h of hogs)
    try {
      process.kill(h.pid!, 'SIGKILL')
    } catch {
      /* gone */
    }
  await new Promise((r) => setTimeout(r, 2000))
  let peerDown = 0
  let fences = 0
  for (const n of c.nodes) {
    const added = (await c.log(n)).slice(logBefore[n]!)
    peerDown += (added.match(/"msg":"node n\d down"/g) ?? []).length
    fences += (added.match(/"msg":"fence n\d/g) ?? []).length
  }
  const during = c.rounds.slice(from)
  const moves = during.filter(
    (r, i) => i > 0 && r.who.length === 1 && during[i - 1]!.who.length === 1 && r.who[0] !== during[i - 1]!.who[0],
  ).length
  const gaps = during.filter((r) => r.who.length === 0).length
  console.log(
    JSON.stringify({
      idleS,
      idle,
      idleGoalPct: 1,
      timing: '100/600',
      hog: {
        seconds: hogS,
        cores: os.cpus().length,
        falseNodeDown: peerDown,
        fences,
        groupMoves: moves,
        roundsWithoutAnswer: gaps,
        twoAnswers: during.filter((r) => r.who.length > 1).length,
        probeRounds: during.length,
      },
    }),
  )
} finally {
  for (const h of hogs)
    try {
      process.kill(h.pid!, 'SIGKILL')
    } catch {
      /* gone */
    }
  await c.destroy()
  void run
}
