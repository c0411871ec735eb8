// What a bench reads off a lab node from outside: an agent's CPU time (/proc) and its heartbeat traffic (UDP
// 14321, counted by nft in the node's namespace). Shared by cluster-load.ts and scale.ts.
import { readFile, readdir } from 'node:fs/promises'
import type { AgentCluster } from './agent-cluster.js'

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (Linux's USER_HZ). */
export const HZ = 100

/** User + system CPU of a process so far, in clock ticks. */
export async function cpuTicks(pid: number): Promise<number> {
  const s = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
  return Number(s[11]) + Number(s[12])
}

/** Per thread of a process: user + system CPU (clock ticks) and voluntary context switches (its wakeups). */
export async function threadTimes(pid: number): Promise<Map<number, { ticks: number; vcs: number }>> {
  const out = new Map<number, { ticks: number; vcs: number }>()
  for (const t of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    try {
      const s = (await readFile(`/proc/${pid}/task/${t}/stat`, 'utf8')).split(') ')[1]!.split(' ')
      const st = await readFile(`/proc/${pid}/task/${t}/status`, 'utf8')
      out.set(Number(t), { ticks: Number(s[11]) + Number(s[12]), vcs: Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1] ?? 0) })
    } catch {
      /* the thread ended */
    }
  }
  return out
}

/** An agent's heartbeat thread, by the thread id its log names ('heartbeat thread <tid> runs at ...'). */
export function heartbeatTid(log: string): number | null {
  const m = /heartbeat thread (\d+)/.exec(log)
  return m ? Number(m[1]) : null
}

/** An agent's CPU between two threadTimes() readings over `secs`, split: main thread, heartbeat thread, the
 *  rest (V8's platform threads, libuv's pool), % of one core; and the two threads' wakeups per second. */
export function threadSplit(
  pid: number,
  hbTid: number | null,
  before: Map<number, { ticks: number; vcs: number }>,
  after: Map<number, { ticks: number; vcs: number }>,
  secs: number,
): { mainPct: number; hbPct: number; otherPct: number; mainWakeups: number; hbWakeups: number } {
  const d = (tid: number) => {
    const x = after.get(tid)
    const y = before.get(tid)
    return x && y ? { ticks: x.ticks - y.ticks, vcs: x.vcs - y.vcs } : { ticks: 0, vcs: 0 }
  }
  const pct = (ticks: number) => Number(((ticks / HZ / secs) * 100).toFixed(2))
  const main = d(pid)
  const hb = hbTid === null ? { ticks: 0, vcs: 0 } : d(hbTid)
  let rest = 0
  for (const tid of after.keys()) if (tid !== pid && tid !== hbTid) rest += d(tid).ticks
  return {
    mainPct: pct(main.ticks),
    hbPct: pct(hb.ticks),
    otherPct: pct(rest),
    mainWakeups: Math.round(main.vcs / secs),
    hbWakeups: Math.round(hb.vcs / secs),
  }
}

/** Counts the heartbeat's UDP packets and bytes, both ways, in a node's namespace (a table of its own). */
export async function countHeartbeat(c: AgentCluster, n: string): Promise<void> {
  await c.lab.exec(n, ['nft', '-f', '-'], {
    input:
      'table inet mccsbench {\n chain o {\n  type filter hook output priority 0;\n  udp dport 14321 counter\n }\n chain i {\n  type filter hook input priority 0;\n  udp dport 14321 counter\n }\n}\n',
  })
}

/** The counters countHeartbeat() installed: sent (tx) and received (rx). */
export async function heartbeatCounters(
  c: AgentCluster,
  n: string,
): Promise<{ tx: { bytes: number; packets: number }; rx: { bytes: number; packets: number } }> {
  const j = JSON.parse((await c.lab.exec(n, ['nft', '-j', 'list', 'table', 'inet', 'mccsbench'])).stdout) as {
    nftables: Array<{ rule?: { chain: string; expr: Array<{ counter?: { bytes: number; packets: number } }> } }>
  }
  const by = (ch: string) =>
    j.nftables.find((x) => x.rule?.chain === ch)?.rule?.expr.find((e) => e.counter)?.counter ?? { bytes: 0, packets: 0 }
  return { tx: by('o'), rx: by('i') }
}
