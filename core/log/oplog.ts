// The manual operation log (the manual's "who did what"): one JSON line per operator command with
// user, node, time, command, target and result. Appended and fsynced: an operator's action is
// recorded before the agent answers.
import { appendFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { redact } from './logger.js'

export interface OpRecord {
  at: string
  user: string
  node: string
  command: string
  target?: string
  args?: Record<string, unknown>
  result: 'accepted' | 'rejected' | 'done' | 'failed'
  code?: string
  reason?: string
}

export class OpLog {
  private queue: Promise<void> = Promise.resolve()
  constructor(readonly file: string) {}

  append(r: Omit<OpRecord, 'at'> & { at?: string }): Promise<void> {
    const line = JSON.stringify(redact({ at: r.at ?? new Date().toISOString(), ...r })) + '\n'
    const next = this.queue.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true })
      await appendFile(this.file, line, { mode: 0o640, flush: true })
    })
    this.queue = next.catch(() => {})
    return next
  }
}
