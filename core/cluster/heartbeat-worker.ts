// The heartbeat's own thread (issue 14, finding 9). The agent's main thread serves the console, plugin I/O,
// support bundles and logging; any of them could stall it past the dead time, and its peers then took a
// healthy node for dead and fenced it. Here a Heartbeat (heartbeat.ts) sends, receives, checks silence and
// refuses replays on an event loop of its own, at raised priority where the system allows it, and talks to
// the main thread through messages (heartbeat-worker-messages.ts): its state with every event and every
// second, log lines, and a ping every pingEvery() ticks, answered through shared memory (WorkerInit.answered);
// what moves every tick is written to shared memory (SharedSnapshot), which wakes nobody.
//
// The watchdog: a hung agent must still be seen dead. When the main thread leaves the pings unanswered for
// `watchdogMs` (counting only time this thread itself ran, so a pause of the whole process does not count),
// the heartbeat is muted — it keeps receiving, but sends nothing — and its peers declare the node down and
// fence it as before. It is unmuted, and says so, when the main thread answers again.
//
// Keep the imports minimal: this file is its own bundle (dist/heartbeat-worker.js); isolated-vm, fastify and
// the logger are never loaded here.
import { readlinkSync } from 'node:fs'
import os from 'node:os'
import { workerData } from 'node:worker_threads'
import { Heartbeat, type RejectEvent } from './heartbeat.js'
import {
  FULL_EVERY,
  SharedSnapshot,
  carriesState,
  monoMs,
  pingEvery,
  type FromWorker,
  type ToWorker,
  type WorkerInit,
} from './heartbeat-worker-messages.js'

const init = workerData as WorkerInit
const port = init.port
const answeredBy = new BigInt64Array(init.answered)
const shared = new SharedSnapshot(init.snapshot)
let posted = 0 // messages carrying state posted so far (a snapshot names how many came before it)
let reporting = false // 'started' was posted: gaps from then on are pauses
let lastActive = 0 // when this thread last ticked or posted (monoMs)
let postTicks = 0 // ticks still to post as messages after a pause
const post = (m: FromWorker) => {
  active(m.at)
  if (carriesState(m)) posted++
  port.postMessage(m)
}
/** Notes that this thread runs at `now`; after a gap of more than half the dead time, says so first. */
function active(now: number): void {
  const gap = now - lastActive
  lastActive = now
  if (reporting && gap > hb.deadMs / 2) {
    postTicks = 2
    posted++
    port.postMessage({ t: 'paused', at: now, ms: Math.round(gap) } satisfies FromWorker)
  }
}
const log = {
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) =>
    post({ t: 'log', level, msg, ...(data ? { data } : {}), at: monoMs() }),
}

let seq = 0 // pings sent (one per tick)
let answered = 0 // the newest ping the main thread answered
let lastTick = monoMs()
/** How long the newest pings have gone unanswered, counting only time this thread ran. */
let unansweredMs = 0
let mutedSince: number | null = null // wall clock, for the log
let mutedTicks = 0
let sinceFull = 0 // ticks since the last whole state sent
let sincePing = 0 // ticks since the last ping
let fullNext = false // the next tick sends the whole state (a new payload: the role waits to see it sent)

const hb = new Heartbeat({
  config: init.config,
  self: init.self,
  key: Buffer.from(init.key.buffer, init.key.byteOffset, init.key.byteLength),
  log,
  ...(init.stateFile ? { stateFile: init.stateFile } : {}),
  ...(init.payload ? { payload: init.payload } : {}),
  ...(init.protocol ? { protocol: init.protocol } : {}),
  onTick,
})

function snapshot() {
  return { st: hb.status(), at: monoMs() }
}

function onTick(): void {
  const now = monoMs()
  active(now)
  // A tick much later than its interval means this thread did not run meanwhile (the process was paused,
  // or starved): that time says nothing about the main thread, so at most two intervals of it count.
  const ran = Math.min(now - lastTick, 2 * hb.intervalMs)
  lastTick = now
  onPong(Number(Atomics.load(answeredBy, 0)))
  unansweredMs = answered < seq ? unansweredMs + ran : 0
  if (init.watchdogMs > 0 && mutedSince === null && unansweredMs >= init.watchdogMs) {
    mutedSince = Date.now()
    hb.mute(true)
    log.log(
      'error',
      `the agent's main thread has not answered for ${Math.round(unansweredMs)} ms: heartbeats stopped, so that the peers see this node as down (watchdog ${init.watchdogMs} ms)`,
      { watchdogMs: init.watchdogMs },
    )
  }
  // A muted worker's main thread is hung: its reports would pile up unread, so it gets a small ping per
  // second only (the answer unmutes), and the state again once it answers.
  if (mutedSince === null) {
    ++sincePing
    if (fullNext || ++sinceFull >= FULL_EVERY) {
      fullNext = false
      sinceFull = sincePing = 0
      if (postTicks > 0) postTicks--
      post({ t: 'tick', seq: ++seq, ...snapshot() })
      return
    }
    const dyn = hb.dynamic()
    // The snapshot first: a ping posted below is applied after it was written.
    const fits = shared.write(now, posted, dyn)
    if (!fits || postTicks > 0) {
      if (postTicks > 0) postTicks--
      sincePing = 0
      post({ t: 'tick', seq: ++seq, at: now, dyn })
    } else if (sincePing >= pingEvery(init.watchdogMs, hb.intervalMs)) {
      sincePing = 0
      post({ t: 'tick', seq: ++seq, at: now })
    }
  } else if (++mutedTicks % Math.max(1, Math.round(1000 / hb.intervalMs)) === 0) post({ t: 'tick', seq: ++seq, at: now })
}

function onPong(n: number): void {
  if (n > answered) answered = n
  if (answered < seq) return
  unansweredMs = 0
  if (mutedSince !== null) {
    const ms = Date.now() - mutedSince
    mutedSince = null
    hb.mute(false)
    log.log('warn', `the agent's main thread answers again: heartbeats resumed after ${ms} ms muted`, { mutedMs: ms })
  }
}

/** Raised scheduling priority for this thread only (best effort: needs CAP_SYS_NICE). Linux: a thread's nice
 *  value is its own, and threads started later by this one would inherit it — it starts none (the libuv
 *  pool is started by the main thread before this worker exists). */
function raisePriority(): void {
  const want = os.constants.priority.PRIORITY_HIGH
  let tid: number
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (!Number.isInteger(tid) || tid <= 0) throw new Error('no thread id in /proc/thread-self')
  } catch (e) {
    log.log('warn', 'heartbeat thread: priority not raised (thread id unknown)', { error: (e as Error).message })
    return
  }
  try {
    os.setPriority(tid, want)
    log.log('info', `heartbeat thread ${tid} runs at nice ${os.getPriority(tid)}`, { tid })
  } catch (e) {
    log.log(
      'warn',
      `heartbeat thread ${tid}: priority not raised, it runs at nice ${safeNice(tid)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { tid },
    )
  }
}
function safeNice(tid: number): number | string {
  try {
    return os.getPriority(tid)
  } catch {
    return '?'
  }
}

const forwardReject = (ev: RejectEvent) => post({ t: 'reject', ev, at: monoMs() })
hb.on('peer', (ev) => post({ t: 'ev', name: 'peer', ev, ...snapshot() }))
hb.on('link', (ev) => post({ t: 'ev', name: 'link', ev, ...snapshot() }))
hb.on('view', (ev) => post({ t: 'ev', name: 'view', ev, ...snapshot() }))

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'payload':
      try {
        hb.setPayload(m.view)
        fullNext = true
      } catch (e) {
        log.log('error', 'heartbeat view refused', { error: (e as Error).message })
      }
      return
    case 'reconfigure':
      try {
        hb.reconfigure(m.config)
        log.log('info', 'heartbeat configuration applied', { timing: { intervalMs: hb.intervalMs, deadMs: hb.deadMs } })
      } catch (e) {
        log.log('error', 'heartbeat configuration refused', { error: (e as Error).message })
      }
      post({ t: 'tick', seq: ++seq, ...snapshot() }) // the main thread sees the new peers and links at once
      return
    case 'rejects':
      hb.off('reject', forwardReject)
      if (m.on) hb.on('reject', forwardReject)
      return
    case 'start':
      raisePriority()
      lastTick = monoMs()
      void hb
        .start()
        .catch((e: Error) => log.log('error', 'heartbeat start failed', { error: e.message }))
        .then(() => {
          post({ t: 'started', incarnation: hb.incarnation.toString(), ...snapshot() })
          reporting = true
        })
      return
    case 'stop':
      void hb.stop().then(() => {
        post({ t: 'stopped', at: monoMs() })
        port.close() // nothing left: the thread ends
      })
  }
})
