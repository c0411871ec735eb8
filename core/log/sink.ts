// Where the agent's log lines go: an append-only file (or fd 2) written off the main thread, which never
// blocks, throws or retries in a loop. When the disk is full (or the file cannot be written for any other
// reason) lines are dropped and counted; a probe every `retryMs` finds out when space is back, and the
// first line written then says "N lines dropped: disk full". The file is created 0640 and an existing
// one (and its rotations) narrowed to at most 0640 when it opens: a log is never world-readable.
import fs from 'node:fs'
import path from 'node:path'

export const LOG_FILE_MODE = 0o640
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024
const BUSY_RETRY_MS = 20
/** Set once the process is exiting: flushSync then writes even behind a write in flight. */
let exiting = false
/** Sinks asked to flush while a write was in flight: what they queued is written at exit. */
const flushAtExit = new Set<LogSink>()
process.once('exit', () => {
  exiting = true
  for (const s of flushAtExit) s.flushSync()
})

export interface SinkHealth {
  /** The file (or "stderr"). */
  target: string
  /** Whether lines are being written now. */
  writing: boolean
  /** Lines dropped and not yet reported in the log (reported by the first line written once it works). */
  droppedLines: number
  /** Lines dropped since the sink opened. */
  droppedTotal: number
  /** Why lines are dropped: "disk full", "file too large", "write error EIO", "log writer behind". */
  reason?: string
  code?: string
  /** When the current trouble began. */
  since?: string
}

export interface SinkOptions {
  file?: string
  /** Write to this descriptor instead (stderr): not opened, chmod-ed or closed here. */
  fd?: number
  /** Time between probes while writes fail (default 1 s). */
  retryMs?: number
  maxBacklogBytes?: number
  /** Told once when trouble begins (default: a line on stderr, unless the sink is stderr). */
  onTrouble?: (health: SinkHealth) => void
}

const reasonOf = (code: string | undefined): string =>
  code === 'ENOSPC' || code === 'EDQUOT'
    ? 'disk full'
    : code === 'EFBIG'
      ? 'file too large'
      : code === 'EBACKLOG'
        ? 'log writer behind'
        : `write error ${code ?? 'unknown'}`

export class LogSink {
  private fd: number | null = null
  private readonly retryMs: number
  private readonly maxBacklog: number
  private queue: string[] = []
  private queued = 0
  private busy = false
  /** Writes fail: lines are dropped until a probe succeeds. */
  private failing = false
  /** Writes are being tried again after a failure and none has succeeded yet: not "writing" for health(). */
  private probing = false
  /** The file ends inside a line (a write stopped part-way): the next write starts with a newline. */
  private torn = false
  private dropped = 0
  private droppedTotal = 0
  private code: string | undefined
  private since: Date | undefined
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor(private readonly o: SinkOptions) {
    this.retryMs = o.retryMs ?? 1000
    this.maxBacklog = o.maxBacklogBytes ?? MAX_BACKLOG_BYTES
    if (o.fd !== undefined) this.fd = o.fd
    else this.open()
  }

  get target(): string {
    return this.o.file ?? 'stderr'
  }

  /** pino's stream interface: one serialized line. Never throws, never blocks. */
  write(line: string): boolean {
    if (this.closed) return true
    if (this.failing || this.fd === null) {
      this.drop(1)
      return true
    }
    if (this.queued + line.length > this.maxBacklog) {
      if (!this.code) this.code = 'EBACKLOG'
      this.since ??= new Date()
      this.drop(1)
      return true
    }
    this.queue.push(line)
    this.queued += line.length
    this.kick()
    return true
  }

  health(): SinkHealth {
    return {
      target: this.target,
      writing: !this.failing && !this.probing && this.fd !== null,
      droppedLines: this.dropped,
      droppedTotal: this.droppedTotal,
      ...(this.code ? { reason: reasonOf(this.code), code: this.code } : {}),
      ...(this.since ? { since: this.since.toISOString() } : {}),
    }
  }

  /**
   * Writes what is queued now, once, synchronously (before a deliberate exit, or before the console reads
   * the file). Failures are counted, not retried. With a write in flight the queue waits for it (lines
   * stay in order) — and, should the process exit first, is written at exit.
   */
  flushSync(): void {
    if (this.failing || this.fd === null || this.queue.length === 0) return
    if (this.busy && !exiting) {
      flushAtExit.add(this)
      return
    }
    const text = this.takeQueue()
    try {
      const buf = Buffer.from(text)
      let off = 0
      while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off)
    } catch (e) {
      this.fail((e as NodeJS.ErrnoException).code, countLines(text))
    }
  }

  /** Stops writing (what is queued is dropped uncounted); the descriptor closes once no write is in flight. */
  close(): void {
    this.closed = true
    flushAtExit.delete(this)
    clearTimeout(this.timer)
    if (!this.busy) this.closeFd()
  }

  private closeFd(): void {
    if (this.o.fd === undefined && this.fd !== null) {
      try {
        fs.closeSync(this.fd)
      } catch {
        /* already gone */
      }
    }
    this.fd = null
  }

  private open(): void {
    const file = this.o.file!
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 })
      const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, LOG_FILE_MODE)
      const st = fs.fstatSync(fd)
      // Narrow, never widen; a device (e.g. /dev/null) keeps its mode.
      if (st.isFile() && st.mode & 0o777 & ~LOG_FILE_MODE) fs.fchmodSync(fd, st.mode & LOG_FILE_MODE)
      this.fd = fd
      narrowRotations(file)
    } catch (e) {
      this.fail((e as NodeJS.ErrnoException).code, 0)
    }
  }

  private kick(): void {
    if (this.busy || this.failing || this.closed || this.fd === null) return
    if (this.queue.length === 0 && this.dropped === 0 && !this.torn) {
      this.probing = false // nothing owed: the open succeeded, which is all a probe can show
      return
    }
    this.busy = true
    setImmediate(() => this.drain())
  }

  private takeQueue(): string {
    const text = this.queue.join('')
    this.queue = []
    this.queued = 0
    return text
  }

  /** First the newline that ends a torn line and the report of dropped lines, then the queued lines. */
  private drain(): void {
    if (this.closed || this.fd === null) {
      this.busy = false
      this.closeFd()
      return
    }
    if (this.torn || this.dropped > 0) {
      const head = (this.torn ? '\n' : '') + (this.dropped > 0 ? this.notice() : '')
      this.writeAll(
        Buffer.from(head),
        (ok) => {
          if (!ok) return
          this.dropped = 0
          this.code = undefined
          this.since = undefined
          this.drain()
        },
        0,
      )
      return
    }
    if (this.queue.length === 0) {
      this.busy = false
      return
    }
    const text = this.takeQueue()
    this.writeAll(
      Buffer.from(text),
      (ok) => {
        if (ok) {
          this.busy = false
          this.kick()
        }
      },
      countLines(text),
    )
  }

  /** Writes buf fully (a short write continues); on failure the lines in it count as dropped. */
  private writeAll(buf: Buffer, done: (ok: boolean) => void, lines: number, off = 0): void {
    fs.write(this.fd!, buf, off, buf.length - off, null, (err, n) => {
      if (this.closed) {
        this.busy = false
        this.closeFd()
        return
      }
      if (err) {
        if ((err.code === 'EAGAIN' || err.code === 'EINTR') && !this.closed) {
          // A full pipe (stderr): try the rest again shortly; nothing is lost.
          setTimeout(() => this.writeAll(buf, done, lines, off), BUSY_RETRY_MS).unref()
          return
        }
        if (off > 0 && buf[off - 1] !== 0x0a) this.torn = true
        this.busy = false
        this.fail(err.code, lines === 0 ? 0 : countLines(buf.subarray(off).toString()))
        done(false)
        return
      }
      off += n
      if (off < buf.length) {
        this.writeAll(buf, done, lines, off)
        return
      }
      this.torn = false
      this.probing = false
      done(true)
    })
  }

  private drop(n: number): void {
    this.dropped += n
    this.droppedTotal += n
  }

  private fail(code: string | undefined, lostLines: number): void {
    this.drop(lostLines + this.queue.length)
    this.takeQueue()
    const first = !this.failing && !this.probing
    this.probing = false
    this.failing = true
    this.code = code ?? 'EIO'
    this.since ??= new Date()
    if (first) {
      if (this.o.onTrouble) this.o.onTrouble(this.health())
      else if (this.o.fd === undefined)
        process.stderr.write(
          `mccs: ${this.target}: ${reasonOf(this.code)} (${this.code}); log lines are dropped and counted until it can be written again\n`,
        )
    }
    clearTimeout(this.timer)
    if (!this.closed) {
      this.timer = setTimeout(() => this.probe(), this.retryMs)
      this.timer.unref()
    }
  }

  /** Writes are tried again: the report of dropped lines is the probe. */
  private probe(): void {
    if (this.closed) return
    this.failing = false
    this.probing = true
    if (this.fd === null) this.open()
    if (this.fd !== null) this.kick()
  }

  private notice(): string {
    return (
      JSON.stringify({
        level: 40,
        time: new Date().toISOString(),
        pid: process.pid,
        msg: `${this.dropped} lines dropped: ${reasonOf(this.code)}`,
        dropped: this.dropped,
        code: this.code,
        ...(this.since ? { since: this.since.toISOString() } : {}),
      }) + '\n'
    )
  }
}

function countLines(text: string): number {
  let n = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++
  return n
}

/** Rotations of the log (mccs.log.1, mccs.log.2.gz) narrowed like the log itself; best effort. */
function narrowRotations(file: string): void {
  const dir = path.dirname(file)
  const base = path.basename(file) + '.'
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return
  }
  for (const n of names) {
    if (!n.startsWith(base)) continue
    try {
      const p = path.join(dir, n)
      const st = fs.lstatSync(p)
      if (st.isFile() && st.mode & 0o777 & ~LOG_FILE_MODE) fs.chmodSync(p, st.mode & LOG_FILE_MODE)
    } catch {
      /* gone meanwhile, or not ours to change */
    }
  }
}
