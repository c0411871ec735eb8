// The agent's heartbeat, run in a worker thread (heartbeat-worker.ts) so that nothing on the main thread —
// the console, plugin I/O, bundles, logging — can delay it past the dead time (issue 14, finding 9).
// HeartbeatThread has the public surface of Heartbeat (events 'peer', 'link', 'view', 'reject'; start, stop,
// setPayload, upPeers, views, isUp, status, checkNow) and answers every query at once from a mirror of the
// worker's state, which the worker sends after every tick and with every event.
//
// What the answers mean now that two threads are involved — the worker's view is the truth:
// - status(), upPeers(), views(): the worker's verdicts as last received (events are applied in order, each
//   with the state right after it, so a listener reads the state of its event).
// - checkNow(): takes every message the worker has already sent (receiveMessageOnPort), at once. After a stall
//   of this thread alone, the worker kept hearing the peers, and its latest report says so: nobody is blamed.
//   It never declares anyone down itself: silence verdicts are the worker's, made after it read its sockets.
// - isUp(node): the worker says the node is up, and that verdict is current. When the worker is behind too
//   (the whole process was paused, or starved), only packets heard within the dead time count; and after the
//   worker itself was paused for more than half the dead time (its peers may have declared us down and said so
//   in their views), no peer counts as up until the worker has run two regular ticks — by then it has read
//   the heartbeats queued during the pause and the role has re-decided on them. quorumFresh() relies on this.
import { EventEmitter } from 'node:events'
import { stat } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { MccsError } from '../errors.js'
import type { Log } from '../log/logger.js'
import { packageRoot } from '../paths.js'
import {
  checkHeartbeatOptions,
  patchStatus,
  type HeartbeatEvents,
  type HeartbeatOptions,
  type HeartbeatStatus,
  type PeerStatus,
} from './heartbeat.js'
import { SharedSnapshot, carriesState, monoMs, type FromWorker, type ToWorker, type WorkerInit } from './heartbeat-worker-messages.js'
import { encodeView, type HbView } from './packet.js'
import { PROTOCOL, checkRange } from './protocol-version.js'

/** Default watchdog: far above any legitimate stall of the main thread, far below "forever". */
export const DEFAULT_WATCHDOG_MS = 5000

export interface HeartbeatThreadOptions extends Omit<HeartbeatOptions, 'onPacket' | 'onTick' | 'log'> {
  log?: Pick<Log, 'log'>
  /** The worker stops sending heartbeats when the main thread has not answered its pings for this long (ms).
   *  Default DEFAULT_WATCHDOG_MS; 0 turns the watchdog off. */
  watchdogMs?: number
}

export class HeartbeatThread extends EventEmitter<HeartbeatEvents> {
  readonly self: string
  readonly cluster: string
  intervalMs: number
  deadMs: number
  readonly watchdogMs: number
  /** This start's incarnation (0n until the worker has started). */
  incarnation = 0n
  private readonly log: Pick<Log, 'log'> | undefined
  private readonly init: Omit<WorkerInit, 'port' | 'answered' | 'snapshot'>
  /** Where this thread answers the worker's pings (WorkerInit.answered). */
  private answered = new BigInt64Array(new SharedArrayBuffer(8))
  private worker: Worker | null = null
  private port: MessagePort | null = null
  private running = false
  private stopping: Promise<void> | null = null
  private started: (() => void) | null = null
  private stopped: (() => void) | null = null
  /** The mirror: the worker's last state, and when it was taken (monoMs). */
  private st: HeartbeatStatus
  private stAt: number
  /** When the worker's last message was sent (monoMs): how current its verdicts are. */
  private lastAt: number
  /** Regular ticks still to come before peers count again after the worker itself was paused (0: none). */
  private settleTicks = 0
  private settling = false
  /** The worker of this start has reported (gaps before that are its start-up, not a pause). */
  private reporting = false
  /** The worker's last tick (heartbeat-worker-messages.ts), and the state messages applied so far. */
  private snap: SharedSnapshot | null = null
  private applied = 0
  private syncedSeq = 0

  constructor(opts: HeartbeatThreadOptions) {
    super()
    const c = checkHeartbeatOptions(opts) // a bad hb.json fails here, on the caller's thread, as before
    if (opts.payload) encodeView(opts.payload)
    if (opts.protocol) checkRange(opts.protocol, 'protocol')
    this.self = opts.self
    this.cluster = opts.config.cluster
    this.intervalMs = c.intervalMs
    this.deadMs = c.deadMs
    this.watchdogMs = opts.watchdogMs ?? DEFAULT_WATCHDOG_MS
    if (!(this.watchdogMs === 0 || this.watchdogMs > this.deadMs)) {
      throw new MccsError('MCCS_ERR_HB_CONFIG', `watchdogMs (${this.watchdogMs}) must be 0 or exceed deadMs (${this.deadMs})`, {
        field: 'watchdogMs',
      })
    }
    this.log = opts.log
    this.init = {
      config: opts.config,
      self: opts.self,
      key: new Uint8Array(opts.key),
      watchdogMs: this.watchdogMs,
      ...(opts.stateFile ? { stateFile: opts.stateFile } : {}),
      ...(opts.payload ? { payload: opts.payload } : {}),
      ...(opts.protocol ? { protocol: { ...opts.protocol } } : {}),
    }
    const now = Date.now()
    const me = opts.config.nodes.find((n) => n.name === opts.self)!
    this.st = {
      self: opts.self,
      cluster: this.cluster,
      incarnation: '0',
      protocol: { ...(opts.protocol ?? PROTOCOL) },
      timing: { intervalMs: this.intervalMs, deadMs: this.deadMs },
      links: c.links.map((l) => ({ ...l, bound: false, tx: 0, rx: 0, sendErrors: 0, lastError: null })),
      peers: opts.config.nodes
        .filter((n) => n !== me)
        .map((n) => ({
          node: n.name,
          up: false,
          since: now,
          incarnation: null,
          view: null,
          received: null,
          ages: { ann: null, lease: null, grant: null },
          protocol: { version: null, range: null, refused: null },
          links: Object.fromEntries(
            c.links
              .filter((l) => n.addresses[l.name])
              .map((l) => [
                l.name,
                {
                  up: false,
                  address: n.addresses[l.name]!,
                  lastHeardMs: null,
                  rttMs: null,
                  ageMs: null,
                  rx: 0,
                  unconfirmed: 0,
                  since: now,
                },
              ]),
          ),
        })),
      rejected: { malformed: 0, version: 0, foreign: 0, auth: 0, replay: 0, misdirected: 0 },
      state: { file: opts.stateFile ?? null, error: null },
      payloadVc: null,
    }
    this.stAt = this.lastAt = monoMs()
    // The worker learns whether anyone listens to refusals (a flood must not cross threads for nobody).
    const plain = this as EventEmitter
    plain.on('newListener', (name: string) => {
      if (name === 'reject' && this.listenerCount('reject') === 0) this.send({ t: 'rejects', on: true })
    })
    plain.on('removeListener', (name: string) => {
      if (name === 'reject' && this.listenerCount('reject') === 0) this.send({ t: 'rejects', on: false })
    })
  }

  /** Starts the worker thread, which binds a socket per link and starts ticking. */
  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    this.reporting = false
    installTestStall(this.log)
    // Threads inherit the nice value of the thread that creates them: have libuv's pool started by this
    // (normal priority) thread before the worker raises its own.
    await new Promise<void>((r) => stat('/', () => r()))
    const { port1, port2 } = new MessageChannel()
    const entry = workerEntry()
    const answered = new SharedArrayBuffer(8)
    this.answered = new BigInt64Array(answered)
    const snap = (this.snap = SharedSnapshot.create())
    this.applied = this.syncedSeq = 0
    const w = new Worker(entry.code, {
      eval: entry.eval,
      workerData: { ...this.init, port: port2, answered, snapshot: snap.buffer } satisfies WorkerInit,
      transferList: [port2],
    })
    this.worker = w
    this.port = port1
    port1.on('message', (m: FromWorker) => this.apply(m))
    w.on('error', (e) => this.lost(`the heartbeat thread failed: ${e.message}`))
    w.on('exit', (code) => {
      if (this.running && !this.stopping) this.lost(`the heartbeat thread exited (code ${code})`)
    })
    if (this.listenerCount('reject') > 0) this.send({ t: 'rejects', on: true })
    const started = new Promise<void>((r) => {
      this.started = r
    })
    this.send({ t: 'start' })
    await started
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.stopping ??= (async () => {
      const w = this.worker
      if (w && this.port) {
        const done = new Promise<void>((r) => {
          this.stopped = r
        })
        this.send({ t: 'stop' })
        // The worker closes its sockets and finishes writing its state file; a worker that cannot is ended.
        await Promise.race([done, new Promise((r) => setTimeout(r, 2000).unref())])
        this.port.close()
        await w.terminate()
      }
      this.running = false
      this.worker = null
      this.port = null
    })()
    await this.stopping
    this.stopping = null
  }

  /** A new hb.json in force, live (the worker applies it; heartbeat.ts reconfigure()). Checked here first, so
   *  a configuration the heartbeat would refuse fails on the caller's thread. */
  reconfigure(config: HeartbeatThreadOptions['config']): void {
    const c = checkHeartbeatOptions({ config, self: this.self, key: Buffer.from(this.init.key) })
    if (this.watchdogMs !== 0 && this.watchdogMs <= c.deadMs)
      throw new MccsError('MCCS_ERR_HB_CONFIG', `deadMs (${c.deadMs}) must stay below the watchdog (${this.watchdogMs} ms)`, {
        field: '/timing/deadMs',
      })
    this.intervalMs = c.intervalMs
    this.deadMs = c.deadMs
    this.init.config = config // a start after this one begins with it
    this.send({ t: 'reconfigure', config })
  }

  /** Sets the view piggybacked on every following heartbeat. Throws MCCS_ERR_HB_PAYLOAD if invalid or > 1 KiB. */
  setPayload(v: HbView): void {
    encodeView(v)
    this.init.payload = v // a start after this one begins with it
    this.send({ t: 'payload', view: v })
  }

  /** Peers the worker sees up. */
  upPeers(): string[] {
    return this.st.peers.filter((p) => p.up).map((p) => p.node)
  }

  /** Latest views of the peers the worker sees up. */
  views(): Record<string, HbView> {
    const out: Record<string, HbView> = {}
    for (const p of this.st.peers) if (p.up && p.view) out[p.node] = p.view
    return out
  }

  /** Up per the worker, and that verdict current (see the top of this file). */
  isUp(node: string): boolean {
    this.sync()
    const p = this.st.peers.find((x) => x.node === node)
    if (!p?.up || this.settling) return false
    const now = monoMs()
    if (now - this.lastAt <= 2 * this.intervalMs + 20) return true
    const age = now - this.stAt
    return Object.values(p.links).some((l) => l.lastHeardMs !== null && l.lastHeardMs + age < this.deadMs)
  }

  /** Applies every message the worker has sent so far, now (not when this thread's loop gets to them). It never
   *  declares a peer down itself: the worker does, after reading what queued in its sockets. */
  checkNow(): void {
    const port = this.port
    if (!port) return
    for (let m = receiveMessageOnPort(port); m; m = this.port === port ? receiveMessageOnPort(port) : undefined)
      this.apply(m.message as FromWorker)
    this.sync()
  }

  status(): HeartbeatStatus & { thread: { watchdogMs: number; reportAgeMs: number; settling: boolean } } {
    this.sync()
    const now = monoMs()
    const age = now - this.stAt
    const s = this.st
    return {
      ...s,
      timing: { ...s.timing },
      links: s.links.map((l) => ({ ...l })),
      peers: s.peers.map((p): PeerStatus => ({
        ...p,
        // Ages as of now: the report is `age` old (leases and grants are judged on the caller's clock).
        ages: { ann: plus(p.ages.ann, age), lease: plus(p.ages.lease, age), grant: plus(p.ages.grant, age) },
        links: Object.fromEntries(
          Object.entries(p.links).map(([n, l]) => [
            n,
            { ...l, lastHeardMs: l.lastHeardMs === null ? null : Math.round(l.lastHeardMs + age) },
          ]),
        ),
      })),
      rejected: { ...s.rejected },
      state: { ...s.state },
      thread: { watchdogMs: this.watchdogMs, reportAgeMs: Math.round(now - this.lastAt), settling: this.settling },
    }
  }

  // ------------------------------------------------------------------------------------------ internals

  private send(m: ToWorker): void {
    this.port?.postMessage(m)
  }

  /** Takes the worker's last tick from shared memory, when it continues the state mirrored here (every state
   *  message posted before it applied, none after): fresher numbers than the last message, which wake
   *  nobody. Otherwise the mirror stands, as old as its last message (isUp() judges by that age). */
  private sync(): void {
    const snap = this.snap
    if (!snap || !this.reporting || this.settling) return
    const seq = snap.seq()
    if (seq === this.syncedSeq) return
    const r = snap.read()
    if (!r || r.posted !== this.applied) return
    this.syncedSeq = r.seq
    if (r.at <= this.stAt) return
    const st = patchStatus(this.st, r.dyn)
    if (!st) return
    this.mirror(st, r.at)
    if (r.at > this.lastAt) this.lastAt = r.at
  }

  private apply(m: FromWorker): void {
    if (carriesState(m)) this.applied++
    if (m.at > this.lastAt) this.lastAt = m.at
    switch (m.t) {
      case 'paused':
        // The worker did not run for more than half the dead time (the whole process was paused, or it
        // starved): peers may have declared us down meanwhile. Settle first (isUp()), on its next two ticks.
        if (this.reporting) {
          this.settling = true
          this.settleTicks = 2
        }
        return
      case 'tick':
        if (m.st) this.mirror(m.st, m.at)
        else if (m.dyn) {
          const st = patchStatus(this.st, m.dyn)
          if (st) this.mirror(st, m.at)
        }
        Atomics.store(this.answered, 0, BigInt(m.seq))
        if (this.settleTicks > 0 && --this.settleTicks === 0) {
          // After the role's decision on what the worker read (it was scheduled by those events, before this).
          setImmediate(() => {
            if (this.settleTicks === 0) this.settling = false
          })
        }
        return
      case 'ev':
        this.mirror(m.st, m.at)
        if (m.name === 'peer') this.emit('peer', m.ev)
        else if (m.name === 'link') this.emit('link', m.ev)
        else this.emit('view', m.ev)
        return
      case 'reject':
        this.emit('reject', m.ev)
        return
      case 'log':
        this.log?.log(m.level, m.msg, m.data)
        return
      case 'started':
        this.incarnation = BigInt(m.incarnation)
        this.mirror(m.st, m.at)
        this.reporting = true
        this.started?.()
        this.started = null
        return
      case 'stopped':
        this.stopped?.()
        this.stopped = null
    }
  }

  private mirror(st: HeartbeatStatus, at: number): void {
    this.st = st
    this.stAt = at
  }

  /** The worker is gone: nobody is heard any more, which the role must know (it loses quorum and self-fences,
   *  as the peers, hearing nothing, fence this node). */
  private lost(why: string): void {
    if (!this.running) return
    this.log?.log('error', `${why}: every peer is taken as down`)
    this.running = false
    this.started?.()
    this.started = null
    const at = Date.now()
    for (const p of this.st.peers) {
      for (const [name, l] of Object.entries(p.links)) {
        if (l.up) {
          l.up = false
          l.since = at
          this.emit('link', { node: p.node, link: name, up: false, at })
        }
      }
      if (p.up) {
        p.up = false
        p.since = at
        this.emit('peer', {
          node: p.node,
          up: false,
          at,
          links: Object.fromEntries(Object.keys(p.links).map((n) => [n, false])),
          incarnation: p.incarnation,
        })
      }
    }
    this.worker = null
    this.port?.close()
    this.port = null
  }
}

const plus = (x: number | null, d: number) => (x === null ? null : x + d)

/** The worker's code: the bundle dist/heartbeat-worker.js (scripts/build.ts), or, when running from source,
 *  the TypeScript file next to this one, loaded through tsx's API (tsx's `--import` hook serves the main
 *  thread only). */
function workerEntry(): { code: string | URL; eval: boolean } {
  const here = import.meta.url
  if (!here.endsWith('.ts')) return { code: pathToFileURL(path.join(packageRoot(), 'dist', 'heartbeat-worker.js')), eval: false }
  const file = new URL('./heartbeat-worker.ts', here).href
  const api = import.meta.resolve('tsx/esm/api')
  return {
    eval: true,
    code:
      `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(file)}, ${JSON.stringify(file)}))` +
      '.catch((e) => { process.exitCode = 70; throw e })',
  }
}

let stallInstalled = false
/**
 * TEST ONLY (test/cluster/heartbeat-stall.test.ts): with MCCS_TEST_STALL_SIGNAL set (e.g. SIGUSR2), that
 * signal blocks the agent's main event loop for MCCS_TEST_STALL_MS (default 2000) ms, as a slow request or a
 * synchronous gzip would. Never set it in production; without the variable nothing is installed.
 */
function installTestStall(log: Pick<Log, 'log'> | undefined): void {
  const sig = process.env.MCCS_TEST_STALL_SIGNAL
  if (!sig || stallInstalled) return
  stallInstalled = true
  const ms = Number(process.env.MCCS_TEST_STALL_MS ?? 2000)
  process.on(sig as NodeJS.Signals, () => {
    log?.log('warn', `test stall: blocking the main event loop for ${ms} ms (MCCS_TEST_STALL_SIGNAL)`)
    const end = monoMs() + ms
    while (monoMs() < end) {
      /* busy */
    }
  })
}
