// The initial state, and keeping the state in line with a changed configuration (added resources are
// unknown until probed; removed ones are forgotten).

import type { ConfigIndex, EngineInput } from './config-index.js'
import { indexConfig } from './config-index.js'
import type { NodeName } from './model.js'
import type { EngineState, GroupRuntime, Membership, NodeState, ResourceNodeState } from './state.js'
import { freshResourceState, resourceState } from './state.js'
import { deriveGroupStates } from './group-state.js'
import { applyIntent, type OperatorIntent } from './intent.js'

export interface InitialOptions {
  /** Membership at start (default: every node up). A `down` node must be fenced before anything moves. */
  membership?: Record<NodeName, Membership>
  /** The operator's intent to start from (a new coordinator's: intent.ts). */
  intent?: OperatorIntent
}

export function initialState(input: EngineInput, opts: InitialOptions = {}): EngineState {
  const idx = indexConfig(input)
  const nodes: Record<NodeName, NodeState> = {}
  for (const n of input.nodes) {
    const m = opts.membership?.[n] ?? 'up'
    nodes[n] = { membership: m, needsFence: m === 'down' }
  }
  const base: EngineState = {
    seq: 0,
    generation: input.config.generation,
    nodes,
    groups: {},
    resourceGroup: {},
    fencing: {},
    nextDeadline: null,
  }
  const s = { ...base, ...aligned(idx, base) }
  return opts.intent ? applyIntent(s, opts.intent) : s
}

/** Resources, groups and nodes of `prev` carried over to the configuration of `idx`. */
export function aligned(idx: ConfigIndex, prev: EngineState): Pick<EngineState, 'groups' | 'nodes' | 'resourceGroup'> {
  const nodes: Record<NodeName, NodeState> = {}
  for (const n of idx.input.nodes) nodes[n] = prev.nodes[n] ?? { membership: 'up', needsFence: false }
  const resourceGroup: Record<string, string> = {}
  const resources: Record<string, Record<NodeName, ResourceNodeState>> = {}
  for (const [r, ri] of idx.resources) {
    resourceGroup[r] = ri.group
    const perNode: Record<NodeName, ResourceNodeState> = {}
    for (const n of idx.groups.get(ri.group)!.cfg.nodes) {
      if (!nodes[n]) continue
      perNode[n] =
        resourceState(prev, r, n) ?? freshResourceState(ri.cfg.monitored, nodes[n]!.membership === 'fenced' ? 'offline' : 'unknown')
    }
    resources[r] = perNode
  }
  const groups: Record<string, GroupRuntime> = {}
  const reader = { rs: (r: string, n: NodeName) => resources[r]?.[n], idx }
  for (const [g, gi] of idx.groups) {
    const old = prev.groups[g]
    const mine: Record<string, Record<NodeName, ResourceNodeState>> = {}
    for (const r of gi.order) mine[r] = resources[r]!
    const want: Record<string, boolean> = {}
    for (const r of gi.order) if (old?.want[r]) want[r] = true
    groups[g] = {
      activeNode: old?.activeNode && gi.cfg.nodes.includes(old.activeNode) ? old.activeNode : null,
      want,
      lock: old?.lock ?? 'none',
      // The operator's runtime switch survives unrelated configuration changes; a change of the
      // configured value itself wins.
      failoverOnFailure: old && old.failoverConfigured === gi.cfg.failoverOnFailure ? old.failoverOnFailure : gi.cfg.failoverOnFailure,
      failoverConfigured: gi.cfg.failoverOnFailure,
      autoStartPending: old ? old.autoStartPending : gi.cfg.autoStart,
      ...(old?.operator && (old.operator.node === null || gi.cfg.nodes.includes(old.operator.node)) ? { operator: old.operator } : {}),
      nodes: deriveGroupStates(reader, gi),
      resources: mine,
      pending: { ...(old?.pending ?? {}) },
    }
  }
  return { groups, nodes, resourceGroup }
}
