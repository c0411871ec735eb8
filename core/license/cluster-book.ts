// Every node's license state as this agent knows it: its own from its LicenseWatch, the other members'
// asked over the peer channel every few seconds (their `licenseView` answer). The coordinator's engine
// takes `limited()` as an input (EngineInput.limited): a node in limited mode takes part in no automatic
// failover or auto-start. A node never heard from is not listed, hence not limited: licensing never
// blocks a failover on a guess; a lost node keeps the state last heard from it.
import type { LicenseView } from './store.js'
import type { Said } from '../i18n/messages.js'

export interface LicenseBookOptions {
  self: string
  /** This node's license, current. */
  own: () => LicenseView
  /** Other nodes to ask now (members this node can reach). */
  peers: () => string[]
  fetch: (node: string) => Promise<LicenseView>
  /** `limited()` changed. */
  changed: (limited: Readonly<Record<string, string>>) => void
  intervalMs?: number
}

export type BookEntry = LicenseView & { checkedAt: string }

export class LicenseBook {
  private readonly views = new Map<string, BookEntry>()
  private limitedMap: Readonly<Record<string, string>> = {}
  private limitedWords: Readonly<Record<string, Said>> = {}
  private timer: NodeJS.Timeout | undefined
  private polling = false

  constructor(private readonly o: LicenseBookOptions) {}

  start(): void {
    this.update()
    // Every second, ask the peers not heard from yet (a node that just came into view: its state must be
    // known before it is lost) and those last heard from more than `intervalMs` ago.
    this.timer = setInterval(
      () => {
        this.poll(false).catch(() => {})
      },
      Math.min(1000, this.o.intervalMs ?? 5000),
    )
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** What the status shows: every node heard of, by name. */
  all(): Record<string, BookEntry> {
    this.views.set(this.o.self, { ...this.o.own(), checkedAt: new Date().toISOString() })
    return Object.fromEntries([...this.views].sort(([a], [b]) => a.localeCompare(b)))
  }

  /** Nodes in limited mode and why (the same object while nothing changes). */
  limited(): Readonly<Record<string, string>> {
    return this.limitedMap
  }

  /** The reasons of limited() in words, where the node's license state gave them (EngineInput.limitedSaid). */
  limitedSaid(): Readonly<Record<string, Said>> {
    return this.limitedWords
  }

  /** This node's own view changed (its LicenseWatch), or a peer answered. */
  update(): void {
    this.views.set(this.o.self, { ...this.o.own(), checkedAt: new Date().toISOString() })
    const next: Record<string, string> = {}
    const words: Record<string, Said> = {}
    for (const [n, v] of this.views)
      if (v.mode === 'limited' || (v.mode === undefined && !v.valid)) {
        next[n] = v.reason ?? 'no valid license'
        if (v.reason && v.said) words[n] = v.said
      }
    if (JSON.stringify([next, words]) === JSON.stringify([this.limitedMap, this.limitedWords])) return
    this.limitedMap = next
    this.limitedWords = words
    this.o.changed(next)
  }

  /**
   * Asks `nodes` not heard from yet for their license, waiting at most `ms`: a new coordinator does this
   * before its engine starts, as a node never heard from counts as licensed and an unlicensed cluster's
   * auto-start group was started on a peer whose state the book had not fetched yet (a race with the poll
   * every second: test/license/boot-limited.test.ts). One that does not answer in time keeps that default.
   */
  async learn(nodes: string[], ms: number): Promise<void> {
    const ask = nodes.filter((n) => n !== this.o.self && !this.views.has(n))
    if (!ask.length) return
    let timer: NodeJS.Timeout | undefined
    const fetched = Promise.all(
      ask.map(async (n) => {
        try {
          const v = await this.o.fetch(n)
          if (v && typeof v === 'object' && typeof v.valid === 'boolean' && !this.views.has(n))
            this.views.set(n, { ...v, node: n, checkedAt: new Date().toISOString() })
        } catch {
          /* unreachable: licensed by default, asked again by the poll */
        }
      }),
    )
    await Promise.race([fetched, new Promise<void>((r) => (timer = setTimeout(r, ms)))])
    clearTimeout(timer)
    this.update()
  }

  /** Asks the reachable peers for their license now (all of them, or those due). */
  async poll(all = true): Promise<void> {
    if (this.polling) return
    this.polling = true
    const due = Date.now() - (this.o.intervalMs ?? 5000)
    try {
      await Promise.all(
        this.o
          .peers()
          .filter((n) => n !== this.o.self && (all || !this.views.has(n) || Date.parse(this.views.get(n)!.checkedAt) <= due))
          .map(async (n) => {
            try {
              const v = await this.o.fetch(n)
              if (v && typeof v === 'object' && typeof v.valid === 'boolean')
                this.views.set(n, { ...v, node: n, checkedAt: new Date().toISOString() })
            } catch {
              /* unreachable: the last state heard stands */
            }
          }),
      )
      this.update()
    } finally {
      this.polling = false
    }
  }
}
