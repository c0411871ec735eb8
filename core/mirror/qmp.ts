// A minimal QMP client (QEMU Machine Protocol, JSON lines) over a Unix socket, for
// qemu-storage-daemon. One connection per client; commands are sent one at a time in order (QMP
// answers in order; `id` is checked anyway), events are emitted as 'event'. Why our own: it is
// ~100 lines, and no dependency is needed for JSON over a socket.
import net from 'node:net'
import { EventEmitter } from 'node:events'
import { MccsError } from '../errors.js'
import { readLines } from '../line-reader.js'

/** A QMP answer is a few KiB; qsd is our own child, so this only bounds a runaway. */
const MAX_LINE = 4 * 1024 * 1024

export interface QmpEvent {
  event: string
  data?: Record<string, unknown>
  timestamp?: unknown
}

interface Pending {
  id: string
  resolve(v: unknown): void
  reject(e: Error): void
  timer: NodeJS.Timeout
  cmd: string
}

export class QmpClient extends EventEmitter {
  private sock: net.Socket | null = null
  private pending: Pending[] = []
  private seq = 0
  private closed = false
  private greeted: ((v: unknown) => void) | null = null

  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 10_000,
  ) {
    super()
  }

  /** Connects, reads the greeting and leaves negotiation mode (qmp_capabilities); `timeoutMs` bounds
   *  both (a daemon that cannot answer never greets). */
  async connect(timeoutMs = this.timeoutMs): Promise<void> {
    const sock = net.createConnection(this.socketPath)
    this.sock = sock
    const greeting = new Promise<unknown>((resolve, reject) => {
      // Until the greeting, not just the socket's connect: a stopped daemon, or one still serving another
      // monitor client (one at a time), accepts the connection and then says nothing.
      const t = setTimeout(() => reject(this.err('connect', `no QMP greeting within ${timeoutMs} ms`)), timeoutMs)
      this.greeted = (v) => {
        clearTimeout(t)
        resolve(v)
      }
      sock.once('error', (e) => {
        clearTimeout(t)
        reject(this.err('connect', e.message))
      })
    })
    // An oversized line ends the connection (its 'close' fails what is pending).
    readLines(sock, MAX_LINE, (line) => this.onLine(line))
    sock.on('close', () => this.failAll('the QMP connection closed'))
    sock.on('error', () => {
      /* close follows */
    })
    await greeting
    await this.command('qmp_capabilities', undefined, { timeoutMs })
  }

  /** Runs one command; resolves with its `return`, rejects with its `error.desc`. `timeoutMs`: this
   *  question's deadline (a status question gets a short one: a daemon that cannot answer is a fault to
   *  report, not a reason to wait). */
  command<T = unknown>(execute: string, args?: Record<string, unknown>, opts: { timeoutMs?: number } = {}): Promise<T> {
    if (!this.sock || this.closed) return Promise.reject(this.err(execute, 'not connected'))
    const id = `m${++this.seq}`
    const ms = opts.timeoutMs ?? this.timeoutMs
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = this.pending.filter((p) => p.id !== id)
        reject(this.err(execute, `no answer within ${ms} ms`))
      }, ms)
      this.pending.push({ id, resolve: resolve as (v: unknown) => void, reject, timer, cmd: execute })
      this.sock!.write(JSON.stringify({ execute, ...(args ? { arguments: args } : {}), id }) + '\n')
    })
  }

  close(): void {
    this.closed = true
    this.sock?.destroy()
    this.failAll('closed')
  }

  private onLine(raw: string): void {
    const line = raw.trim()
    if (!line) return
    let msg: Record<string, unknown>
    try {
      msg = JSON.parse(line) as Record<string, unknown>
    } catch {
      return // QMP never sends a partial object on one line; ignore noise
    }
    if ('QMP' in msg) {
      this.greeted?.(msg)
      this.greeted = null
    } else if ('event' in msg) {
      this.emit('event', msg as unknown as QmpEvent)
    } else if ('return' in msg || 'error' in msg) {
      // An answer whose question already timed out is dropped: handing it to the next question (the
      // oldest pending) would answer that one with another command's result.
      const i = this.pending.findIndex((p) => p.id === msg.id)
      const p = i >= 0 ? this.pending.splice(i, 1)[0]! : msg.id === undefined ? this.pending.shift() : undefined
      if (!p) return
      clearTimeout(p.timer)
      if ('error' in msg) {
        const e = msg.error as { class?: string; desc?: string }
        p.reject(this.err(p.cmd, `${e.desc ?? 'error'} (${e.class ?? 'GenericError'})`))
      } else p.resolve(msg.return)
    }
  }

  private failAll(reason: string): void {
    const all = this.pending
    this.pending = []
    for (const p of all) {
      clearTimeout(p.timer)
      p.reject(this.err(p.cmd, reason))
    }
  }

  private err(cmd: string, reason: string): MccsError {
    return new MccsError('MCCS_ERR_MIRROR_ENGINE', `QMP ${cmd}: ${reason}`, { subject: this.socketPath })
  }
}

/** Connects, runs fn, closes (qemu-storage-daemon serves one monitor client at a time per socket). */
export async function withQmp<T>(socketPath: string, fn: (q: QmpClient) => Promise<T>, timeoutMs?: number): Promise<T> {
  const q = new QmpClient(socketPath, timeoutMs)
  try {
    await q.connect()
    return await fn(q)
  } finally {
    q.close()
  }
}
