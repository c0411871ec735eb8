// Fencing another node: its fence devices (hb.json `fencing`) tried level by level, after the fence
// delay when this node runs nothing. Fencing runs on the coordinator, against a node outside its
// partition, before that node's groups move. Right before each device call the target is checked
// against this node's current view: a target that came back (a link blip shorter than the delay) is
// alive and talking to us, so the fence is withdrawn instead of killing a healthy member (issue 14,
// finding 2). A cancel during the delay stops it; a device call once issued runs to its end (a power
// switch left half way tells nothing about the target).
import type { Action } from '../engine/index.js'
import type { HbConfig } from '../config/hb-model.js'
import type { ActionOutcome } from '../executor/executor.js'
import type { PluginHost } from '../plugins/host.js'
import type { Log } from '../log/logger.js'

export interface FencingOptions {
  node: string
  log: Log
  host: PluginHost
  /** The hb.json in force (fence devices, quorum settings), read at each fence. */
  hb: () => HbConfig
  /** All nodes of the cluster, as the fence hook is told them. */
  nodes: () => string[]
  /** Whether a resource runs on this node now (decides the fence delay). */
  runsResources: () => boolean
  /** Whether the node is a member of this node's current view (Role.inView); such a node is never fenced. */
  inView: (node: string) => boolean
  /** How long to wait for the target to join first, when its agent restarted a moment ago and is heard now
   *  (0: it did not; Role.restartedAndHeard / joinWaitMs). */
  joinWaitMs?: (node: string) => number
}

/** A fence type's usual time from call to a target that runs nothing, when its manifest does not say. */
export const DEFAULT_FENCE_EFFECT_MS = 2000
/** How long a peer asks its isolation test addresses before it fences (core/cluster/isolation.ts). */
const ISOLATION_PROBE_MS = 500

/** How long a node that runs no resource waits before it fences. Against mutual fencing (two nodes that
 *  lost each other both fence): the node that runs resources fences at once, a node that runs none waits,
 *  so the active side wins the race. With a quorum server only one side is quorate: no race, no delay.
 *  The two-node default is what the active peer needs to win that race against `me`: the detection skew
 *  between the two sides (two heartbeat intervals) plus a dead time more (a peer whose agent is held up
 *  longer than that is dead by the same rule), its isolation test, and the time this node's own fence
 *  devices (the ones the peer would use on it) take to leave it running nothing.
 *  It was a flat 5 s: with a power switch that acts in well under a second, most of a two-node takeover
 *  after the active node lost its links was that wait (the random-fault runs: 5.8–6.8 s outages). */
export function fenceDelayMs(hb: HbConfig, me: string, effectOf: (type: string) => number | undefined): number {
  if (hb.quorum?.fenceDelayMs !== undefined) return hb.quorum.fenceDelayMs
  if (!hb.quorum?.twoNode) return 0
  const peers = hb.nodes.filter((n) => n.name !== me)
  const isolation = peers.some((n) => n.isolationTestAddresses?.length) ? ISOLATION_PROBE_MS : 0
  const mine = hb.nodes.find((n) => n.name === me)?.fencing ?? []
  const effect = mine.reduce((sum, l) => sum + (l.effectMs ?? effectOf(l.type) ?? DEFAULT_FENCE_EFFECT_MS), 0)
  return Math.min(120_000, hb.timing.deadMs + 2 * hb.timing.intervalMs + isolation + effect)
}

const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })

export class Fencing {
  constructor(private readonly o: FencingOptions) {}

  /** Fences the action's node with its fence devices (hb.json `fencing`, tried level by level). */
  async fence(a: Action, signal: AbortSignal): Promise<ActionOutcome> {
    const target = a.node
    const hb = this.o.hb()
    const levels = hb.nodes.find((n) => n.name === target)?.fencing ?? []
    if (!levels.length)
      return { status: 'notSupported', answer: 'failed', recoverable: false, reason: `no fence device is configured for ${target}` }
    const delayMs = fenceDelayMs(hb, this.o.node, (type) => this.o.host.get(type)?.manifest.fenceEffectMs)
    if (delayMs > 0 && !this.o.runsResources()) {
      this.o.log.log('warn', `fence ${target}: this node runs no resource, waiting ${delayMs} ms first (fence delay)`, { target })
      const aborted = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), delayMs)
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer)
            resolve(true)
          },
          { once: true },
        )
      })
      if (aborted) {
        this.o.log.log('warn', `fence of ${target} cancelled during its delay`, { target })
        return { status: 'cancelled', answer: 'failed', recoverable: true, reason: `fence of ${target} cancelled during its delay` }
      }
    }
    // A target whose agent restarted a moment ago and is heard is on its way into the view (its start waits
    // out the grants of its previous run first): its own probe will tell what runs there. Fencing it now
    // killed the agent that had just started again — the random-fault runs, and test/cluster/restart-rejoin:
    // a new coordinator's start fenced a node it had fenced itself seconds before, as it booted. Bounded: a
    // node that does not join in that time is fenced.
    const joinWait = this.o.joinWaitMs?.(target) ?? 0
    if (joinWait > 0 && !this.o.inView(target)) {
      this.o.log.log(
        'warn',
        `fence ${target}: its agent restarted a moment ago and is heard, waiting up to ${joinWait} ms for it to join`,
        {
          target,
        },
      )
      const end = Date.now() + joinWait
      while (Date.now() < end && !signal.aborted && !this.o.inView(target)) await abortableSleep(50, signal)
    }
    const reasons: string[] = []
    for (const [i, dev] of levels.entries()) {
      if (signal.aborted)
        return { status: 'cancelled', answer: 'failed', recoverable: true, reason: `fence of ${target} cancelled before level ${i + 1}` }
      if (this.o.inView(target)) {
        const reason = `withdrawn: ${target} is a member of this node's view again (it came back before the fence was issued)`
        this.o.log.log('warn', `fence of ${target} withdrawn: it is back in this node's view`, { target, level: i + 1 })
        return { status: 'cancelled', answer: 'failed', recoverable: true, reason }
      }
      // Not tied to the action's abort signal: once issued, a device call runs to its end (or its timeout).
      const res = await this.o.host.call(dev.type, 'fence', {
        resource: `fence-${target}-${i + 1}`,
        node: this.o.node,
        nodes: this.o.nodes(),
        attrs: dev.attrs ?? {},
        args: [target],
        timeoutMs: Math.max(1000, a.timeoutMs - 1000),
      })
      this.o.log.log(
        res.status === 'done' && res.answer === 'ok' ? 'warn' : 'error',
        `fence ${target} (level ${i + 1}, ${dev.type}): ${res.status}/${res.answer}`,
        { reason: res.reason ?? res.error },
      )
      if (res.status === 'done' && res.answer === 'ok')
        return { status: 'done', answer: 'ok', recoverable: true, reason: `fenced by ${dev.type}` }
      reasons.push(`level ${i + 1} ${dev.type}: ${res.reason ?? res.error ?? res.answer}`)
    }
    return { status: 'done', answer: 'failed', recoverable: true, reason: reasons.join('; ') }
  }
}
