// Agreed membership (issue 14, finding 4): a view (epoch, members, ready members) is *installed* at a node
// only while every member acknowledges it, and a node decides, fences or starts only inside an installed
// quorate view. Pure code: no I/O, no timers, the clock is passed in (ms, this node's monotonic clock).
//
// Models: Viewstamped Replication's view change (a view has a number; a replica moves only to higher ones;
// the new view starts once its members have acknowledged it) and corosync's totem (a membership is formed
// only when every member agreed on it). What neither needs, but a heartbeat-driven cluster with fencing
// does, is a bound on *when* an old view stops acting; that is a lease, as in Raft's leader lease:
//
// - A node announces (on every heartbeat) its proposal (epoch, members, ready) and whether it has joined it.
//   A joined announcement is an acknowledgement, and a *grant*: "I am in this view".
// - A holder counts a grant only for `leaseMs` after its own send time that the grant's packet echoes
//   (the heartbeat's freshness echo, heartbeat.ts): its own clock only, whatever the peers' clocks say, and a
//   pause of the holder (its clock runs on) expires what it held.
// - A node joins views of strictly growing epochs and is joined to one at a time (leaving a view is
//   immediate: a node acts only in the view it announces).
// - Before joining a view that leaves out a member x of the last view it joined, a node waits until every
//   grant x may still hold has expired: `holdMs` after it received the newest packet of x it echoed while
//   joined (x's lease is anchored at that packet's send time, earlier still), unless x has said since that
//   it will never join that epoch again (its floor). At start a node waits `holdMs` too: what it granted in
//   a previous life is unknown.
//
// Safety: say x acts in V and y in V' ≠ V at the same time, both quorate (strict majorities: they share a
// member m). m granted both, fresh. m joined V and V' one after the other, say V first; when m left V (for
// V or a later view), either x stayed a member of the next view m joined — then x had to leave V and join it
// too before that view could be installed anywhere, and so on down to V' — or m waited until x's grants
// from m had expired. Either way x no longer acts in V when y's grant from m for V' exists. The simulation
// (test/cluster/view-sim.test.ts) checks this over thousands of random schedules. In an exact tie (half the
// votes) the quorum server or two-node mode decides, as before; the intersection argument needs a majority.
//
// Liveness: a node proposes a new epoch only when what it wants changes (members, or who is ready), and
// adopts a member's higher epoch for the same proposal, so once the network is quiet every member of the
// best partition converges on one (epoch, members, ready) and joins it: one view everywhere a few heartbeats
// after the network heals (measured in the simulation).
//
// The coordinator of an installed view is its lowest-named *ready* member (a node announces readiness once it
// has settled and can decide; issue 14, finding 5: a restarted node must not be coordinator before it can act).

export interface View {
  epoch: number
  /** Sorted node names, the announcer included. */
  members: readonly string[]
  /** The members that announced they are ready to decide (sorted). */
  ready: readonly string[]
}

/** What a node says on its heartbeats. */
export interface Announce extends View {
  /** Joined: the announcer acknowledges this view and is in it (a grant). */
  joined: boolean
  /** The announcer is ready to decide (settled). */
  rd: boolean
  /** The announcer never joins an epoch <= floor again (its last joined epoch). */
  floor: number
}

/** What this node knows of one peer, from its heartbeat (heartbeat.ts keeps these per peer). */
export interface PeerFacts {
  /** The peer's latest announcement, from its latest fresh packet (null: none, or refused at the edge). */
  ann: Announce | null
  /** When that packet was received (our clock). */
  annAt: number | null
  /** Lease anchor: our own send time echoed by the freshest fresh packet carrying `ann` (our clock). */
  leaseAt: number | null
  /** Grant anchor: when we received the newest packet of this peer that we echoed while announcing a joined
   *  view (our clock). Every grant the peer holds from us expires `holdMs` after this at the latest. */
  grantAt: number | null
}

export interface Desire {
  /** The partition this node wants: sorted, contains self (just self when it wants no one). */
  members: readonly string[]
  /** This node is ready to decide. */
  ready: boolean
}

export interface ViewOptions {
  self: string
  /** A grant counts this long after the holder's echoed send time (ms). Keep it under `holdMs` by a margin
   *  for clock-rate differences and thread hand-offs. */
  leaseMs: number
  /** A grantor keeps its promise this long after receiving the echoed packet (ms); at most the dead time,
   *  so that leaving out a node silent for the dead time costs no wait. */
  holdMs: number
  /** Whether a set of members holds quorum (votes; the tie-breaker). */
  quorate: (members: readonly string[]) => boolean
  /** This node's clock at start. */
  now: number
}

export interface Installed {
  view: View
  quorate: boolean
  /** The lowest-named ready member; null when no member is ready yet. */
  coordinator: string | null
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i])
export const sameView = (a: View, b: View): boolean => a.epoch === b.epoch && sameList(a.members, b.members) && sameList(a.ready, b.ready)
export const viewKey = (v: View): string => `${v.epoch}:${v.members.join(',')}:${v.ready.join(',')}`

export class ViewNode {
  readonly self: string
  private o: ViewOptions
  /** What we propose (and, when `joined`, are in). */
  private prop: View | null = null
  private joined = false
  /** The last view we joined (its members may still hold our grants). */
  private lastJoined: View | null = null
  /** Highest epoch we ever joined: we never join at or below it again. */
  private floor = 0
  /** Highest epoch seen anywhere (ours included). */
  private maxEpoch = 0
  private leaving = false
  private readonly startAt: number
  /** Why the last step could not join (for logs and status). */
  private blocked: string | null = null

  constructor(o: ViewOptions) {
    this.o = o
    this.self = o.self
    this.startAt = o.now
  }

  /**
   * New lease and hold times (the dead time changed live, issue 16). Safe only when every grant this node
   * holds is shorter than what its grantors promise: the role raises the hold before the lease, and lowers
   * the lease before the hold (role.ts reconfigure()).
   */
  setTimes(leaseMs: number, holdMs: number): void {
    this.o = { ...this.o, leaseMs, holdMs }
  }

  /** Stops joining anything, for good (the node announces its leave). */
  leave(): void {
    this.leaving = true
    this.joined = false
  }

  /**
   * One decision: given what this node wants and what it knows of its peers, updates the proposal and joins
   * it when allowed. `grantsFinal`: the heartbeat already sends our current announcement (until it does, a
   * joined announcement we left may still be going out, so grant anchors are not final yet). Returns the
   * announcement to send from now on.
   */
  step(now: number, desire: Desire, peers: Readonly<Record<string, PeerFacts | undefined>>, grantsFinal = true): Announce {
    for (const p of Object.values(peers)) if (p?.ann) this.maxEpoch = Math.max(this.maxEpoch, p.ann.epoch, p.ann.floor)
    if (this.leaving) return this.announce(desire.ready)
    const members = isSortedSet(desire.members) ? desire.members : [...new Set(desire.members)].sort()
    const prop = this.prop
    const ready =
      prop && readyMatches(prop.ready, members, this.self, desire.ready, peers)
        ? prop.ready
        : members.filter((x) => (x === this.self ? desire.ready : peers[x]?.ann?.rd === true))
    if (!prop || !sameList(prop.members, members) || !sameList(prop.ready, ready)) {
      // What we want changed: a new epoch, above anything seen, and out of the view we were in (at once).
      this.maxEpoch++
      this.prop = { epoch: this.maxEpoch, members, ready }
      this.joined = false
    } else {
      // A member proposing the same members and ready set with a higher epoch: take its epoch.
      let e = prop.epoch
      for (const x of members) {
        const a = x === this.self ? null : peers[x]?.ann
        if (a && a.epoch > e && sameList(a.members, members) && sameList(a.ready, ready)) e = a.epoch
      }
      if (e !== prop.epoch) {
        this.prop = { ...prop, epoch: e }
        this.joined = false
      }
    }
    if (!this.joined && this.prop!.epoch > this.floor) {
      this.blocked = this.joinBlocker(now, peers, grantsFinal)
      if (!this.blocked) {
        this.joined = true
        this.floor = this.prop!.epoch
        this.lastJoined = this.prop
      }
    }
    return this.announce(desire.ready)
  }

  /** Why we may not join our proposal now (null: we may). */
  private joinBlocker(now: number, peers: Readonly<Record<string, PeerFacts | undefined>>, grantsFinal: boolean): string | null {
    if (now < this.startAt + this.o.holdMs) return 'start: grants of a previous run may still be held'
    const last = this.lastJoined
    if (!last) return null
    const next = new Set(this.prop!.members)
    for (const x of last.members) {
      if (x === this.self || next.has(x)) continue
      const f = peers[x]
      if (f && released(f, last.epoch)) continue
      if (!grantsFinal) return `waiting for the heartbeat to stop granting view ${last.epoch}`
      if (f?.grantAt != null && now < f.grantAt + this.o.holdMs) return `${x} may still hold a grant of view ${last.epoch}`
    }
    return null
  }

  /** The announcement (the same object while nothing in it changed: cheap to compare). */
  private announce(rd: boolean): Announce {
    const p = this.prop ?? { epoch: this.maxEpoch, members: [this.self], ready: [] }
    const joined = this.joined && !this.leaving
    const a = this.last
    if (
      a &&
      a.epoch === p.epoch &&
      a.members === p.members &&
      a.ready === p.ready &&
      a.joined === joined &&
      a.rd === rd &&
      a.floor === this.floor
    )
      return a
    return (this.last = { epoch: p.epoch, members: p.members, ready: p.ready, joined, rd, floor: this.floor })
  }
  private last: Announce | null = null

  /** The view we are joined to (null: between views). */
  joinedView(): View | null {
    return this.joined && !this.leaving ? this.prop : null
  }
  /** Why the last attempt to join was refused (null: joined, or nothing to join). */
  waitingFor(): string | null {
    return this.joined ? null : this.blocked
  }
  /** The earliest time a join refused for time (start, a grant) may be allowed: wake up then. */
  wakeAt(peers: Readonly<Record<string, PeerFacts | undefined>>): number | null {
    if (this.joined || this.leaving || !this.prop) return null
    let t = this.startAt + this.o.holdMs
    const last = this.lastJoined
    if (last)
      for (const x of last.members) {
        const g = peers[x]?.grantAt
        if (g != null && !this.prop.members.includes(x)) t = Math.max(t, g + this.o.holdMs)
      }
    return t
  }

  /**
   * The installed view, if any: we are joined to it and every other member's fresh announcement is the same
   * view, joined, with a lease (echoed send time) younger than `leaseMs`. Time-dependent: ask right before
   * acting.
   */
  installed(now: number, peers: Readonly<Record<string, PeerFacts | undefined>>): Installed | null {
    const v = this.joinedView()
    if (!v) return null
    for (const x of v.members) {
      if (x === this.self) continue
      const f = peers[x]
      if (!f?.ann?.joined || !sameView(f.ann, v)) return null
      if (f.leaseAt == null || now - f.leaseAt >= this.o.leaseMs) return null
    }
    // Asked each time: a tie's quorum (the quorum server's vote) can change while the view stays.
    return { view: v, quorate: this.o.quorate(v.members), coordinator: v.ready[0] ?? null }
  }

  /**
   * Until when the view we are joined to is installed by the grants held now: the earliest lease expiry among
   * its other members, each announcing this same view joined (a time in the past once a lease ran out; null
   * when we are not joined, or a member announces something else). A member lost while its view was installed
   * a moment ago was only paused (readmission.ts).
   */
  installedUntil(peers: Readonly<Record<string, PeerFacts | undefined>>): number | null {
    const v = this.joinedView()
    if (!v) return null
    let until = Infinity
    for (const x of v.members) {
      if (x === this.self) continue
      const f = peers[x]
      if (!f?.ann?.joined || !sameView(f.ann, v) || f.leaseAt == null) return null
      until = Math.min(until, f.leaseAt + this.o.leaseMs)
    }
    return until
  }

  /** Acting: an installed quorate view. */
  acting(now: number, peers: Readonly<Record<string, PeerFacts | undefined>>): Installed | null {
    const i = this.installed(now, peers)
    return i?.quorate ? i : null
  }
}

function isSortedSet(a: readonly string[]): boolean {
  for (let i = 1; i < a.length; i++) if (!(a[i - 1]! < a[i]!)) return false
  return true
}

/** Whether `ready` is still exactly the ready members of `members` (no new array when nothing changed). */
function readyMatches(
  ready: readonly string[],
  members: readonly string[],
  self: string,
  selfReady: boolean,
  peers: Readonly<Record<string, PeerFacts | undefined>>,
): boolean {
  let i = 0
  for (const x of members) {
    const rd = x === self ? selfReady : peers[x]?.ann?.rd === true
    if (rd) {
      if (ready[i] !== x) return false
      i++
    }
  }
  return i === ready.length
}

/** The peer said (after our last grant to it) that it will never join `epoch` or below again. */
function released(f: PeerFacts, epoch: number): boolean {
  const a = f.ann
  if (!a || f.annAt == null) return false
  if (f.grantAt != null && f.annAt < f.grantAt) return false // a grant went out after what it said
  return a.joined ? a.epoch > epoch : a.floor >= epoch
}
