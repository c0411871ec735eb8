// A node's new name in main.json and hb.json (issue 16: Rename node). Pure: the live change (core/agent/
// hb-change.ts, generations + 1, replicated in two phases) and the renamed host's own copy (core/setup/
// rename-node.ts, generations kept so the cluster's newer pair replaces it) rename the same way.
import type { MainConfig } from '../engine/index.js'
import type { HbConfig } from './hb-model.js'

/** Every main.json reference to node `from` given to `to`: group node lists, per-node attributes. */
export function renameNodeInMain(main: Readonly<MainConfig>, from: string, to: string): MainConfig {
  const next = structuredClone(main) as MainConfig
  for (const g of next.groups ?? []) if (Array.isArray(g.nodes)) g.nodes = g.nodes.map((n) => (n === from ? to : n))
  for (const r of next.resources ?? []) {
    if (!r.nodeAttrs || !(from in r.nodeAttrs)) continue
    // Rebuilt in the same key order, so the file reads as before with the one name changed.
    r.nodeAttrs = Object.fromEntries(Object.entries(r.nodeAttrs).map(([n, a]) => [n === from ? to : n, a]))
  }
  return next
}

/** hb.json with node `from` named `to`: same place in the list, same addresses, votes and fence devices. */
export function renameNodeInHb(hb: Readonly<HbConfig>, from: string, to: string): HbConfig {
  const next = structuredClone(hb) as HbConfig
  for (const n of next.nodes) if (n.name === from) n.name = to
  return next
}
