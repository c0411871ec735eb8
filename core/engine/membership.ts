// Nodes joining, leaving and being fenced; agent start; ticks. The safety rule lives here: a lost
// node's resources are unknown until it is fenced, and its groups move only after that.

import type { Draft } from './draft.js'
import type { Membership } from './state.js'
import type { NodeName } from './model.js'
import { autoTarget } from './license.js'
import { confidence } from './policy.js'
import { expireLost } from './deadlines.js'
import { expireFault } from './fault-expiry.js'
import { msg, type Worded } from './said.js'

export function onNodeChange(d: Draft, n: NodeName, m: Membership): void {
  const ns = d.node(n)
  if (!ns) return
  if (m === 'fenced') return fenced(d, n)
  if (m === ns.membership) return
  if (m === 'down') {
    d.wnode(n).membership = 'down'
    d.wnode(n).needsFence = true
    dropPendingOn(d, n, `${n} was lost`)
    eachResourceOn(d, n, (r) => {
      const s = d.rs(r, n)!
      if (s.state === 'offline' || (s.state === 'faulted' && s.stopped)) return // nothing ran there
      const w = d.wrs(r, n)
      w.state = 'unknown'
      w.probeSent = false
    })
    requestFence(d, n, msg('said.nodeLost', { node: n }, `${n} was lost`))
    return
  }
  // up: the node (re)joined; what runs there is unknown until probed.
  d.wnode(n).membership = 'up'
  withdrawFence(d, n)
  probeNode(d, n)
}

/** A node that is back needs no fence for having been lost: its fence, if not done yet, is cancelled
 *  (fencing a member kills a healthy node) and the probes tell what runs there. A resource whose clean
 *  failed is still stuck there: then the fence stands. */
function withdrawFence(d: Draft, n: NodeName): void {
  if (!d.node(n)!.needsFence || stuckOn(d, n)) return
  for (const a of d.fencePending(n)) d.cancel(a.id, `${n} is back`)
  d.wnode(n).needsFence = false
  d.notice({
    kind: 'fenceWithdrawn',
    node: n,
    ...msg('said.fenceWithdrawn', { node: n }, `${n} is back before it was fenced: probing it instead`),
  })
}

/** A clean failed on `n`: only fencing the node makes that resource safe. */
function stuckOn(d: Draft, n: NodeName): boolean {
  let stuck = false
  eachResourceOn(d, n, (r) => {
    if (d.rs(r, n)!.needsFence) stuck = true
  })
  return stuck
}

/** Asks the cluster layer to fence `n`, once (a failed fence is retried on tick). */
export function requestFence(d: Draft, n: NodeName, why: Worded): void {
  if (d.fencePending(n).length) return
  d.emit({ kind: 'fence', node: n, ...why })
  d.notice({ kind: 'needsFence', node: n, ...why })
}

/** The node is down and provably runs nothing: its resources are offline; its groups may move. */
export function fenced(d: Draft, n: NodeName): void {
  if (!d.node(n)) return
  const wasUp = d.node(n)!.membership === 'up'
  const w = d.wnode(n)
  w.membership = 'fenced'
  w.needsFence = false
  dropPendingOn(d, n, `${n} was fenced`)
  for (const a of d.fencePending(n)) d.forget(a.id)
  eachResourceOn(d, n, (r) => {
    const s = d.wrs(r, n)
    s.needsFence = false
    s.restart = false
    s.healthySince = null
    if (s.state === 'faulted') s.stopped = true
    else s.state = 'offline'
  })
  d.notice({
    kind: 'nodeFenced',
    node: n,
    ...(wasUp ? msg('said.fencedWhileUp', { node: n }, `${n} fenced while up`) : msg('said.fenced', { node: n }, `${n} fenced`)),
  })
  for (const g of d.idx.groupsByNode.get(n) ?? []) {
    const gs = d.group(g)
    const gi = d.idx.groups.get(g)
    if (!gs || !gi) continue
    d.wgroup(g) // touch: reconcile may now proceed
    if (gs.activeNode !== n || gs.lock !== 'none') continue
    if (!gi.cfg.failoverOnFailure && !gi.cfg.autoStart) {
      d.wgroup(g).activeNode = null
      d.notice({
        kind: 'noFailoverTarget',
        group: g,
        node: n,
        ...msg('said.lostNoMove', {}, 'node lost; group neither fails over nor autostarts'),
      })
      continue
    }
    const { to, blocked } = autoTarget(d, gi, n)
    const wg = d.wgroup(g)
    wg.activeNode = to
    if (to)
      d.notice({ kind: 'groupFailover', group: g, node: to, ...msg('said.failoverLost', { from: n }, `failover from lost node ${n}`) })
    else if (blocked !== undefined) {
      // Limited mode (license.ts): the group stays down until the operator acts.
      d.notice({
        kind: 'noFailoverTarget',
        group: g,
        node: n,
        code: 'MCCS_ERR_LICENSE_LIMITED',
        ...msg('said.lostBlocked', { why: blocked.said ?? blocked.reason }, `node lost; ${blocked.reason}`),
      })
    } else {
      // Start wherever a node becomes usable: the group fails over or autostarts, its target only
      // comes later (another node back, a fault cleared or expired).
      wg.autoStartPending = true
      d.notice({ kind: 'noFailoverTarget', group: g, node: n, ...msg('said.noOtherNode', {}, 'no other node can take the group') })
    }
  }
}

/** The agent started on `n`: whatever it was doing is lost; probe everything there. */
export function onStart(d: Draft, node?: NodeName): void {
  const nodes = node ? [node] : d.nodeNames().filter((n) => d.isUp(n))
  for (const n of nodes) {
    if (!d.node(n)) continue
    if (!d.isUp(n)) d.wnode(n).membership = 'up'
    dropPendingOn(d, n, `agent on ${n} restarted`)
    probeNode(d, n)
  }
  // Startup fencing: a node that may run something and cannot be reached must be fenced first.
  for (const n of d.nodeNames()) {
    const ns = d.node(n)!
    if (ns.membership === 'down' && ns.needsFence)
      requestFence(d, n, msg('said.unreachableAtStart', { node: n }, `${n} not reachable at start`))
  }
}

export function onTick(d: Draft): void {
  expireLost(d)
  for (const n of d.nodeNames()) {
    // A failed fence is retried while the node is lost, or while a resource is stuck there; never
    // against a node that came back (withdrawFence).
    const ns = d.node(n)!
    if (ns.needsFence && (ns.membership !== 'up' || stuckOn(d, n)))
      requestFence(d, n, msg('said.retryFence', { node: n }, `retry fencing ${n}`))
  }
  // One pass over every resource (a tick comes every second): counter resets, also checked on monitor
  // results (the tick catches quiet resources), and faults past their failure timeout.
  for (const [g, gi] of d.idx.groups) {
    const byResource = d.group(g)?.resources
    if (!byResource) continue
    for (const r of gi.order) {
      const byNode = byResource[r]
      if (!byNode) continue
      const limitS = d.idx.resources.get(r)!.policy.failureTimeoutS
      for (const n of gi.cfg.nodes) {
        const s = byNode[n]
        if (!s) continue
        if (s.state === 'online' && (s.restarts > 0 || s.onlineRetries > 0)) confidence(d, r, n)
        else if (s.state === 'faulted' && limitS > 0) expireFault(d, r, n, limitS)
      }
    }
  }
}

/** Marks every (non-faulted) resource on `n` unknown and probes it. */
export function probeNode(d: Draft, n: NodeName): void {
  if (d.node(n)?.maintenance) return // left as it is until the maintenance ends (then probed)
  eachResourceOn(d, n, (r) => {
    const s = d.rs(r, n)!
    if (s.state === 'faulted' && s.stopped) return // the fault is kept until clear
    if (d.resourcePending(r, n).length) return
    const w = d.wrs(r, n)
    w.state = 'unknown'
    w.probeSent = true
    d.emit({ kind: 'probe', resource: r, node: n, ...msg('said.why.learnFirst', {}, 'learn the state before acting') })
  })
}

function eachResourceOn(d: Draft, n: NodeName, fn: (r: string) => void): void {
  for (const g of d.idx.groupsByNode.get(n) ?? []) {
    for (const r of d.idx.groups.get(g)?.order ?? []) if (d.rs(r, n)) fn(r)
  }
}

/** Actions on a lost or restarted node never report back: forget them and what waited on them. */
function dropPendingOn(d: Draft, n: NodeName, reason: string): void {
  for (const a of d.pendingOn(n)) {
    if (!d.action(a.id, a.group)) continue // already cancelled as a dependent
    d.forget(a.id, a.group)
    d.cancelDependents(a.id, a.group, reason)
    const s = a.resource ? d.rs(a.resource, n) : undefined
    if (a.resource && s && !(s.state === 'faulted' && s.stopped)) {
      const w = d.wrs(a.resource, n) // it may have half-run: only a probe (or a fence) tells
      w.state = 'unknown'
      w.probeSent = false
    }
  }
}
