// The agent's structured log (pino, JSON lines). Secrets never reach it: every message and every value
// goes through the same redaction as support bundles (core/log/redact.ts). Lines go to a LogSink,
// which never blocks the event loop and degrades to counting dropped lines when the disk is full.
import pino from 'pino'
import type { HostLogger } from './types.js'
import { redactJson, redactText } from './redact.js'
import { LogSink, type SinkHealth } from './sink.js'

export type Level = 'debug' | 'info' | 'warn' | 'error'
export type LogHealth = SinkHealth
export interface Log extends HostLogger {
  child(bindings: Record<string, unknown>): Log
  flush(): void
  /** Whether lines are written, and how many were dropped and why (a full disk): for the agent's status. */
  health(): LogHealth
  /** Stops writing and closes the file. */
  close(): void
  /** The level in force for this log and every child of it; setLevel changes it at run time (the console). */
  level?(): Level
  setLevel?(level: Level): void
}

export const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error']

/** A longer message or string value is cut (a plugin may log megabytes; the line would only hurt). */
export const MAX_STRING = 64 * 1024

function clip(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}… [${v.length - MAX_STRING} more characters cut]` : v
  if (v === null || typeof v !== 'object' || depth > 32 || v instanceof Error) return v
  if (Array.isArray(v)) return v.map((x) => clip(x, depth + 1))
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clip(x, depth + 1)]))
}

export function createLog(opts: { file?: string; level?: Level; stderr?: boolean; retryMs?: number } = {}): Log {
  const sink = opts.file
    ? new LogSink({ file: opts.file, ...(opts.retryMs ? { retryMs: opts.retryMs } : {}) })
    : opts.stderr === false
      ? null
      : new LogSink({ fd: 2 })
  const dest = sink ?? { write: () => true }
  // One level shared by the log and its children (pino children keep the level they were made with), so a
  // change at run time reaches every component's child log at once.
  let current: Level = opts.level ?? 'info'
  const base = pino({ level: 'debug', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest)
  const quiet: SinkHealth = { target: 'none', writing: false, droppedLines: 0, droppedTotal: 0 }
  const wrap = (p: pino.Logger): Log => ({
    log: (level, msg, data) => {
      if (LEVELS.indexOf(level as Level) < LEVELS.indexOf(current)) return
      p[level](data ? (redactJson(clip(data)) as object) : {}, redactText(clip(String(msg)) as string))
    },
    child: (b) => wrap(p.child(redactJson(clip(b)) as object)),
    flush: () => sink?.flushSync(),
    health: () => sink?.health() ?? quiet,
    close: () => sink?.close(),
    level: () => current,
    setLevel: (l) => {
      current = l
    },
  })
  return wrap(base)
}
