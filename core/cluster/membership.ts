// Membership, quorum and coordinator: pure functions (no I/O, no clock, no randomness).
//
// Input: the nodes of hb.json with their votes, the peers this node sees up, and the views those peers
// piggyback on their heartbeats (whom each of them sees up). Two nodes are *connected* when each sees the
// other (a one-way path does not count). Our partition is the best clique of connected nodes that contains
// us: every member sees every other, so every member can talk to the coordinator and to each other.
// Cliques are compared by votes, then size, then how many members of the view this node is in now they keep
// (`prefer`: a returning node must not displace a member of an equal clique — issue 14: a node back from a
// partition made {n1, n3} as good as the installed {n2, n3}, and the active n2 was fenced), then how many
// peers their members hear (a node that hears little — one-way loss into it — is the one left out: with 90 %
// of the packets into n1 dropped, {n1, n2} and {n2, n3} were equal and the name rule kept n1 and fenced the
// healthy n3), then how well their members receive each other (`received`: the worst, then the total — with
// 90 % of the packets into n2 dropped, n2 and n3 each saw the other down, because "up" needs the peer's echo;
// {n1, n2} and {n1, n3} were equal in everything above and the name rule fenced the healthy n3, while n3
// received all of n2's packets and n2 a tenth of n3's), then their sorted member list (the
// lexicographically smallest wins), so members that share the same views pick the same partition.
//
// Quorum: the partition's votes are a strict majority of all votes; an exact tie (half, e.g. one node of
// two) is broken by the quorum server: quorate only if it granted its vote to this partition. The quorum
// server matters only in a tie, so it can never take quorum from a majority nor give it to a minority.
// The coordinator is the lowest node name of a quorate partition (none when inquorate).

import type { Said } from '../i18n/messages.js'

export type QuorumServerVote = 'granted' | 'denied' | 'none'

export interface MembershipNode {
  name: string
  /** Votes of this node (hb.json `votes`, default 1). */
  votes?: number
}

export interface MembershipInput {
  /** This node. */
  self: string
  /** All nodes of the cluster (hb.json `nodes`). */
  nodes: readonly MembershipNode[]
  /** Peers this node sees up (on at least one link). */
  up: readonly string[]
  /** The piggybacked view of each peer: whom it sees up. Views of peers not in `up` are ignored. */
  views: Readonly<Record<string, { up?: readonly string[] } | undefined>>
  /** The quorum server's answer for the chosen partition (only used in a tie): a value, or asked with the
   *  partition (a grant holds only for the partition it was given to). */
  quorumServerVote?: QuorumServerVote | ((partition: readonly string[]) => QuorumServerVote)
  /** Members of the view this node is in now: among cliques of equal votes and size, the one keeping most
   *  of them wins. */
  prefer?: readonly string[]
  /** How well each node receives each other (0 little, 1 much lost, 2 well): this node's own measure and
   *  what peers piggyback (`ext.rq`). A pair nobody reported counts as received well. */
  received?: Readonly<Record<string, Readonly<Record<string, number>> | undefined>>
}

export interface MembershipResult {
  /** Members of our partition, sorted by name (always contains self). */
  partition: string[]
  /** Peers we see up that are not in the partition (seen up, but not mutually connected with every member). */
  excluded: string[]
  votes: number
  totalVotes: number
  /** Strict majority: votes needed without the quorum server. */
  needed: number
  /** The partition holds exactly half the votes: only the quorum server can make it quorate. */
  tie: boolean
  quorate: boolean
  /** Lowest node name of a quorate partition, null when inquorate. */
  coordinator: string | null
  reason: string
  /** The reason in words of the locale files (a `said.q.*` key and its parameters), for the reader's language.
   *  Required: a reason added without its words fails to compile (issue 18, What 8: no English left). */
  said: Said
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export function votesOf(nodes: readonly MembershipNode[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const n of nodes) m.set(n.name, Math.max(0, Math.floor(n.votes ?? 1)))
  return m
}

/**
 * The mutual-connectivity graph as this node can know it: self and the peers it sees up, with an edge
 * a–b when a sees b and b sees a. Self's edges come from `up`; a peer's from its view.
 */
export function connectivity(input: Pick<MembershipInput, 'self' | 'nodes' | 'up' | 'views'>): Map<string, Set<string>> {
  const known = new Set(input.nodes.map((n) => n.name))
  const members = new Set<string>([input.self])
  for (const p of input.up) if (known.has(p) && p !== input.self) members.add(p)
  const sees = new Map<string, Set<string>>()
  sees.set(input.self, new Set([...members].filter((m) => m !== input.self)))
  for (const p of members) {
    if (p === input.self) continue
    sees.set(p, new Set((input.views[p]?.up ?? []).filter((x) => members.has(x) && x !== p)))
  }
  const g = new Map<string, Set<string>>()
  for (const a of members) g.set(a, new Set())
  for (const a of members) {
    for (const b of sees.get(a)!) if (sees.get(b)?.has(a)) g.get(a)!.add(b)
  }
  return g
}

/** At most this many cliques are ranked. A graph can hold exponentially many maximal cliques (32 nodes each
 *  deaf to exactly one other: 2^15 with a given node); no real fault pattern comes near, and a decision must
 *  stay fast on the agent's thread. The search order is fixed (names sorted), so the same graph gives the
 *  same cliques everywhere. */
export const MAX_CLIQUES = 1024

/** The maximal cliques of `g` that contain `v`, up to MAX_CLIQUES (Bron–Kerbosch with pivoting). */
export function maximalCliquesWith(g: Map<string, Set<string>>, v: string): string[][] {
  const out: string[][] = []
  const nb = (x: string) => g.get(x) ?? new Set<string>()
  const bk = (r: string[], p: Set<string>, x: Set<string>) => {
    if (out.length >= MAX_CLIQUES) return
    if (p.size === 0 && x.size === 0) {
      out.push([...r].sort(byName))
      return
    }
    let pivot = ''
    let best = -1
    for (const u of [...p, ...x]) {
      let c = 0
      for (const w of nb(u)) if (p.has(w)) c++
      if (c > best) {
        best = c
        pivot = u
      }
    }
    for (const u of [...p].sort(byName)) {
      if (nb(pivot).has(u)) continue
      const nu = nb(u)
      bk([...r, u], new Set([...p].filter((w) => nu.has(w))), new Set([...x].filter((w) => nu.has(w))))
      p.delete(u)
      x.add(u)
    }
  }
  if (!g.has(v)) return [[v]]
  bk([v], new Set(nb(v)), new Set())
  return out
}

/** What ranks a clique, most important first, larger better: votes, size, preferred members, how many
 *  others its members hear, then how well they receive each other (worst pair, total). Computed once per
 *  clique (the receiving figures are quadratic in its size). */
function cliqueScore(
  c: string[],
  votes: Map<string, number>,
  prefer?: ReadonlySet<string>,
  hears?: Map<string, number>,
  received?: MembershipInput['received'],
): number[] {
  const r = received ? receiving(c, received) : { worst: 0, total: 0 }
  return [
    c.reduce((s, n) => s + (votes.get(n) ?? 0), 0),
    c.length,
    prefer ? c.filter((n) => prefer.has(n)).length : 0,
    hears ? c.reduce((s, n) => s + (hears.get(n) ?? 0), 0) : 0,
    r.worst,
    r.total,
  ]
}

/** Best clique first: by score, then by names (the same order on every node). */
function compareScored(a: { c: string[]; s: number[] }, b: { c: string[]; s: number[] }): number {
  for (let i = 0; i < a.s.length; i++) if (a.s[i] !== b.s[i]) return b.s[i]! - a.s[i]!
  for (let i = 0; i < a.c.length; i++) {
    const c = byName(a.c[i]!, b.c[i]!)
    if (c) return c
  }
  return 0
}

/** How well the members of a clique receive each other: the worst pair and the sum over ordered pairs. */
function receiving(c: readonly string[], received: NonNullable<MembershipInput['received']>): { worst: number; total: number } {
  let worst = 2
  let total = 0
  for (const a of c)
    for (const b of c) {
      if (a === b) continue
      const r = received[a]?.[b] ?? 2
      worst = Math.min(worst, r)
      total += r
    }
  return { worst, total }
}

/** How many other known nodes each node of the graph hears (sees up): self's own count, a peer's from its
 *  piggybacked view — the same figures every member has, so they rank cliques alike. */
function hearing(input: MembershipInput, g: Map<string, Set<string>>): Map<string, number> {
  const known = new Set(input.nodes.map((n) => n.name))
  const out = new Map<string, number>()
  for (const n of g.keys()) {
    const up = n === input.self ? input.up : (input.views[n]?.up ?? [])
    out.set(n, new Set(up.filter((x) => known.has(x) && x !== n)).size)
  }
  return out
}

/** Quorum arithmetic for a set of members. */
export function quorum(members: readonly string[], nodes: readonly MembershipNode[], qs: QuorumServerVote = 'none') {
  const votes = votesOf(nodes)
  let total = 0
  for (const v of votes.values()) total += v
  let have = 0
  for (const m of new Set(members)) have += votes.get(m) ?? 0
  const needed = Math.floor(total / 2) + 1
  const tie = total > 0 && have * 2 === total
  const quorate = total > 0 && (have >= needed || (tie && qs === 'granted'))
  return { votes: have, totalVotes: total, needed, tie, quorate }
}

export function computeMembership(input: MembershipInput): MembershipResult {
  const votes = votesOf(input.nodes)
  const g = connectivity(input)
  const cliques = maximalCliquesWith(g, input.self)
  const prefer = input.prefer ? new Set(input.prefer) : undefined
  const hears = hearing(input, g)
  const ranked = cliques.map((c) => ({ c, s: cliqueScore(c, votes, prefer, hears, input.received) })).sort(compareScored)
  const partition = ranked[0]?.c ?? [input.self]
  const qs = typeof input.quorumServerVote === 'function' ? input.quorumServerVote(partition) : (input.quorumServerVote ?? 'none')
  const inPart = new Set(partition)
  const excluded = [...g.keys()].filter((n) => !inPart.has(n)).sort(byName)
  const q = quorum(partition, input.nodes, qs)
  const coordinator = q.quorate ? partition[0]! : null
  const w = quorumWords(q, qs)
  return { partition, excluded, ...q, coordinator, ...w }
}

/** Why a partition is (not) quorate, in English (as the log and --json have always read it) and in words
 *  (said.q.*) for the reader's language. */
function quorumWords(
  q: Pick<MembershipResult, 'votes' | 'totalVotes' | 'needed' | 'tie'>,
  qs: QuorumServerVote,
): { reason: string; said: Said } {
  const p = { votes: q.votes, total: q.totalVotes }
  if (q.totalVotes === 0) return { reason: 'no node has a vote', said: { id: 'said.q.noVotes' } }
  if (q.votes >= q.needed) return { reason: `majority: ${q.votes} of ${q.totalVotes} votes`, said: { id: 'said.q.majority', params: p } }
  if (q.tie && qs === 'granted')
    return { reason: `tie (${q.votes} of ${q.totalVotes} votes) broken by the quorum server`, said: { id: 'said.q.tieServer', params: p } }
  if (q.tie)
    return qs === 'denied'
      ? { reason: `tie (${q.votes} of ${q.totalVotes} votes); quorum server denied its vote`, said: { id: 'said.q.tieDenied', params: p } }
      : { reason: `tie (${q.votes} of ${q.totalVotes} votes); quorum server not available`, said: { id: 'said.q.tieNoServer', params: p } }
  return {
    reason: `minority: ${q.votes} of ${q.totalVotes} votes, ${q.needed} needed`,
    said: { id: 'said.q.minority', params: { ...p, needed: q.needed } },
  }
}
