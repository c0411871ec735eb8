// This node's license as the running agent sees it, checked every few seconds: a license installed with
// `mccs license install` or the console (Renew License) takes effect without a restart, an expiry or a
// lost seat puts the node in limited mode when it happens, and the operator is told loudly — the log
// (error for limited mode, warn for a warning), the operation log (each change of mode), the status.
// Side effects of the 7-day rule (recording a successful verification of a full license) and of a
// floating license (holding a seat through the lease client) happen here; the judgement is state.ts's.
import type { Bootstrap } from '../config/bootstrap.js'
import { hostMacs, nodeLicenseState, toView, type LicenseView } from './store.js'
import { recordVerification } from './verify-record.js'
import { clearLease } from './lease-file.js'
import { LeaseClient } from './lease-client.js'
import type { License } from './format.js'
import type { Verification } from './state.js'
import { readVerification } from './verify-record.js'

/** A running agent re-records a full license's verification at most this often. */
const REFRESH_MS = 3600_000

export interface LicenseWatchOptions {
  bootstrap: Bootstrap
  log: { log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void }
  /** The manual operation log: each change of mode is an entry. */
  oplog?: {
    append(r: {
      user: string
      node: string
      command: string
      target?: string
      args?: Record<string, unknown>
      result: 'done' | 'failed'
      code?: string
      reason?: string
    }): Promise<void>
  }
  now?: () => number
  macs?: () => string[]
  intervalMs?: number
  /** The floating license client's renewal period (default: a third of the server's lease). */
  leaseClient?: Partial<ConstructorParameters<typeof LeaseClient>[0]>
  onChange?: (v: LicenseView) => void
}

export class LicenseWatch {
  private view: LicenseView
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | null = null
  private again = false
  private lease: LeaseClient | null = null
  private lastKey = ''
  private lastWarning = ''
  /** The full license this run has found valid (its signature). */
  private verifiedHere = ''
  private readonly now: () => number

  constructor(private readonly o: LicenseWatchOptions) {
    this.now = o.now ?? Date.now
    const node = o.bootstrap.nodeName
    this.view = {
      node,
      type: null,
      expires: null,
      hostId: null,
      valid: false,
      mode: 'limited',
      reason: 'not checked yet',
      said: { id: 'said.lic.notChecked' },
      daysLeft: null,
    }
  }

  current(): LicenseView {
    return this.view
  }

  /** A restarted agent holds no seat of a floating license until the server gives it one (manual 5.4). */
  async start(): Promise<void> {
    await clearLease(this.o.bootstrap.stateDir)
    await this.check()
    this.timer = setInterval(() => {
      void this.check()
    }, this.o.intervalMs ?? 5000)
    this.timer.unref()
  }

  /** Stops checking and gives the floating seat back (a node that leaves frees its seat at once). */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.running
    await this.lease?.stop()
    this.lease = null
  }

  /** Checks now. One check at a time: a call during a check waits for it and for one more, which sees
   *  what changed meanwhile (a license installed, a seat taken) — the running one may have read before. */
  check(): Promise<void> {
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = (async () => {
      do {
        this.again = false
        await this.evaluate().catch((e) => {
          this.o.log.log('error', `license check failed: ${(e as Error).message}`)
        })
      } while (this.again)
    })().finally(() => {
      this.running = null
    })
    return this.running
  }

  private async evaluate(): Promise<void> {
    const b = this.o.bootstrap
    const now = this.now()
    const macs = (this.o.macs ?? hostMacs)()
    let s = await nodeLicenseState(b, now, macs)
    const l = s.license
    if (l?.type === 'floating') {
      this.ensureLease(l)
      // The seat is what this agent's lease client holds; the lease file is for other readers (mccs
      // license show), and editing it must not give a seat.
      s = await nodeLicenseState(b, now, macs, { lease: this.lease!.current() })
    } else if (this.lease) {
      await this.lease.stop()
      this.lease = null
    }
    if (l?.type === 'nodelock') {
      // The 7-day rule is about restarts: a running agent verifies its full license at every check, so a
      // license it has held valid in this run stays valid through a clock step either way.
      const heldHere = this.verifiedHere === l.signature && s.code === 'MCCS_ERR_LICENSE_STALE'
      if (s.mode === 'valid' || heldHere) {
        // Recorded the first time on this node, then hourly (and after a clock step), so that a restart
        // within 7 days keeps it.
        const v: Verification = await readVerification(b.stateDir, b.nodeName, l)
        if (v === null || heldHere || ('at' in v && (now - v.at > REFRESH_MS || v.at > now))) {
          await recordVerification(b.stateDir, b.nodeName, l, now)
          // A first start is valid once recorded; a warning of an old record shows at start, then goes.
          if (v === null || heldHere) s = await nodeLicenseState(b, now, macs)
        }
      }
      this.verifiedHere = s.mode === 'valid' ? l.signature : this.verifiedHere
    }
    this.publish(toView(b.nodeName, s))
  }

  private ensureLease(l: License): void {
    if (this.lease?.server === l.server) return
    void this.lease?.stop()
    this.lease = new LeaseClient({
      server: l.server!,
      holder: this.o.bootstrap.nodeName,
      configDir: this.o.bootstrap.configDir,
      stateDir: this.o.bootstrap.stateDir,
      log: this.o.log,
      now: this.now,
      changed: () => {
        void this.check()
      },
      ...this.o.leaseClient,
    })
    this.lease.start()
  }

  private publish(v: LicenseView): void {
    this.view = v
    const key = JSON.stringify([v.mode, v.reason ?? '', v.type])
    const node = this.o.bootstrap.nodeName
    if (key !== this.lastKey) {
      const first = this.lastKey === ''
      this.lastKey = key
      if (v.mode === 'limited') {
        this.o.log.log('error', `LIMITED MODE on ${node}: no automatic failover or auto-start — ${v.reason}`, {
          node,
          code: v.code,
          license: v.type,
        })
      } else {
        this.o.log.log(
          'info',
          `license valid on ${node}: ${v.type}${v.expires ? `, expires ${v.expires} (${v.daysLeft} days left)` : ''}`,
          { node, license: v.type },
        )
      }
      if (!first || v.mode === 'limited') {
        void this.o.oplog
          ?.append({
            user: 'mccs agent',
            node,
            command: 'licenseMode',
            target: node,
            args: { mode: v.mode, type: v.type, daysLeft: v.daysLeft ?? null },
            result: v.mode === 'valid' ? 'done' : 'failed',
            ...(v.code ? { code: v.code } : {}),
            ...(v.reason ? { reason: v.reason } : {}),
          })
          .catch(() => {})
      }
    }
    if ((v.warning ?? '') !== this.lastWarning) {
      this.lastWarning = v.warning ?? ''
      if (v.warning) this.o.log.log('warn', `license warning on ${node}: ${v.warning}`, { node, license: v.type })
    }
    this.o.onChange?.(v)
  }
}
