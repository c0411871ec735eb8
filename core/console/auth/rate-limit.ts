// Login rate limit: after `max` failures for one user name from one address within `windowMs`, further
// attempts are refused (even with the right password) until the oldest failure leaves the window.
// Kept in memory: an agent restart forgets it, which costs an attacker a restart per 5 guesses.

export interface RateLimitOptions { max: number; windowMs: number; now?: () => number }

export class LoginRateLimit {
  private readonly failures = new Map<string, number[]>()
  private readonly now: () => number
  constructor(private readonly o: RateLimitOptions) { this.now = o.now ?? Date.now }

  private key(user: string, ip: string): string { return `${ip}\0${user.toLowerCase()}` }

  private recent(key: string): number[] {
    const since = this.now() - this.o.windowMs
    const list = (this.failures.get(key) ?? []).filter((t) => t > since)
    if (list.length) this.failures.set(key, list)
    else this.failures.delete(key)
    return list
  }

  /** Seconds to wait before another attempt is allowed, or 0. */
  retryAfterS(user: string, ip: string): number {
    const list = this.recent(this.key(user, ip))
    if (list.length < this.o.max) return 0
    const oldest = list[list.length - this.o.max]!
    return Math.max(1, Math.ceil((oldest + this.o.windowMs - this.now()) / 1000))
  }

  fail(user: string, ip: string): void {
    const key = this.key(user, ip)
    const list = this.recent(key)
    list.push(this.now())
    this.failures.set(key, list.slice(-this.o.max))
    if (this.failures.size > 10_000) this.prune()
  }

  succeed(user: string, ip: string): void { this.failures.delete(this.key(user, ip)) }

  private prune(): void { for (const k of [...this.failures.keys()]) this.recent(k) }
}
