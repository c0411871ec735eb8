// Operator commands (console, CLI, API alike). Each is accepted or rejected with a catalogue code; an
// accepted command changes the group's goal (activeNode, wanted resources, flags) and the reconcile
// that follows plans the actions.

import type { ErrorCode } from '../errors.js'
import type { GroupIndex } from './config-index.js'
import { ancestors, descendants } from './config-index.js'
import type { Draft } from './draft.js'
import type { OperatorCommand } from './events.js'
import type { NodeName } from './model.js'
import type { CommandOutcome } from './plan.js'
import { candidate, unsafeElsewhere } from './placement.js'
import { groupStateOn } from './group-state.js'
import { freshResourceState, mayRun } from './state.js'
import { probeNode } from './membership.js'
import { msg, type Said } from './said.js'

class Rejection {
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
    readonly said: Said,
  ) {}
}
const no = (code: ErrorCode, w: { reason: string; said: Said }): Rejection => new Rejection(code, w.reason, w.said)

export function onCommand(d: Draft, cmd: OperatorCommand): CommandOutcome {
  const res = run(d, cmd)
  const subject =
    'group' in cmd
      ? { group: cmd.group }
      : 'resource' in cmd
        ? { resource: cmd.resource }
        : cmd.type === 'nodeMaintenance'
          ? { node: cmd.node }
          : {}
  if (res instanceof Rejection) {
    d.notice({ kind: 'commandRejected', command: cmd.type, user: cmd.user, code: res.code, reason: res.reason, said: res.said, ...subject })
    return { status: 'rejected', code: res.code, reason: res.reason, said: res.said }
  }
  d.notice({ kind: 'commandAccepted', command: cmd.type, user: cmd.user, ...msg('said.accepted', {}, 'accepted'), ...subject })
  return { status: 'accepted' }
}

function run(d: Draft, cmd: OperatorCommand): Rejection | void {
  if (cmd.type === 'monitorAll') return activate(d, [...d.idx.resources.keys()], true)
  if (cmd.type === 'nodeMaintenance') return maintenance(d, cmd.node, cmd.on)
  if ('resource' in cmd) {
    const ri = d.idx.resources.get(cmd.resource)
    if (!ri) return no('MCCS_ERR_NOT_FOUND', msg('said.no.resource', { name: cmd.resource }, `no resource ${cmd.resource}`))
    const gi = d.idx.groups.get(ri.group)!
    if (gi.cycle)
      return no(
        'MCCS_ERR_DEP_CYCLE',
        msg('said.no.cycle', { cycle: gi.cycle.join(' -> ') }, `dependencies form a cycle: ${gi.cycle.join(' -> ')}`),
      )
    const held = cmd.type === 'resourceOnline' || cmd.type === 'resourceOffline' ? maintained(d, gi) : undefined
    if (held) return held
    switch (cmd.type) {
      case 'resourceOnline':
        return resourceOnline(d, gi, cmd.resource, cmd.node)
      case 'resourceOffline':
        return resourceOffline(d, gi, cmd.resource)
      case 'resourceProbe':
        return probe(d, gi, [cmd.resource], cmd.node)
      case 'resourceActivate':
        return activate(d, [cmd.resource], cmd.monitoring, cmd.node)
    }
  }
  const gi = d.idx.groups.get(cmd.group)
  const gs = d.group(cmd.group)
  if (!gi || !gs) return no('MCCS_ERR_NOT_FOUND', msg('said.no.group', { name: cmd.group }, `no group ${cmd.group}`))
  if (gi.cycle)
    return no(
      'MCCS_ERR_DEP_CYCLE',
      msg('said.no.cycle', { cycle: gi.cycle.join(' -> ') }, `dependencies form a cycle: ${gi.cycle.join(' -> ')}`),
    )
  const g = cmd.group
  switch (cmd.type) {
    case 'groupLock':
      d.wgroup(g).lock = cmd.persistent ? 'persistent' : 'temporary'
      return
    case 'groupUnlock':
      d.wgroup(g).lock = 'none' // by itself, unlock starts nothing
      return
    case 'groupFailover':
      d.wgroup(g).failoverOnFailure = cmd.enabled
      return
    case 'groupFlush':
      return maintained(d, gi) ?? flush(d, gi)
    case 'groupProbe':
      return probe(d, gi, gi.order)
  }
  if (d.busy(g)) return no('MCCS_ERR_GROUP_BUSY', msg('said.no.busy', {}, 'actions are in progress (flush cancels them)'))
  const held = cmd.type === 'groupClear' ? undefined : maintained(d, gi)
  if (held) return held
  switch (cmd.type) {
    case 'groupOnline': {
      const n = cmd.node ?? gs.activeNode ?? candidate(d, gi) ?? firstUp(d, gi)
      if (!n) return no('MCCS_ERR_NODE_UNAVAILABLE', msg('said.no.noNodeUp', {}, 'no node of the group is up'))
      const bad = placeable(d, gi, n, gi.order)
      if (bad) return bad
      const w = d.wgroup(g)
      w.activeNode = n
      w.autoStartPending = false
      w.operator = { node: n }
      for (const r of gi.order) w.want[r] = true
      return
    }
    case 'groupOffline': {
      const w = d.wgroup(g)
      w.activeNode = null
      w.want = {}
      w.autoStartPending = false
      // Held offline: no probe adopts it, no coordinator starts it. A graceful leave's stop is not the
      // operator's word: the group starts again by its autoStart when the cluster comes back.
      if (cmd.leave) delete w.operator
      else w.operator = { node: null }
      return
    }
    case 'groupSwitch': {
      const from = gs.activeNode
      const st = from ? groupStateOn(d, gi, from) : 'offline'
      if (!from || (st !== 'online' && st !== 'partial'))
        return no('MCCS_ERR_GROUP_OFFLINE', msg('said.no.notOnline', {}, 'group is not online: use online'))
      const to = cmd.to ?? candidate(d, gi, from)
      if (!to) return no('MCCS_ERR_NODE_UNAVAILABLE', msg('said.noOtherNode', {}, 'no other node can take the group'))
      if (to === from) return no('MCCS_ERR_INVALID', msg('said.no.alreadyOn', { node: to }, `group is already on ${to}`))
      const bad = placeable(d, gi, to, gi.order, from)
      if (bad) return bad
      const w = d.wgroup(g)
      w.activeNode = to
      w.operator = { node: to }
      return
    }
    case 'groupClear':
      return clear(d, gi, cmd.node)
  }
}

/** Can these resources of the group come online on `n`? `leaving`: the node the group moves away from. */
function placeable(d: Draft, gi: GroupIndex, n: NodeName, rs: readonly string[], leaving?: NodeName): Rejection | void {
  if (!gi.cfg.nodes.includes(n))
    return no(
      'MCCS_ERR_INVALID',
      msg('said.no.notGroupNode', { node: n, group: gi.cfg.name }, `${n} is not a node of group ${gi.cfg.name}`),
    )
  const gs = d.group(gi.cfg.name)!
  if (gs.activeNode && gs.activeNode !== n && gs.activeNode !== leaving && runsOn(d, gi, gs.activeNode)) {
    return no(
      'MCCS_ERR_GROUP_ONLINE_ELSEWHERE',
      msg('said.no.onlineElsewhere', { node: gs.activeNode }, `group is online on ${gs.activeNode}: use switch`),
    )
  }
  const ns = d.node(n)
  if (ns?.maintenance)
    return no(
      'MCCS_ERR_NODE_UNAVAILABLE',
      msg('said.no.maintenance', { node: n }, `${n} is in maintenance: nothing is started there (mccs node unmaintenance ${n})`),
    )
  if (ns?.standby)
    return no(
      'MCCS_ERR_NODE_UNAVAILABLE',
      msg('said.no.standby', { node: n }, `${n} is in standby: nothing is started there (mccs node unstandby ${n})`),
    )
  if (!ns || ns.membership !== 'up' || ns.needsFence)
    return no('MCCS_ERR_NODE_UNAVAILABLE', msg('said.no.notUp', { node: n }, `${n} is not up`))
  for (const r of rs) {
    const s = d.rs(r, n)
    if (!s || s.state === 'unknown')
      return no('MCCS_ERR_NODE_UNAVAILABLE', msg('said.no.notProbed', { resource: r, node: n }, `${r} on ${n} is not probed yet`))
    if (s.state === 'faulted')
      return no('MCCS_ERR_GROUP_FAULTED', msg('said.no.faulted', { resource: r, node: n }, `${r} is faulted on ${n}: clear it first`))
  }
  const unsafe = unsafeElsewhere(d, gi, n)
  if (unsafe)
    return no('MCCS_ERR_FENCE_PENDING', msg('said.no.unfenced', { node: unsafe }, `${unsafe} may still run the group and is not fenced`))
}

/** With no usable node, the first one up gives the most telling rejection (faulted, not probed). */
function firstUp(d: Draft, gi: GroupIndex): NodeName | undefined {
  return gi.cfg.nodes.find((n) => d.isUp(n))
}

function runsOn(d: Draft, gi: GroupIndex, n: NodeName): boolean {
  return gi.order.some((r) => {
    const s = d.rs(r, n)
    return !!s && mayRun(s) && s.state !== 'unknown'
  })
}

function resourceOnline(d: Draft, gi: GroupIndex, r: string, node?: NodeName): Rejection | void {
  const g = gi.cfg.name
  if (d.busy(g)) return no('MCCS_ERR_GROUP_BUSY', msg('said.no.busy', {}, 'actions are in progress (flush cancels them)'))
  const gs = d.group(g)!
  const n = node ?? gs.activeNode ?? candidate(d, gi) ?? firstUp(d, gi)
  if (!n) return no('MCCS_ERR_NODE_UNAVAILABLE', msg('said.no.noNodeUp', {}, 'no node of the group is up'))
  const closure = [r, ...descendants(d.idx, r)]
  const bad = placeable(d, gi, n, closure)
  if (bad) return bad
  const w = d.wgroup(g)
  w.activeNode = n
  w.operator = { node: n }
  for (const x of closure) w.want[x] = true
}

function resourceOffline(d: Draft, gi: GroupIndex, r: string): Rejection | void {
  const g = gi.cfg.name
  if (d.busy(g)) return no('MCCS_ERR_GROUP_BUSY', msg('said.no.busy', {}, 'actions are in progress (flush cancels them)'))
  const w = d.wgroup(g)
  for (const x of [r, ...ancestors(d.idx, r)]) w.want[x] = false
}

/** Clear faults and counters; probe to learn what is really there. */
function clear(d: Draft, gi: GroupIndex, node?: NodeName): Rejection | void {
  if (node && !gi.cfg.nodes.includes(node))
    return no(
      'MCCS_ERR_INVALID',
      msg('said.no.notGroupNode', { node, group: gi.cfg.name }, `${node} is not a node of group ${gi.cfg.name}`),
    )
  for (const n of node ? [node] : gi.cfg.nodes) {
    for (const r of gi.order) {
      const s = d.rs(r, n)
      if (!s) continue
      const w = d.wrs(r, n)
      const fresh = freshResourceState(s.monitored, s.state === 'faulted' ? 'unknown' : s.state)
      Object.assign(w, fresh, { needsFence: s.needsFence, healthySince: s.healthySince })
    }
  }
  probe(d, gi, gi.order, node)
}

/** Command initialization: cancel everything in flight, forget the goal, re-learn it from probes. */
function flush(d: Draft, gi: GroupIndex): void {
  const g = gi.cfg.name
  for (const id of Object.keys(d.group(g)!.pending)) {
    const a = d.action(id, g)
    if (a && a.kind !== 'fence') d.cancel(id, 'flush', g)
  }
  const w = d.wgroup(g)
  w.activeNode = null
  w.want = {}
  w.autoStartPending = false
  delete w.operator // what the probes find is adopted, as the operator asked
  for (const n of gi.cfg.nodes) {
    for (const r of gi.order) {
      const s = d.rs(r, n)
      if (!s || s.state === 'faulted' || !d.isUp(n)) continue
      const ws = d.wrs(r, n)
      ws.state = 'unknown' // adopted again from the probe result
      ws.probeSent = false
    }
  }
  probe(d, gi, gi.order)
}

function probe(d: Draft, gi: GroupIndex, rs: readonly string[], node?: NodeName): Rejection | void {
  if (node && !gi.cfg.nodes.includes(node))
    return no(
      'MCCS_ERR_INVALID',
      msg('said.no.notGroupNode', { node, group: gi.cfg.name }, `${node} is not a node of group ${gi.cfg.name}`),
    )
  for (const n of node ? [node] : gi.cfg.nodes) {
    if (!d.isUp(n) || d.node(n)?.maintenance) continue
    for (const r of rs) {
      const s = d.rs(r, n)
      if (!s || d.resourcePending(r, n).length) continue
      if (s.state === 'unknown') d.wrs(r, n).probeSent = true
      d.emit({ kind: 'probe', resource: r, node: n, ...msg('said.why.operatorProbe', {}, 'operator probe') })
    }
  }
}

function activate(d: Draft, rs: readonly string[], on: boolean, node?: NodeName): Rejection | void {
  for (const r of rs) {
    const ri = d.idx.resources.get(r)
    if (!ri) continue
    const nodes = d.idx.groups.get(ri.group)!.cfg.nodes
    if (node && !nodes.includes(node))
      return no('MCCS_ERR_INVALID', msg('said.no.notResourceNode', { node, resource: r }, `${node} is not a node of resource ${r}`))
    for (const n of node ? [node] : nodes) {
      const s = d.rs(r, n)
      if (!s || s.monitored === on) continue
      d.wrs(r, n).monitored = on
      // Learn the state now rather than at the next interval.
      if (
        on &&
        d.isUp(n) &&
        !d.node(n)?.maintenance &&
        (s.state === 'online' || s.state === 'offline') &&
        !d.resourcePending(r, n).length
      ) {
        d.emit({ kind: 'monitor', resource: r, node: n, ...msg('said.why.monitoringOn', {}, 'monitoring activated') })
      }
    }
  }
}

/** A group that may still run on a node in maintenance is not changed by the operator's commands there: its
 *  resources on that node are not managed (Pacemaker's unmanaged resources), so neither stopping them nor
 *  starting the group elsewhere is safe. */
function maintained(d: Draft, gi: GroupIndex): Rejection | undefined {
  for (const n of gi.cfg.nodes) {
    if (!d.node(n)?.maintenance) continue
    if (
      gi.order.some((r) => {
        const s = d.rs(r, n)
        return !!s && mayRun(s)
      })
    ) {
      return no(
        'MCCS_ERR_NODE_UNAVAILABLE',
        msg(
          'said.no.maintained',
          { node: n, group: gi.cfg.name },
          `${n} is in maintenance and may run part of group ${gi.cfg.name}: its resources there are not managed (mccs node unmaintenance ${n})`,
        ),
      )
    }
  }
  return undefined
}

/** mccs node maintenance|unmaintenance: on, the node's resources are left as they are (monitorSchedule,
 *  reconcile and probes skip the node); off, every resource there is probed and the engine acts on what it
 *  finds (adopts what runs where its group belongs, takes down the rest). */
function maintenance(d: Draft, n: NodeName, on: boolean): Rejection | void {
  const ns = d.node(n)
  if (!ns) return no('MCCS_ERR_NOT_FOUND', msg('said.no.node', { node: n }, `no node ${n} in this cluster`))
  if (!!ns.maintenance === on) return
  const w = d.wnode(n)
  if (on) {
    w.maintenance = true
  } else {
    delete w.maintenance
    if (d.isUp(n)) probeNode(d, n)
  }
  for (const g of d.idx.groupsByNode.get(n) ?? []) d.wgroup(g) // reconcile them: placement changed
}
