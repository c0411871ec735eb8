// The configuration, indexed by group once per config object (cached), so a step touches only the
// groups an event concerns instead of walking the whole configuration.

import { findCycle, onlineOrder } from './graph.js'
import type { Said } from './said.js'
import { resolvePolicy, type MainConfig, type NodeName, type ResourceConfig, type GroupConfig, type TypeDefaults } from './model.js'

/** What every engine call is given besides state and event. */
export interface EngineInput {
  config: MainConfig
  /** Manifest defaults per resource type. */
  types: Record<string, Partial<TypeDefaults>>
  /** All nodes of the cluster. */
  nodes: NodeName[]
  /** Nodes in limited mode (no valid license, manual 5.4) and why; absent or omitted: licensed.
   *  Such a node takes part in no automatic failover, auto-start or failback (license.ts). */
  limited?: Readonly<Record<NodeName, string>>
  /** The same reasons in words (core/license's said.lic.*), where the license state has them: the notice
   *  that limited mode stopped a move then reads in the reader's language. */
  limitedSaid?: Readonly<Record<NodeName, Said>>
}

export interface ResourceIndex {
  cfg: ResourceConfig
  group: string
  policy: TypeDefaults
  /** Resources that depend on this one (same group). */
  parents: string[]
  /** Resources this one depends on (same group). */
  children: string[]
}

export interface GroupIndex {
  cfg: GroupConfig
  /** Children first. */
  order: string[]
  /** The dependency cycle, when the group's graph has one (the engine then refuses to act on it). */
  cycle: string[] | null
}

export interface ConfigIndex {
  input: EngineInput
  groups: Map<string, GroupIndex>
  resources: Map<string, ResourceIndex>
  /** node -> groups that list it. */
  groupsByNode: Map<NodeName, string[]>
}

const cache = new WeakMap<MainConfig, ConfigIndex>()

export function indexConfig(input: EngineInput): ConfigIndex {
  const hit = cache.get(input.config)
  if (hit && hit.input.types === input.types && sameNodes(hit.input.nodes, input.nodes)) return hit
  const idx = build(input)
  cache.set(input.config, idx)
  return idx
}

function sameNodes(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((n, i) => n === b[i]))
}

function build(input: EngineInput): ConfigIndex {
  const { config, types } = input
  const groups = new Map<string, GroupIndex>()
  const resources = new Map<string, ResourceIndex>()
  const members = new Map<string, string[]>()
  for (const g of config.groups) members.set(g.name, [])
  for (const r of config.resources) {
    const list = members.get(r.group)
    if (!list) continue // dangling group reference: the config checker (config/validate.ts) refuses it; the engine ignores the resource
    list.push(r.name)
    resources.set(r.name, {
      cfg: r,
      group: r.group,
      parents: [],
      children: [],
      policy: resolvePolicy(types[r.type], config.types[r.type], r.policy),
    })
  }
  const edges = new Map<string, { parent: string; child: string }[]>()
  for (const d of config.dependencies) {
    const p = resources.get(d.parent)
    const c = resources.get(d.child)
    if (!p || !c || p.group !== c.group || d.parent === d.child) continue
    if (p.children.includes(d.child)) continue
    p.children.push(d.child)
    c.parents.push(d.parent)
    const list = edges.get(p.group) ?? []
    list.push({ parent: d.parent, child: d.child })
    edges.set(p.group, list)
  }
  for (const g of config.groups) {
    const names = members.get(g.name) ?? []
    const es = edges.get(g.name) ?? []
    const cycle = es.length ? findCycle(names, es) : null
    groups.set(g.name, { cfg: g, cycle, order: cycle ? [...names] : onlineOrder(names, es) })
  }
  const groupsByNode = new Map<NodeName, string[]>()
  for (const g of config.groups) {
    for (const n of g.nodes) {
      const list = groupsByNode.get(n) ?? []
      list.push(g.name)
      groupsByNode.set(n, list)
    }
  }
  return { input, groups, resources, groupsByNode }
}

/** Every ancestor (transitive parents) of `r`, nearest first. */
export function ancestors(idx: ConfigIndex, r: string): string[] {
  return closure(idx, r, (x) => x.parents)
}

/** Every descendant (transitive children) of `r`, nearest first. */
export function descendants(idx: ConfigIndex, r: string): string[] {
  return closure(idx, r, (x) => x.children)
}

function closure(idx: ConfigIndex, r: string, next: (x: ResourceIndex) => string[]): string[] {
  const seen = new Set<string>([r])
  const out: string[] = []
  const queue = [r]
  for (let i = 0; i < queue.length; i++) {
    const ri = idx.resources.get(queue[i]!)
    for (const m of ri ? next(ri) : []) {
      if (seen.has(m)) continue
      seen.add(m)
      out.push(m)
      queue.push(m)
    }
  }
  return out
}
