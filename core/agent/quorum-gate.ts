// The coordinator's engine steps only while quorum is certain (Role.quorumFresh(): after a pause, or
// while a lost member is being re-decided, it is not). Events that arrive meanwhile — action results,
// monitor results, membership changes, operator commands — wait here in arrival order and are stepped
// once quorum is confirmed. Dropping one is not an option: an action result the engine never sees leaves
// its group waiting for that action for good (issue 14, finding 1). If quorum is lost instead, the role
// resigns or self-fences this node and release() hands what waited to that path: the next coordinator
// learns the truth by probing, and a waiting command is answered "no quorum".
import type { EngineEvent } from '../engine/index.js'
import type { Log } from '../log/logger.js'

interface Held<R> {
  ev: EngineEvent
  at: number
  settle?: (r: R | null) => void
}

export interface QuorumGateOptions<R> {
  /** Whether quorum is certain now (asking schedules a membership decision when it is not). */
  fresh: () => boolean
  /** Steps one event through the engine. */
  step: (ev: EngineEvent) => R
  log: Log
  /** How often quorum is asked again while events wait (ms). */
  retryMs?: number
}

export class QuorumGate<R> {
  private held: Array<Held<R>> = []
  private timer: NodeJS.Timeout | undefined
  private since = 0

  constructor(private readonly o: QuorumGateOptions<R>) {}

  /** Events waiting now. */
  get waiting(): number {
    return this.held.length
  }

  /** Steps the event now when quorum is certain and nothing waits before it; otherwise it waits (null).
   *  `settle` is called with the step's result once it is stepped, or with null if it is released. */
  submit(ev: EngineEvent, settle?: (r: R | null) => void): R | null {
    if (!this.held.length && this.o.fresh()) {
      const r = this.o.step(ev)
      settle?.(r)
      return r
    }
    // Ticks only mark time: one waiting is enough.
    if (ev.type === 'tick' && this.held.at(-1)?.ev.type === 'tick' && !settle) return null
    if (!this.held.length) {
      this.since = Date.now()
      this.o.log.log(
        'warn',
        `engine events held while quorum is re-checked (membership being re-decided); they are applied in order once it is confirmed`,
        { event: ev.type },
      )
    }
    this.held.push({ ev, at: Date.now(), ...(settle ? { settle } : {}) })
    this.arm()
    return null
  }

  /** Steps what waits, in order, for as long as quorum is certain. */
  drain(): void {
    if (!this.held.length) return
    const n = this.held.length
    while (this.held.length) {
      if (!this.o.fresh()) {
        this.arm()
        return
      }
      const h = this.held.shift()!
      const r = this.o.step(h.ev)
      h.settle?.(r)
    }
    clearTimeout(this.timer)
    this.timer = undefined
    this.o.log.log('info', `quorum confirmed: ${n} held engine event(s) applied in order after ${Date.now() - this.since} ms`)
  }

  /** Quorum was lost (or this node resigned): nothing waiting is stepped here. Logged, never silent. */
  release(why: string): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (!this.held.length) return
    const held = this.held
    this.held = []
    const kinds: Record<string, number> = {}
    for (const h of held) kinds[h.ev.type] = (kinds[h.ev.type] ?? 0) + 1
    this.o.log.log(
      'warn',
      `${held.length} held engine event(s) not applied here: ${why}; the next coordinator probes every node to learn what they reported`,
      { events: kinds },
    )
    for (const h of held) h.settle?.(null)
  }

  private arm(): void {
    if (this.timer) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.drain()
    }, this.o.retryMs ?? 50)
    this.timer.unref()
  }
}
