// What the host's monitor loop should watch on one node, and how often. Monitoring is done by the host;
// results come back as `monitorResult` events.

import { indexConfig } from './config-index.js'
import type { MainConfig, NodeName, TypeDefaults } from './model.js'
import type { EngineState, ResourceStateName } from './state.js'

export interface MonitorEntry {
  resource: string
  group: string
  state: ResourceStateName
  intervalMs: number
  timeoutMs: number
}

/** Monitored resources on `node`: online and unknown ones every monitorIntervalS, offline ones every
 *  offlineMonitorIntervalS (finds a resource started outside the cluster). Transitional and faulted
 *  resources are not monitored (their action, or an operator clear, decides). */
export function monitorSchedule(
  config: MainConfig,
  types: Record<string, Partial<TypeDefaults>>,
  state: EngineState,
  node: NodeName,
): MonitorEntry[] {
  const idx = indexConfig({ config, types, nodes: Object.keys(state.nodes) })
  // A node in maintenance is not monitored (what runs there is left as it is).
  if (state.nodes[node]?.membership !== 'up' || state.nodes[node]?.maintenance) return []
  const out: MonitorEntry[] = []
  for (const [r, ri] of idx.resources) {
    const s = state.groups[ri.group]?.resources[r]?.[node]
    if (!s || !s.monitored || s.needsFence) continue
    if (s.state !== 'online' && s.state !== 'offline' && s.state !== 'unknown') continue
    // An unknown state (an inconclusive probe) blocks auto-start and failover of its group: ask again at the
    // online interval, not the slow offline one.
    const seconds = s.state === 'offline' ? ri.policy.offlineMonitorIntervalS : ri.policy.monitorIntervalS
    out.push({ resource: r, group: ri.group, state: s.state, intervalMs: seconds * 1000, timeoutMs: ri.policy.monitorTimeoutS * 1000 })
  }
  return out
}
