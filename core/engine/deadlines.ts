// Actions whose result never came. Every action the engine waits for has a deadline (its timeout plus a
// margin, on the engine's clock: `now` of step()); on a tick past it the result counts as lost — a
// dropped event, a hung executor, a crashed peer request. The engine never assumes the action worked or
// failed: it cancels it (and what waits on it) and learns the truth with a probe, then decides from that.

import type { Draft } from './draft.js'
import { DEADLINE_MARGIN_MS } from './draft.js'
import type { Action } from './plan.js'
import { msg, codeWord } from './said.js'

/** Gives up on every action in flight past its deadline. A lost fence is only forgotten here: the node
 *  still needs its fence, which the tick asks for again. */
export function expireLost(d: Draft): void {
  // Most ticks have nothing due: the state keeps a lower bound of the deadlines in flight.
  if (d.nextDeadline === null || (d.nextDeadline !== undefined && d.now < d.nextDeadline)) return
  const due: Action[] = []
  let rest: number | null = null
  const check = (a: Action): void => {
    let t = a.deadline
    if (t === undefined) {
      // Carried over from a state written before deadlines existed: count from now.
      t = d.now + a.timeoutMs + DEADLINE_MARGIN_MS
      d.setDeadline(a, t)
    }
    if (d.now >= t) due.push(a)
    else if (rest === null || t < rest) rest = t
  }
  for (const a of d.fences()) check(a)
  for (const g of d.idx.groups.keys()) for (const a of d.groupPending(g)) check(a)
  d.nextDeadline = rest // exact for what stays; the probes planned below lower it
  for (const a of due) if (d.action(a.id, a.group)) lost(d, a) // an earlier one may have cancelled it as a dependent
}

function lost(d: Draft, a: Action): void {
  const what = a.kind === 'fence' ? `fence of ${a.node}` : `${a.kind} of ${a.resource ?? '?'} on ${a.node}`
  const s = Math.round(a.timeoutMs / 1000)
  const margin = DEADLINE_MARGIN_MS / 1000
  const reason = `${what}: no result within ${s} s + ${margin} s`
  d.notice({
    kind: 'actionLost',
    node: a.node,
    ...(a.kind === 'fence'
      ? msg('said.fenceLost', { node: a.node, s, margin }, reason)
      : msg(
          'said.actionLost',
          { kind: codeWord('action', a.kind), resource: a.resource ?? '?', node: a.node, s, margin },
          `${reason}; probing`,
        )),
    ...(a.group ? { group: a.group } : {}),
    ...(a.resource ? { resource: a.resource } : {}),
  })
  d.cancel(a.id, reason, a.group) // stops it should it still run; a late result is ignored
  // What waited on it may have run too (the executor starts it on the result the engine never got).
  const dependents = d.cancelDependents(a.id, a.group, reason)
  if (a.kind === 'monitor') return // a lost monitor taught nothing: the monitor loop asks again
  const seen = new Set<string>()
  for (const x of [a, ...dependents]) {
    const r = x.resource
    if (!r || seen.has(`${r}@${x.node}`)) continue
    seen.add(`${r}@${x.node}`)
    const s = d.rs(r, x.node)
    if (!s) continue
    if (x.kind === 'probe' && s.state !== 'unknown') continue
    // A fault is kept (its take-down is planned again by reconcile); anything else may have half-run.
    if (s.state === 'faulted') continue
    const w = d.wrs(r, x.node)
    w.state = 'unknown'
    w.probeSent = d.isUp(x.node)
    if (w.probeSent) d.emit({ kind: 'probe', resource: r, node: x.node, reason: `${what} lost: learn the state` })
  }
}
