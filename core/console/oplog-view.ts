// The manual operation log (logs/operation.log, one JSON line per operator command) as the API shows it.
// An operator command is logged twice: "accepted" (or "rejected") when the engine answers, then its final
// result, "done" or "failed" with the reason (command-results.ts). The view pairs them: one entry per
// command, with `final` once it ended.
import type { OpRecord } from '../log/oplog.js'
import type { Said } from '../engine/index.js'

export interface OplogEntry {
  at: string
  user: string
  node: string
  /** The node the command was given on, when another node's engine decided it. */
  via?: string
  op: string
  target: string | null
  args: Record<string, unknown>
  result: string
  code?: string
  reason?: string
  /** The reason in words of the locale files (the console shows it in its language). */
  said?: Said
  /** How an accepted command ended. */
  final?: { result: string; at: string; reason?: string; said?: Said }
}

/** One line of operation.log as an API entry, or null for a line that is not a record. */
export function oplogEntry(line: string): OplogEntry | null {
  let r: Partial<OpRecord>
  try {
    r = JSON.parse(line) as Partial<OpRecord>
  } catch {
    return null
  }
  return recordEntry(r)
}

/** One record (a line parsed, or another node's answer) as an API entry, or null when it is not one. */
export function recordEntry(r: Partial<OpRecord>): OplogEntry | null {
  if (!r || typeof r.command !== 'string' || typeof r.at !== 'string') return null
  return {
    at: r.at,
    user: r.user ?? '',
    node: r.node ?? '',
    ...(typeof r.via === 'string' ? { via: r.via } : {}),
    op: r.command,
    target: r.target ?? null,
    args: r.args ?? {},
    result: r.result ?? '',
    ...(r.code ? { code: r.code } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.said && typeof r.said === 'object' ? { said: r.said } : {}),
  }
}

/** The newest accepted entry of the same command, user and target that has no final result yet. */
export function acceptedFor(list: OplogEntry[], fin: OplogEntry): OplogEntry | undefined {
  for (let i = list.length - 1; i >= 0; i--) {
    const e = list[i]!
    if (e.result === 'accepted' && !e.final && e.op === fin.op && e.user === fin.user && e.target === fin.target) return e
  }
  return undefined
}

/** Pairs each final record with its accepted one (a final without one — an older log — stays an entry). */
export function withFinals(entries: OplogEntry[]): OplogEntry[] {
  const out: OplogEntry[] = []
  for (const e of entries) {
    const acc = e.result === 'done' || e.result === 'failed' ? acceptedFor(out, e) : undefined
    if (acc) acc.final = { result: e.result, at: e.at, ...(e.reason ? { reason: e.reason } : {}), ...(e.said ? { said: e.said } : {}) }
    else out.push(e)
  }
  return out
}
