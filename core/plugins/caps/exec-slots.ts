// Slots for running exec processes: at most a few per resource, per type and in all (EXEC_SLOTS in
// core/plugins/limits.ts). Every spawn forks the agent on its own thread, so a plugin that starts a
// thousand at once would stall it; a request beyond the slots waits its turn (in order) until a slot
// frees or its hook call ends, and beyond the queue it is refused at once.
import { MccsError } from '../../errors.js'
import { EXEC_SLOTS } from '../limits.js'

interface Waiter {
  type: string
  key: string
  grant(): void
}

export class ExecSlots {
  private running = 0
  private readonly byType = new Map<string, number>()
  private readonly byResource = new Map<string, number>()
  private readonly waiting: Waiter[] = []
  private readonly waitingByType = new Map<string, number>()

  constructor(private readonly limits: { perResource: number; perType: number; global: number; queuePerType: number } = EXEC_SLOTS) {}

  /** Resolves with the slot's release function; rejects when the queue is full or the call ends. */
  acquire(type: string, resource: string, signal: AbortSignal): Promise<() => void> {
    const key = `${type}\0${resource}`
    if (signal.aborted) return Promise.reject(new MccsError('MCCS_ERR_CANCELLED', 'the hook call has ended'))
    // No waiter fits now (next() grants every one that does as soon as a slot frees): a request
    // that fits takes no one's turn.
    if (this.fits(type, key)) return Promise.resolve(this.take(type, key))
    const queued = this.waitingByType.get(type) ?? 0
    if (queued >= this.limits.queuePerType) {
      return Promise.reject(
        new MccsError(
          'MCCS_ERR_PLUGIN_LIMIT',
          `more than ${this.limits.queuePerType} exec calls of type '${type}' waiting for one of its ${this.limits.perType} concurrent slots`,
          { field: 'exec.run' },
        ),
      )
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        type,
        key,
        grant: () => {
          signal.removeEventListener('abort', onAbort)
          resolve(this.take(type, key))
        },
      }
      const onAbort = () => {
        const i = this.waiting.indexOf(w)
        if (i >= 0) {
          this.waiting.splice(i, 1)
          this.count(this.waitingByType, type, -1)
        }
        reject(new MccsError('MCCS_ERR_CANCELLED', 'the hook call ended while its exec waited for a slot'))
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(w)
      this.count(this.waitingByType, type, 1)
    })
  }

  /** Processes running now (tests, status). */
  get active(): number {
    return this.running
  }

  private fits(type: string, key: string): boolean {
    return (
      this.running < this.limits.global &&
      (this.byType.get(type) ?? 0) < this.limits.perType &&
      (this.byResource.get(key) ?? 0) < this.limits.perResource
    )
  }

  private take(type: string, key: string): () => void {
    this.running++
    this.count(this.byType, type, 1)
    this.count(this.byResource, key, 1)
    let released = false
    return () => {
      if (released) return
      released = true
      this.running--
      this.count(this.byType, type, -1)
      this.count(this.byResource, key, -1)
      this.next()
    }
  }

  /** Grants freed slots to the first waiters that fit (a resource at its own limit does not block others). */
  private next(): void {
    for (let i = 0; i < this.waiting.length && this.running < this.limits.global;) {
      const w = this.waiting[i]!
      if (!this.fits(w.type, w.key)) {
        i++
        continue
      }
      this.waiting.splice(i, 1)
      this.count(this.waitingByType, w.type, -1)
      w.grant()
    }
  }

  private count(m: Map<string, number>, k: string, d: number): void {
    const v = (m.get(k) ?? 0) + d
    if (v > 0) m.set(k, v)
    else m.delete(k)
  }
}

/** The agent's one set of slots, shared by every plugin's exec calls. */
export const execSlots = new ExecSlots()
