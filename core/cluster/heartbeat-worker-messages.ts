// The messages between the agent's main thread (HeartbeatThread, heartbeat-worker-client.ts) and the
// heartbeat's worker thread (heartbeat-worker.ts). Types only: the worker imports nothing it does not run.
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
}

/** Ticks between two whole states in the tick report: the whole state, built and copied across threads ten
 *  times a second, cost an idle agent about 0.4 % of a core of its 2.8 % (issue 13). The rest of a status
 *  (counters, round-trip times) is for display and may be this old; what decisions read moves every tick. */
export const FULL_EVERY = 10

/** A snapshot of the worker's state: its status, and when it was taken (ms, the process's monotonic clock). */
export interface Snapshot {
  st: HeartbeatStatus
  at: number
}

export type FromWorker =
  /** After every tick's silence check: a ping the main thread answers in WorkerInit.answered, with the whole state every
   *  FULL_EVERY ticks and after a new payload, and in between only what moves with every packet (`dyn`:
   *  Heartbeat.dynamic(), in the order of the last whole state's peers and links). No state while the watchdog
   *  has muted the heartbeat: a ping per second only. */
  | { t: 'tick'; seq: number; at: number; st?: HeartbeatStatus; dyn?: Float64Array }
  /** An event of the Heartbeat, with the state right after it (listeners read it synchronously). */
  | ({ t: 'ev'; name: 'peer'; ev: PeerEvent } & Snapshot)
  | ({ t: 'ev'; name: 'link'; ev: LinkEvent } & Snapshot)
  | ({ t: 'ev'; name: 'view'; ev: ViewEvent } & Snapshot)
  /** A refused packet: sent only while the main thread listens to 'reject'. */
  | { t: 'reject'; ev: RejectEvent; at: number }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; data?: Record<string, unknown>; at: number }
  | ({ t: 'started'; incarnation: string } & Snapshot)
  | { t: 'stopped'; at: number }

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
