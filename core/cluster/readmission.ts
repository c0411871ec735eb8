// Readmission hold for peers that come back after being lost (pure: the clock is passed in). A peer whose
// heartbeats flap (a NIC that drops most of what it receives: issue 14, finding 4) would otherwise be taken
// into the wanted partition each time it is heard again, and with equal cliques the tie-break can then keep
// the flapping node and leave out a healthy one (which the coordinator fences). So a peer that was lost in
// this run counts as up only once it has been heard without a break for a hold, which doubles with each loss
// within `forgetMs` of the previous one (up to `maxMs`). A peer never lost counts at once (cluster start),
// and a peer that is admitted stays admitted while it is heard. Corosync's "consensus" and "join" timeouts
// play the same part there.
//
// One exception (issue 14, finding 6): a peer lost while it was a member of the view this node had installed
// (`quick` at the loss) and heard again within `quickMs` was only paused (a stopped VM, an agent's pause just
// over the dead time at this node). It counts again at once and the blip is not counted as a loss: holding it
// out for seconds leaves a hole in this node's view that its peers' cliques would fence it for. A flapping
// NIC does not get this: once the others have moved on without the flapping node, its view is no longer
// installed anywhere, and every later loss is held as before.

export interface ReadmissionOptions {
  /** Hold after a first loss (ms). */
  baseMs: number
  /** Longest hold (ms). */
  maxMs: number
  /** A loss this long after the previous one starts the count again (ms). */
  forgetMs: number
  /** A member of the installed view heard again this soon after its loss counts at once (ms; 0: never). */
  quickMs?: number
}

interface PeerTrack {
  admitted: boolean
  upSince: number | null
  lostAt: number | null
  losses: number
  /** Lost while a member of the installed view: a quick return counts at once. */
  quick: boolean
  /** The count and time of the losses before the last one (restored when the last one proves a blip). */
  lossesBefore: number
  lostBefore: number | null
}

export class Readmission {
  private readonly peers = new Map<string, PeerTrack>()

  constructor(private o: ReadmissionOptions) {}

  /** New hold times (the dead time changed live); peers keep their history. */
  retime(o: ReadmissionOptions): void {
    this.o = o
  }

  /** The peers heard now that count as up. `inView`: the members of the view installed here now. */
  filter(now: number, heard: readonly string[], inView: ReadonlySet<string> = new Set()): string[] {
    const h = new Set(heard)
    for (const [name, p] of this.peers) {
      if (h.has(name)) continue
      if (p.admitted || p.upSince !== null) {
        // Lost (or lost again while on hold).
        p.quick = p.admitted && inView.has(name)
        p.lossesBefore = p.losses
        p.lostBefore = p.lostAt
        p.losses = p.lostAt !== null && now - p.lostAt < this.o.forgetMs ? p.losses + 1 : 1
        p.lostAt = now
        p.admitted = false
        p.upSince = null
      }
    }
    const out: string[] = []
    for (const name of heard) {
      let p = this.peers.get(name)
      if (!p)
        this.peers.set(
          name,
          (p = { admitted: true, upSince: now, lostAt: null, losses: 0, quick: false, lossesBefore: 0, lostBefore: null }),
        )
      if (p.upSince === null) {
        p.upSince = now
        if (p.quick && p.lostAt !== null && now - p.lostAt <= (this.o.quickMs ?? 0)) {
          p.admitted = true // a blip of a member: as if never lost
          p.losses = p.lossesBefore
          p.lostAt = p.lostBefore
        }
        p.quick = false
      }
      if (!p.admitted && now - p.upSince >= this.holdMs(p)) p.admitted = true
      if (p.admitted) out.push(name)
    }
    return out
  }

  /** Forgets a peer's losses: it counts at once when heard next (a node back from a planned leave). */
  forget(name: string): void {
    this.peers.delete(name)
  }

  /** When the next held peer may count (null: none held). */
  nextAt(): number | null {
    let t: number | null = null
    for (const p of this.peers.values()) {
      if (p.admitted || p.upSince === null) continue
      const at = p.upSince + this.holdMs(p)
      if (t === null || at < t) t = at
    }
    return t
  }

  /** Peers heard but not counted yet, with when they count. */
  held(): Array<{ node: string; at: number }> {
    return [...this.peers]
      .filter(([, p]) => !p.admitted && p.upSince !== null)
      .map(([node, p]) => ({ node, at: p.upSince! + this.holdMs(p) }))
  }

  private holdMs(p: PeerTrack): number {
    return Math.min(this.o.maxMs, this.o.baseMs * 2 ** Math.max(0, p.losses - 1))
  }
}
