// What a bench reads off a lab node from outside: an agent's CPU time (/proc) and its heartbeat traffic (UDP
// 14321, counted by nft in the node's namespace). Shared by cluster-load.ts and scale.ts.
import { readFile } from 'node:fs/promises'
import type { AgentCluster } from './agent-cluster.js'

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (Linux's USER_HZ). */
export const HZ = 100

/** User + system CPU of a process so far, in clock ticks. */
export async function cpuTicks(pid: number): Promise<number> {
  const s = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
  return Number(s[11]) + Number(s[12])
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
