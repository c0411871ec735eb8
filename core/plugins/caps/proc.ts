// The host side of the `proc` capability: managed processes that survive an agent restart, with
// exit detection by event (inotify), not by poll.
//
// The manager: start, stop, status, re-attach; exit detection. proc.ts is the door of the capability;
// the other concerns live beside it:
//   proc-spec.ts        a spec checked at the edge and resolved for launch
//   proc-records.ts     the on-disk records of each process (<stateDir>/<resource>/<name>/)
//   proc-pids.ts        pid identity (pid + start time) and process-group signalling
//   proc-supervisor.ts  the supervisor script; proc-users.ts who a plugin may run processes as
// Every "<pid> <starttime>" is checked against /proc/<pid>/stat field 22 before the pid is trusted or
// signalled: a recycled pid is never taken for ours.
//
// The supervisor is a fixed sh script (see proc-supervisor.ts for the design and the reasons).
// The host spawns it detached (own session), so it outlives the agent; while the agent is its parent,
// libuv reaps it on SIGCHLD (no zombie); after an agent restart init (or the subreaper) does.
//
// Exit detection: one fs.watch (inotify) per live process folder sees exit.json appear (a few ms after
// the death); the supervisor's own exit (when the agent is its parent) triggers the same check; a
// low-rate poll (opts.pollMs, default 1 s) is the fallback for a supervisor that was SIGKILLed: then the
// service is watched by pid + start time at that rate, and its exit is reported with lost: true.
//
// The watches and the poll timer do not keep the Node event loop alive (the agent's server does);
// call close() when done.
//
// Note for the agent's systemd unit: the services live in the agent's cgroup, so the unit needs
// KillMode=process (or mixed) or a restart of the agent kills every service.
import { EventEmitter } from 'node:events'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { ProcCapability, ProcSpec, ProcStatus } from '../../../sdk/src/types.js'
import { MccsError } from '../../errors.js'
import type { HostLogger } from '../../log/types.js'
import { LAUNCH_NAME, LAUNCH_SCRIPT, SUPERVISOR_NAME, SUPERVISOR_SCRIPT, encodeEnv } from './proc-supervisor.js'
import { procUserRefusal } from './proc-users.js'
import { isAlive, killLeftovers, signalGroup, startTimeIso, type PidRec } from './proc-pids.js'
import {
  RUN_FILES,
  readExit,
  readPidRec,
  readRecord,
  readText,
  writeRecord,
  type ExitRec,
  type ProcRecord,
  type StoredSpec,
} from './proc-records.js'
import {
  NAME_RE,
  RESOURCE_RE,
  SUP_ENV,
  checkName,
  checkResource,
  checkStopOptions,
  findBinary,
  validateSpec,
  type Launch,
} from './proc-spec.js'

export { isAlive } from './proc-pids.js'

export type ProcLogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface ProcManagerOptions {
  stateDir: string
  /** The agent passes its log's child for this component (log.child({ component: 'proc' })). */
  log?: HostLogger
  /** Fallback liveness check period (supervisor SIGKILLed, orphaned service). Default 1000 ms. */
  pollMs?: number
  /** How long start() waits for the supervisor to report the service's pid. Default 5000 ms. */
  startTimeoutMs?: number
  /** How long stop() waits after SIGKILL before it gives up (MCCS_ERR_PROC_STOP_FAILED). Default 5000 ms. */
  killWaitMs?: number
}

/** Who may be started: a plugin's declared procUsers (see proc-users.ts). Host-internal callers
 *  (tests, the demo) pass none. */
export interface ProcStartPolicy {
  users: readonly string[]
  /** Names the plugin in the refusal. */
  plugin: string
}

export interface ProcStopOptions {
  /** Time between `signal` and SIGKILL. Default 10000 ms. */
  graceMs?: number
  /** First signal sent to the service's process group. Default SIGTERM. */
  signal?: string
}

/** ProcStatus plus host-side detail (all extra fields optional for the plugin-facing type). */
export interface ProcStatusEx extends ProcStatus {
  resource: string
  /** The supervisor's pid while it runs. */
  supervisorPid?: number | null
  /** false when the service runs but its supervisor is gone (watched by poll only). */
  supervised?: boolean
  /** The last exit was caused by stop(). */
  expected?: boolean
  /** The last exit's status is unknown because the supervisor vanished. */
  lost?: boolean
  /** The pid of the last run (also set when not running). */
  lastPid?: number | null
}

export interface ProcExitEvent {
  resource: string
  name: string
  pid: number | null
  code: number | null
  signal: string | null
  /** ISO time of the exit (as the supervisor saw it). */
  at: string
  /** true when the exit was asked for by stop(). */
  expected: boolean
  /** true when the supervisor vanished and the real exit status is unknown. */
  lost?: boolean
}

interface Entry {
  key: string
  resource: string
  name: string
  dir: string
  watcher: fs.FSWatcher | null
  sup: PidRec | null
  child: PidRec | null
  cp: ChildProcess | null
  supExited: boolean
  exited: boolean
  stopping: boolean
  orphanLogged: boolean
  /** Called on any change seen for this folder (watch event, supervisor exit, poll). */
  listeners: Set<() => void>
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const exists = (file: string): boolean => fs.existsSync(file)
const rmf = (file: string): void => fs.rmSync(file, { force: true })

// ---------- the manager ----------

export class ProcManager extends EventEmitter {
  readonly stateDir: string
  private readonly log: HostLogger
  private readonly pollMs: number
  private readonly startTimeoutMs: number
  private readonly killWaitMs: number
  private readonly entries = new Map<string, Entry>()
  private readonly locks = new Map<string, Promise<unknown>>()
  private timer: NodeJS.Timeout | null = null
  private closed = false
  /** Real paths of the binaries between the supervisor's fork and the service's exec. */
  private readonly chain = new Set<string>()
  private readonly bins: { sh: string; env: string; setsid: string; setpriv: string | null }

  constructor(opts: ProcManagerOptions) {
    super()
    if (!opts || typeof opts.stateDir !== 'string' || !path.isAbsolute(opts.stateDir)) {
      throw new MccsError('MCCS_ERR_INVALID', 'must be an absolute path', { field: 'stateDir' })
    }
    this.stateDir = opts.stateDir
    this.log = opts.log ?? { log: () => {} }
    this.pollMs = opts.pollMs ?? 1000
    this.startTimeoutMs = opts.startTimeoutMs ?? 5000
    this.killWaitMs = opts.killWaitMs ?? 5000
    fs.mkdirSync(this.stateDir, { recursive: true, mode: 0o700 })
    const sh = exists('/bin/sh') ? '/bin/sh' : findBinary('sh')
    const env = findBinary('env')
    const setsid = findBinary('setsid')
    if (!sh || !env || !setsid) {
      throw new MccsError('MCCS_ERR_PROC_UNSUPPORTED', 'the supervisor needs sh, env (coreutils) and setsid (util-linux)', {
        data: { sh, env, setsid },
      })
    }
    this.bins = { sh, env, setsid, setpriv: findBinary('setpriv') }
    for (const b of Object.values(this.bins)) if (b) this.chain.add(this.realArgv0(b))
  }

  // ----- public API -----

  /** Starts `spec` for `resource` under a supervisor unless it already runs (idempotent). */
  async start(resource: string, spec: ProcSpec, policy?: ProcStartPolicy): Promise<ProcStatusEx> {
    this.assertOpen()
    checkResource(resource)
    const launch = await this.validate(spec)
    if (policy) {
      const why = procUserRefusal(policy.users, launch.target)
      if (why) throw new MccsError('MCCS_ERR_PERMISSION_DENIED', why, { subject: `plugin '${policy.plugin}'`, field: '/procUsers' })
    }
    const name = spec.name
    return this.withLock(keyOf(resource, name), async () => {
      const dir = this.dirOf(resource, name)
      let rec = readRecord(dir)
      // A supervisor that is starting (agent crashed mid-start) or finishing (service just died).
      if (isAlive(rec.sup) && !isAlive(rec.child) && !rec.exit) {
        rec = await this.settle(resource, name, dir, rec)
      }
      if (isAlive(rec.child)) {
        this.attach(resource, name, dir, rec)
        if (rec.spec && JSON.stringify(rec.spec.argv) !== JSON.stringify(launch.argv)) {
          this.log.log('warn', 'process already runs with another argv; left as it is', { resource, name, pid: rec.child?.pid })
        }
        return this.statusOf(resource, name)
      }
      // The previous run's exit is reported before its files are reset.
      const prev = this.entries.get(keyOf(resource, name))
      if (prev && !prev.exited) this.check(prev)
      else if (!prev && rec.exit && !exists(path.join(dir, 'exit.reported'))) this.finish(this.attach(resource, name, dir, rec), rec.exit)
      // The previous supervisor may still be writing exit.json (it wrote exit.hint first): it must be
      // gone before the folder is reset, or its late write would land in the new run.
      if (isAlive(rec.sup)) await this.retire(resource, name, rec.sup as PidRec)
      return this.launch(resource, spec, launch, dir)
    })
  }

  /** Signals the service's process group with `signal`, SIGKILL after graceMs; resolves when it and
   *  its group are gone. Idempotent: stopping a stopped process succeeds. */
  async stop(resource: string, name: string, opts: ProcStopOptions = {}): Promise<ProcStatusEx> {
    this.assertOpen()
    checkResource(resource)
    checkName(name)
    const { graceMs, signal } = checkStopOptions(opts)
    return this.withLock(keyOf(resource, name), async () => {
      const dir = this.dirOf(resource, name)
      let rec = readRecord(dir)
      if (!rec.spec && !rec.child) return this.statusOf(resource, name) // never started: nothing to do
      if (isAlive(rec.sup) && !isAlive(rec.child) && !rec.exit) rec = await this.settle(resource, name, dir, rec)
      const deadline = Date.now() + graceMs
      const child = rec.child
      if (child && isAlive(child)) {
        const entry = this.attach(resource, name, dir, rec)
        entry.stopping = true
        writeRecord(path.join(dir, 'stop.json'), JSON.stringify({ at: new Date().toISOString(), signal, graceMs }) + '\n')
        this.log.log('info', 'stopping process', { resource, name, pid: child.pid, signal, graceMs })
        signalGroup(child, signal)
        if (!(await this.waitGone(entry, child, graceMs))) {
          this.log.log('warn', 'process did not stop within the grace time: SIGKILL', { resource, name, pid: child.pid, graceMs })
          signalGroup(child, 'SIGKILL')
          if (!(await this.waitGone(entry, child, this.killWaitMs))) {
            throw new MccsError('MCCS_ERR_PROC_STOP_FAILED', `pid ${child.pid} survived SIGKILL for ${this.killWaitMs} ms`, {
              subject: `${resource}/${name}`,
              data: { pid: child.pid },
            })
          }
        }
        // Let the supervisor record the exit (a few ms), so the status we return carries it.
        await this.waitExited(entry, 1000)
      }
      // Whatever stayed in the service's process group (daemons it forked) goes too.
      if (child) {
        await killLeftovers(child, signal, deadline, this.killWaitMs, `${resource}/${name}`, (members) =>
          this.log.log('info', 'signalling processes left in the group of a stopped process', {
            resource,
            name,
            pgid: child.pid,
            members,
            signal,
          }),
        )
      }
      return this.settledStatus(resource, name)
    })
  }

  /** The status of one managed process (running: pid alive with the recorded start time). */
  async status(resource: string, name: string): Promise<ProcStatusEx> {
    checkResource(resource)
    checkName(name)
    return this.settledStatus(resource, name)
  }

  /** statusOf, but when the service has just died and its supervisor is still writing exit.json,
   *  waits for it (a few ms; at most 1 s) so the status carries the exit code. */
  private async settledStatus(resource: string, name: string): Promise<ProcStatusEx> {
    const end = Date.now() + 1000
    let s = this.statusOf(resource, name)
    while (!s.running && s.supervisorPid && s.exitedAt === null && Date.now() < end) {
      await sleep(5)
      s = this.statusOf(resource, name)
    }
    return s
  }

  /** At agent start: finds every recorded process, verifies pid + start time, resumes exit watching
   *  for the live ones, emits 'exit' for those that died while no agent watched (once), and returns
   *  the status of every record. */
  async reattach(): Promise<ProcStatusEx[]> {
    this.assertOpen()
    const out: ProcStatusEx[] = []
    for (const resource of listDirs(this.stateDir)) {
      if (!RESOURCE_RE.test(resource)) continue
      for (const name of listDirs(path.join(this.stateDir, resource))) {
        if (!NAME_RE.test(name) || name === '.' || name === '..') continue
        const dir = this.dirOf(resource, name)
        if (!exists(path.join(dir, 'spec.json'))) continue
        await this.withLock(keyOf(resource, name), async () => {
          const rec = readRecord(dir)
          if (rec.exit) {
            if (!exists(path.join(dir, 'exit.reported'))) this.finish(this.attach(resource, name, dir, rec), rec.exit)
          } else if (isAlive(rec.child) || isAlive(rec.sup)) {
            const entry = this.attach(resource, name, dir, rec)
            this.log.log('info', 're-attached to managed process', { resource, name, pid: rec.child?.pid, supervisorPid: rec.sup?.pid })
            this.check(entry)
          } else if (rec.child || rec.sup) {
            // Died with its supervisor while no agent watched: the status is unknown.
            this.finish(this.attach(resource, name, dir, rec), null)
          }
          out.push(this.statusOf(resource, name))
        })
      }
    }
    return out
  }

  /** Stops the watchers and the poll. Managed processes keep running (an agent upgrade must not stop
   *  services); a new ProcManager re-attaches to them. */
  close(): void {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    for (const e of this.entries.values()) this.unwatch(e)
    this.entries.clear()
  }

  /** Stops the process (if it runs) and deletes its folder (the resource was deleted). */
  async remove(resource: string, name: string, opts: ProcStopOptions = {}): Promise<void> {
    await this.stop(resource, name, opts)
    await this.withLock(keyOf(resource, name), async () => {
      const e = this.entries.get(keyOf(resource, name))
      if (e) this.unwatch(e)
      this.entries.delete(keyOf(resource, name))
      fs.rmSync(this.dirOf(resource, name), { recursive: true, force: true })
    })
  }

  /** The object the sandbox bridge exposes to a plugin for one resource. */
  capabilityFor(resource: string): ProcCapability {
    checkResource(resource)
    return {
      start: (spec) => this.start(resource, spec),
      stop: (name, opts) => this.stop(resource, name, opts ?? {}),
      status: (name) => this.status(resource, name),
    }
  }

  /** The folder of one managed process. */
  dirOf(resource: string, name: string): string {
    return path.join(this.stateDir, resource, name)
  }

  // ----- validation -----

  /** Validates a spec at the edge (proc-spec.ts); throws MCCS_ERR_CAPABILITY_ARGS naming the field. */
  validate(spec: ProcSpec): Promise<Launch> {
    return validateSpec(spec, this.bins.setpriv)
  }

  // ----- internals -----

  private async launch(resource: string, spec: ProcSpec, l: Launch, dir: string): Promise<ProcStatusEx> {
    const name = spec.name
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 })
    for (const f of RUN_FILES) rmf(path.join(dir, f))
    const { env: specEnv, ...rest } = spec
    const stored: StoredSpec = {
      resource,
      spec: rest,
      envNames: Object.keys(specEnv ?? {}),
      argv: l.argv,
      createdAt: new Date().toISOString(),
    }
    writeRecord(path.join(dir, 'spec.json'), JSON.stringify(stored, null, 2) + '\n', 0o600)
    if (l.argv0Resolved) this.log.log('info', `argv[0] "${spec.argv[0]}" resolved via PATH to ${l.argv[0]}`, { resource, name })

    const old = this.entries.get(keyOf(resource, name))
    if (old) this.unwatch(old)
    const entry = this.newEntry(resource, name, dir)
    this.entries.set(entry.key, entry)
    this.watch(entry)

    const logFile = path.join(dir, 'output.log')
    const fd = fs.openSync(logFile, 'a', 0o640)
    let cp: ChildProcess
    try {
      fs.writeSync(fd, `[${new Date().toISOString()}] mccs: starting ${JSON.stringify(l.argv)}${l.user ? ` as ${l.user}` : ''}\n`)
      const priv: string[] = []
      if (l.uid !== null || l.gid !== null) {
        const myUid = process.getuid?.() ?? 0
        const myGid = process.getgid?.() ?? 0
        if ((l.uid !== null && l.uid !== myUid) || (l.gid !== null && l.gid !== myGid)) {
          priv.push(this.bins.setpriv as string)
          if (l.uid !== null) priv.push(`--reuid=${l.uid}`, `--regid=${l.gid ?? l.uid}`, '--init-groups')
          else priv.push(`--regid=${l.gid}`, '--clear-groups')
          priv.push('--')
        }
      }
      // No environment value on any command line: the launcher reads them from fd 3 (see proc-supervisor.ts).
      const args = [
        '-c',
        SUPERVISOR_SCRIPT,
        SUPERVISOR_NAME,
        dir,
        this.bins.env,
        '-i',
        '--default-signal',
        this.bins.setsid,
        ...priv,
        this.bins.sh,
        '-c',
        LAUNCH_SCRIPT,
        LAUNCH_NAME,
        ...l.argv,
      ]
      cp = spawn(this.bins.sh, args, { detached: true, stdio: ['ignore', fd, fd, 'pipe'], cwd: l.cwd, env: SUP_ENV })
    } finally {
      fs.closeSync(fd)
    }
    const envStream = cp.stdio[3] as (NodeJS.WritableStream & { destroy(): void }) | null
    if (envStream) {
      // EPIPE when the launcher died before reading: its exit is reported like any other.
      envStream.on('error', (err) =>
        this.log.log('debug', 'environment stream to the launcher closed early', { resource, name, error: String(err) }),
      )
      envStream.end(encodeEnv(l.env), () => envStream.destroy())
    }
    entry.cp = cp
    cp.on('error', (err) => {
      this.log.log('error', 'supervisor could not be spawned', { resource, name, error: String(err) })
      entry.supExited = true
      this.check(entry)
    })
    cp.on('exit', () => {
      entry.supExited = true
      entry.cp = null
      this.check(entry)
    })
    cp.unref()
    this.ensureTimer()

    // Wait until the supervisor has recorded the service's pid (or everything already ended).
    const ok = await this.waitFor(entry, this.startTimeoutMs, () => {
      entry.child ??= readPidRec(path.join(dir, 'child.pid'))
      return entry.child !== null || entry.exited || (entry.supExited && !isAlive(entry.sup))
    })
    entry.sup ??= readPidRec(path.join(dir, 'supervisor.pid'))
    if (!entry.child) {
      if (!ok && cp.pid)
        try {
          process.kill(cp.pid, 'SIGKILL')
        } catch {
          /* gone */
        }
      throw new MccsError(
        'MCCS_ERR_PROC_START_FAILED',
        ok ? 'the supervisor ended before starting the process' : `the supervisor did not report a pid within ${this.startTimeoutMs} ms`,
        {
          subject: `${resource}/${name}`,
          data: { logFile },
        },
      )
    }
    // start() returns once the launch chain (env, setsid, setpriv) has exec'd the service itself.
    const child = entry.child
    await this.waitFor(entry, this.startTimeoutMs, () => !isAlive(child) || this.execDone(child.pid, l.argv[0] as string))
    this.log.log('info', 'process started', { resource, name, pid: entry.child.pid, supervisorPid: entry.sup?.pid })
    return this.settledStatus(resource, name)
  }

  /** The pid no longer runs one of the launch chain's binaries (or runs argv[0] itself). */
  private execDone(pid: number, argv0: string): boolean {
    let exe: string
    try {
      exe = fs.readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '')
    } catch {
      return true // not readable: cannot tell, do not wait
    }
    const cmd = readText(`/proc/${pid}/cmdline`)?.split('\0') ?? []
    if (cmd[1] === '-c' && (cmd[3] === SUPERVISOR_NAME || cmd[3] === LAUNCH_NAME)) return false // the supervisor's fork, or the launcher
    return exe === this.realArgv0(argv0) || !this.chain.has(exe)
  }

  private realArgv0(p: string): string {
    try {
      return fs.realpathSync(p)
    } catch {
      return p
    }
  }

  /** The supervisor runs but the service is not alive and exit.json is not there yet: wait (briefly)
   *  for it to report the pid (start in progress) or the exit (just died). */
  /** Waits (≤ 2 s) for a supervisor whose service has ended to exit; SIGKILLs it after that. */
  private async retire(resource: string, name: string, sup: PidRec): Promise<void> {
    const end = Date.now() + 2000
    while (isAlive(sup) && Date.now() < end) await sleep(2)
    if (isAlive(sup)) {
      this.log.log('warn', 'a finished supervisor did not exit; killing it', { resource, name, supervisorPid: sup.pid })
      try {
        process.kill(sup.pid, 'SIGKILL')
      } catch {
        /* gone */
      }
      const end2 = Date.now() + 1000
      while (isAlive(sup) && Date.now() < end2) await sleep(2)
    }
  }

  private async settle(resource: string, name: string, dir: string, rec: ProcRecord): Promise<ProcRecord> {
    const entry = this.attach(resource, name, dir, rec)
    await this.waitFor(entry, 2000, () => {
      const r = readRecord(dir)
      return r.exit !== null || isAlive(r.child) || !isAlive(r.sup)
    })
    this.check(entry)
    return readRecord(dir)
  }

  private newEntry(resource: string, name: string, dir: string): Entry {
    return {
      key: keyOf(resource, name),
      resource,
      name,
      dir,
      watcher: null,
      sup: null,
      child: null,
      cp: null,
      supExited: false,
      exited: false,
      stopping: false,
      orphanLogged: false,
      listeners: new Set(),
    }
  }

  /** The entry watching (resource, name), created (and watching) if needed. */
  private attach(resource: string, name: string, dir: string, rec: ProcRecord): Entry {
    const key = keyOf(resource, name)
    let e = this.entries.get(key)
    if (!e || e.exited) {
      if (e) this.unwatch(e)
      e = this.newEntry(resource, name, dir)
      e.sup = rec.sup
      e.child = rec.child
      e.stopping = rec.stopRequested
      this.entries.set(key, e)
      if (!rec.exit) {
        this.watch(e)
        this.ensureTimer()
      }
    }
    return e
  }

  private watch(e: Entry): void {
    try {
      e.watcher = fs.watch(e.dir, { persistent: false }, (_ev, f) => {
        if (f === null || f === 'exit.hint' || f === 'exit.json' || f === 'child.pid' || f === 'supervisor.pid') this.check(e)
      })
      e.watcher.on('error', (err) => {
        this.log.log('warn', 'watch of a process folder failed; falling back to polling', {
          resource: e.resource,
          name: e.name,
          error: String(err),
        })
        this.unwatch(e)
      })
    } catch (err) {
      this.log.log('warn', 'cannot watch a process folder; falling back to polling', {
        resource: e.resource,
        name: e.name,
        error: String(err),
      })
    }
  }

  private unwatch(e: Entry): void {
    try {
      e.watcher?.close()
    } catch {
      /* closed */
    }
    e.watcher = null
  }

  private ensureTimer(): void {
    if (this.timer || this.closed) return
    this.timer = setInterval(() => {
      for (const e of this.entries.values()) if (!e.exited) this.check(e)
    }, this.pollMs)
    this.timer.unref()
  }

  /** Looks at the folder and reports the exit if there is one. Synchronous on purpose: no
   *  interleaving between reading exit.json and emitting. */
  private check(e: Entry): void {
    if (this.closed || e.exited || this.entries.get(e.key) !== e) {
      this.notify(e)
      return
    }
    e.sup ??= readPidRec(path.join(e.dir, 'supervisor.pid'))
    e.child ??= readPidRec(path.join(e.dir, 'child.pid'))
    const ex = this.exitOf(e)
    if (ex) {
      this.finish(e, ex)
    } else if (e.supExited || (e.sup !== null && !isAlive(e.sup)) || (e.sup === null && e.child !== null)) {
      // The supervisor is gone without writing exit.json (SIGKILLed), or never wrote its pid.
      const again = this.exitOf(e)
      if (again) this.finish(e, again)
      else if (isAlive(e.child)) {
        if (!e.orphanLogged) {
          e.orphanLogged = true
          this.log.log('warn', 'the supervisor of a managed process vanished; watching the process by polling', {
            resource: e.resource,
            name: e.name,
            pid: e.child?.pid,
            pollMs: this.pollMs,
          })
        }
      } else this.finish(e, null)
    }
    this.notify(e)
  }

  /** The exit record of this entry's run (a record with another pid is a previous run's). */
  private exitOf(e: Entry): ExitRec | null {
    const ex = readExit(e.dir)
    if (ex && e.child && typeof ex.pid === 'number' && ex.pid !== e.child.pid) return null
    return ex
  }

  private notify(e: Entry): void {
    for (const l of [...e.listeners]) l()
  }

  /** Records and emits the end of a run (once per run, even across agent restarts). */
  private finish(e: Entry, ex: ExitRec | null): void {
    if (e.exited) return
    e.exited = true
    this.unwatch(e)
    let rec = ex
    if (!rec) {
      rec = { code: null, signal: null, status: null, at: new Date().toISOString(), pid: e.child?.pid ?? null, lost: true }
      try {
        writeRecord(path.join(e.dir, 'exit.json'), JSON.stringify(rec) + '\n')
      } catch {
        /* folder gone */
      }
    }
    const expected = e.stopping || exists(path.join(e.dir, 'stop.json'))
    const marker = path.join(e.dir, 'exit.reported')
    if (!exists(marker)) {
      try {
        writeRecord(marker, new Date().toISOString() + '\n')
      } catch {
        /* folder gone */
      }
      const ev: ProcExitEvent = {
        resource: e.resource,
        name: e.name,
        pid: rec.pid ?? e.child?.pid ?? null,
        code: rec.code ?? null,
        signal: rec.signal ?? null,
        at: rec.at,
        expected,
        ...(rec.lost ? { lost: true } : {}),
      }
      this.log.log(expected ? 'info' : 'warn', expected ? 'process stopped' : 'process exited unexpectedly', { ...ev })
      this.emit('exit', ev)
    }
    this.notify(e)
  }

  private waitFor(e: Entry, ms: number, cond: () => boolean): Promise<boolean> {
    if (cond()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const done = (v: boolean): void => {
        clearTimeout(t)
        clearInterval(iv)
        e.listeners.delete(l)
        resolve(v)
      }
      const l = (): void => {
        if (cond()) done(true)
      }
      // a short poll too: fs.watch can coalesce events, and the supervisor may be gone unnoticed
      const iv = setInterval(l, 25)
      const t = setTimeout(() => done(cond()), ms)
      e.listeners.add(l)
    })
  }

  private waitGone(e: Entry, child: PidRec, ms: number): Promise<boolean> {
    return this.waitFor(e, ms, () => !isAlive(child))
  }

  private waitExited(e: Entry, ms: number): Promise<boolean> {
    return this.waitFor(e, ms, () => {
      if (!e.exited) this.check(e)
      return e.exited
    }).then((ok) => {
      if (!ok && !e.exited && !isAlive(e.sup)) this.finish(e, null)
      return ok
    })
  }

  private statusOf(resource: string, name: string): ProcStatusEx {
    const dir = this.dirOf(resource, name)
    const r = readRecord(dir)
    const running = isAlive(r.child)
    const supAlive = isAlive(r.sup)
    const known = r.spec !== null || r.child !== null
    const exit = running ? null : r.exit
    return {
      name,
      resource,
      running,
      pid: running ? (r.child?.pid ?? null) : null,
      startedAt: r.child ? startTimeIso(r.child.start) : null,
      exitCode: exit?.code ?? null,
      exitSignal: exit?.signal ?? null,
      exitedAt: exit?.at ?? null,
      logFile: known ? path.join(dir, 'output.log') : null,
      supervisorPid: supAlive ? (r.sup?.pid ?? null) : null,
      supervised: running ? supAlive : false,
      expected: exit ? r.stopRequested : false,
      lost: exit?.lost === true,
      lastPid: r.child?.pid ?? null,
    }
  }

  private withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve()
    const run = prev.then(fn, fn)
    const tail = run.catch(() => {})
    this.locks.set(key, tail)
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key)
    })
    return run
  }

  private assertOpen(): void {
    if (this.closed) throw new MccsError('MCCS_ERR_CONFLICT', 'the ProcManager is closed', { subject: 'proc' })
  }
}

const keyOf = (resource: string, name: string): string => `${resource}\u0000${name}`

function listDirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
  } catch {
    return []
  }
}
