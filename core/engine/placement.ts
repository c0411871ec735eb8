// Where a group may run: node usability, failover targets by priority, and the fencing safety rule.

import type { GroupIndex } from './config-index.js'
import type { Draft } from './draft.js'
import type { NodeName } from './model.js'
import { mayRun } from './state.js'

/** A node the group could be brought online on now: up, not awaiting a fence, probed, no fault there. */
export function nodeUsable(d: Draft, gi: GroupIndex, n: NodeName): boolean {
  const ns = d.node(n)
  if (!ns || ns.membership !== 'up' || ns.needsFence || ns.maintenance || ns.standby) return false
  for (const r of gi.order) {
    const s = d.rs(r, n)
    if (!s || s.state === 'unknown' || s.state === 'faulted' || s.needsFence) return false
  }
  return true
}

/** The first usable node by the group's priority list, skipping `exclude`. */
export function candidate(d: Draft, gi: GroupIndex, exclude?: NodeName): NodeName | null {
  for (const n of gi.cfg.nodes) if (n !== exclude && nodeUsable(d, gi, n)) return n
  return null
}

/** Why the group may not come online on `target` yet: some other node may still run part of it and
 *  the engine cannot take it down there (lost and not fenced, a clean failed, or the node is in maintenance).
 *  Null when safe. */
export function unsafeElsewhere(d: Draft, gi: GroupIndex, target: NodeName): NodeName | null {
  for (const n of gi.cfg.nodes) {
    if (n === target) continue
    const up = d.isUp(n) && !d.node(n)?.maintenance
    for (const r of gi.order) {
      const s = d.rs(r, n)
      if (!s) continue
      if ((!up && mayRun(s)) || s.needsFence) return n
    }
  }
  return null
}
