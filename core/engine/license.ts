// Limited mode (manual 5.4): a node without a valid license takes part in no automatic move. It is never
// the target of a failover, an auto-start or a failback, and a failure on it does not fail its groups over
// either ("it changes to limited mode and does not fail over in case of failure"). Operator commands and
// restarts in place are not automatic moves: they still work. The license state is an input of the engine
// (EngineInput.limited, filled by the agent from core/license); the engine never reads a license itself.

import type { GroupIndex } from './config-index.js'
import type { Draft } from './draft.js'
import type { NodeName } from './model.js'
import { nodeUsable } from './placement.js'
import { msg, type Said, type SaidParam, type Worded } from './said.js'

/** Why node `n` is in limited mode, or undefined when it is licensed. */
export function limitedWhy(d: Draft, n: NodeName | null | undefined): string | undefined {
  return n == null ? undefined : d.limited[n]
}

export interface AutoTarget {
  /** Where the group may go automatically, or null. */
  to: NodeName | null
  /** Set when licensing is what stops the move (the notice's reason). */
  blocked?: Worded
}

/** The node an automatic move of the group (a failover from `from`, or an auto-start when `from` is
 *  omitted) may go to: the first usable node by the group's priority that is licensed. */
export function autoTarget(d: Draft, gi: GroupIndex, from?: NodeName): AutoTarget {
  const src = limitedWhy(d, from)
  if (src !== undefined)
    return {
      to: null,
      blocked: msg(
        'said.limitedFrom',
        { node: from!, why: whyParam(d, from!, src) },
        `no automatic failover: ${from} is in limited mode (${src})`,
      ),
    }
  const skipped: string[] = []
  let words: SaidParam | undefined // the same list in words: "a; b; c" as said.semi(said.semi(a, b), c)
  for (const n of gi.cfg.nodes) {
    if (n === from || !nodeUsable(d, gi, n)) continue
    const why = limitedWhy(d, n)
    if (why === undefined) return { to: n }
    skipped.push(`${n} is in limited mode (${why})`)
    const one: Said = { id: 'said.limitedNode', params: { node: n, why: whyParam(d, n, why) } }
    words = words === undefined ? one : { id: 'said.semi', params: { a: words, b: one } }
  }
  if (!skipped.length || words === undefined) return { to: null }
  const detail = skipped.join('; ')
  return {
    to: null,
    blocked: from
      ? msg('said.limitedTargets', { detail: words }, `no automatic failover: ${detail}`)
      : msg('said.limitedStart', { detail: words }, `no automatic start: ${detail}`),
  }
}

/** A node's license reason as a parameter: its words when the license state gave them, else its English. */
const whyParam = (d: Draft, n: NodeName, english: string): SaidParam => d.limitedSaid[n] ?? english
