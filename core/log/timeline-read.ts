// Reading timelines: one node's file (its rotated generation first), entries from several nodes merged
// in wall-clock order (within one node, its own order: seq), and the entries that concern one group.
import { open, readFile } from 'node:fs/promises'
import type { TimelineEntry } from './timeline.js'

/** Every entry of a node's timeline file (and its .1), oldest first; torn or foreign lines skipped. */
export async function readTimeline(file: string): Promise<TimelineEntry[]> {
  const out: TimelineEntry[] = []
  for (const f of [file + '.1', file]) {
    const text = await readFile(f, 'utf8').catch(() => '')
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        const e = JSON.parse(line) as TimelineEntry
        if (e && e.v === 1 && typeof e.seq === 'number' && typeof e.wall === 'string' && typeof e.text === 'string') out.push(e)
      } catch {
        /* a line cut by a power loss: the rest is whole */
      }
    }
  }
  return out
}

/** The newest entries of a node's timeline, reading at most `maxBytes` from the end of the file (and of
 *  its .1 when the file is shorter): what a peer asks for is bounded, whatever the file's size. */
export async function readTimelineTail(file: string, maxBytes: number, since: string | null = null): Promise<TimelineEntry[]> {
  const tail = async (f: string, n: number): Promise<{ text: string; whole: boolean }> => {
    const fh = await open(f, 'r').catch(() => null)
    if (!fh) return { text: '', whole: true }
    try {
      const { size } = await fh.stat()
      const len = Math.min(size, n)
      const buf = Buffer.alloc(len)
      await fh.read(buf, 0, len, size - len)
      const text = buf.toString('utf8')
      // A cut at the start is a partial line: dropped.
      return len < size ? { text: text.slice(text.indexOf('\n') + 1), whole: false } : { text, whole: true }
    } finally {
      await fh.close()
    }
  }
  const cur = await tail(file, maxBytes)
  const older =
    cur.whole && Buffer.byteLength(cur.text) < maxBytes ? await tail(file + '.1', maxBytes - Buffer.byteLength(cur.text)) : { text: '' }
  const out: TimelineEntry[] = []
  for (const line of (older.text + cur.text).split('\n')) {
    if (!line) continue
    try {
      const e = JSON.parse(line) as TimelineEntry
      if (
        e &&
        e.v === 1 &&
        typeof e.seq === 'number' &&
        typeof e.wall === 'string' &&
        typeof e.text === 'string' &&
        (!since || e.wall >= since)
      )
        out.push(e)
    } catch {
      /* torn line */
    }
  }
  return out
}

/** Entries of several nodes as one story: by wall time; one node's entries keep their own order. */
export function mergeTimelines(lists: TimelineEntry[][]): TimelineEntry[] {
  const all = lists.flat()
  return all.sort((a, b) => (a.node === b.node ? a.seq - b.seq : a.wall < b.wall ? -1 : a.wall > b.wall ? 1 : a.node < b.node ? -1 : 1))
}

const NODE_WIDE = new Set([
  'start',
  'nodeChange',
  'view',
  'nodeMode',
  'licenseChange',
  'fence',
  'fenceResult',
  'nodeFenced',
  'needsFence',
  'fenceFailed',
  'fenceWithdrawn',
])

/** What concerns `group`: its own entries, its resources' (known from the decisions that name both),
 *  and what happens to nodes (views, losses, fences), which is what moves groups. */
export function entriesFor(group: string, entries: TimelineEntry[], resources: string[] = []): TimelineEntry[] {
  const mine = new Set(resources)
  for (const e of entries) if (e.group === group && e.resource) mine.add(e.resource)
  return entries.filter(
    (e) =>
      e.group === group ||
      (e.resource !== undefined && mine.has(e.resource) && e.group === undefined) ||
      (e.group === undefined && e.resource === undefined && NODE_WIDE.has(e.what)),
  )
}

/** `--since`: an ISO time, or an age such as 90s, 15m, 2h, 1d. */
export function parseSince(v: string, now = Date.now()): string | null {
  const m = /^(\d+)(s|m|h|d)$/.exec(v)
  if (m) return new Date(now - Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd']).toISOString()
  const t = Date.parse(v)
  return Number.isFinite(t) && /^\d{4}-\d\d-\d\d/.test(v) ? new Date(t).toISOString() : null
}
