// Size (issue 19, What 4): N real agents in the namespace lab (default 16; hb.json allows 32), 2 links, the
// shipped timing, the group `web` online on n1. Rows:
//   idle:   each agent's CPU (whole process, % of one core) and its heartbeat traffic (UDP 14321, counted by nft
//           in the node's namespace) over --idle seconds;
//   loss:   kill -9 of every process of the last node (never the coordinator): from the kill to the moment each
//           survivor's status shows a quorate view without it (asked every 100 ms) — "one agreed membership
//           within 1 s of a node loss";
//   hog:    --hog seconds with every core spinning: 'node … down' lines and fences in the agents' logs.
// No prober: with 16 nodes a client asking every node every 10 ms would be the largest load in the lab.
//   node --no-node-snapshot --import tsx scripts/bench/scale.ts [--nodes 16] [--idle 20] [--hog 20]
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import os from 'node:os'
import { labAvailable } from '../lab/lab.js'
import { AgentCluster, until } from '../lab/agent-cluster.js'
import { countHeartbeat, cpuTicks, heartbeatCounters, HZ } from '../lab/meter.js'

const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(`--${n}`)
  return i >= 0 ? Number(process.argv[i + 1]) : d
}
const nodes = arg('nodes', 16)
const idleS = arg('idle', 20)
const hogS = arg('hog', 20)
const avail = await labAvailable()
if (!avail.ok) {
  console.log(JSON.stringify({ skipped: avail.reason }))
  process.exit(0)
}

const rss = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
const hogs: ChildProcess[] = []
const started = Date.now()
let lastProgress = Date.now()
const c = await AgentCluster.create({ prefix: `mccs${process.pid}z-`, nodes })
// The bench runner ends this process with SIGTERM at its time limit: the lab and its agents go first.
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.once(sig, () => {
    for (const h of hogs) h.kill('SIGKILL')
    void c.destroy().finally(() => process.exit(sig === 'SIGTERM' ? 143 : 130))
  })
try {
  for (const n of c.nodes) c.startAgent(n)
  // Every node in one quorate view, the group online.
  await until(
    async () => {
      const s = await c.status('n1')
      if (Date.now() - lastProgress > 10_000) {
        lastProgress = Date.now()
        console.error(
          `${Math.round((Date.now() - started) / 1000)} s: n1 sees ${s.membership?.partition.length ?? 0} of ${nodes} in its view, web ${s.groups[0]?.nodes.n1}`,
        )
      }
      return s.membership?.quorate && s.membership.partition.length === nodes && s.groups[0]?.nodes.n1 === 'online' ? true : undefined
    },
    240_000,
    `all ${nodes} nodes in one view and web online on n1`,
  )
  const formedMs = Date.now() - started
  await new Promise((r) => setTimeout(r, 3000))

  for (const n of c.nodes) await countHeartbeat(c, n)
  const counters = (n: string) => heartbeatCounters(c, n)
  const pids = Object.fromEntries(c.nodes.map((n) => [n, c.agents[n]!.pid!]))
  const t0 = Date.now()
  const cpu0 = Object.fromEntries(await Promise.all(c.nodes.map(async (n) => [n, await cpuTicks(pids[n]!)] as const)))
  const net0 = Object.fromEntries(await Promise.all(c.nodes.map(async (n) => [n, await counters(n)] as const)))
  await new Promise((r) => setTimeout(r, idleS * 1000))
  const secs = (Date.now() - t0) / 1000
  const cpu: number[] = []
  const tx: number[] = []
  const mem: number[] = []
  for (const n of c.nodes) {
    cpu.push((((await cpuTicks(pids[n]!)) - cpu0[n]!) / HZ / secs) * 100)
    tx.push(((await counters(n)).tx.bytes - net0[n]!.tx.bytes) / secs)
    mem.push(await rss(pids[n]!))
  }

  // Node loss: the last node (the coordinator is the lowest name of the view).
  const victim = c.nodes.at(-1)!
  const k0 = Date.now()
  await c.killNode(victim)
  const survivors = c.nodes.filter((n) => n !== victim)
  const agreedAt: Record<string, number> = {}
  const viewOf: Record<string, string> = {}
  // Followers log no line for a new view with the same coordinator: each survivor's status is asked every
  // 100 ms (all at once) until it shows a quorate view without the victim; the figure has that resolution.
  await until(
    async () => {
      await Promise.all(
        survivors
          .filter((n) => agreedAt[n] === undefined)
          .map(async (n) => {
            const m = (await c.status(n).catch(() => null))?.membership
            if (m?.quorate && !m.partition.includes(victim) && m.partition.length === survivors.length) {
              agreedAt[n] = Date.now() - k0
              viewOf[n] = m.partition.join(',')
            }
          }),
      )
      if (survivors.every((n) => agreedAt[n] !== undefined)) return true
      await new Promise((r) => setTimeout(r, 100))
      return undefined
    },
    30_000,
    `every survivor in a view without ${victim}`,
  )
  const agreed = survivors.map((n) => agreedAt[n]!)
  const views = new Set(Object.values(viewOf))

  // CPU hog on every core: false 'node down' verdicts and fences.
  const logBefore = Object.fromEntries(await Promise.all(survivors.map(async (n) => [n, (await c.log(n)).length] as const)))
  for (let i = 0; i < os.cpus().length; i++) hogs.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }))
  await new Promise((r) => setTimeout(r, hogS * 1000))
  for (const h of hogs) h.kill('SIGKILL')
  await new Promise((r) => setTimeout(r, 2000))
  let falseDown = 0
  let fences = 0
  for (const n of survivors) {
    const added = (await c.log(n)).slice(logBefore[n]!)
    falseDown += (added.match(/"msg":"node n\d+ down"/g) ?? []).length
    fences += (added.match(/"msg":"fence n\d+ /g) ?? []).length
  }
  console.log(
    JSON.stringify({
      nodes,
      timing: '100/600',
      formedMs,
      idleS,
      cpuPctMedian: Number(median(cpu).toFixed(2)),
      cpuPctMax: Number(Math.max(...cpu).toFixed(2)),
      txBytesPerSMedian: Math.round(median(tx)),
      rssMbMedian: Math.round(median(mem)),
      loss: { victim, agreedMaxMs: Math.max(...agreed), agreedMedianMs: median(agreed), views: [...views] },
      hog: { seconds: hogS, cores: os.cpus().length, falseNodeDown: falseDown, fences },
    }),
  )
} finally {
  for (const h of hogs) h.kill('SIGKILL')
  // MCCS_SCALE_LOGS=<dir>: every agent's log kept there (<node>.log) to read the run afterwards.
  const keep = process.env.MCCS_SCALE_LOGS
  if (keep) for (const n of c.nodes) await writeFile(path.join(keep, `${n}.log`), await c.log(n))
  await c.destroy()
}
