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

  /** Connects, reads the greeting and leaves negotiation mode (qmp_capabilities). */
  async connect(): Promise<void> {
    const sock = net.createConnection(this.socketPath)
    this.sock = sock
    const greeting = new Promise<unknown>((resolve, reject) => {
      this.greeted = resolve
      const t = setTimeout(() => reject(this.err('connect', `no QMP greeting within ${this.timeoutMs} ms`)), this.timeoutMs)
      sock.once('error', (e) => {
        clearTimeout(t)
        reject(this.err('connect', e.message))
      })
      sock.once('connect', () => clearTimeout(t))
    })
    // An oversized line ends the connection (its 'close' fails what is pending).
    readLines(sock, MAX_LINE, (line) => this.onLine(line))
    sock.on('close', () => this.failAll('the QMP connection closed'))
    sock.on('error', () => {
      /* close follows */
    })
    await greeting
    await this.command('qmp_capabilities')
  }

  /** Runs one command; resolves with its `return`, rejects with its `error.desc`. */
  command<T = unknown>(execute: string, args?: Record<string, unknown>): Promise<T> {
    if (!this.sock || this.closed) return Promise.reject(this.err(execute, 'not connected'))
    const id = `m${++this.seq}`
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = this.pending.filter((p) => p.id !== id)
        reject(this.err(execute, `no answer within ${this.timeoutMs} ms`))
      }, this.timeoutMs)
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
      const i = this.pending.findIndex((p) => p.id === msg.id)
      const p = i >= 0 ? this.pending.splice(i, 1)[0]! : this.pending.shift()
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
