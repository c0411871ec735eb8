// The console's HTTPS listeners. While an account still has the shipped default password (mcuser/mccs,
// known to everyone who read the manual) the console listens on loopback only, whatever MCCS_CONSOLE_LISTEN
// says: the first login and the password change happen on the node itself (or through an SSH tunnel to
// it). Once no default password is left, it listens on every configured address (widen()).
// TLS: 1.2 and 1.3, forward-secret (ECDHE) AEAD suites only — no CBC, no SHA-1, no static RSA.
import https from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isLoopback } from './auth/rate-limit.js'
import type { ConsoleTls } from './tls-cert.js'
import { ConnectionGate, GATE_DEFAULTS, type GateLimits } from './conn-gate.js'

export const CONSOLE_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':')

/** The addresses to listen on while a default password is left: the loopback ones given, a wildcard as
 *  127.0.0.1, and 127.0.0.1 when none of the given ones is loopback (the password must be changeable). */
export function loopbackOnly(listen: string[]): string[] {
  const out = new Set<string>()
  for (const a of listen) {
    if (isLoopback(a)) out.add(a)
    else if (a === '0.0.0.0' || a === '::') out.add('127.0.0.1')
  }
  if (out.size === 0) out.add('127.0.0.1')
  return [...out]
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void

export class ConsoleListeners {
  private servers: https.Server[] = []
  /** Servers no longer accepting, whose open connections (the operator's browser) are still served. */
  private retired: https.Server[] = []
  readonly addresses: Array<{ address: string; port: number }> = []
  private port: number
  /** Whether the configured addresses are in use (not the loopback-only start). */
  wide = false

  /** One gate for every listener: the limits are the console's, whichever address is reached. */
  readonly gate: ConnectionGate
  private readonly limits: GateLimits

  constructor(
    private readonly tls: ConsoleTls,
    private readonly handler: Handler,
    private readonly listen: string[],
    port: number,
    limits: GateLimits = GATE_DEFAULTS,
  ) {
    this.port = port
    this.limits = limits
    this.gate = new ConnectionGate(limits)
  }

  /** Listens on loopback only (`restricted`) or on every configured address. */
  async start(restricted: boolean): Promise<void> {
    const first = restricted ? loopbackOnly(this.listen) : this.listen
    await this.bind(first)
    this.wide = !restricted || (first.length === this.listen.length && first.every((a) => this.listen.includes(a)))
  }

  /** From loopback only to every configured address (the default password was changed). Listening sockets
   *  are swapped (a wildcard cannot be bound beside 127.0.0.1 on the same port); open connections go on. */
  async widen(): Promise<void> {
    if (this.wide) return
    this.wide = true
    const old = this.servers
    for (const s of old) s.close()
    this.retired.push(...old)
    this.servers = []
    this.addresses.length = 0
    try {
      await this.bind(this.listen)
    } catch (e) {
      // Rather a console on loopback than none: the error goes to the caller's log.
      for (const s of this.servers) s.close()
      this.servers = []
      this.addresses.length = 0
      this.wide = false
      await this.bind(loopbackOnly(this.listen))
      throw e
    }
  }

  private async bind(addresses: string[]): Promise<void> {
    for (const address of addresses) {
      // A handshake not finished in 10 s (default 120 s) or headers not sent in 10 s lose their slot.
      const server = https.createServer(
        {
          key: this.tls.key,
          cert: this.tls.cert,
          minVersion: 'TLSv1.2',
          ciphers: CONSOLE_CIPHERS,
          honorCipherOrder: true,
          handshakeTimeout: 10_000,
          headersTimeout: 10_000,
          requestTimeout: 60_000,
        },
        this.handler,
      )
      server.maxConnections = this.limits.maxOpen + 1 // the gate refuses first, with a count; this is the backstop
      this.gate.attach(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(this.port, address, () => {
          server.off('error', reject)
          resolve()
        })
      })
      this.servers.push(server)
      const a = server.address() as { address: string; port: number }
      this.port = a.port // a port of 0 (tests): every address on the one port the first got
      this.addresses.push({ address: a.address, port: a.port })
    }
  }

  async close(): Promise<void> {
    const all = [...this.servers, ...this.retired]
    for (const s of all) s.closeAllConnections()
    await Promise.all(
      all.map(
        (s) =>
          new Promise<void>((r) => {
            if (s.listening) s.close(() => r())
            else r()
          }),
      ),
    )
    this.servers = []
    this.retired = []
  }
}
