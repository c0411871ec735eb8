// This node's agent log level (issue 18, What 6; the manual's log attributes, "view or change"): set at run
// time from the console (PUT /api/log-level) or `mccs log-level <level>`, in force at once for the log and
// every child of it, logged in the operation log, and kept in the state folder so that a restart keeps it
// (an attribute the operator changed stays changed). Per node: each node writes its own log, and the level
// is raised on the node being investigated, not on the whole cluster.
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../config/atomic.js'
import { MccsError, isMccsError } from '../errors.js'
import { LEVELS, type Level, type Log } from '../log/logger.js'
import type { OpLog } from '../log/oplog.js'

export const LOG_LEVEL_FILE = 'log-level.json'

export interface LogLevelInfo {
  node: string
  level: Level
  levels: readonly Level[]
}

const isLevel = (v: unknown): v is Level => typeof v === 'string' && (LEVELS as readonly string[]).includes(v)

export class LogLevel {
  constructor(private readonly o: { file: string; node: string; log: Log; oplog: OpLog }) {}

  current(): Level {
    return this.o.log.level?.() ?? 'info'
  }

  info(): LogLevelInfo {
    return { node: this.o.node, level: this.current(), levels: LEVELS }
  }

  /** At start: the level the operator set last, if any. A file that is not one of the levels is named in
   *  the log and left alone (the agent starts at info rather than not at all). */
  async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.o.file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.o.log.log('warn', 'cannot read the saved log level; starting at info', { file: this.o.file, error: (e as Error).message })
      return
    }
    let level: unknown
    try {
      level = (JSON.parse(text) as { level?: unknown }).level
    } catch {
      level = undefined
    }
    if (!isLevel(level)) {
      this.o.log.log('warn', `the saved log level is not one of ${LEVELS.join(', ')}; starting at info`, { file: this.o.file })
      return
    }
    this.o.log.setLevel?.(level)
    if (level !== 'info') this.o.log.log('warn', `log level ${level} (set by an operator; kept across restarts)`, { file: this.o.file })
  }

  /** Validates, saves (atomically), then applies the level; the change is in the operation log as done,
   *  rejected (the input) or failed (the save), and a refusal changes nothing. */
  async set(level: unknown, user: string): Promise<LogLevelInfo & { before: Level }> {
    const before = this.current()
    const record = (result: 'done' | 'rejected' | 'failed', e?: unknown) =>
      this.o.oplog.append({
        user,
        node: this.o.node,
        command: 'logLevel',
        target: this.o.node,
        args: { level: typeof level === 'string' ? level.slice(0, 32) : String(level), before },
        result,
        ...(e ? { code: isMccsError(e) ? e.code : 'MCCS_ERR_INTERNAL', reason: (e as Error).message } : {}),
      })
    try {
      if (!isLevel(level)) throw new MccsError('MCCS_ERR_INVALID', `must be one of ${LEVELS.join(', ')}`, { field: 'level' })
      if (!this.o.log.setLevel)
        throw new MccsError('MCCS_ERR_INVALID', "this agent's log cannot change its level at run time", { field: 'level' })
      await writeFileAtomic(this.o.file, JSON.stringify({ level }) + '\n', 0o600)
    } catch (e) {
      await record(isMccsError(e) ? 'rejected' : 'failed', e).catch(() => {})
      throw e
    }
    // Said at info while info is still written: before a raise, after a lowering.
    const say = () => this.o.log.log('info', `log level set to ${level} (was ${before})`, { user })
    const raising = LEVELS.indexOf(level) > LEVELS.indexOf(before)
    if (raising) say()
    this.o.log.setLevel(level)
    if (!raising) say()
    await record('done').catch((e: unknown) =>
      this.o.log.log('error', 'operation log not written', { command: 'logLevel', user, error: (e as Error).message }),
    )
    return { ...this.info(), before }
  }
}
