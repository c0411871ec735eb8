// Edge grace (issue 14, finding 6): an edge between two members of the installed view that one of them stops
// reporting counts as missing only once it has been missing for `graceMs` (pure: the clock is passed in).
//
// Why: a member whose agent paused for just under the dead time is declared down by a peer whose last packet
// from it was a heartbeat interval older, and heard again a moment later. For that moment the peer's view
// lacks the paused node; with three nodes the cliques {n1, n2} and {n2, n3} tie, the two that still hear each
// other agree in a few heartbeats, and the coordinator fences the healthy third. Corosync's totem does not
// reform the ring on one lost token either (token_retransmits_before_loss_const).
//
// Only edges reported by peers matter here: a peer this node no longer hears at all is out at once (no delay
// to failover after a node's loss), and an edge is held only between members of the view installed last.
// An edge that comes and goes keeps the time it first went missing until it has been present for the grace
// again, so a flapping edge is dropped after the grace, not held for ever.

export class EdgeGrace {
  /** "p>q" -> when p's view first stopped listing q. */
  private readonly missingSince = new Map<string, number>()
  /** "p>q" -> since when p's view lists q again (the missing time is forgotten after the grace). */
  private readonly backSince = new Map<string, number>()

  constructor(private graceMs: number) {}

  /** A new grace (the dead time changed live). */
  setGrace(ms: number): void {
    this.graceMs = ms
  }

  /**
   * The peers' views with each edge between two of `keep` that went missing less than the grace ago put
   * back. `views` is not changed; peers outside `keep` are passed through as they are.
   */
  apply<V extends { up?: readonly string[] }>(
    now: number,
    views: Readonly<Record<string, V | undefined>>,
    keep: readonly string[],
  ): Record<string, V | undefined> {
    const out: Record<string, V | undefined> = { ...views }
    const seen = new Set<string>()
    for (const p of keep) {
      const v = views[p]
      if (!v) continue
      const lists = new Set(v.up ?? [])
      const added: string[] = []
      for (const q of keep) {
        if (q === p) continue
        const k = `${p}>${q}`
        seen.add(k)
        const since = this.missingSince.get(k)
        if (lists.has(q)) {
          if (since === undefined) continue
          const back = this.backSince.get(k) ?? now
          this.backSince.set(k, back)
          if (now - back >= this.graceMs) {
            this.missingSince.delete(k)
            this.backSince.delete(k)
          }
          continue
        }
        this.backSince.delete(k)
        const from = since ?? now
        this.missingSince.set(k, from)
        if (now - from < this.graceMs) added.push(q)
      }
      if (added.length) out[p] = { ...v, up: [...(v.up ?? []), ...added].sort() }
    }
    // Edges of peers not heard now, or no longer both in the view, start afresh.
    for (const k of [...this.missingSince.keys()]) if (!seen.has(k)) this.missingSince.delete(k)
    for (const k of [...this.backSince.keys()]) if (!seen.has(k)) this.backSince.delete(k)
    return out
  }

  /** When the next held edge counts as missing (null: none held). */
  nextAt(now: number): number | null {
    let t: number | null = null
    for (const [k, since] of this.missingSince) {
      if (this.backSince.has(k)) continue
      const at = since + this.graceMs
      if (at > now && (t === null || at < t)) t = at
    }
    return t
  }
}
