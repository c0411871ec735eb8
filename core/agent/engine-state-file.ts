// The engine's state on disk (state/engine.json), so that persistent locks and faults survive an
// agent restart. Everything else is re-learnt by probing at start (ARCHITECTURE: never start what
// already runs, never stop what runs elsewhere).
// A file that cannot be used is not dropped in silence (issue 12, finding 9): it is kept aside as
// <file>.corrupt-<time>, an error names it and says what is lost, and the agent goes on from the
// probe-everything start, as Pacemaker does with its probes. Refusing to start would leave the node out
// of the cluster for a file that only carries operator marks, which the log tells the operator to re-apply.
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../config/atomic.js'
import { keepAside } from '../config/keep-aside.js'
import { type EngineState, isStickyFault } from '../engine/index.js'
import type { Log } from '../log/logger.js'

type StateLog = Pick<Log, 'log'>

export async function readSavedState(file: string, log: StateLog): Promise<EngineState | null> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null // first start
    return await corrupt(file, `cannot be read: ${(e as Error).message}`, log)
  }
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    return await corrupt(file, `not JSON: ${(e as Error).message}`, log)
  }
  const why = malformed(v)
  return why ? await corrupt(file, why, log) : (v as EngineState)
}

async function corrupt(file: string, reason: string, log: StateLog): Promise<null> {
  const keptAs = await keepAside(file)
  log.log(
    'error',
    `engine state ${file} is unusable (${reason}); ${keptAs ? `kept as ${keptAs}` : 'could not be moved aside'}. ` +
      'Starting from probes: persistent locks and sticky faults recorded in it are lost; re-apply them.',
    { code: 'MCCS_ERR_STATE_CORRUPT', file, keptAs, reason },
  )
  return null
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Why `v` cannot be what restore() reads, or null. Checks exactly the fields restore() uses. */
function malformed(v: unknown): string | null {
  if (!isObj(v)) return 'not an object'
  if (!isObj(v.groups)) return '/groups: must be an object'
  if (!isObj(v.resourceGroup)) return '/resourceGroup: must be an object'
  for (const [g, gr] of Object.entries(v.groups)) {
    if (!isObj(gr)) return `/groups/${g}: must be an object`
    if (gr.lock !== undefined && typeof gr.lock !== 'string') return `/groups/${g}/lock: must be a string`
    if (gr.failoverOnFailure !== undefined && typeof gr.failoverOnFailure !== 'boolean')
      return `/groups/${g}/failoverOnFailure: must be a boolean`
    if (gr.resources === undefined) continue
    if (!isObj(gr.resources)) return `/groups/${g}/resources: must be an object`
    for (const [r, byNode] of Object.entries(gr.resources)) {
      if (!isObj(byNode)) return `/groups/${g}/resources/${r}: must be an object`
      for (const [n, rs] of Object.entries(byNode)) {
        if (!isObj(rs) || typeof rs.state !== 'string') return `/groups/${g}/resources/${r}/${n}: must be an object with a state`
      }
    }
  }
  return null
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
        if (isStickyFault(rs))
          Object.assign(now, {
            state: 'faulted',
            lastFault: rs.lastFault,
            ...(rs.lastFaultSaid ? { lastFaultSaid: rs.lastFaultSaid } : {}),
            stopped: rs.stopped,
            needsFence: rs.needsFence,
          })
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
  private failing = false

  constructor(
    private readonly file: string,
    private readonly log?: StateLog,
    private readonly delayMs = 200,
  ) {}

  /** Coalesced save (state changes many times a second under load). */
  schedule(s: EngineState): void {
    this.latest = s
    if (!this.timer)
      this.timer = setTimeout(() => {
        this.timer = undefined
        void this.flush()
      }, this.delayMs)
  }

  /** Saves now (before acknowledging an operator command). A failed save is logged once, not thrown:
   *  the engine keeps running; only what survives a restart is at risk. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    const s = this.latest
    if (!s) return this.writing
    this.latest = undefined
    this.writing = this.writing
      .then(() => writeFileAtomic(this.file, JSON.stringify(s), 0o600))
      .then(
        () => {
          if (this.failing) this.log?.log('info', `engine state ${this.file} is saved again`, { file: this.file })
          this.failing = false
        },
        (e: unknown) => {
          if (!this.failing) {
            this.log?.log(
              'error',
              `cannot save the engine state to ${this.file}: ${(e as Error).message}; persistent locks and faults will not survive a restart until it can`,
              { code: 'MCCS_ERR_STATE_DIR', file: this.file },
            )
          }
          this.failing = true
        },
      )
    return this.writing
  }
}
