// The monitor loop: one timer for all resources. It ticks (100 ms by default) and starts every monitor
// that is due; each resource gets a random phase within its interval (jitter), so the load spreads over
// the interval while the monitors due in one tick enter their sandbox as one batch (a timer and a thread
// hop per monitor would cost more than the monitors themselves). The timer is armed for the next monitor
// due, not every tick: an agent with one resource monitored every 2 s woke 10 times a second for it, half
// the main thread's wakeups when idle (issue 19).
export interface MonitorEntry {
  intervalMs: number
  due: number
  running: boolean
}

export class MonitorLoop {
  private readonly entries = new Map<string, MonitorEntry>()
  private timer: NodeJS.Timeout | undefined
  /** When the armed timer fires (the clock of `now`). */
  private timerAt = Infinity
  private started = false

  constructor(
    private readonly opts: {
      /** Starts one monitor; the loop does not start another for the key until it settles. */
      run: (key: string) => Promise<unknown>
      tickMs?: number
      now?: () => number
      random?: () => number
    },
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)()
  }

  /** Adds or re-times a resource's monitor. A new entry starts at a random phase of its interval. */
  set(key: string, intervalMs: number): void {
    const cur = this.entries.get(key)
    if (cur) {
      // Re-timed in place: its monitor may be running (its result can re-time it before it settles), and
      // only this same entry's flag is cleared when it does — a copy would stay 'running' for good.
      cur.due = Math.min(cur.due, this.now() + intervalMs)
      cur.intervalMs = intervalMs
      this.arm()
      return
    }
    const phase = Math.floor((this.opts.random ?? Math.random)() * intervalMs)
    this.entries.set(key, { intervalMs, due: this.now() + phase, running: false })
    this.arm()
  }

  remove(key: string): void {
    this.entries.delete(key)
    this.arm()
  }

  /** Runs a monitor at the next tick (manual probe, "monitor all"). */
  trigger(key: string): void {
    const e = this.entries.get(key)
    if (e) e.due = this.now()
    this.arm()
  }

  triggerAll(): void {
    const n = this.now()
    for (const e of this.entries.values()) e.due = n
    this.arm()
  }

  size(): number {
    return this.entries.size
  }

  start(): void {
    this.started = true
    this.arm()
  }

  stop(): void {
    this.started = false
    this.arm()
  }

  /** Arms the timer for the next tick that has a monitor to start: at the first due time of a monitor not
   *  running, rounded up to whole ticks (one tick at least: what is due now runs at the next tick, as the
   *  monitors due meanwhile, in one batch). A running monitor re-arms it when it settles. */
  private arm(): void {
    let next = Infinity
    if (this.started) for (const e of this.entries.values()) if (!e.running && e.due < next) next = e.due
    if (next === Infinity) {
      if (this.timer) clearTimeout(this.timer)
      this.timer = undefined
      this.timerAt = Infinity
      return
    }
    const tickMs = this.opts.tickMs ?? 100
    const n = this.now()
    const at = n + Math.max(tickMs, Math.ceil((next - n) / tickMs) * tickMs)
    // An armed timer that fires no later than needed stays (it re-arms when it fires).
    if (this.timer && this.timerAt <= at) return
    if (this.timer) clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.timerAt = Infinity
      this.tick()
      this.arm()
    }, at - n)
    this.timer.unref()
  }

  /** One tick: start everything due. Exposed for tests. */
  tick(): number {
    const n = this.now()
    let started = 0
    for (const [key, e] of this.entries) {
      if (e.running || e.due > n) continue
      e.running = true
      // Keep the resource's phase; if the loop fell behind, start counting again from now.
      e.due = e.due + e.intervalMs > n ? e.due + e.intervalMs : n + e.intervalMs
      started++
      this.opts
        .run(key)
        .catch(() => {})
        .finally(() => {
          e.running = false
          // Its next run is armed now (it was left out while it ran), unless the entry is gone.
          if (this.entries.get(key) === e) this.arm()
        })
    }
    return started
  }
}
