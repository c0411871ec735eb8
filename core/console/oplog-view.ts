// The manual operation log (logs/operation.log, one JSON line per operator command) as the API shows it.
import type { OpRecord } from '../log/oplog.js'

export interface OplogEntry {
  at: string; user: string; node: string; op: string; target: string | null
  args: Record<string, unknown>; result: string; code?: string; reason?: string
}

/** One line of operation.log as an API entry, or null for a line that is not a record. */
export function oplogEntry(line: string): OplogEntry | null {
  let r: Partial<OpRecord>
  try { r = JSON.parse(line) as Partial<OpRecord> } catch { return null }
  if (!r || typeof r.command !== 'string' || typeof r.at !== 'string') return null
  return {
    at: r.at, user: r.user ?? '', node: r.node ?? '', op: r.command, target: r.target ?? null, args: r.args ?? {}, result: r.result ?? '',
    ...(r.code ? { code: r.code } : {}), ...(r.reason ? { reason: r.reason } : {}),
  }
}
