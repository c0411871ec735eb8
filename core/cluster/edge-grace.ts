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
//
// A pending edge (random-fault seeds 6 and 15): a peer p that hears q again but holds it out for its
// readmission hold (readmission.ts: twice the dead time after a first loss) says so in its heartbeat
// (`ext.hd`). Seed 6: n1 resumed from a pause longer than the quick-return window; cutting the edge n2>n1
// after the plain grace made it install a view alone and, as the active node of a two-node cluster, fence the
// healthy n2, which was only waiting for its hold to end. Seed 15: n2 and n3 held each other after a loss on
// n2; the resumed coordinator n1 saw no edge between them, chose {n1, n2} and fenced the healthy n3. Such an
// edge is held for `pendingMs` more (the longest readmission hold): both ends are alive and will count each
// other. Meanwhile the members propose different views, none is installed, nothing is decided, and what runs
// runs on; a peer that is really lost stops being heard and its edges end with the plain grace.
//
// Pending edges count on a node without an installed view too (graceKeep): thirteenth session's random-fault
// runs 1 and 19, three nodes: a freshly restarted n1 (coordinator by name, no view yet) heard n2 and n3
// holding each other out after n2's links came back, saw no edge between them, chose {n1, n2} and fenced the
// healthy n3. Only the edges' ends are added then, not the whole cluster: an edge never seen is not graced.

/** The nodes whose edges are graced: the members of the view installed here, and both ends of every edge a
 *  peer reports pending (also with no installed view: a node that just started). */
export function graceKeep(incumbent: readonly string[] | undefined, pending: ReadonlySet<string>): string[] {
  const keep = new Set(incumbent ?? [])
  for (const k of pending) for (const n of k.split('>')) keep.add(n)
  return [...keep]
}

export class EdgeGrace {
  /** "p>q" -> when p's view first stopped listing q. */
  private readonly missingSince = new Map<string, number>()
  /** "p>q" -> since when p's view lists q again (the missing time is forgotten after the grace). */
  private readonly backSince = new Map<string, number>()
  /** "p>q" -> when the edge counts as missing, for the edges held now. */
  private readonly deadline = new Map<string, number>()

  constructor(
    private graceMs: number,
    private pendingMs = 0,
  ) {}

  /** A new grace and pending time (the dead time changed live). */
  setGrace(ms: number, pendingMs = this.pendingMs): void {
    this.graceMs = ms
    this.pendingMs = pendingMs
  }

  /**
   * The peers' views with each edge between two of `keep` that went missing less than the grace ago put
   * back. `views` is not changed; peers outside `keep` are passed through as they are. `pending`: the edges
   * ("p>q") whose peer p reports hearing q while it holds q out; they get `pendingMs` more.
   */
  apply<V extends { up?: readonly string[] }>(
    now: number,
    views: Readonly<Record<string, V | undefined>>,
    keep: readonly string[],
    pending: ReadonlySet<string> = new Set(),
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
        // Once reported pending in this missing spell, the longer wait stays (a peer that hears q only now and
        // then would otherwise flip the edge, and with it the partition we propose).
        let until = Math.max(this.deadline.get(k) ?? 0, from + this.graceMs + (pending.has(k) ? this.pendingMs : 0))
        // Still reported pending: the peer's hold ends by itself, so the edge waits while the peer says so (a
        // hold restarted by a second loss outlasted the plain pending time on a loaded host: seed 6 again),
        // up to twice the pending time.
        if (pending.has(k)) until = Math.max(until, Math.min(now + this.graceMs, from + this.graceMs + 2 * this.pendingMs))
        this.deadline.set(k, until)
        if (now < until) added.push(q)
      }
      if (added.length) out[p] = { ...v, up: [...(v.up ?? []), ...added].sort() }
    }
    // Edges of peers not heard now, or no longer both in the view, start afresh.
    for (const k of [...this.missingSince.keys()]) if (!seen.has(k)) this.missingSince.delete(k)
    for (const k of [...this.backSince.keys()]) if (!seen.has(k)) this.backSince.delete(k)
    for (const k of [...this.deadline.keys()]) if (!this.missingSince.has(k)) this.deadline.delete(k)
    return out
  }

  /** When the next held edge counts as missing, or an edge back since the grace has its missing spell
   *  forgotten (null: neither). The second needs a look at that time: with no other event to run apply(), a
   *  spell would be remembered across a quiet time and a new one, after this node's next pause, taken for
   *  its continuation and cut at once (random-fault run 6, thirteenth session: the active node of a two-node
   *  cluster paused twice, installed a view alone and fenced the healthy peer). */
  nextAt(now: number): number | null {
    let t: number | null = null
    for (const [k, since] of this.missingSince) {
      const back = this.backSince.get(k)
      const at = back !== undefined ? back + this.graceMs : (this.deadline.get(k) ?? since + this.graceMs)
      if (at > now && (t === null || at < t)) t = at
    }
    return t
  }
}
