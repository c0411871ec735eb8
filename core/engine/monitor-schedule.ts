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

/** Monitored resources on `node`: online ones every monitorIntervalS, offline and unknown ones every
 *  offlineMonitorIntervalS (finds a resource started outside the cluster). Transitional and faulted
 *  resources are not monitored (their action, or an operator clear, decides). */
export function monitorSchedule(
  config: MainConfig, types: Record<string, Partial<TypeDefaults>>, state: EngineState, node: NodeName,
): MonitorEntry[] {
  const idx = indexConfig({ config, types, nodes: Object.keys(state.nodes) })
  if (state.nodes[node]?.membership !== 'up') return []
  const out: MonitorEntry[] = []
  for (const [r, ri] of idx.resources) {
    const s = state.groups[ri.group]?.resources[r]?.[node]
    if (!s || !s.monitored || s.needsFence) continue
    if (s.state !== 'online' && s.state !== 'offline' && s.state !== 'unknown') continue
    const seconds = s.state === 'online' ? ri.policy.monitorIntervalS : ri.policy.offlineMonitorIntervalS
    out.push({ resource: r, group: ri.group, state: s.state, intervalMs: seconds * 1000, timeoutMs: ri.policy.monitorTimeoutS * 1000 })
  }
  return out
}
