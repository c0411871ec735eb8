// The left-out rule (pure): has a quorate view without this node been installed by its members?
//
// A node that resumes from a pause, or comes back from a partition, may find that the others moved on
// without it. If they installed a view with a majority of the votes on its own, they fence this node, so
// what runs here must go offline now rather than wait in limbo (issue 14; safety-mirror lab: a resumed
// primary kept its mirror attached to a dead export, and its peer's copy never came back to UpToDate).
//
// Installed means every member announces it joined: one member's own joined proposal is not enough. A
// node back from a partition proposes {itself, n3} while it still holds the active n2 on readmission hold;
// n3, preferring the installed {n2, n3}, never joins it — and n2 must not give up its service for it (the
// safety-mirror lab in CI: n2 self-fenced for such a proposal and the group was left faulted).
//
// A node that has not been a member of an installed quorate view since its start (an agent started after the
// others formed their view, or restarted after kill -9) is not left out: it was never in, and it started
// nothing. It waits to be admitted; its peers fence it if they must. Before, such a node self-fenced on its way
// in whenever it heard everyone while the others still announced their view without it (issue 14, lab
// test/cluster/late-start.test.ts).
//
// A tie (two-node mode, the quorum server) is settled by the fence race instead, which the active side
// wins: a resumed active node of two does not give up to a waiting peer.
import { quorum, type MembershipNode } from './membership.js'
import type { PeerFacts } from './view.js'

export interface LeftOutInput {
  self: string
  nodes: readonly MembershipNode[]
  facts: Readonly<Record<string, PeerFacts>>
  /** Whether this node has been a member of an installed quorate view since its start. */
  member: boolean
  /** Epoch of the view installed here (null: none). Only a newer view counts. */
  installedEpoch: number | null
  now: number
  /** An announcement older than this (ms) is not fresh. */
  deadMs: number
}

export function leftOutBy(i: LeftOutInput): { by: string; epoch: number } | null {
  if (!i.member) return null
  const fresh = (p: string) => {
    const f = i.facts[p]
    return f?.ann && f.annAt !== null && i.now - f.annAt <= i.deadMs ? f.ann : null
  }
  for (const p of Object.keys(i.facts).sort()) {
    const a = fresh(p)
    if (!a || !a.joined || a.members.includes(i.self)) continue
    if (i.installedEpoch !== null && i.installedEpoch >= a.epoch) continue
    if (!quorum(a.members, i.nodes, 'none').quorate) continue
    const key = a.members.join(',')
    const all = a.members.every((m) => {
      const b = fresh(m)
      return b !== null && b.joined && b.epoch === a.epoch && b.members.join(',') === key
    })
    if (all) return { by: p, epoch: a.epoch }
  }
  return null
}
