// Idle cost of two builds side by side (issue 19, What 1): two 3-node clusters of the lab, the default
// cluster of AgentCluster (group `web` online on n1, 2 links, the default timing), one running build A and one
// build B, measured over the same windows of wall time. On a shared machine (other work loads it) a figure of
// one run alone says little; two builds measured at once under the same load can be compared. Per agent and
// per window: CPU of the whole process and of its threads (main, heartbeat worker — by the thread id its log
// names —, the rest), and the heartbeat worker's and the main thread's voluntary context switches per second
// (its wakeups). Prints one JSON line per window and the medians.
//   node --no-node-snapshot --import tsx scripts/bench/idle-ab.ts [--a <commit>] [--b <commit|.>] [--secs 20]
//        [--windows 5]
// A build is a commit (built once into <tmp>/mccs-build-<sha>, scripts/lab/build-commit.ts) or `.`: this
// checkout's dist/ (run `npm run build` first).
import { readFile, readdir } from 'node:fs/promises'
import { AgentCluster, until } from '../lab/agent-cluster.js'
import { labAvailable } from '../lab/lab.js'
import { buildCommit } from '../lab/build-commit.js'
import { HZ } from '../lab/meter.js'
import { packageRoot } from '../../core/paths.js'

const arg = (n: string, d: string) => {
  const i = process.argv.indexOf(`--${n}`)
  return i >= 0 ? process.argv[i + 1]! : d
}
const secs = Number(arg('secs', '20'))
const windows = Number(arg('windows', '5'))
const avail = await labAvailable()
if (!avail.ok) {
  console.log(JSON.stringify({ skipped: avail.reason }))
  process.exit(0)
}
const buildOf = async (rev: string) => (rev === '.' ? packageRoot() : buildCommit(rev))
const builds = { a: await buildOf(arg('a', 'HEAD')), b: await buildOf(arg('b', '.')) }

interface Thread {
  ticks: number
  vcs: number
}
async function threads(pid: number): Promise<Map<number, Thread>> {
  const out = new Map<number, Thread>()
  for (const t of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    try {
      const s = (await readFile(`/proc/${pid}/task/${t}/stat`, 'utf8')).split(') ')[1]!.split(' ')
      const st = await readFile(`/proc/${pid}/task/${t}/status`, 'utf8')
      const vcs = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1] ?? 0)
      out.set(Number(t), { ticks: Number(s[11]) + Number(s[12]), vcs })
    } catch {
      /* the thread ended */
    }
  }
  return out
}
async function processTicks(pid: number): Promise<number> {
  const s = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
  return Number(s[11]) + Number(s[12])
}

const clusters: Record<string, AgentCluster> = {}
try {
  for (const k of ['a', 'b'] as const) {
    const dir = builds[k]
    clusters[k] = await AgentCluster.create({ prefix: `mccs${process.pid}${k}-`, build: () => dir })
  }
  for (const c of Object.values(clusters)) for (const n of c.nodes) c.startAgent(n)
  for (const [k, c] of Object.entries(clusters)) {
    await until(
      async () => (await c.status('n1')).groups.find((g) => g.name === 'web')?.activeNode === 'n1' || undefined,
      120_000,
      `${k}: web online on n1`,
    )
    await until(async () => ((await c.status('n3')).membership?.role === 'follower' ? true : undefined), 60_000, `${k}: n3 following`)
  }
  await new Promise((r) => setTimeout(r, 5000))
  // The heartbeat worker's thread id, from the line it logs when it raises its priority.
  const hbTid: Record<string, number> = {}
  for (const [k, c] of Object.entries(clusters))
    for (const n of c.nodes) {
      const m = /heartbeat thread (\d+)/.exec(await c.log(n))
      if (m) hbTid[`${k}/${n}`] = Number(m[1])
    }
  const rows: Array<Record<string, Record<string, number>>> = []
  for (let w = 0; w < windows; w++) {
    const before = new Map<string, { proc: number; th: Map<number, Thread> }>()
    const t0 = performance.now()
    for (const [k, c] of Object.entries(clusters))
      for (const n of c.nodes) {
        const pid = c.agents[n]!.pid!
        before.set(`${k}/${n}`, { proc: await processTicks(pid), th: await threads(pid) })
      }
    await new Promise((r) => setTimeout(r, secs * 1000))
    const s = (performance.now() - t0) / 1000
    const row: Record<string, Record<string, number>> = {}
    for (const [k, c] of Object.entries(clusters))
      for (const n of c.nodes) {
        const id = `${k}/${n}`
        const pid = c.agents[n]!.pid!
        const b = before.get(id)!
        const th = await threads(pid)
        const pct = (ticks: number) => Number(((ticks / HZ / s) * 100).toFixed(2))
        const d = (tid: number) => {
          const x = th.get(tid)
          const y = b.th.get(tid)
          return x && y ? { ticks: x.ticks - y.ticks, vcs: x.vcs - y.vcs } : { ticks: 0, vcs: 0 }
        }
        const main = d(pid)
        const hb = hbTid[id] ? d(hbTid[id]) : { ticks: 0, vcs: 0 }
        let rest = 0
        for (const tid of th.keys()) if (tid !== pid && tid !== hbTid[id]) rest += d(tid).ticks
        row[id] = {
          cpuPct: pct((await processTicks(pid)) - b.proc),
          mainPct: pct(main.ticks),
          hbPct: pct(hb.ticks),
          otherPct: pct(rest),
          mainWakeups: Math.round(main.vcs / s),
          hbWakeups: Math.round(hb.vcs / s),
        }
      }
    rows.push(row)
    const load = (await readFile('/proc/loadavg', 'utf8')).split(' ')[0]
    console.log(JSON.stringify({ window: w + 1, secs: Number(s.toFixed(1)), load: Number(load), ...row }))
  }
  const median = (xs: number[]) => {
    const v = [...xs].sort((p, q) => p - q)
    return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2
  }
  const summary: Record<string, Record<string, number>> = {}
  for (const k of Object.keys(clusters)) {
    const agg: Record<string, number> = {}
    for (const f of ['cpuPct', 'mainPct', 'hbPct', 'otherPct', 'mainWakeups', 'hbWakeups']) {
      // Per window, the mean over the cluster's agents; then the median over the windows.
      const perWindow = rows.map((r) => {
        const ids = Object.keys(r).filter((id) => id.startsWith(`${k}/`))
        return ids.reduce((sum, id) => sum + r[id]![f]!, 0) / ids.length
      })
      agg[f] = Number(median(perWindow).toFixed(2))
    }
    summary[k] = agg
  }
  console.log(JSON.stringify({ builds, medianOfWindows: summary }))
} finally {
  for (const c of Object.values(clusters)) await c.destroy()
}
