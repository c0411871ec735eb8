// Referential checks of a main configuration (the config store runs them before a commit). Every
// problem is returned, none thrown, each with a JSON path into the configuration.

import type { ErrorCode } from '../errors.js'
import { findCycle } from './graph.js'
import type { MainConfig, NodeName } from './model.js'

export interface ValidationIssue {
  /** JSON pointer into the configuration, e.g. `/dependencies/3`. */
  field: string
  code: ErrorCode
  reason: string
}

/** `nodes`: the cluster's nodes; when given, group nodes and per-node attributes must name them. */
export function validate(config: MainConfig, nodes?: readonly NodeName[]): ValidationIssue[] {
  const out: ValidationIssue[] = []
  const known = nodes ? new Set(nodes) : null
  const groups = new Map<string, number>()
  config.groups.forEach((g, i) => {
    if (groups.has(g.name)) out.push({ field: `/groups/${i}/name`, code: 'MCCS_ERR_CONFLICT', reason: `group ${g.name} is defined twice` })
    groups.set(g.name, i)
    const seen = new Set<string>()
    g.nodes.forEach((n, j) => {
      if (known && !known.has(n)) out.push({ field: `/groups/${i}/nodes/${j}`, code: 'MCCS_ERR_CONFIG_REF', reason: `unknown node ${n}` })
      if (seen.has(n)) out.push({ field: `/groups/${i}/nodes/${j}`, code: 'MCCS_ERR_CONFLICT', reason: `node ${n} listed twice` })
      seen.add(n)
    })
  })
  const resources = new Map<string, { group: string; index: number }>()
  config.resources.forEach((r, i) => {
    if (resources.has(r.name)) out.push({ field: `/resources/${i}/name`, code: 'MCCS_ERR_CONFLICT', reason: `resource ${r.name} is defined twice` })
    resources.set(r.name, { group: r.group, index: i })
    if (!groups.has(r.group)) out.push({ field: `/resources/${i}/group`, code: 'MCCS_ERR_CONFIG_REF', reason: `unknown group ${r.group}` })
    const gi = groups.get(r.group)
    const groupNodes = gi === undefined ? null : new Set(config.groups[gi]!.nodes)
    for (const n of Object.keys(r.nodeAttrs)) {
      const unknown = known ? !known.has(n) : groupNodes ? !groupNodes.has(n) : false
      if (unknown) out.push({ field: `/resources/${i}/nodeAttrs/${escape(n)}`, code: 'MCCS_ERR_CONFIG_REF', reason: `attributes for unknown node ${n}` })
    }
  })
  const edgesByGroup = new Map<string, { parent: string; child: string; index: number }[]>()
  config.dependencies.forEach((dep, i) => {
    const p = resources.get(dep.parent)
    const c = resources.get(dep.child)
    if (!p) out.push({ field: `/dependencies/${i}/parent`, code: 'MCCS_ERR_CONFIG_REF', reason: `unknown resource ${dep.parent}` })
    if (!c) out.push({ field: `/dependencies/${i}/child`, code: 'MCCS_ERR_CONFIG_REF', reason: `unknown resource ${dep.child}` })
    if (!p || !c) return
    if (p.group !== c.group) {
      out.push({ field: `/dependencies/${i}`, code: 'MCCS_ERR_DEP_GROUP', reason: `${dep.parent} (group ${p.group}) and ${dep.child} (group ${c.group}) are in different groups` })
      return
    }
    const list = edgesByGroup.get(p.group) ?? []
    list.push({ ...dep, index: i })
    edgesByGroup.set(p.group, list)
  })
  for (const [, edges] of edgesByGroup) {
    const names = new Set(edges.flatMap((e) => [e.parent, e.child]))
    const cycle = findCycle(names, edges)
    if (!cycle) continue
    // Point at the dependency that closes the cycle.
    const last = edges.find((e) => e.parent === cycle[cycle.length - 2] && e.child === cycle[cycle.length - 1])
    out.push({ field: `/dependencies/${last?.index ?? edges[0]!.index}`, code: 'MCCS_ERR_DEP_CYCLE', reason: `dependency cycle: ${cycle.join(' -> ')}` })
  }
  return out
}

/** JSON pointer escaping of one path segment. */
function escape(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1')
}
