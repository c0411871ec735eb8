// The failure policy: what a monitor answer means, when misses and timeouts make a fault, and what a
// fault leads to (restart in place, failover by priority, or a faulted/partial group).

import type { Answer, ExecStatus } from '../../sdk/src/types.js'
import type { Draft } from './draft.js'
import type { NodeName } from './model.js'
import { autoTarget } from './license.js'
import { msg, asParam, codeWord, type Worded } from './said.js'

export interface Observation {
  status: ExecStatus
  answer: Answer
  recoverable: boolean
  reason?: string
}

const isUp = (o: Observation): boolean => o.status === 'done' && (o.answer === 'ok' || o.answer === 'degraded')

/** A monitor (or a probe) result for a resource on a node. Ignored while an action on it is in flight. */
export function observe(d: Draft, r: string, n: NodeName, o: Observation): void {
  const s = d.rs(r, n)
  const ri = d.idx.resources.get(r)
  if (!s || !ri || d.node(n)?.maintenance) return // a monitor from before the maintenance: not acted on
  if (d.resourcePending(r, n).some((a) => a.kind === 'online' || a.kind === 'offline' || a.kind === 'clean')) return
  switch (s.state) {
    case 'unknown':
      return learn(d, r, n, o)
    case 'offline':
      if (isUp(o)) foundOnline(d, r, n)
      return
    case 'online':
      return judge(d, r, n, o)
    default:
      return // faulted holds until clear; transitional states wait for their action
  }
}

/** The truth about a resource whose state was unknown (a probe, or the first monitor after a loss). */
function learn(d: Draft, r: string, n: NodeName, o: Observation): void {
  if (isUp(o)) return foundOnline(d, r, n)
  if (o.status === 'done' && o.answer === 'notRunning') {
    d.wrs(r, n).state = 'offline'
    return
  }
  if (o.status === 'done' && (o.answer === 'failed' || o.answer === 'invalid')) {
    const why =
      o.reason !== undefined
        ? { reason: o.reason }
        : msg('said.probeAnswered', { answer: codeWord('answer', o.answer) }, `probe answered ${o.answer}`)
    return fault(d, r, n, why, o.recoverable && o.answer !== 'invalid')
  }
  // `unknown` (a throttled cloud API), a timeout, a crash: the state stays unknown; the monitor loop retries.
  d.notice({ kind: 'probeInconclusive', resource: r, node: n, reason: o.reason ?? `${o.status}/${o.answer}` }) // a plugin's words, or codes
}

/** A resource runs where the engine believed it did not: adopt it, never start a second copy. A group the
 *  operator took offline is not adopted (issue 14, What 10 and finding 8): the resource is known to run,
 *  so reconcile takes it down, as Pacemaker stops what it finds running against target-role=Stopped. */
export function foundOnline(d: Draft, r: string, n: NodeName): void {
  const s = d.wrs(r, n)
  s.state = 'online'
  s.misses = 0
  s.timeouts = 0
  s.healthySince = d.now
  const g = d.idx.resources.get(r)!.group
  const gs = d.group(g)
  if (!gs) return
  if (gs.operator?.node === null) {
    d.notice({
      kind: 'foundWhileOffline',
      group: g,
      resource: r,
      node: n,
      ...msg('said.foundWhileOperatorOffline', {}, 'found running although the operator took the group offline: taking it down'),
    })
    return
  }
  if (d.node(n)?.standby) {
    d.wgroup(g) // reconcile takes it down there
    d.notice({
      kind: 'foundWhileOffline',
      group: g,
      resource: r,
      node: n,
      ...msg('said.foundOnStandby', { node: n }, `found running on ${n}, which is in standby: taking it down`),
    })
    return
  }
  if (gs.activeNode === null || gs.activeNode === n) {
    const w = d.wgroup(g)
    w.activeNode = n
    w.want[r] = true
    d.notice({ kind: 'adopted', group: g, resource: r, node: n, ...msg('said.adopted', {}, 'found online: adopted') })
  } else {
    d.notice({
      kind: 'concurrencyViolation',
      group: g,
      resource: r,
      node: n,
      ...msg('said.concurrency', { node: gs.activeNode }, `online here while the group belongs on ${gs.activeNode}`),
    })
  }
}

/** A monitor result for a resource the engine believes online. */
function judge(d: Draft, r: string, n: NodeName, o: Observation): void {
  const p = d.idx.resources.get(r)!.policy
  const cur = d.rs(r, n)!
  if (o.status === 'done' && o.answer === 'unknown') {
    // The truth cannot be known (throttling, API timeout): never read as notRunning, never counted.
    d.notice({
      kind: 'monitorUnknown',
      resource: r,
      node: n,
      ...(o.reason !== undefined ? { reason: o.reason } : msg('said.monitorUnknown', {}, 'monitor answered unknown')),
    })
    return
  }
  if (o.status === 'notSupported' || o.status === 'cancelled') return
  if (isUp(o)) {
    if (cur.misses === 0 && cur.timeouts === 0 && cur.healthySince !== null) return confidence(d, r, n)
    const s = d.wrs(r, n)
    s.misses = 0
    s.timeouts = 0
    s.healthySince ??= d.now
    return confidence(d, r, n)
  }
  const s = d.wrs(r, n)
  s.healthySince = null
  if (o.status === 'timeout') {
    s.timeouts++
    if (s.timeouts >= p.monitorTimeoutLimit)
      return fault(d, r, n, msg('said.monitorTimeouts', { n: s.timeouts }, `${s.timeouts} consecutive monitor timeouts`), true)
    d.notice({
      kind: 'monitorTimeout',
      resource: r,
      node: n,
      ...msg(
        'said.monitorTimeout',
        { n: s.timeouts, limit: p.monitorTimeoutLimit },
        `monitor timeout ${s.timeouts}/${p.monitorTimeoutLimit}`,
      ),
    })
    return
  }
  // done with notRunning/failed/invalid, or the host could not run the monitor (crashed, out of memory).
  s.timeouts = 0
  s.misses++
  const why: Worded =
    o.reason !== undefined
      ? { reason: o.reason }
      : o.status === 'done'
        ? msg('said.monitorAnswered', { answer: codeWord('answer', o.answer) }, `monitor answered ${o.answer}`)
        : msg('said.monitorStatus', { status: codeWord('status', o.status) }, `monitor ${o.status}`)
  const recoverable = o.recoverable && o.answer !== 'invalid'
  if (!recoverable || s.misses > p.toleranceLimit) return fault(d, r, n, why, recoverable)
  d.notice({
    kind: 'monitorMiss',
    resource: r,
    node: n,
    ...msg(
      'said.monitorMiss',
      { why: asParam(why), n: s.misses, limit: p.toleranceLimit },
      `${why.reason} (miss ${s.misses}, tolerated ${p.toleranceLimit})`,
    ),
  })
}

/** After `confidenceIntervalS` of continuous health, the restart and retry counters start over. */
export function confidence(d: Draft, r: string, n: NodeName): void {
  const s = d.rs(r, n)
  const p = d.idx.resources.get(r)?.policy
  if (!s || !p || s.state !== 'online' || s.healthySince === null) return
  if (s.restarts === 0 && s.onlineRetries === 0) return
  if (d.now - s.healthySince < p.confidenceIntervalS * 1000) return
  const w = d.wrs(r, n)
  w.restarts = 0
  w.onlineRetries = 0
  d.notice({
    kind: 'countersReset',
    resource: r,
    node: n,
    ...msg('said.countersReset', { s: p.confidenceIntervalS }, `healthy for ${p.confidenceIntervalS} s`),
  })
}

/**
 * A resource faulted. Restart in place while the budget lasts (and the fault is recoverable); then a
 * critical resource faults the group: fail over by priority if allowed and possible, else the group
 * stays faulted here and goes offline. A non-critical one leaves the group partial. Locked: nothing moves.
 */
export function fault(d: Draft, r: string, n: NodeName, why: Worded, recoverable: boolean): void {
  const ri = d.idx.resources.get(r)!
  const g = ri.group
  const s = d.wrs(r, n)
  s.state = 'faulted'
  s.lastFault = why.reason
  if (why.said) s.lastFaultSaid = why.said
  else delete s.lastFaultSaid
  s.faultedAt = d.now
  s.healthySince = null
  s.stopped = false
  s.restart = false
  s.misses = 0
  s.timeouts = 0
  d.notice({ kind: 'resourceFaulted', group: g, resource: r, node: n, ...why })
  const gs = d.group(g)
  if (!gs) return
  if (gs.lock !== 'none') {
    d.notice({
      kind: 'lockedNoAction',
      group: g,
      resource: r,
      node: n,
      ...msg('said.locked', {}, 'group is locked: no restart, no failover'),
    })
    return
  }
  if (gs.activeNode !== n) return // not where the group belongs: reconcile just takes it down
  if (recoverable && s.restarts < ri.policy.restartLimit) {
    s.restarts++
    s.restart = true
    d.notice({
      kind: 'restart',
      group: g,
      resource: r,
      node: n,
      ...msg('said.restart', { n: s.restarts, limit: ri.policy.restartLimit }, `restart ${s.restarts}/${ri.policy.restartLimit}`),
    })
    return
  }
  if (!ri.cfg.critical) {
    d.notice({ kind: 'groupPartial', group: g, resource: r, node: n, ...msg('said.partial', {}, 'non-critical resource faulted') })
    return
  }
  d.notice({ kind: 'groupFaulted', group: g, resource: r, node: n, ...why })
  const gi = d.idx.groups.get(g)!
  const auto = gs.failoverOnFailure ? autoTarget(d, gi, n) : { to: null }
  const to = auto.to
  const w = d.wgroup(g)
  if (to) {
    w.activeNode = to
    d.notice({
      kind: 'groupFailover',
      group: g,
      node: to,
      ...msg('said.failoverAfterFault', { from: n, resource: r }, `failover from ${n} after ${r} faulted`),
    })
  } else {
    w.activeNode = null
    // Start wherever a node becomes usable (another comes back, a fault expires or is cleared), as after
    // a node loss; with failover off, or stopped by limited mode (license.ts), the group stays down until
    // the operator acts.
    if (gs.failoverOnFailure && auto.blocked === undefined) w.autoStartPending = true
    d.notice({
      kind: 'noFailoverTarget',
      group: g,
      node: n,
      ...(auto.blocked !== undefined ? { code: 'MCCS_ERR_LICENSE_LIMITED' as const } : {}),
      ...(auto.blocked ??
        (gs.failoverOnFailure
          ? msg('said.noOtherNode', {}, 'no other node can take the group')
          : msg('said.failoverOff', {}, 'failover on failure is off'))),
    })
  }
}
