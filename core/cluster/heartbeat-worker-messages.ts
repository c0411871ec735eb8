// The messages between the agent's main thread (HeartbeatThread, heartbeat-worker-client.ts) and the
// heartbeat's worker thread (heartbeat-worker.ts), and the shared snapshot both use. Nothing the worker does not run.
import type { MessagePort } from 'node:worker_threads'
import type { HeartbeatStatus, LinkEvent, PeerEvent, RejectEvent, ViewEvent } from './heartbeat.js'
import type { HbConfig } from '../config/hb-model.js'
import type { HbView } from './packet.js'
import type { ProtocolRange } from './protocol-version.js'

/** workerData: what the worker needs to build its Heartbeat, and the port it talks on. */
export interface WorkerInit {
  port: MessagePort
  config: Pick<HbConfig, 'cluster' | 'nodes' | 'links'> & Partial<Pick<HbConfig, 'timing' | 'port' | 'generation'>>
  self: string
  key: Uint8Array
  stateFile?: string
  payload?: HbView
  /** The protocol versions to advertise (default: the build's). */
  protocol?: ProtocolRange
  /** Mute the heartbeat when the main thread has left a ping unanswered this long (ms); 0: never. */
  watchdogMs: number
  /** The newest ping the main thread answered (a BigInt64Array over it, Atomics). Written, not posted: an
   *  answer by message woke this thread ten more times a second; the worker reads it at its next tick. */
  answered: SharedArrayBuffer
  /** SharedSnapshot: what moves every tick, written by the worker, read by the main thread when it asks. */
  snapshot: SharedArrayBuffer
}

/** Ticks between two whole states in the tick report: the whole state, built and copied across threads ten
 *  times a second, cost an idle agent about 0.4 % of a core of its 2.8 % (issue 13). The rest of a status
 *  (counters, round-trip times) is for display and may be this old; what decisions read moves every tick. */
export const FULL_EVERY = 10

/** Ticks between two pings at most (the watchdog's resolution: a tenth of it, whole ticks, 1..FULL_EVERY). The
 *  numbers that move every tick go through the SharedSnapshot; a message per tick woke the main thread ten
 *  times a second for them (issue 19). */
export function pingEvery(watchdogMs: number, intervalMs: number): number {
  if (!(watchdogMs > 0)) return FULL_EVERY
  return Math.max(1, Math.min(FULL_EVERY, Math.floor(watchdogMs / 10 / intervalMs)))
}

/** Numbers the SharedSnapshot holds (Heartbeat.dynamic(): 4 + links per peer); a larger state is posted every
 *  tick as before. */
export const SNAPSHOT_NUMBERS = 1024

/**
 * The worker's last tick, in shared memory: when it ran, how many messages carrying state it had posted by
 * then (carriesState), and
 * Heartbeat.dynamic(). One writer (the worker), a sequence number odd while it writes (a seqlock); every access
 * is an Atomics operation (a double as two 32-bit halves), so a reader never takes a half-written snapshot.
 * The main thread takes a snapshot only when it has applied exactly the state messages posted before it: the snapshot
 * then continues the state it mirrors (an event not yet applied, or one posted after the snapshot, makes it wait
 * for the next).
 */
export class SharedSnapshot {
  private readonly i32: Int32Array
  private readonly f64 = new Float64Array(1)
  private readonly halves = new Int32Array(this.f64.buffer)
  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer)
  }
  static create(): SharedSnapshot {
    return new SharedSnapshot(new SharedArrayBuffer(4 * (1 + 2 * (3 + SNAPSHOT_NUMBERS))))
  }
  /** Writes a snapshot; false when `dyn` does not fit. */
  write(at: number, posted: number, dyn: Float64Array): boolean {
    if (dyn.length > SNAPSHOT_NUMBERS) return false
    const seq = Atomics.add(this.i32, 0, 1) + 1 // odd: being written
    this.put(0, at)
    this.put(1, posted)
    this.put(2, dyn.length)
    for (let i = 0; i < dyn.length; i++) this.put(3 + i, dyn[i]!)
    Atomics.store(this.i32, 0, seq + 1)
    return true
  }
  /** The sequence number of the last snapshot (0: none yet; odd: one is being written). */
  seq(): number {
    return Atomics.load(this.i32, 0)
  }
  /** The last snapshot, or null (none yet, or being written now). */
  read(): { seq: number; at: number; posted: number; dyn: Float64Array } | null {
    const seq = Atomics.load(this.i32, 0)
    if (seq === 0 || seq & 1) return null
    const at = this.get(0)
    const posted = this.get(1)
    const n = this.get(2)
    if (!Number.isInteger(n) || n < 0 || n > SNAPSHOT_NUMBERS) return null
    const dyn = new Float64Array(n)
    for (let i = 0; i < n; i++) dyn[i] = this.get(3 + i)
    return Atomics.load(this.i32, 0) === seq ? { seq, at, posted, dyn } : null
  }
  private put(k: number, x: number): void {
    this.f64[0] = x
    Atomics.store(this.i32, 1 + 2 * k, this.halves[0]!)
    Atomics.store(this.i32, 2 + 2 * k, this.halves[1]!)
  }
  private get(k: number): number {
    this.halves[0] = Atomics.load(this.i32, 1 + 2 * k)
    this.halves[1] = Atomics.load(this.i32, 2 + 2 * k)
    return this.f64[0]!
  }
}

/** A snapshot of the worker's state: its status, and when it was taken (ms, the process's monotonic clock). */
export interface Snapshot {
  st: HeartbeatStatus
  at: number
}

export type FromWorker =
  /** After a tick's silence check, every pingEvery() ticks: a ping the main thread answers in
   *  WorkerInit.answered, with the whole state every FULL_EVERY ticks and after a new payload; in between,
   *  what moves with every packet is in the SharedSnapshot. After a pause of the worker (below) every tick is
   *  posted, with `dyn` (Heartbeat.dynamic(), in the order of the last whole state's peers and links), as it
   *  is when the snapshot cannot hold it. No state while the watchdog has muted the heartbeat: a ping per
   *  second only. */
  | { t: 'tick'; seq: number; at: number; st?: HeartbeatStatus; dyn?: Float64Array }
  /** The worker did not run for more than half the dead time (the process was paused, or it starved): its
   *  peers may have declared this node down meanwhile. Posted before anything else after the pause; the next
   *  two ticks follow as messages (HeartbeatThread settles on them). */
  | { t: 'paused'; at: number; ms: number }
  /** An event of the Heartbeat, with the state right after it (listeners read it synchronously). */
  | ({ t: 'ev'; name: 'peer'; ev: PeerEvent } & Snapshot)
  | ({ t: 'ev'; name: 'link'; ev: LinkEvent } & Snapshot)
  | ({ t: 'ev'; name: 'view'; ev: ViewEvent } & Snapshot)
  /** A refused packet: sent only while the main thread listens to 'reject'. */
  | { t: 'reject'; ev: RejectEvent; at: number }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; data?: Record<string, unknown>; at: number }
  | ({ t: 'started'; incarnation: string } & Snapshot)
  | { t: 'stopped'; at: number }

/** Messages that change the main thread's mirror of the state (a SharedSnapshot counts these). */
export function carriesState(m: FromWorker): boolean {
  return m.t === 'ev' || m.t === 'started' || m.t === 'paused' || (m.t === 'tick' && (m.st !== undefined || m.dyn !== undefined))
}

export type ToWorker =
  | { t: 'start' }
  | { t: 'stop' }
  | { t: 'payload'; view: HbView }
  | { t: 'rejects'; on: boolean }
  /** A new hb.json in force (live heartbeat configuration, issue 16): nodes, links, timing. */
  | { t: 'reconfigure'; config: WorkerInit['config'] }

/** The process's monotonic clock in ms: the same in every thread (performance.now() is per thread). */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}
