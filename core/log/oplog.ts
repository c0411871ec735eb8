// The manual operation log (the manual's "who did what"): one JSON line per operator command with
// user, node, time, command, target and result, redacted like every log. Appended and fsynced: an
// operator's action is recorded before the agent answers.
// When the log cannot be written (a full disk, most often) the command is still accepted — refusing it
// would keep an operator from moving groups off the full node — and its record is held in memory (up to
// `maxHeld`, oldest kept) and written, in order, once a retry succeeds; records beyond that are counted
// and a record saying how many were lost is written first. `health()` says what is held and why.
import { mkdir, open, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { redactConfig, type SchemaOf } from './redact.js'
import { LOG_FILE_MODE } from './sink.js'
import type { Said } from '../engine/index.js'

export interface OpRecord {
  at: string
  user: string
  node: string
  command: string
  /** The node the operator gave the command on, when another node's engine decided it (a follower forwards). */
  via?: string
  target?: string
  args?: Record<string, unknown>
  result: 'accepted' | 'rejected' | 'done' | 'failed'
  code?: string
  reason?: string
  /** The reason in words of the locale files (core/engine/said.ts), when the engine worded it. */
  said?: Said
}

export interface OpLogHealth {
  file: string
  /** Records accepted but not yet on disk. */
  held: number
  /** Records that did not fit in memory while the log could not be written. */
  lost: number
  code?: string
  since?: string
}

export interface OpLogOptions {
  /** Attribute schemas of the resource types, so arguments marked secret are redacted (resourceAdd …). */
  schemaOf?: SchemaOf
  retryMs?: number
  maxHeld?: number
}

export class OpLog {
  private queue: Promise<void> = Promise.resolve()
  private fh: FileHandle | undefined
  private held: string[] = []
  private lost = 0
  private code: string | undefined
  private since: Date | undefined
  private torn = false
  /** After close(), a late record (a command finishing during the stop) is written and its file closed again. */
  private closed = false
  private timer: NodeJS.Timeout | undefined
  private lastNode = ''

  constructor(
    readonly file: string,
    private readonly o: OpLogOptions = {},
  ) {}

  /** Resolves once the record is on disk, or held because the log cannot be written now; never rejects. */
  append(r: Omit<OpRecord, 'at'> & { at?: string }): Promise<void> {
    this.lastNode = r.node
    const line = JSON.stringify(redactConfig({ at: r.at ?? new Date().toISOString(), ...r }, this.o.schemaOf)) + '\n'
    const next = this.queue.then(() => this.write(line))
    this.queue = next.catch(() => {})
    return next
  }

  health(): OpLogHealth {
    return {
      file: this.file,
      held: this.held.length,
      lost: this.lost,
      ...(this.code ? { code: this.code } : {}),
      ...(this.since ? { since: this.since.toISOString() } : {}),
    }
  }

  /** Closes the file; held records stay held (a later append or retry reopens it). */
  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    await this.queue
    const fh = this.fh
    this.fh = undefined
    await fh?.close().catch(() => {})
  }

  private async write(line: string): Promise<void> {
    if (this.held.length > 0) {
      this.hold(line)
      return
    } // order: behind the ones already waiting
    try {
      await this.appendNow(line)
    } catch (e) {
      this.hold(line, e)
    }
  }

  private hold(line: string, e?: unknown): void {
    if (e) {
      this.code = (e as NodeJS.ErrnoException).code ?? 'EIO'
      this.since ??= new Date()
    }
    if (this.held.length >= (this.o.maxHeld ?? 1000)) this.lost++
    else this.held.push(line)
    this.arm()
  }

  /** Held records written one by one (each whole or not at all as far as `held` knows), the count of lost ones first. */
  private async retry(): Promise<void> {
    try {
      if (this.lost > 0) {
        await this.appendNow(
          JSON.stringify({
            at: new Date().toISOString(),
            user: 'mccs',
            node: this.lastNode,
            command: 'operationLog',
            result: 'failed',
            code: 'MCCS_ERR_LOG_WRITE',
            reason: `${this.lost} operation records lost: ${this.code === 'ENOSPC' || this.code === 'EDQUOT' ? 'disk full' : `write error ${this.code}`} since ${this.since?.toISOString()}`,
          }) + '\n',
        )
        this.lost = 0
      }
      while (this.held.length > 0) {
        await this.appendNow(this.held[0]!)
        this.held.shift()
      }
      this.code = undefined
      this.since = undefined
    } catch (e) {
      this.code = (e as NodeJS.ErrnoException).code ?? 'EIO'
      this.arm()
    }
  }

  private arm(): void {
    if (this.timer) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.queue = this.queue.then(() => this.retry())
    }, this.o.retryMs ?? 5000)
    this.timer.unref()
  }

  /** Appends text whole and fsyncs; a write cut short leaves `torn` so the next one starts on a new line. */
  private async appendNow(text: string): Promise<void> {
    if (!this.fh) {
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o750 })
      const fh = await open(this.file, 'a', LOG_FILE_MODE)
      const st = await fh.stat()
      if (st.isFile() && st.mode & 0o777 & ~LOG_FILE_MODE) await fh.chmod(st.mode & LOG_FILE_MODE)
      this.fh = fh
    }
    const buf = Buffer.from((this.torn ? '\n' : '') + text)
    let off = 0
    try {
      while (off < buf.length) off += (await this.fh.write(buf, off, buf.length - off)).bytesWritten
      await this.fh.datasync()
      this.torn = false
    } catch (e) {
      if (off > 0 && buf[off - 1] !== 0x0a) this.torn = true
      throw e
    } finally {
      if (this.closed) {
        const fh = this.fh
        this.fh = undefined
        await fh?.close().catch(() => {})
      }
    }
  }
}
