// What the engine learns from the outcome of one of its actions.

import type { ActionResultEvent } from './events.js'
import type { Draft } from './draft.js'
import type { NodeName } from './model.js'
import { fault, observe } from './policy.js'
import { fenced, requestFence } from './membership.js'
import { msg, asParam, codeWord, type Worded } from './said.js'

export function onActionResult(d: Draft, ev: ActionResultEvent): void {
  const a = d.forget(ev.actionId)
  if (!a) return // cancelled or superseded: the engine no longer waits for it
  const ok = ev.status === 'done' && (ev.answer === 'ok' || ev.answer === 'degraded')
  if (ok) d.started(a.id, a.group)
  // A refusal's code leads its text, as in an MccsError's message (what faults, notices and logs show).
  const text = ev.code && ev.reason !== undefined ? `${ev.code}: ${ev.reason}` : ev.reason
  // The executor's or plugin's reason is its own English; the engine's own words when there is none.
  const why: Worded =
    text !== undefined
      ? { reason: text }
      : ev.status === 'done'
        ? msg(
            'said.actionAnswered',
            { kind: codeWord('action', a.kind), answer: codeWord('answer', ev.answer) },
            `${a.kind} ${ev.status}/${ev.answer}`,
          )
        : msg('said.actionStatus', { kind: codeWord('action', a.kind), status: codeWord('status', ev.status) }, `${a.kind} ${ev.status}`)
  const r = a.resource
  switch (a.kind) {
    case 'fence':
      if (ok) fenced(d, a.node)
      else d.notice({ kind: 'fenceFailed', node: a.node, ...why })
      return
    case 'probe':
    case 'monitor':
      if (r) observe(d, r, a.node, ev)
      return
    case 'cancel':
      return
  }
  if (!r || !d.rs(r, a.node)) return
  if (ok) {
    if (a.kind === 'online') wentOnline(d, r, a.node)
    else wentOffline(d, r, a.node)
    return
  }
  d.notice({
    kind: 'actionFailed',
    group: a.group,
    resource: r,
    node: a.node,
    ...msg('said.actionFailed', { kind: codeWord('action', a.kind), why: asParam(why) }, `${a.kind} failed: ${why.reason}`),
  })
  d.cancelDependents(a.id, a.group, `${a.kind} of ${r} on ${a.node} failed`)
  if (a.kind === 'online') return onlineFailed(d, r, a.node, ev.recoverable, why)
  if (a.kind === 'offline') {
    // A failed or timed-out offline: force it down with clean. Whatever waited is re-planned afterwards.
    d.emit({
      kind: 'clean',
      resource: r,
      node: a.node,
      ...msg('said.why.offlineFailed', { why: asParam(why) }, `offline failed: ${why.reason}`),
    })
    return
  }
  // clean failed: only fencing the node makes it safe.
  const s = d.wrs(r, a.node)
  s.state = 'unknown'
  s.needsFence = true
  d.wnode(a.node).needsFence = true
  d.notice({ kind: 'cleanFailed', group: a.group, resource: r, node: a.node, ...why })
  requestFence(d, a.node, msg('said.cleanFailed', { resource: r }, `clean of ${r} failed`))
}

function wentOnline(d: Draft, r: string, n: NodeName): void {
  const s = d.wrs(r, n)
  s.state = 'online'
  s.healthySince = d.now
  s.misses = 0
  s.timeouts = 0
  s.restart = false
  s.stopped = false
}

function wentOffline(d: Draft, r: string, n: NodeName): void {
  const s = d.wrs(r, n)
  s.healthySince = null
  s.misses = 0
  s.timeouts = 0
  if (s.state === 'faulted' && !s.restart)
    s.stopped = true // the fault stays until clear
  else {
    s.state = 'offline'
    s.restart = false
  }
  // The restart's online is next in line: show it.
  if (s.state === 'offline' && d.resourcePending(r, n).some((p) => p.kind === 'online')) s.state = 'onlining'
}

function onlineFailed(d: Draft, r: string, n: NodeName, recoverable: boolean, why: Worded): void {
  const ri = d.idx.resources.get(r)!
  const s = d.wrs(r, n)
  const locked = d.group(ri.group)?.lock !== 'none'
  if (recoverable && !locked && s.onlineRetries < ri.policy.onlineRetryLimit) {
    s.onlineRetries++
    s.state = 'offline' // online is idempotent: the re-plan simply calls it again
    d.notice({
      kind: 'onlineRetry',
      group: ri.group,
      resource: r,
      node: n,
      ...msg(
        'said.onlineRetry',
        { n: s.onlineRetries, limit: ri.policy.onlineRetryLimit, why: asParam(why) },
        `retry ${s.onlineRetries}/${ri.policy.onlineRetryLimit}: ${why.reason}`,
      ),
    })
    return
  }
  fault(d, r, n, msg('said.onlineFailed', { why: asParam(why) }, `online failed: ${why.reason}`), recoverable)
}
