// An agent's seat of a floating license (manual 5.4): asked for at start, renewed every third of the
// lease's term, given back when the agent stops. When the server cannot be reached a running agent keeps
// its seat until the lease ends (then limited mode); a restarted one has none until the server answers.
// What it holds is written to <stateDir>/license-lease.json for the node's license state (state.ts).
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { loadClusterKey } from '../cluster/cluster-key.js'
import { isMccsError } from '../errors.js'
import { leaseRequest, LICENSE_SERVER_KEY_FILE, type LeaseAnswer } from './lease-protocol.js'
import { clearLease, writeLease } from './lease-file.js'
import type { Lease } from './state.js'

export interface LeaseClientOptions {
  server: string
  holder: string
  configDir: string
  stateDir: string
  log: { log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void }
  now: () => number
  /** Called after each change of what is held. */
  changed: () => void
  /** How often to ask when no seat is held (and the longest between renewals). */
  retryMs?: number
  timeoutMs?: number
}

export class LeaseClient {
  readonly server: string
  private lease: Lease | undefined
  private id: string | null = null
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  private holder = ''
  /** When the held lease ends, on the monotonic clock (ms). */
  private monoUntil = 0

  constructor(private readonly o: LeaseClientOptions) {
    this.server = o.server
  }

  start(): void {
    // node@host/install: two installations with one node name on one host are two holders.
    void installId(this.o.stateDir)
      .then((id) => {
        this.holder = `${this.o.holder}@${os.hostname()}/${id}`
        return this.round()
      })
      .catch((e: Error) => {
        // No id (a state folder that cannot be written): no seat, said as the reason, asked again later.
        this.set({ held: false, code: 'MCCS_ERR_LICENSE_SERVER', reason: `cannot ask ${this.server} for a seat: ${e.message}` })
        if (!this.stopped) {
          this.timer = setTimeout(() => this.start(), this.o.retryMs ?? 10_000)
          this.timer.unref()
        }
      })
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      void this.round()
    }, ms)
    this.timer.unref()
  }

  private async round(): Promise<void> {
    const retry = this.o.retryMs ?? 10_000
    const sent = this.o.now()
    const sentMono = mono()
    let a: LeaseAnswer
    const keyFile = path.join(this.o.configDir, LICENSE_SERVER_KEY_FILE)
    let key: Buffer
    try {
      key = await loadClusterKey(keyFile)
    } catch (e) {
      // Not a server problem: this node lacks the server's key (or it is readable by others).
      this.id = null
      this.set({
        held: false,
        code: 'MCCS_ERR_LICENSE_SERVER',
        reason: `cannot ask ${this.server} for a seat: ${isMccsError(e) ? e.message.replace(/^MCCS_ERR_\w+: /, '') : `${keyFile}: ${(e as Error).message}`} (copy the license server's key there, mode 0600)`,
      })
      this.schedule(retry)
      return
    }
    try {
      a = await leaseRequest(
        this.server,
        key,
        this.id ? { t: 'renew', holder: this.holder, lease: this.id } : { t: 'acquire', holder: this.holder },
        this.o.timeoutMs ?? 3000,
      )
    } catch (e) {
      const msg = isMccsError(e) ? e.message.replace(/^MCCS_ERR_\w+: /, '') : (e as Error).message
      const held = this.lease?.held === true && this.monoUntil > mono() ? this.lease : null
      // Keep the seat for the rest of its term; after that, or without one, the node is limited.
      this.set(
        held
          ? { ...held, lastError: msg }
          : {
              held: false,
              code: 'MCCS_ERR_LICENSE_SERVER',
              // An answer that is not one (checkAnswer) came from a server that was reached.
              reason: / answered /.test(msg)
                ? `license server ${this.server}: ${msg}`
                : `license server ${this.server} cannot be reached: ${msg}`,
            },
      )
      if (!held) this.id = null
      this.schedule(held ? Math.min(retry, Math.max(200, this.monoUntil - mono())) : retry)
      return
    }
    if (this.stopped) return
    if (!a.ok) {
      this.id = null
      this.set({ held: false, code: a.code, reason: `license server ${this.server}: ${a.message}` })
      // Asked again every half renewal period: a seat given back is taken within one period.
      this.schedule(a.termMs ? Math.max(100, Math.min(retry, a.termMs / 6)) : retry)
      return
    }
    if (this.id !== a.lease)
      this.o.log.log('info', `floating license: seat taken on ${this.server} (${a.used}/${a.seats} in use)`, { server: this.server })
    this.id = a.lease
    this.monoUntil = sentMono + a.termMs
    this.set({ held: true, until: sent + a.termMs, server: this.server })
    this.schedule(Math.max(100, Math.min(retry, a.termMs / 3)))
  }

  /** What is held now (undefined: not asked yet). A seat's end is counted on the monotonic clock: a
   *  wall clock set back (or forward) during a server outage neither lengthens nor shortens the lease. */
  current(): Lease | undefined {
    const l = this.lease
    return l?.held ? { ...l, until: this.o.now() + (this.monoUntil - mono()) } : l
  }

  private set(l: Lease): void {
    const before = JSON.stringify(this.lease)
    this.lease = l
    if (JSON.stringify(l) === before || this.stopped) return
    void writeLease(this.o.stateDir, l).then(
      () => this.o.changed(),
      () => {},
    )
  }

  /** Gives the seat back (best effort: an unreachable server frees it when the lease ends). */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    const id = this.id
    this.id = null
    if (id) {
      try {
        const key = await loadClusterKey(path.join(this.o.configDir, LICENSE_SERVER_KEY_FILE))
        await leaseRequest(this.server, key, { t: 'release', holder: this.holder, lease: id }, 2000)
      } catch {
        /* the lease ends by itself */
      }
    }
    await clearLease(this.o.stateDir).catch(() => {})
  }
}

const mono = (): number => performance.now()

/** This installation's id (<stateDir>/license-holder-id, made once). */
async function installId(stateDir: string): Promise<string> {
  const file = path.join(stateDir, 'license-holder-id')
  try {
    const id = (await readFile(file, 'utf8')).trim()
    if (/^[0-9a-f]{8}$/.test(id)) return id
  } catch {
    /* made below */
  }
  const id = randomBytes(4).toString('hex')
  await mkdir(stateDir, { recursive: true })
  await writeFile(file, id + '\n')
  return id
}
