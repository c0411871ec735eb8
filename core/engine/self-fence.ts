// Self-fencing: a node that lost quorum takes its own resources offline with no coordinator to plan it.
// Which resources, and in which order, is an ordering decision like any other: it is made here (pure)
// and the agent only carries it out.

import { onlineOrder } from './graph.js'
import type { MainConfig, NodeName } from './model.js'

export interface SelfFenceGroup {
  group: string
  /** Offline order: parents before the children they depend on (the online order reversed). */
  resources: string[]
}

/** Every group that lists `node`, with its resources in offline order. Groups are independent of each
 *  other (a dependency links resources of one group), so they may be taken offline in parallel. */
export function selfFenceOrder(config: MainConfig, node: NodeName): SelfFenceGroup[] {
  return config.groups
    .filter((g) => g.nodes.includes(node))
    .map((g) => {
      const names = config.resources.filter((r) => r.group === g.name).map((r) => r.name)
      return {
        group: g.name,
        resources: onlineOrder(
          names,
          config.dependencies.filter((d) => names.includes(d.parent)),
        ).reverse(),
      }
    })
}
