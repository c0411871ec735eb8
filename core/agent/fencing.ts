// Fencing another node: its fence devices (hb.json `fencing`) tried level by level, after the fence
// delay when this node runs nothing. Fencing runs on the coordinator, against a node outside its
// partition, before that node's groups move.
import type { HbConfig } from '../engine/model.js'
import type { Action } from '../engine/plan.js'
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
}

/** How long a node that runs no resource waits before it fences. Against mutual fencing (two nodes that
 *  lost each other both fence): the node that runs resources fences at once, a node that runs none
 *  waits, so the active side wins the race. With a quorum server only one side is quorate: no race. */
export function fenceDelayMs(hb: HbConfig): number {
  return hb.quorum?.fenceDelayMs ?? (hb.quorum?.twoNode ? 5000 : 0)
}

export class Fencing {
  constructor(private readonly o: FencingOptions) {}

  /** Fences the action's node with its fence devices (hb.json `fencing`, tried level by level). */
  async fence(a: Action, signal: AbortSignal): Promise<ActionOutcome> {
    const target = a.node
    const hb = this.o.hb()
    const levels = hb.nodes.find((n) => n.name === target)?.fencing ?? []
    if (!levels.length) return { status: 'notSupported', answer: 'failed', recoverable: false, reason: `no fence device is configured for ${target}` }
    const delayMs = fenceDelayMs(hb)
    if (delayMs > 0 && !this.o.runsResources()) {
      this.o.log.log('warn', `fence ${target}: this node runs no resource, waiting ${delayMs} ms first (fence delay)`, { target })
      const aborted = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), delayMs)
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve(true) }, { once: true })
      })
      if (aborted) return { status: 'done', answer: 'failed', recoverable: true, reason: `fence of ${target} cancelled during its delay` }
    }
    const reasons: string[] = []
    for (const [i, dev] of levels.entries()) {
      const res = await this.o.host.call(dev.type, 'fence', {
        resource: `fence-${target}-${i + 1}`, node: this.o.node, nodes: this.o.nodes(), attrs: dev.attrs ?? {}, args: [target],
        timeoutMs: Math.max(1000, a.timeoutMs - 1000), signal,
      })
      this.o.log.log(res.status === 'done' && res.answer === 'ok' ? 'warn' : 'error', `fence ${target} (level ${i + 1}, ${dev.type}): ${res.status}/${res.answer}`, { reason: res.reason ?? res.error })
      if (res.status === 'done' && res.answer === 'ok') return { status: 'done', answer: 'ok', recoverable: true, reason: `fenced by ${dev.type}` }
      reasons.push(`level ${i + 1} ${dev.type}: ${res.reason ?? res.error ?? res.answer}`)
    }
    return { status: 'done', answer: 'failed', recoverable: true, reason: reasons.join('; ') }
  }
}
