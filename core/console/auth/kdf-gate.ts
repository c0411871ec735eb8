// Bounds the password hashing the console does at once. scrypt runs in libuv's thread pool (4 threads),
// which the agent's file I/O shares: 500 logins with random names once queued 500 hashes there and an
// operator's command (an fsynced operation-log line) waited 41 s behind them. Here at most `maxActive`
// hashes run and `maxWaiting` wait; a login beyond that is refused at once (503, retry in a second).
// Known and unknown user names take the same path (an unknown one is checked against a dummy hash), so
// being turned away says nothing about which names exist.
import { MccsError } from '../../errors.js'

export class KdfGate {
  private active = 0
  private readonly waiting: Array<() => void> = []
  constructor(
    readonly maxActive = 1,
    readonly maxWaiting = 8,
  ) {}

  /** Runs `f` in turn; refuses with MCCS_ERR_BUSY when the queue is full (logins). */
  tryRun<T>(f: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxActive && this.waiting.length >= this.maxWaiting) {
      return Promise.reject(new MccsError('MCCS_ERR_BUSY', 'too many logins are being checked right now; try again in a second'))
    }
    return this.run(f)
  }

  /** Runs `f` in turn, however long the queue (an authenticated password change, the first start). */
  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxActive) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.active++
    try {
      return await f()
    } finally {
      const next = this.waiting.shift()
      if (next)
        next() // the slot passes on; `active` stays the same
      else this.active--
    }
  }

  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length }
  }
}
