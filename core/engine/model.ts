// The model of main.json shared by the engine, the config store, the CLI and the API (hb.json's is
// core/config/hb-model.ts: the engine never reads it).
// Pure data: no I/O here (the engine imports nothing that touches the world).

export type NodeName = string

import type { TypeDefaults } from '../../sdk/src/types.js'
// One definition: manifests (the SDK) and the engine speak of the same policy fields.
export type { TypeDefaults } from '../../sdk/src/types.js'

/** MCCS's shipped defaults (ARCHITECTURE.md "Engine"). A plugin manifest may change them for its type. */
export const SHIPPED_DEFAULTS: Readonly<TypeDefaults> = Object.freeze({
  monitorIntervalS: 10,
  monitorTimeoutS: 10,
  offlineMonitorIntervalS: 60,
  onlineTimeoutS: 300,
  offlineTimeoutS: 300,
  cleanTimeoutS: 60,
  toleranceLimit: 0,
  monitorTimeoutLimit: 4,
  restartLimit: 0,
  onlineRetryLimit: 0,
  confidenceIntervalS: 300,
  // Off: a fault holds until an operator clears it, unless the type (nic: a link that comes back) or
  // the configuration sets a failure timeout.
  failureTimeoutS: 0,
})

export interface ResourceConfig {
  name: string
  type: string
  group: string
  /** A critical resource's fault faults the group; a non-critical one leaves it `partial`. */
  critical: boolean
  /** Global attributes. */
  attrs: Record<string, unknown>
  /** Per-node attributes (the manual's Active / StandBy columns), merged over `attrs`. */
  nodeAttrs: Record<NodeName, Record<string, unknown>>
  /** Per-resource override of the type's policy. */
  policy: Partial<TypeDefaults>
  /** Whether monitoring is active (the manual's "activate monitoring"). */
  monitored: boolean
}

export interface GroupConfig {
  name: string
  /** Failover order: the first is the preferred node. */
  nodes: NodeName[]
  failoverOnFailure: boolean
  /** Bring the group online on its preferred available node when the cluster starts. */
  autoStart: boolean
  /** Move back to a more preferred node when it returns (off by default: no surprise moves). */
  autoFailback: boolean
}

/** `parent` depends on `child`: the child comes online first and goes offline last. */
export interface DependencyConfig {
  parent: string
  child: string
}

export interface MainConfig {
  /** Monotonic; every accepted change increments it. */
  generation: number
  groups: GroupConfig[]
  resources: ResourceConfig[]
  dependencies: DependencyConfig[]
  /** Cluster-wide overrides of type defaults, by type name. */
  types: Record<string, Partial<TypeDefaults>>
}

export function resolvePolicy(
  typeDefaults: Partial<TypeDefaults> | undefined,
  clusterOverride: Partial<TypeDefaults> | undefined,
  resourceOverride: Partial<TypeDefaults> | undefined,
): TypeDefaults {
  return { ...SHIPPED_DEFAULTS, ...(typeDefaults ?? {}), ...(clusterOverride ?? {}), ...(resourceOverride ?? {}) }
}

/** Attributes of a resource as seen on one node. */
export function resolveAttrs(r: ResourceConfig, node: NodeName): Record<string, unknown> {
  return { ...r.attrs, ...(r.nodeAttrs[node] ?? {}) }
}
