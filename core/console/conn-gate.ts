// Admission of new TCP connections to the console, before the TLS handshake. A handshake costs the
// agent's event loop about a millisecond of public-key work; a flood of them would delay the heartbeat
// that shares the loop past the dead time. A connection over the rate is closed before its ClientHello
// is read, which costs almost nothing. Token buckets: one per client host (IPv4 address, IPv6 /64), one
// for the whole console; loopback is one host like any other.
import type net from 'node:net'
import { hostOf } from './auth/rate-limit.js'

export interface GateLimits {
  /** New connections per second per client host, and the burst allowed. */
  perHostRate: number
  perHostBurst: number
  /** New connections per second for the whole console, and the burst allowed. */
  globalRate: number
  globalBurst: number
  /** Open connections at most (a browser keeps a handful). */
  maxOpen: number
}

/** A browser opens about 6 connections; an operator's scripts a few per second. */
export const GATE_DEFAULTS: GateLimits = { perHostRate: 20, perHostBurst: 40, globalRate: 100, globalBurst: 200, maxOpen: 256 }

class Bucket {
  private tokens: number
  private at: number
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst
    this.at = now
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate)
    this.at = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
  full(now: number): boolean {
    return this.tokens + ((now - this.at) / 1000) * this.rate >= this.burst
  }
}

export class ConnectionGate {
  private readonly hosts = new Map<string, Bucket>()
  private readonly global: Bucket
  private open = 0
  /** Connections closed unserved, by reason (status and tests). */
  readonly refused = { host: 0, global: 0, open: 0 }

  constructor(
    private readonly l: GateLimits = GATE_DEFAULTS,
    private readonly now: () => number = Date.now,
  ) {
    this.global = new Bucket(l.globalRate, l.globalBurst, now())
  }

  /** Attach to a server: its 'connection' listener runs before any byte of the handshake is read. */
  attach(server: net.Server): void {
    server.on('connection', (sock: net.Socket) => {
      const why = this.admit(sock.remoteAddress ?? '')
      if (why) {
        this.refused[why]++
        sock.destroy()
        return
      }
      this.open++
      sock.once('close', () => {
        this.open--
      })
    })
  }

  /** null when admitted, else the limit that refused it. */
  admit(address: string): 'host' | 'global' | 'open' | null {
    const now = this.now()
    if (this.open >= this.l.maxOpen) return 'open'
    const key = hostOf(address)
    let b = this.hosts.get(key)
    if (!b) {
      if (this.hosts.size >= 10_000) this.sweep(now)
      b = new Bucket(this.l.perHostRate, this.l.perHostBurst, now)
      this.hosts.set(key, b)
    }
    if (!b.take(now)) return 'host'
    if (!this.global.take(now)) return 'global'
    return null
  }

  /** Forget hosts whose bucket refilled (they are like new ones). */
  private sweep(now: number): void {
    for (const [k, b] of this.hosts) if (b.full(now)) this.hosts.delete(k)
  }
}
