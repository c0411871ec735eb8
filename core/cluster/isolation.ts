// Isolation test addresses (hb.json node attribute `isolationTestAddresses`, the manual's node
// attribute): a node that lost sight of a peer asks whether it can still reach any of these (a
// gateway, a DNS server). If none answers, the fault is on its own side: it treats itself as isolated,
// gives up its resources and fences nobody. One ICMP echo per address, in parallel, through iputils
// `ping` (argv only; Node has no ICMP).
import { execFile } from 'node:child_process'

export interface IsolationResult {
  /** The first address that answered, or null: isolated. */
  reachable: string | null
  tried: string[]
  ms: number
}

export function probeIsolation(addresses: readonly string[], timeoutMs = 500): Promise<IsolationResult> {
  const t0 = Date.now()
  if (!addresses.length) return Promise.resolve({ reachable: null, tried: [], ms: 0 })
  const wait = Math.max(0.2, timeoutMs / 1000).toFixed(1)
  return new Promise((resolve) => {
    let pending = addresses.length
    let done = false
    const finish = (reachable: string | null) => {
      if (done) return
      done = true
      resolve({ reachable, tried: [...addresses], ms: Date.now() - t0 })
    }
    for (const a of addresses) {
      execFile('ping', ['-n', '-q', '-c', '1', '-W', wait, a], { timeout: timeoutMs + 1000 }, (err) => {
        if (!err) finish(a)
        else if (--pending === 0) finish(null)
      })
    }
  })
}
