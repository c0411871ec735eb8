// A member's own mode (issue 14, What 7): standby, as its heartbeat announces it. The engine used to be told
// `fenced` for such a node (runs nothing, no fence); standby is a state of its own now: the node stays a
// member that is monitored and probed, nothing is placed there, and what is found running there is taken down.
import type { Draft } from './draft.js'
import type { NodeName } from './model.js'
import { candidate } from './placement.js'
import { msg } from './said.js'

export function onNodeMode(d: Draft, n: NodeName, standby: boolean): void {
  const ns = d.node(n)
  if (!ns || !!ns.standby === standby) return
  const w = d.wnode(n)
  if (!standby) {
    delete w.standby
    for (const g of d.idx.groupsByNode.get(n) ?? []) d.wgroup(g) // a group waiting for a node may start here now
    return
  }
  w.standby = true
  for (const g of d.idx.groupsByNode.get(n) ?? []) {
    const gs = d.group(g)
    const gi = d.idx.groups.get(g)
    if (!gs || !gi) continue
    d.wgroup(g) // reconcile: what still runs there is taken down
    if (gs.activeNode !== n || gs.lock !== 'none') continue
    // The node moved its groups before it said standby; one still aimed here goes to its next node, or
    // waits for one (the operator wanted it online).
    const to = candidate(d, gi, n)
    const wg = d.wgroup(g)
    wg.activeNode = to
    if (to) d.notice({ kind: 'groupFailover', group: g, node: to, ...msg('said.standby', { node: n }, `${n} is in standby`) })
    else wg.autoStartPending = true
  }
}
