// The timeline merged across nodes (issue 20): each agent answers `timeline` over the peer channel with
// the newest entries of its own file (at most TAIL_BYTES read, so an answer fits a frame and costs the
// answering node little), and the asking node gathers every configured node it can reach. A node that
// does not answer (lost, powered off) is named, not waited for past ASK_MS.
import type { PeerRpc } from './peer-rpc.js'
import type { Timeline, TimelineEntry } from '../log/timeline.js'
import { readTimelineTail } from '../log/timeline-read.js'
import { MccsError } from '../errors.js'

const TAIL_BYTES = 768 * 1024
const ASK_MS = 5000

export type TimelineMessage = { t: 'timeline'; since: string | null }

function checkSince(v: unknown): string | null {
  if (v === null || v === undefined) return null
  if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(v))
    throw new MccsError('MCCS_ERR_INVALID', 'must be an ISO UTC time or null', { field: 'since' })
  return v
}

export function serveTimeline(rpc: PeerRpc, tl: Timeline): void {
  rpc.serve<TimelineMessage>({
    timeline: async (_from, m) => {
      await tl.durable()
      return readTimelineTail(tl.file, TAIL_BYTES, checkSince(m.since))
    },
  })
}

export interface GatheredTimelines {
  lists: TimelineEntry[][]
  missing: Array<{ node: string; reason: string }>
}

/** This node's entries and every other node's that answers, for `mccs explain`. */
export async function gatherTimelines(
  rpc: PeerRpc | undefined,
  nodes: string[],
  self: string,
  tl: Timeline,
  since: unknown,
): Promise<GatheredTimelines> {
  const s = checkSince(since)
  await tl.durable()
  const mine = await readTimelineTail(tl.file, TAIL_BYTES * 4, s)
  const missing: GatheredTimelines['missing'] = []
  const others = rpc
    ? await Promise.all(
        nodes
          .filter((n) => n !== self)
          .map(async (n) => {
            try {
              const l = await rpc.request<TimelineEntry[]>(n, { t: 'timeline', since: s } satisfies TimelineMessage, ASK_MS)
              // A node tells its own story only.
              return Array.isArray(l)
                ? l.filter(
                    (e) => e && e.node === n && typeof e.wall === 'string' && typeof e.seq === 'number' && typeof e.text === 'string',
                  )
                : []
            } catch (e) {
              missing.push({ node: n, reason: (e as Error).message })
              return []
            }
          }),
      )
    : []
  return { lists: [mine, ...others], missing }
}
