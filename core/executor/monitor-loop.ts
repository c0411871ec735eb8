// The monitor loop: one timer for all resources. It ticks on a grid (100 ms by default) and starts
// every monitor that is due; each resource gets a random phase within its interval (jitter), so the
// load spreads over the interval while the monitors due in one tick enter their sandbox as one batch
// (a timer and a thread hop per monitor would cost more than the monitors themselves).
export interface MonitorEntry {
  intervalMs: number
  due: number
  running: boolean
}

export class MonitorLoop {
  private readonly entries = new Map<string, MonitorEntry>()
  private timer: NodeJS.Timeout | undefined
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
  }

  triggerAll(): void {
    const n = this.now()
    for (const e of this.entries.values()) e.due = n
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

  /** The timer runs only while there is something to monitor (an idle agent wakes for nothing). */
  private arm(): void {
    const want = this.started && this.entries.size > 0
    if (want && !this.timer) {
      this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 100)
      this.timer.unref()
    } else if (!want && this.timer) {
      clearInterval(this.timer)
      this.timer = undefined
    }
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
        })
    }
    return started
  }
}
