// The agent's licensing in one piece: this node's LicenseWatch and the LicenseBook of every node, so that
// the agent wires it with a few lines (start, stop, the engine's `limited` input, the status).
import type { Bootstrap } from '../config/bootstrap.js'
import { LicenseBook, type BookEntry } from './cluster-book.js'
import { LicenseWatch, type LicenseWatchOptions } from './watch.js'
import type { LicenseView } from './store.js'
import type { Said } from '../i18n/messages.js'

export interface AgentLicensesOptions {
  bootstrap: Bootstrap
  log: LicenseWatchOptions['log']
  oplog?: LicenseWatchOptions['oplog']
  /** Other members this node can reach now. */
  peers: () => string[]
  /** Another node's license view (over the peer channel). */
  fetch: (node: string) => Promise<LicenseView>
  /** The nodes in limited mode changed. */
  changed: () => void
  now?: () => number
  intervalMs?: number
}

export class AgentLicenses {
  readonly watch: LicenseWatch
  private readonly book: LicenseBook

  constructor(o: AgentLicensesOptions) {
    this.watch = new LicenseWatch({
      bootstrap: o.bootstrap,
      log: o.log,
      ...(o.oplog ? { oplog: o.oplog } : {}),
      ...(o.now ? { now: o.now } : {}),
      ...(o.intervalMs ? { intervalMs: o.intervalMs } : {}),
      onChange: () => this.book.update(),
    })
    this.book = new LicenseBook({
      self: o.bootstrap.nodeName,
      own: () => this.watch.current(),
      peers: o.peers,
      fetch: o.fetch,
      changed: () => o.changed(),
      ...(o.intervalMs ? { intervalMs: o.intervalMs } : {}),
    })
  }

  async start(): Promise<void> {
    await this.watch.start()
    this.book.start()
  }

  async stop(): Promise<void> {
    this.book.stop()
    await this.watch.stop()
  }

  /** EngineInput.limited: nodes in limited mode and why. */
  limited(): Readonly<Record<string, string>> {
    return this.book.limited()
  }

  /** EngineInput.limitedSaid: the same reasons in words. */
  limitedSaid(): Readonly<Record<string, Said>> {
    return this.book.limitedSaid()
  }

  /** Fetches the license of those of `nodes` not heard from yet, for at most `ms` (LicenseBook.learn). */
  learn(nodes: string[], ms: number): Promise<void> {
    return this.book.learn(nodes, ms)
  }

  /** The status' `licenses`: every node's license as known here. */
  all(): Record<string, BookEntry> {
    return this.book.all()
  }
}
