// The operator's intent (issue 14, finding 8): what the operator said about each group — held offline or
// placed on a node, locked, its failover switch — and which nodes it put in maintenance, as plain data taken from the engine state. The agent of
// the coordinator replicates it to every node before it acknowledges a command (core/agent/intent-sync.ts),
// and a new coordinator starts its engine from it (applyIntent), so no coordinator change overrides what
// the operator said: a group taken offline stays offline, a lock stays, a switch goes on to the node chosen.
// Pure: no I/O, no clock.

import type { NodeName } from './model.js'
import type { EngineState, GroupRuntime } from './state.js'

export interface GroupIntent {
  /** null: held offline (groupOffline); a node: brought online or switched there. Absent: no word. */
  target?: NodeName | null
  lock?: 'temporary' | 'persistent'
  /** The operator's failover switch and the configured value it was set against (a later change of the
   *  configured value itself wins, as in align.ts). Absent: the configuration's. */
  failover?: { on: boolean; configured: boolean }
}

export interface OperatorIntent {
  groups: Record<string, GroupIntent>
  /** Nodes the operator put in maintenance (absent: none). */
  nodes?: Record<NodeName, { maintenance?: true }>
}

/** The intent held in an engine state. Deterministic (groups in the state's order), so two intents compare
 *  as JSON text. */
export function intentOf(state: EngineState): OperatorIntent {
  const groups: Record<string, GroupIntent> = {}
  for (const [g, gs] of Object.entries(state.groups)) {
    const gi: GroupIntent = {}
    if (gs.operator) gi.target = gs.operator.node
    if (gs.lock !== 'none') gi.lock = gs.lock
    if (gs.failoverOnFailure !== gs.failoverConfigured) gi.failover = { on: gs.failoverOnFailure, configured: gs.failoverConfigured }
    groups[g] = gi
  }
  const nodes: Record<NodeName, { maintenance?: true }> = {}
  for (const [n, ns] of Object.entries(state.nodes)) if (ns.maintenance) nodes[n] = { maintenance: true }
  return Object.keys(nodes).length ? { groups, nodes } : { groups }
}

export function sameIntent(a: OperatorIntent, b: OperatorIntent): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** The intent that survives a restart of the whole cluster (no agent kept it in memory): a temporary lock
 *  ends with the agents that held it, and the node an online or switch chose gives way to autoStart; an
 *  offline hold, a persistent lock and the failover switch stay (the engine state file kept them before). */
export function afterRestart(i: OperatorIntent): OperatorIntent {
  const groups: Record<string, GroupIntent> = {}
  for (const [g, gi] of Object.entries(i.groups)) {
    const out: GroupIntent = {}
    if (gi.target === null) out.target = null
    if (gi.lock === 'persistent') out.lock = 'persistent'
    if (gi.failover) out.failover = gi.failover
    groups[g] = out
  }
  // Maintenance is kept like a persistent lock: the operator ends it.
  return i.nodes ? { groups, nodes: i.nodes } : { groups }
}

/** A fresh engine state (a new coordinator's, before its start probes) with the operator's intent applied.
 *  The intent is authoritative for the groups it names; a group it does not name (added since) keeps what
 *  the state has. A node target is not a placement yet: the start probes adopt what runs, and only a group
 *  found nowhere starts, on the operator's node when it can take it (reconcile.ts). */
export function applyIntent(state: EngineState, intent: OperatorIntent): EngineState {
  const groups: Record<string, GroupRuntime> = { ...state.groups }
  for (const [g, gi] of Object.entries(intent.groups)) {
    const cur = groups[g]
    if (!cur) continue
    const w: GroupRuntime = { ...cur }
    w.lock = gi.lock === 'temporary' || gi.lock === 'persistent' ? gi.lock : 'none'
    w.failoverOnFailure = gi.failover && gi.failover.configured === cur.failoverConfigured ? gi.failover.on : cur.failoverConfigured
    if (gi.target === null) {
      w.operator = { node: null }
      w.activeNode = null
      w.want = {}
      w.autoStartPending = false
    } else if (typeof gi.target === 'string' && gi.target in cur.nodes) {
      w.operator = { node: gi.target }
      w.autoStartPending = true // the operator wants it online, whatever autoStart says
    } else {
      delete w.operator
    }
    groups[g] = w
  }
  const nodes = { ...state.nodes }
  for (const [n, ns] of Object.entries(nodes)) {
    const m = intent.nodes?.[n]?.maintenance === true
    if (m === !!ns.maintenance) continue
    const w = { ...ns }
    if (m) w.maintenance = true
    else delete w.maintenance
    nodes[n] = w
  }
  return { ...state, groups, nodes }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Why `v` is not an OperatorIntent (a replicated or saved record is checked before use), or null. */
export function intentProblem(v: unknown): string | null {
  if (!isObj(v) || !isObj(v.groups)) return '/groups: must be an object'
  for (const [g, gi] of Object.entries(v.groups)) {
    if (!isObj(gi)) return `/groups/${g}: must be an object`
    if (gi.target !== undefined && gi.target !== null && typeof gi.target !== 'string')
      return `/groups/${g}/target: must be a node name or null`
    if (gi.lock !== undefined && gi.lock !== 'temporary' && gi.lock !== 'persistent')
      return `/groups/${g}/lock: must be 'temporary' or 'persistent'`
    if (
      gi.failover !== undefined &&
      (!isObj(gi.failover) || typeof gi.failover.on !== 'boolean' || typeof gi.failover.configured !== 'boolean')
    ) {
      return `/groups/${g}/failover: must be {on, configured} booleans`
    }
  }
  if (v.nodes !== undefined) {
    if (!isObj(v.nodes)) return '/nodes: must be an object'
    for (const [n, ni] of Object.entries(v.nodes)) {
      if (!isObj(ni) || (ni.maintenance !== undefined && ni.maintenance !== true)) return `/nodes/${n}: must be {maintenance: true} or {}`
    }
  }
  return null
}
