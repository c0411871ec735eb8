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
import { readFile } from 'node:fs/promises'
import { AgentCluster, until } from '../lab/agent-cluster.js'
import { labAvailable } from '../lab/lab.js'
import { buildCommit } from '../lab/build-commit.js'
import { HZ, heartbeatTid, threadSplit, threadTimes } from '../lab/meter.js'
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
  const hbTid: Record<string, number | null> = {}
  for (const [k, c] of Object.entries(clusters)) for (const n of c.nodes) hbTid[`${k}/${n}`] = heartbeatTid(await c.log(n))
  const rows: Array<Record<string, Record<string, number>>> = []
  for (let w = 0; w < windows; w++) {
    const before = new Map<string, { proc: number; th: Awaited<ReturnType<typeof threadTimes>> }>()
    const t0 = performance.now()
    for (const [k, c] of Object.entries(clusters))
      for (const n of c.nodes) {
        const pid = c.agents[n]!.pid!
        before.set(`${k}/${n}`, { proc: await processTicks(pid), th: await threadTimes(pid) })
      }
    await new Promise((r) => setTimeout(r, secs * 1000))
    const s = (performance.now() - t0) / 1000
    const row: Record<string, Record<string, number>> = {}
    for (const [k, c] of Object.entries(clusters))
      for (const n of c.nodes) {
        const id = `${k}/${n}`
        const pid = c.agents[n]!.pid!
        const b = before.get(id)!
        const th = await threadTimes(pid)
        row[id] = {
          cpuPct: Number(((((await processTicks(pid)) - b.proc) / HZ / s) * 100).toFixed(2)),
          ...threadSplit(pid, hbTid[id] ?? null, b.th, th, s),
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
