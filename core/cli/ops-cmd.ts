// mccs group … / mccs resource … / mccs monitor-all: operator commands sent to the local agent.
import type { OperatorCommand } from '../engine/events.js'
import type { CommandReply } from '../agent/agent.js'
import { currentUser } from '../agent/agent.js'
import { rpc } from './control-client.js'
import { renderStatus } from './status-cmd.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'

const GROUP_VERBS: Record<string, OperatorCommand['type']> = {
  online: 'groupOnline', offline: 'groupOffline', switch: 'groupSwitch', lock: 'groupLock', unlock: 'groupUnlock',
  clear: 'groupClear', flush: 'groupFlush', probe: 'groupProbe', failover: 'groupFailover',
}
const RESOURCE_VERBS: Record<string, OperatorCommand['type']> = {
  online: 'resourceOnline', offline: 'resourceOffline', probe: 'resourceProbe', activate: 'resourceActivate', deactivate: 'resourceActivate',
}

export interface OpsOptions {
  socket: string
  json: boolean
  wait: boolean
  timeoutS?: number
  node?: string
  persistent?: boolean
  off?: boolean
}

export function buildCommand(kind: 'group' | 'resource' | 'monitor-all', verb: string | undefined, name: string | undefined, o: OpsOptions): OperatorCommand | string {
  const user = currentUser()
  if (kind === 'monitor-all') return { type: 'monitorAll', user }
  const table = kind === 'group' ? GROUP_VERBS : RESOURCE_VERBS
  const type = verb ? table[verb] : undefined
  if (!type) return `mccs ${kind} <${Object.keys(table).join('|')}> <name>`
  if (!name) return `mccs ${kind} ${verb} <name>: the ${kind} name is missing`
  switch (type) {
    case 'groupOnline': return { type, user, group: name, ...(o.node ? { node: o.node } : {}) }
    case 'groupSwitch': return { type, user, group: name, ...(o.node ? { to: o.node } : {}) }
    case 'groupLock': return { type, user, group: name, persistent: o.persistent === true }
    case 'groupClear': return { type, user, group: name, ...(o.node ? { node: o.node } : {}) }
    case 'groupFailover': return { type, user, group: name, enabled: o.off !== true }
    case 'groupOffline': case 'groupUnlock': case 'groupFlush': case 'groupProbe': return { type, user, group: name }
    case 'resourceOnline': return { type, user, resource: name, ...(o.node ? { node: o.node } : {}) }
    case 'resourceProbe': return { type, user, resource: name, ...(o.node ? { node: o.node } : {}) }
    case 'resourceActivate': return { type, user, resource: name, monitoring: verb !== 'deactivate', ...(o.node ? { node: o.node } : {}) }
    case 'resourceOffline': return { type, user, resource: name }
    default: return `unsupported ${kind} command ${verb}`
  }
}

export async function opsCommand(kind: 'group' | 'resource' | 'monitor-all', args: string[], o: OpsOptions, io: CliIO): Promise<number> {
  const cmd = buildCommand(kind, args[0], args[1], o)
  if (typeof cmd === 'string') {
    io.err(`usage: ${cmd} [--node N] [--wait [--timeout S]] [--json]`)
    return EXIT.USAGE
  }
  const timeoutMs = (o.timeoutS ?? 600) * 1000
  const reply = await rpc<CommandReply>(o.socket, 'command', { cmd, wait: o.wait, timeoutMs }, timeoutMs + 30_000)
  if (o.json) io.out(JSON.stringify(reply, null, 2))
  if (reply.outcome.status === 'rejected') {
    if (!o.json) io.err(`rejected: ${reply.outcome.reason} (${reply.outcome.code})`)
    return EXIT.REJECTED
  }
  if (!o.wait) {
    if (!o.json) io.out(`${cmd.type} accepted`)
    return EXIT.OK
  }
  if (!o.json && reply.status) io.out(renderStatus(reply.status))
  if (reply.reached) return EXIT.OK
  const stillBusy = reply.status?.groups.some((g) => g.busy > 0)
  return stillBusy ? EXIT.TIMEOUT : EXIT.FAILED
}
