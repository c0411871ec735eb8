// Faults that expire (Pacemaker's failure-timeout): with the policy's failureTimeoutS set, a fault is
// forgotten that long after it happened, once the resource is down there (its offline or clean done,
// nothing of it runs) and its node is up and needs no fence. The engine then knows nothing more about
// whether the cause is gone than the probe and the next online tell: it clears the fault and its
// counters, probes, and a group waiting for a node starts there again; should the cause remain, the
// online fails, the resource faults anew and the next try is one failure timeout later.

import type { Draft } from './draft.js'
import type { NodeName } from './model.js'
import { freshResourceState } from './state.js'
import { msg } from './said.js'

/** Called by the tick for a faulted resource whose policy sets failureTimeoutS (`limitS` > 0). */
export function expireFault(d: Draft, r: string, n: NodeName, limitS: number): void {
  const s = d.rs(r, n)
  if (!s || s.state !== 'faulted' || !s.stopped || s.restart || s.needsFence) return
  if (s.faultedAt == null) {
    d.wrs(r, n).faultedAt = d.now // restored from disk at start: the timeout counts from now
    return
  }
  if (d.now - s.faultedAt < limitS * 1000) return
  if (!d.isUp(n) || d.node(n)!.needsFence || d.resourcePending(r, n).length) return
  Object.assign(d.wrs(r, n), freshResourceState(s.monitored, 'unknown'), { probeSent: true })
  const group = d.idx.resources.get(r)!.group
  d.notice({
    kind: 'faultExpired',
    group,
    resource: r,
    node: n,
    ...msg(
      'said.faultExpired',
      { s: limitS, fault: s.lastFaultSaid ?? s.lastFault ?? 'faulted' },
      `fault expired after ${limitS} s (failureTimeoutS): ${s.lastFault ?? 'faulted'}`,
    ),
  })
  d.emit({ kind: 'probe', resource: r, node: n, ...msg('said.why.faultExpired', {}, 'fault expired: learn the state') })
}
