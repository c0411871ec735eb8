// The heartbeat's state file (<state>/heartbeat.json): the last incarnation this node used and the newest
// incarnation seen from each peer, so that neither goes back across a restart of this node (issue 12,
// finding 5: a recording of a peer's earlier boot, replayed after this node restarted, was taken for a live
// node). Read once, synchronously, when the Heartbeat is built; written atomically and asynchronously, only
// when a value changes (a start, a peer's new incarnation), never per packet: the heartbeat path never waits.
//
//   { "version": 1, "cluster": "c", "node": "n1", "incarnation": "<u64>", "peers": { "n2": "<u64>" } }
// Incarnations are decimal strings (64 bits do not fit a JSON number).
import { readFileSync } from 'node:fs'
import { writeFileAtomic } from '../config/atomic.js'

export interface HbSavedState {
  /** The last incarnation this node used, if any. */
  incarnation?: bigint
  /** Newest incarnation seen per peer. */
  peers: Map<string, bigint>
}

const U64 = /^(0|[1-9][0-9]{0,19})$/
const MAX_U64 = 0xffffffffffffffffn

function u64(v: unknown, field: string): bigint {
  if (typeof v !== 'string' || !U64.test(v) || BigInt(v) > MAX_U64)
    throw new Error(`${field}: must be an unsigned 64-bit integer as a decimal string`)
  return BigInt(v)
}

/**
 * Loads the state file. A missing file is a first start (empty state, no error). An unreadable or invalid
 * file gives an empty state *and* an error naming the file and the reason (the caller logs it and shows it
 * in status; the next write replaces the file). Peers of another cluster or a file of another node are
 * ignored with an error too: their incarnations say nothing about this cluster's nodes.
 */
export function loadHbState(file: string, expect: { cluster: string; node: string }): { state: HbSavedState; error: string | null } {
  const empty: HbSavedState = { peers: new Map() }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return { state: empty, error: code === 'ENOENT' ? null : `${file}: cannot read (${code ?? (e as Error).message})` }
  }
  try {
    const o = JSON.parse(text) as Record<string, unknown>
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('not a JSON object')
    if (o.version !== 1) throw new Error(`version: ${JSON.stringify(o.version)}, this agent reads 1`)
    if (o.node !== expect.node) throw new Error(`node: the file is of node ${JSON.stringify(o.node)}, this is ${expect.node}`)
    const state: HbSavedState = { peers: new Map() }
    if (o.incarnation !== undefined) state.incarnation = u64(o.incarnation, 'incarnation')
    if (o.cluster !== expect.cluster) {
      return { state, error: `${file}: peers of cluster ${JSON.stringify(o.cluster)} ignored, this is ${expect.cluster}` }
    }
    const peers = o.peers ?? {}
    if (peers === null || typeof peers !== 'object' || Array.isArray(peers)) throw new Error('peers: must be an object')
    for (const [name, v] of Object.entries(peers)) state.peers.set(name, u64(v, `peers/${name}`))
    return { state, error: null }
  } catch (e) {
    return { state: empty, error: `${file}: invalid, ignored and rewritten (${(e as Error).message})` }
  }
}

/** Writes the state file in the background: one write at a time, the newest content last, never per packet. */
export class HbStateWriter {
  private pending: string | null = null
  private writing: Promise<void> | null = null
  private written = ''
  /** The last write's error (null after a write that succeeded). */
  error: string | null = null

  constructor(
    readonly file: string,
    private readonly onError: (message: string) => void,
  ) {}

  /** Queues the content; returns once it (or newer content) is on disk, or failed. Never throws. */
  save(s: { cluster: string; node: string; incarnation: bigint; peers: Map<string, bigint> }): Promise<void> {
    const text =
      JSON.stringify({
        version: 1,
        cluster: s.cluster,
        node: s.node,
        incarnation: s.incarnation.toString(),
        peers: Object.fromEntries([...s.peers].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, v]) => [n, v.toString()])),
      }) + '\n'
    if (text === this.written && !this.writing) return Promise.resolve()
    this.pending = text
    return this.run()
  }

  /** Resolves once nothing is queued or being written. */
  async idle(): Promise<void> {
    while (this.writing) await this.writing
  }

  private run(): Promise<void> {
    if (!this.writing) {
      this.writing = (async () => {
        while (this.pending !== null) {
          const text = this.pending
          this.pending = null
          try {
            await writeFileAtomic(this.file, text, 0o600)
            this.written = text
            this.error = null
          } catch (e) {
            const msg = `${this.file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`
            if (msg !== this.error) this.onError(msg) // once per distinct failure, not per attempt
            this.error = msg
          }
        }
        this.writing = null
      })()
    }
    return this.idle()
  }
}
