// Login limits, checked before any password is hashed. Failures (wrong password, unknown name) count in
// four windows of `windowMs`:
//   - per address and user name: `max` failures, then that pair waits until the oldest leaves the window;
//   - per address, any user name: `perAddress` (random names from one host);
//   - per user name, any address: `perAccount`, then the name is locked for `lockoutMs` (a temporary
//     lockout, logged by the caller, the right password refused meanwhile with the time it ends);
//   - all together: `global` failures, then every login is turned away until the rate drops.
// Addresses are counted as hosts: every loopback address is one ("this host"), an IPv6 address by its /64.
// From this host the per-account lockout and the global limit do not apply: an operator on the node (or
// through an SSH tunnel) can always log in; the per-address limits still do. Names are counted whether or
// not they are accounts, so the limits say nothing about which names exist. Kept in memory, bounded.
import { isIPv4, isIPv6 } from 'node:net'

export interface RateLimitOptions {
  max: number
  windowMs: number
  perAddress: number
  perAccount: number
  lockoutMs: number
  global: number
  now?: () => number
}

export type LoginRefusal = { kind: 'pair' | 'address' | 'global'; waitS: number } | { kind: 'locked'; waitS: number; until: number }

/** What a failure set off: the name's lockout starting now. */
export interface FailureEffect {
  lockedUntil?: number
}

/** Entries kept per map before expired ones are swept (a flood of names cannot grow memory without end). */
const SWEEP_AT = 10_000

export function isLoopback(ip: string): boolean {
  const a = ip.startsWith('::ffff:') ? ip.slice(7) : ip
  return (isIPv4(a) && a.startsWith('127.')) || a === '::1'
}

/** The host an address counts as. */
export function hostOf(ip: string): string {
  if (isLoopback(ip)) return 'loopback'
  if (ip.startsWith('::ffff:') && isIPv4(ip.slice(7))) return ip.slice(7)
  if (isIPv6(ip)) return expand6(ip).slice(0, 4).join(':') + '::/64'
  return ip
}

function expand6(ip: string): string[] {
  const [head, tail] = ip.split('::') as [string, string | undefined]
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0')
  return [...h, ...fill, ...t].map((x) => x.toLowerCase())
}

class Window {
  private readonly hits = new Map<string, number[]>()
  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  recent(key: string): number[] {
    const since = this.now() - this.windowMs
    const list = (this.hits.get(key) ?? []).filter((t) => t > since)
    if (list.length) this.hits.set(key, list)
    else this.hits.delete(key)
    return list
  }

  /** Seconds until fewer than `max` hits are in the window, or 0. */
  waitS(key: string, max: number): number {
    const list = this.recent(key)
    if (list.length < max) return 0
    const oldest = list[list.length - max]!
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000))
  }

  add(key: string, keep: number): number {
    const list = this.recent(key)
    list.push(this.now())
    this.hits.set(key, list.slice(-keep))
    if (this.hits.size > SWEEP_AT) for (const k of [...this.hits.keys()]) this.recent(k)
    return list.length
  }

  clear(key: string): void {
    this.hits.delete(key)
  }
}

export class LoginRateLimit {
  private readonly now: () => number
  private readonly pairs: Window
  private readonly hosts: Window
  private readonly names: Window
  private readonly all: Window
  private readonly locks = new Map<string, number>()

  constructor(private readonly o: RateLimitOptions) {
    this.now = o.now ?? Date.now
    this.pairs = new Window(o.windowMs, this.now)
    this.hosts = new Window(o.windowMs, this.now)
    this.names = new Window(o.windowMs, this.now)
    this.all = new Window(o.windowMs, this.now)
  }

  private static name(user: string): string {
    return user.normalize('NFC').toLowerCase()
  }

  /** Why a login (or a password check) must be refused now without looking at the password, or null. */
  check(user: string, ip: string): LoginRefusal | null {
    const host = hostOf(ip)
    const name = LoginRateLimit.name(user)
    const local = host === 'loopback'
    if (!local) {
      const until = this.locks.get(name)
      if (until !== undefined) {
        if (until > this.now()) return { kind: 'locked', until, waitS: Math.ceil((until - this.now()) / 1000) }
        this.locks.delete(name)
      }
      const g = this.all.waitS('', this.o.global)
      if (g) return { kind: 'global', waitS: g }
    }
    const a = this.hosts.waitS(host, this.o.perAddress)
    if (a) return { kind: 'address', waitS: a }
    const p = this.pairs.waitS(`${host}\0${name}`, this.o.max)
    if (p) return { kind: 'pair', waitS: p }
    return null
  }

  fail(user: string, ip: string): FailureEffect {
    const host = hostOf(ip)
    const name = LoginRateLimit.name(user)
    this.pairs.add(`${host}\0${name}`, this.o.max)
    this.hosts.add(host, this.o.perAddress)
    this.all.add('', this.o.global)
    const n = this.names.add(name, this.o.perAccount)
    if (n >= this.o.perAccount && !((this.locks.get(name) ?? 0) > this.now())) {
      const until = this.now() + this.o.lockoutMs
      this.locks.set(name, until)
      this.names.clear(name) // counting starts again after the lockout
      if (this.locks.size > SWEEP_AT) for (const [k, u] of this.locks) if (u <= this.now()) this.locks.delete(k)
      return { lockedUntil: until }
    }
    return {}
  }

  /** A successful login clears its own pair only: failures from elsewhere keep counting. */
  succeed(user: string, ip: string): void {
    this.pairs.clear(`${hostOf(ip)}\0${LoginRateLimit.name(user)}`)
  }
}
