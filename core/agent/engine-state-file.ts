// The engine's state on disk (state/engine.json), so that persistent locks and faults survive an
// agent restart. Everything else is re-learnt by probing at start (ARCHITECTURE: never start what
// already runs, never stop what runs elsewhere).
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../config/atomic.js'
import type { EngineState } from '../engine/state.js'
import { isStickyFault } from '../engine/state.js'

export async function readSavedState(file: string): Promise<EngineState | null> {
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as EngineState
    return v && typeof v === 'object' && v.groups && v.resourceGroup ? v : null
  } catch {
    return null
  }
}

/** Carries persistent locks and sticky faults from a saved state into a fresh one. */
export function restore(fresh: EngineState, saved: EngineState | null): EngineState {
  if (!saved) return fresh
  const s = structuredClone(fresh)
  for (const [g, gr] of Object.entries(saved.groups ?? {})) {
    const cur = s.groups[g]
    if (!cur) continue
    if (gr.lock === 'persistent') cur.lock = 'persistent'
    if (typeof gr.failoverOnFailure === 'boolean') cur.failoverOnFailure = gr.failoverOnFailure
    for (const [r, byNode] of Object.entries(gr.resources ?? {})) {
      for (const [n, rs] of Object.entries(byNode)) {
        const now = cur.resources[r]?.[n]
        if (!now) continue
        if (isStickyFault(rs)) Object.assign(now, { state: 'faulted', lastFault: rs.lastFault, stopped: rs.stopped, needsFence: rs.needsFence })
        now.monitored = rs.monitored
      }
    }
  }
  return s
}

export class StateSaver {
  private timer: NodeJS.Timeout | undefined
  private writing: Promise<void> = Promise.resolve()
  private latest: EngineState | undefined

  constructor(private readonly file: string, private readonly delayMs = 200) {}

  /** Coalesced save (state changes many times a second under load). */
  schedule(s: EngineState): void {
    this.latest = s
    if (!this.timer) this.timer = setTimeout(() => { this.timer = undefined; void this.flush() }, this.delayMs)
  }

  /** Saves now (before acknowledging an operator command). */
  flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined }
    const s = this.latest
    if (!s) return this.writing
    this.latest = undefined
    this.writing = this.writing.then(() => writeFileAtomic(this.file, JSON.stringify(s), 0o600)).catch(() => {})
    return this.writing
  }
}
