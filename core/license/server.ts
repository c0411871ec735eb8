// The floating license server (`mccs license-server`, manual 5.4 "floating license": host, port, seat
// count). It holds a floating license signed by a trusted key; its `count` is the number of seats. An agent
// takes a seat for a lease term and renews it; a seat comes back when its holder gives it back (the agent
// stops) or its lease ends without a renewal (the node is gone). TLS-PSK with the license server key
// (lease-protocol.ts): without the key no request is even read.
import tls from 'node:tls'
import { randomBytes } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { MccsError } from '../errors.js'
import { parseLicense, type License } from './format.js'
import { licenseProblem } from './state.js'
import { MAX_LINE, PSK_CIPHERS, PSK_IDENTITY, type LeaseAnswer, type LeaseRequest } from './lease-protocol.js'
import { readLines } from '../line-reader.js'

export interface LicenseServerOptions {
  licenseText: string
  keys: KeyObject[]
  /** The license server key (32 bytes, the same in every node's config/license-server.key). */
  psk: Buffer
  host?: string
  port?: number
  /** How long a seat lasts without a renewal (default 30 s). */
  leaseMs?: number
  /** The wall clock: the license's issue and expiry dates. */
  now?: () => number
  /** The clock lease terms are counted on (default monotonic): a step of the wall clock neither ends nor
   *  lengthens a seat. */
  mono?: () => number
  log?: (msg: string, data?: Record<string, unknown>) => void
}

interface Seat {
  id: string
  until: number
}

export class LicenseServer {
  readonly license: License
  private readonly seats = new Map<string, Seat>()
  private server: tls.Server | undefined
  private readonly now: () => number
  private readonly mono: () => number
  private readonly leaseMs: number

  constructor(private readonly o: LicenseServerOptions) {
    this.license = parseLicense(o.licenseText)
    if (this.license.type !== 'floating')
      throw new MccsError('MCCS_ERR_LICENSE_TYPE', `a license server serves a floating license, not a ${this.license.type} one`, {
        field: '/type',
      })
    this.now = o.now ?? Date.now
    this.mono = o.mono ?? (() => performance.now())
    const p = licenseProblem(this.now(), this.license, { hostMacs: [], keys: o.keys })
    if (p && p.code !== 'MCCS_ERR_LICENSE_HOST') throw new MccsError(p.code, p.reason, { field: p.field })
    this.leaseMs = o.leaseMs ?? 30_000
    if (!Number.isInteger(this.leaseMs) || this.leaseMs < 500 || this.leaseMs > 3600_000)
      throw new MccsError('MCCS_ERR_INVALID', 'must be 500 ms .. 1 h', { field: 'leaseMs' })
    if (o.psk.length !== 32) throw new MccsError('MCCS_ERR_INVALID', 'must be 32 bytes', { field: 'psk' })
  }

  get count(): number {
    return this.license.count!
  }

  /** Holders with a live seat. */
  holders(): string[] {
    this.expire()
    return [...this.seats.keys()].sort()
  }

  async listen(): Promise<{ host: string; port: number }> {
    this.server = tls.createServer(
      {
        ciphers: PSK_CIPHERS,
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.2',
        pskIdentityHint: PSK_IDENTITY,
        pskCallback: (_sock, identity) => (identity === PSK_IDENTITY ? this.o.psk : null),
      },
      (sock) => {
        sock.setTimeout(5000, () => sock.destroy())
        sock.on('error', () => {})
        // One request per connection: the first line is answered, anything after it is ignored.
        const reader = readLines(sock, MAX_LINE, (line) => {
          reader.set(() => {})
          let ans: LeaseAnswer
          try {
            ans = this.handle(JSON.parse(line) as LeaseRequest)
          } catch {
            ans = { ok: false, code: 'MCCS_ERR_INVALID', message: 'not a license request' }
          }
          sock.end(JSON.stringify(ans) + '\n')
        })
      },
    )
    this.server.on('tlsClientError', () => {}) // a wrong key: the handshake fails, nothing else happens
    const host = this.o.host ?? '127.0.0.1'
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(this.o.port ?? 0, host, () => resolve())
    })
    const a = this.server.address() as { port: number }
    return { host, port: a.port }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.server) this.server.close(() => resolve())
      else resolve()
    })
  }

  private expire(): void {
    const now = this.mono()
    for (const [h, s] of this.seats) {
      if (s.until <= now) {
        this.seats.delete(h)
        this.o.log?.(`seat of ${h} returned: its lease ended without a renewal`, { holder: h })
      }
    }
  }

  /** One request (exported for tests of the seat rules without a socket). */
  handle(req: LeaseRequest): LeaseAnswer {
    if (!req || typeof req !== 'object' || typeof req.holder !== 'string' || !/^[\w.@:/-]{1,200}$/.test(req.holder)) {
      return { ok: false, code: 'MCCS_ERR_INVALID', message: 'holder: must be node@host/id' }
    }
    if ((req.t === 'renew' || req.t === 'release') && (typeof req.lease !== 'string' || !/^[\w-]{1,64}$/.test(req.lease)))
      return { ok: false, code: 'MCCS_ERR_INVALID', message: 'lease: must be a lease id (the one the seat was given with)' }
    this.expire()
    const now = this.now()
    const lic = this.license
    if (lic.expires && Date.parse(lic.expires) <= now)
      return { ok: false, code: 'MCCS_ERR_LICENSE_EXPIRED', message: `the floating license expired at ${lic.expires}` }
    const have = this.seats.get(req.holder)
    const granted = (s: Seat): LeaseAnswer => ({ ok: true, lease: s.id, termMs: this.leaseMs, seats: this.count, used: this.seats.size })
    switch (req.t) {
      case 'release':
        if (have && have.id === req.lease) {
          this.seats.delete(req.holder)
          this.o.log?.(`seat of ${req.holder} returned: released`, { holder: req.holder })
        }
        return { ok: true, lease: req.lease, termMs: 0, seats: this.count, used: this.seats.size }
      case 'renew':
      case 'acquire': {
        if (have) {
          // a renewal, or an agent asking again for the seat it holds
          have.until = this.mono() + this.leaseMs
          return granted(have)
        }
        if (this.seats.size >= this.count) {
          return {
            ok: false,
            code: 'MCCS_ERR_LICENSE_SEATS',
            termMs: this.leaseMs,
            message: `all ${this.count} seats are taken (by ${[...this.seats.keys()].sort().join(', ')}); a seat comes back when a node stops or its lease ends`,
          }
        }
        const s = { id: randomBytes(8).toString('hex'), until: this.mono() + this.leaseMs }
        this.seats.set(req.holder, s)
        this.o.log?.(`seat given to ${req.holder} (${this.seats.size}/${this.count})`, { holder: req.holder })
        return granted(s)
      }
      default:
        return { ok: false, code: 'MCCS_ERR_INVALID', message: 't: must be acquire, renew or release' }
    }
  }
}
