// The agent's structured log (pino, JSON lines). Secrets never reach it: values under keys that
// look secret are redacted wherever they sit in the data.
import pino from 'pino'
import type { HostLogger } from '../plugins/host.js'

export type Level = 'debug' | 'info' | 'warn' | 'error'
export interface Log extends HostLogger {
  child(bindings: Record<string, unknown>): Log
  flush(): void
}

const SECRET_KEY = /pass(word)?|secret|token|credential|private.?key|api.?key|cluster.?key|^key$/i

/** Deep copy with secret-looking keys replaced (pino's redact needs fixed paths; plugin data has none). */
export function redact(v: unknown, depth = 0): unknown {
  if (depth > 8 || v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map((x) => redact(x, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(x, depth + 1)
  return out
}

export function createLog(opts: { file?: string; level?: Level; stderr?: boolean } = {}): Log {
  const dest = opts.file
    ? pino.destination({ dest: opts.file, mkdir: true, sync: false })
    : pino.destination({ dest: opts.stderr === false ? '/dev/null' : 2, sync: true })
  const base = pino({ level: opts.level ?? 'info', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest)
  const wrap = (p: pino.Logger): Log => ({
    log: (level, msg, data) => p[level](data ? (redact(data) as object) : {}, msg),
    child: (b) => wrap(p.child(redact(b) as object)),
    flush: () => { try { dest.flushSync() } catch { /* not ready yet */ } },
  })
  return wrap(base)
}
