// Turns a group's goal (activeNode + wanted resources) into one plan: take down what runs where it should
// not (parents first), then bring up what is wanted on the active node (children first). Runs only when
// the group has nothing in flight, so plans of one group never overlap.

import type { Draft } from './draft.js'
import type { NodeName } from './model.js'
import type { Action } from './plan.js'
import { nodeUsable, unsafeElsewhere } from './placement.js'
import { autoTarget, limitedWhy } from './license.js'
import { groupStateOn } from './group-state.js'
import { mayRun } from './state.js'
import { msg, type Worded } from './said.js'

export function reconcile(d: Draft, g: string): void {
  const gi = d.idx.groups.get(g)
  const gs0 = d.group(g)
  if (!gi || !gs0 || gi.cycle || d.busy(g)) return

  // Learn the truth first: probe what is unknown on reachable nodes, and act only once it is known.
  let unknownUp = false
  for (const n of gi.cfg.nodes) {
    if (!d.isUp(n) || d.node(n)?.maintenance) continue // a node in maintenance is not probed
    for (const r of gi.order) {
      const s = d.rs(r, n)
      if (!s || s.state !== 'unknown' || s.needsFence) continue
      unknownUp = true
      if (!s.probeSent) {
        d.wrs(r, n).probeSent = true
        d.emit({ kind: 'probe', resource: r, node: n, ...msg('said.why.stateUnknown', {}, 'state unknown') })
      }
    }
  }
  if (unknownUp) return

  if (gs0.lock === 'none') autoPlacement(d, g)
  const gs = d.group(g)!
  const target = gs.activeNode

  // 1. Offlines, per node.
  const off = new Map<NodeName, Map<string, string>>() // node -> resource -> action id
  const offActions: Action[] = []
  for (const n of gi.cfg.nodes) {
    // A node awaiting a fence is left alone: a stuck resource there may still hold its children.
    if (!d.isUp(n) || d.node(n)?.needsFence || d.node(n)?.maintenance || gi.order.some((r) => d.rs(r, n)?.needsFence)) continue
    const set = new Set<string>()
    for (const r of gi.order) {
      const s = d.rs(r, n)
      if (!s || s.state === 'unknown') continue
      const need = n !== target ? mayRun(s) : (s.state === 'online' && !gs.want[r]) || (s.state === 'faulted' && !s.stopped)
      if (need) set.add(r)
    }
    if (!set.size) continue
    // A child goes down only after its parents: add the parents still up.
    const queue = [...set]
    for (let i = 0; i < queue.length; i++) {
      for (const p of d.idx.resources.get(queue[i]!)!.parents) {
        const ps = d.rs(p, n)
        if (!set.has(p) && ps && (ps.state === 'online' || (ps.state === 'faulted' && !ps.stopped))) {
          set.add(p)
          queue.push(p)
        }
      }
    }
    const ids = new Map<string, string>()
    for (let i = gi.order.length - 1; i >= 0; i--) {
      const r = gi.order[i]!
      if (!set.has(r)) continue
      const after = d.idx.resources
        .get(r)!
        .parents.filter((p) => ids.has(p))
        .map((p) => ids.get(p)!)
      const a = d.emit({ kind: 'offline', resource: r, node: n, after, ...offlineReason(d, g, r, n, target) })
      ids.set(r, a.id)
      offActions.push(a)
      const s = d.rs(r, n)!
      if (s.state !== 'faulted') d.wrs(r, n).state = 'offlining'
    }
    off.set(n, ids)
  }

  // 2. Onlines on the active node, once nothing that may run elsewhere is out of reach.
  if (target === null || !d.isUp(target) || d.node(target)?.needsFence || d.node(target)?.maintenance) return
  if (unsafeElsewhere(d, gi, target) !== null) return
  const goingDown = off.get(target) ?? new Map<string, string>()
  const staysUp = (r: string): boolean => d.rs(r, target)?.state === 'online' && !goingDown.has(r)
  // Leaves of the online set wait for the last offlines (those no other offline waits on).
  const referenced = new Set<string>()
  for (const a of offActions) for (const x of a.after) referenced.add(x)
  const sinks = offActions.filter((a) => !referenced.has(a.id)).map((a) => a.id)
  const on = new Map<string, string>()
  for (const r of gi.order) {
    if (staysUp(r) || !gs.want[r]) continue
    const s = d.rs(r, target)
    if (!s || s.needsFence) continue
    // Offline now, or being taken down by this plan to come back (a restart and its dependants).
    const startable = s.state === 'faulted' ? s.restart : s.state === 'offline' || goingDown.has(r)
    if (!startable) continue
    const children = d.idx.resources.get(r)!.children
    if (!children.every((c) => staysUp(c) || on.has(c))) continue
    const childIds = children.filter((c) => on.has(c)).map((c) => on.get(c)!)
    const a = d.emit({
      kind: 'online',
      resource: r,
      node: target,
      after: childIds.length ? childIds : sinks,
      ...(s.state === 'faulted'
        ? msg('said.why.restartInPlace', {}, 'restart in place')
        : msg('said.why.wantedOnline', {}, 'wanted online')),
    })
    on.set(r, a.id)
    if (s.state === 'offline') d.wrs(r, target).state = 'onlining'
  }
}

/** autoStart (once every reachable node is probed) and failback; never for a locked group. */
function autoPlacement(d: Draft, g: string): void {
  const gi = d.idx.groups.get(g)!
  const gs = d.group(g)!
  if (gs.autoStartPending) {
    // The node the operator chose (an online or switch a coordinator change interrupted) when it can take it.
    const chosen = gs.operator?.node
    const to = gs.activeNode ?? (chosen && nodeUsable(d, gi, chosen) ? chosen : autoTarget(d, gi).to)
    if (to && (gs.activeNode !== null || unsafeElsewhere(d, gi, to) === null)) {
      const w = d.wgroup(g)
      w.autoStartPending = false
      w.activeNode = to
      for (const r of gi.order) w.want[r] = true
    }
    return
  }
  if (gi.cfg.autoFailback && gs.activeNode !== null && groupStateOn(d, gi, gs.activeNode) === 'online') {
    for (const n of gi.cfg.nodes) {
      if (n === gs.activeNode) break
      if (nodeUsable(d, gi, n) && limitedWhy(d, n) === undefined && limitedWhy(d, gs.activeNode) === undefined) {
        d.notice({
          kind: 'groupFailover',
          group: g,
          node: n,
          ...msg('said.failback', { from: gs.activeNode }, `failback from ${gs.activeNode}`),
        })
        d.wgroup(g).activeNode = n
        break
      }
    }
  }
}

function offlineReason(d: Draft, g: string, r: string, n: NodeName, target: NodeName | null): Worded {
  const s = d.rs(r, n)!
  if (s.state === 'faulted')
    return s.restart ? msg('said.why.restartInPlace', {}, 'restart in place') : msg('said.why.faultedDown', {}, 'faulted: take down')
  if (target === null) return msg('said.why.groupOffline', {}, 'group offline')
  if (n !== target) return msg('said.why.belongsOn', { node: target }, `group belongs on ${target}`)
  return d.group(g)!.want[r]
    ? msg('said.why.dependencyRestarts', {}, 'dependency restarts')
    : msg('said.why.notWanted', {}, 'not wanted online')
}
