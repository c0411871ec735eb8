// A group's state on each node, derived from its resources' states.

import type { GroupIndex } from './config-index.js'
import type { NodeName } from './model.js'
import type { GroupStateName, ResourceNodeState } from './state.js'
import { isStickyFault } from './state.js'

export interface ResourceReader {
  rs(r: string, n: NodeName): ResourceNodeState | undefined
  idx: { resources: Map<string, { cfg: { critical: boolean } }> }
}

export function deriveGroupStates(read: ResourceReader, gi: GroupIndex): Record<NodeName, GroupStateName> {
  const out: Record<NodeName, GroupStateName> = {}
  for (const n of gi.cfg.nodes) out[n] = groupStateOn(read, gi, n)
  return out
}

export function groupStateOn(read: ResourceReader, gi: GroupIndex, n: NodeName): GroupStateName {
  let online = 0
  let total = 0
  let onlining = false
  let offlining = false
  let faulted = false
  for (const r of gi.order) {
    const s = read.rs(r, n)
    if (!s) continue
    total++
    if (s.state === 'online') online++
    else if (s.state === 'onlining') onlining = true
    else if (s.state === 'offlining') offlining = true
    else if (isStickyFault(s) && read.idx.resources.get(r)?.cfg.critical) faulted = true
  }
  if (faulted) return 'faulted'
  if (offlining) return 'offlining'
  if (onlining) return 'onlining'
  if (total > 0 && online === total) return 'online'
  return online > 0 ? 'partial' : 'offline'
}
