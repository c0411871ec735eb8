// Heartbeat bench in the network-namespace lab (root): 3 nodes, 2 links, one heartbeat process per node.
//   node --import tsx scripts/bench/heartbeat.ts [--trials 20] [--idle 10] [--hog 0] [--interval 100] [--dead 600] [--tsx]
// The heartbeat processes run an esbuild bundle of scripts/lab/heartbeat-node.ts (as the shipped agent runs;
// --tsx: through tsx instead, which adds ~1 % idle CPU of its own).
// Prints one JSON line:
//   detection: kill -9 of a node's process -> the survivors' 'peer down' event (ms; median / max / min over
//              every observation: 2 survivors x trials), the way ANCHORS.md measures node loss (minus failover)
//   idleCpuPct: CPU of one idle heartbeat process (user+system from /proc, % of one core) and its RSS
//   hog:        with --hog S, S seconds with every core busy (one spinning process per CPU, nice 0): false
//               peer-down and link-down events seen meanwhile
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import { DEFAULT_TIMING } from '../../core/cluster/heartbeat.js'
import { createHbCluster, median, sleep, type HbCluster } from '../lab/hb-cluster.js'
import { labAvailable } from '../lab/lab.js'

const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(`--${n}`)
  return i >= 0 ? Number(process.argv[i + 1]) : d
}
const trials = arg('trials', 20)
const idleS = arg('idle', 10)
const hogS = arg('hog', 0)
const timing = { intervalMs: arg('interval', DEFAULT_TIMING.intervalMs), deadMs: arg('dead', DEFAULT_TIMING.deadMs) }

const avail = await labAvailable()
if (!avail.ok) {
  console.error(`heartbeat bench: ${avail.reason}`)
  process.exit(1)
}

async function cpuTicks(pid: number): Promise<number> {
  const s = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
  return Number(s[11]) + Number(s[12])
}
async function rssMb(pid: number): Promise<number> {
  return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
}

const runner = process.argv.includes('--tsx') ? 'tsx' : 'bundle'
const c: HbCluster = await createHbCluster({ prefix: `mccs${process.pid}-`, nodes: 3, links: 2, timing, runner })
const hogs: ChildProcess[] = []
const cleanup = async () => {
  for (const h of hogs)
    if (h.pid && h.exitCode === null)
      try {
        process.kill(h.pid, 'SIGKILL')
      } catch {
        /* gone */
      }
  await c.destroy()
}
process.on('SIGINT', () => {
  void cleanup().then(() => process.exit(130))
})
try {
  await Promise.all(c.nodes.map((n) => c.start(n)))
  await c.allUp()

  // Idle CPU of n1's heartbeat process.
  await sleep(1000)
  const pid = c.proc('n1').pid
  const a = await cpuTicks(pid)
  const w0 = performance.now()
  await sleep(idleS * 1000)
  const z = await cpuTicks(pid)
  const wall = (performance.now() - w0) / 1000
  const idleCpuPct = ((z - a) / 100 / wall) * 100 // USER_HZ = 100
  const rss = await rssMb(pid)

  // Optional CPU hog: every core spinning.
  let hog: Record<string, unknown> | undefined
  if (hogS > 0) {
    const mark = Object.fromEntries(c.nodes.map((n) => [n, c.proc(n).events.length]))
    for (let i = 0; i < os.cpus().length; i++) hogs.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }))
    await sleep(hogS * 1000)
    for (const h of hogs)
      try {
        process.kill(h.pid!, 'SIGKILL')
      } catch {
        /* gone */
      }
    const evs = c.nodes.flatMap((n) => c.proc(n).events.slice(mark[n]))
    const lags = await Promise.all(
      c.nodes.map(async (n) => {
        const st = (
          await c.proc(n).request<{ status: { peers: { links: Record<string, { rttMs: number | null }> }[] } }>({ cmd: 'status' })
        ).status
        return st.peers.flatMap((p) => Object.values(p.links).map((l) => l.rttMs ?? 0))
      }),
    )
    hog = {
      seconds: hogS,
      spinners: hogs.length,
      falsePeerDown: evs.filter((e) => e.ev === 'peer' && !e.up).length,
      falseLinkDown: evs.filter((e) => e.ev === 'link' && !e.up).length,
      maxRttMsAtEnd: Math.max(...lags.flat()),
    }
    await c.allUp()
  }

  // kill -9 trials.
  const samples: number[] = []
  for (let i = 0; i < trials; i++) {
    const victim = c.nodes[1 + (i % 2)]!
    const observers = c.nodes.filter((n) => n !== victim)
    const mark = Object.fromEntries(observers.map((n) => [n, c.proc(n).events.length]))
    await sleep(200 + Math.random() * timing.intervalMs) // a random phase against the heartbeat timers
    const t0 = Date.now()
    c.proc(victim).kill('SIGKILL')
    const evs = await Promise.all(
      observers.map((o) => c.proc(o).waitFor((e) => e.ev === 'peer' && e.node === victim && !e.up, 10_000, `${victim} down`, mark[o])),
    )
    for (const e of evs) samples.push(e.at - t0)
    await c.proc(victim).exited
    await c.start(victim)
    await c.allUp()
  }
  console.log(
    JSON.stringify({
      what: 'heartbeat',
      nodes: 3,
      links: 2,
      timing,
      runner,
      detection: {
        trials,
        observations: samples.length,
        medianMs: median(samples),
        maxMs: Math.max(...samples),
        minMs: Math.min(...samples),
      },
      idleCpuPct: Math.round(idleCpuPct * 1000) / 1000,
      idleSeconds: idleS,
      rssMb: Math.round(rss * 10) / 10,
      ...(hog ? { hog } : {}),
    }),
  )
} finally {
  await cleanup()
}
