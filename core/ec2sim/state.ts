// The endpoint's state: kept in memory, saved to one JSON file (atomically) after every call, loaded from
// it at start. Lookups shared by the actions live here too.
import { readFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { writeFileAtomic } from '../config/atomic.js'
import { MccsError } from '../errors.js'
import { notFound } from './errors.js'
import type { EniState, Ec2State, InstanceState } from './types.js'

export const newId = (prefix: string): string => `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`

export const STATE_CODES: Record<InstanceState['state'], number> = { pending: 0, running: 16, stopping: 64, stopped: 80 }

/** Ends transitional instance states whose time has come (pending → running, stopping → stopped). */
export function advance(state: Ec2State, now: number): boolean {
  let changed = false
  for (const i of state.instances) {
    if (i.transitionAt !== undefined && now >= i.transitionAt) {
      if (i.state === 'pending') i.state = 'running'
      if (i.state === 'stopping') i.state = 'stopped'
      delete i.transitionAt
      changed = true
    }
  }
  return changed
}

/** The next time a transition ends, if any (the server wakes then to save the new state). */
export function nextTransition(state: Ec2State): number | undefined {
  const t = state.instances.map((i) => i.transitionAt).filter((x): x is number => x !== undefined)
  return t.length ? Math.min(...t) : undefined
}

export function allEnis(state: Ec2State): Array<{ inst: InstanceState; eni: EniState }> {
  return state.instances.flatMap((inst) => inst.enis.map((eni) => ({ inst, eni })))
}

export function findEni(state: Ec2State, id: string): { inst: InstanceState; eni: EniState } {
  return (
    allEnis(state).find((x) => x.eni.id === id) ??
    (() => {
      throw notFound('InvalidNetworkInterfaceID.NotFound', 'networkInterface ID', id)
    })()
  )
}

export function findInstance(state: Ec2State, id: string): InstanceState {
  return (
    state.instances.find((i) => i.id === id) ??
    (() => {
      throw notFound('InvalidInstanceID.NotFound', 'instance ID', id)
    })()
  )
}

export function subnetOf(state: Ec2State, id: string): Ec2State['subnets'][number] {
  const s = state.subnets.find((x) => x.id === id)
  if (!s) throw new MccsError('MCCS_ERR_INTERNAL', `state refers to subnet ${id} that does not exist`, { field: 'subnets' })
  return s
}

export async function loadState(file: string): Promise<Ec2State | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
  let s: Ec2State
  try {
    s = JSON.parse(text) as Ec2State
  } catch (e) {
    throw new MccsError('MCCS_ERR_INVALID', `state file is not JSON: ${(e as Error).message}`, { subject: file, field: 'stateFile' })
  }
  if (s?.format !== 'mccs-ec2sim/1' || !Array.isArray(s.instances) || !Array.isArray(s.routeTables) || !Array.isArray(s.addresses)) {
    throw new MccsError('MCCS_ERR_INVALID', 'state file is not an mccs ec2-sim state (format mccs-ec2sim/1)', {
      subject: file,
      field: 'format',
    })
  }
  s.calls ??= {}
  return s
}

/**
 * Serialised saves: a save requested while one is running is done once after it, with the newest state,
 * so the file always ends at the latest state and a caller's promise resolves once its change is on disk.
 */
export class StateWriter {
  private running: Promise<void> | null = null
  private queued: Promise<void> | null = null
  constructor(
    private readonly file: string,
    private readonly snapshot: () => string,
  ) {}

  save(): Promise<void> {
    if (this.queued) return this.queued
    if (!this.running)
      return (this.running = this.write().finally(() => {
        this.running = null
      }))
    this.queued = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null
        return this.save()
      })
    return this.queued
  }

  private write(): Promise<void> {
    return writeFileAtomic(this.file, this.snapshot() + '\n', 0o600)
  }
}
