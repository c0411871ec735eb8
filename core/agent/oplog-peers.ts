// The manual operation logs of every node (issue 18, What 6; the manual: "output for each node"): each
// agent answers `oplog` over the peer channel with the newest records of its own file (at most TAIL_BYTES
// read, so an answer fits a frame), and the asking node gathers every configured node it can reach. A node
// that does not answer (lost, powered off) is named, not waited for past ASK_MS.
import type { PeerRpc } from './peer-rpc.js'
import type { OpLog, OpRecord } from '../log/oplog.js'
import { oplogTail } from '../log/oplog-tail.js'
import { MccsError } from '../errors.js'

const TAIL_BYTES = 512 * 1024
const ASK_MS = 5000
export const MAX_OPLOG = 10_000

export type OplogMessage = { t: 'oplog'; limit: number }

function checkLimit(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_OPLOG)
    throw new MccsError('MCCS_ERR_INVALID', `must be an integer from 1 to ${MAX_OPLOG}`, { field: 'limit' })
  return v
}

export function serveOplog(rpc: PeerRpc, self: string, oplog: OpLog): void {
  rpc.serve<OplogMessage>({
    oplog: (_from, m) => oplogTail(oplog.file, self, checkLimit(m.limit), TAIL_BYTES),
  })
}

export interface GatheredOplogs {
  /** Every node's records, oldest first (by time; one node's records keep their own order). */
  records: OpRecord[]
  /** The nodes whose records are in. */
  nodes: string[]
  missing: Array<{ node: string; reason: string }>
}

const isRecord = (r: unknown, node: string): r is OpRecord =>
  !!r &&
  typeof r === 'object' &&
  (r as OpRecord).node === node &&
  typeof (r as OpRecord).at === 'string' &&
  typeof (r as OpRecord).command === 'string' &&
  typeof (r as OpRecord).result === 'string'

/** This node's newest records and every other node's that answers, each node's newest `limit`, merged. */
export async function gatherOplogs(
  rpc: PeerRpc | undefined,
  nodes: string[],
  self: string,
  oplog: OpLog,
  limit: unknown,
): Promise<GatheredOplogs> {
  const n = checkLimit(limit)
  const mine = await oplogTail(oplog.file, self, n, TAIL_BYTES * 4)
  const missing: GatheredOplogs['missing'] = []
  const answered = [self]
  const others = await Promise.all(
    nodes
      .filter((x) => x !== self)
      .map(async (node) => {
        if (!rpc) {
          missing.push({ node, reason: 'no peer channel' })
          return []
        }
        try {
          const l = await rpc.request<unknown>(node, { t: 'oplog', limit: n } satisfies OplogMessage, ASK_MS)
          answered.push(node)
          // A node tells its own story only.
          return Array.isArray(l) ? l.filter((r): r is OpRecord => isRecord(r, node)) : []
        } catch (e) {
          missing.push({ node, reason: (e as Error).message })
          return []
        }
      }),
  )
  const records = [mine, ...others]
    .flatMap((l, i) => l.map((r, j) => ({ r, i, j })))
    .sort((a, b) => (a.r.at < b.r.at ? -1 : a.r.at > b.r.at ? 1 : a.i - b.i || a.j - b.j))
    .map((x) => x.r)
  return { records, nodes: answered.sort(), missing: missing.sort((a, b) => (a.node < b.node ? -1 : 1)) }
}
