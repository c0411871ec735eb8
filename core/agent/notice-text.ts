// What a notice says in the log, the timeline and the console when the agent knows more than the engine.
import type { EngineEvent, Notice } from '../engine/index.js'

export type ParkReason = 'left' | 'standby' | 'joining'

/** A node the agent declared to run nothing (it left, is in standby, or was added and has not joined) is
 *  marked fenced without a fence: its notice says so. Only for that declaration: a fence that a node back in
 *  the cluster really received (the park reason may be stale by then) keeps the engine's "fenced" words. */
export function noticeText(n: Notice, ev: EngineEvent, parked: ReadonlyMap<string, ParkReason>): Notice {
  if (n.kind !== 'nodeFenced' || !n.node || ev.type !== 'nodeChange' || ev.membership !== 'fenced' || ev.node !== n.node) return n
  const why = parked.get(n.node)
  if (!why) return n
  const what = why === 'left' ? 'it left the cluster' : why === 'joining' ? 'it was just added and has not joined yet' : 'standby'
  return {
    ...n,
    reason: `${n.node} runs nothing (${what}): no fence needed`,
    // The same in words of the locale files (core/engine/said.ts): the engine's "fenced" words no longer apply.
    said: { id: 'said.parked', params: { node: n.node, why: { id: `said.parkedWhy.${why}` } } },
  }
}
