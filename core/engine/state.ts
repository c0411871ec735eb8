// The engine's runtime state: what it believes of every resource on every node, of every group and node,
// and which actions it is waiting for. Plain JSON (no Map, no class instance, no clock object) so the agent can persist
// it (persistent locks, faults) and a test can compare it.

import type { NodeName } from './model.js'
import type { Action } from './plan.js'
import type { Said } from './said.js'

export type ResourceStateName = 'offline' | 'onlining' | 'online' | 'offlining' | 'faulted' | 'unknown'
export type GroupStateName = 'offline' | 'onlining' | 'online' | 'partial' | 'offlining' | 'faulted'
export type Membership = 'up' | 'down' | 'fenced'
export type LockKind = 'none' | 'temporary' | 'persistent'

export interface ResourceNodeState {
  state: ResourceStateName
  /** Monitoring active (the manual's "resource activation"). */
  monitored: boolean
  /** Consecutive monitors that answered notRunning/failed. */
  misses: number
  /** Consecutive monitors that timed out. */
  timeouts: number
  /** Restarts in place used (reset after `confidenceIntervalS` healthy, or by clear). */
  restarts: number
  /** Online retries used (reset like `restarts`). */
  onlineRetries: number
  /** ms since which the resource has been continuously healthy, or null. */
  healthySince: number | null
  lastFault: string | null
  /** lastFault in words of the locale files (core/engine/said.ts); absent when restored from an older file. */
  lastFaultSaid?: Said
  /** ms of the last fault (for failureTimeoutS); null when none, or restored without it. */
  faultedAt: number | null
  /** A clean failed here: only fencing the node makes it safe again. */
  needsFence: boolean
  /** Faulted, and the policy restarts it in place (offline, then online again). */
  restart: boolean
  /** Faulted, and its offline/clean completed: nothing of it runs here, the fault stays until clear. */
  stopped: boolean
  /** A probe was sent since the state became unknown (so an inconclusive probe is not resent in a loop). */
  probeSent: boolean
}

export interface GroupRuntime {
  /** Where the group runs or is going; null: nowhere (offline everywhere). */
  activeNode: NodeName | null
  /** Resources that should be online on `activeNode` (the group's target; partial groups have a subset). */
  want: Record<string, boolean>
  lock: LockKind
  failoverOnFailure: boolean
  /** The configured failoverOnFailure when the state was last aligned (to tell an operator's switch
   *  from a configuration change). */
  failoverConfigured: boolean
  /** autoStart not done yet: the group starts once every reachable node has been probed. */
  autoStartPending: boolean
  /** The operator's last word on where the group runs (issue 14, finding 8): `node: null` after groupOffline
   *  (held offline: nothing adopts or starts it until the operator brings it online or flushes it), a node
   *  after groupOnline/groupSwitch/resourceOnline. Absent: no word (autoStart and failover decide). Part of
   *  the operator's intent a new coordinator starts from (intent.ts). */
  operator?: { node: NodeName | null }
  /** Derived per-node state (recomputed whenever the group is touched). */
  nodes: Record<NodeName, GroupStateName>
  /** resource -> node -> state, for the group's nodes. Kept per group so a step copies only what it touches. */
  resources: Record<string, Record<NodeName, ResourceNodeState>>
  /** This group's actions in flight, by id: what the engine is waiting for. */
  pending: Record<string, Action>
}

export interface NodeState {
  membership: Membership
  /** Lost (or a clean failed there) and not fenced yet: nothing may move off it until it is. */
  needsFence: boolean
  /** In maintenance (mccs node maintenance, Pacemaker's node maintenance mode): what runs there is left as
   *  it is — not monitored, not probed, not started or stopped, never moved elsewhere while it may still run
   *  there; nothing new is placed there. A lost node is still fenced. */
  maintenance?: true
  /** In standby (the node announced it: mccs node standby): a member that runs nothing of ours by its own
   *  word — nothing is placed there, a group still aimed at it moves on, and what a probe or monitor finds
   *  running there is taken down, not adopted. Monitored and probed like any member. */
  standby?: true
}

export interface EngineState {
  /** Counter for action ids (deterministic, never random). */
  seq: number
  /** The config generation the state was last aligned with. */
  generation: number
  nodes: Record<NodeName, NodeState>
  groups: Record<string, GroupRuntime>
  /** resource -> its group (where its state lives). Changes only with the configuration. */
  resourceGroup: Record<string, string>
  /** Fence actions in flight, by id (they belong to no group). */
  fencing: Record<string, Action>
  /** No action in flight is due before this (a lower bound, so that a quiet tick need not look at every
   *  action); null: none in flight; absent: not known (the next tick looks). */
  nextDeadline?: number | null
}

/** The state of resource `r` on node `n`, if the resource exists there. */
export function resourceState(state: EngineState, r: string, n: NodeName): ResourceNodeState | undefined {
  const g = state.resourceGroup[r]
  return g === undefined ? undefined : state.groups[g]?.resources[r]?.[n]
}

/** Resources of node `n` whose clean failed there: only fencing `n` makes them safe. This is the one case
 *  the engine asks to fence a node that is up (a member); a lost node's fence is withdrawn when it is back. */
export function stuckResources(state: EngineState, n: NodeName): string[] {
  const out: string[] = []
  for (const g of Object.values(state.groups)) {
    for (const [r, byNode] of Object.entries(g.resources)) if (byNode[n]?.needsFence) out.push(r)
  }
  return out
}

/** Every action in flight. */
export function pendingActions(state: EngineState): Action[] {
  const out = Object.values(state.fencing)
  for (const g of Object.values(state.groups)) out.push(...Object.values(g.pending))
  return out
}

export function freshResourceState(monitored: boolean, state: ResourceStateName = 'unknown'): ResourceNodeState {
  return {
    state,
    monitored,
    misses: 0,
    timeouts: 0,
    restarts: 0,
    onlineRetries: 0,
    healthySince: null,
    lastFault: null,
    faultedAt: null,
    needsFence: false,
    restart: false,
    stopped: false,
    probeSent: false,
  }
}

/** Faulted and not being restarted: the fault holds until an operator clears it. */
export function isStickyFault(s: ResourceNodeState): boolean {
  return s.state === 'faulted' && !s.restart
}

/** Something of the resource may run there (the engine must take it down before anything moves). */
export function mayRun(s: ResourceNodeState): boolean {
  return (
    s.state === 'online' ||
    s.state === 'onlining' ||
    s.state === 'offlining' ||
    s.state === 'unknown' ||
    (s.state === 'faulted' && !s.stopped)
  )
}
