// The operator commands of `mccs group|resource <verb>` and `mccs monitor-all`, built from a verb and a
// name. One builder for both front ends: the CLI (core/cli/ops-cmd.ts) and the console's action routes
// (core/console/routes/actions.ts) send the same command for the same verb.
import type { OperatorCommand } from '../engine/index.js'

export const GROUP_VERBS: Readonly<Record<string, OperatorCommand['type']>> = {
  online: 'groupOnline',
  offline: 'groupOffline',
  switch: 'groupSwitch',
  lock: 'groupLock',
  unlock: 'groupUnlock',
  clear: 'groupClear',
  flush: 'groupFlush',
  probe: 'groupProbe',
  failover: 'groupFailover',
}
export const RESOURCE_VERBS: Readonly<Record<string, OperatorCommand['type']>> = {
  online: 'resourceOnline',
  offline: 'resourceOffline',
  probe: 'resourceProbe',
  activate: 'resourceActivate',
  deactivate: 'resourceActivate',
}

export type CommandKind = 'group' | 'resource' | 'monitor-all'

/** The options a verb may take: `--node`, `--persistent` (lock), `--off` (failover). */
export interface CommandOptions {
  node?: string
  persistent?: boolean
  off?: boolean
}

/** The command, or a usage text naming what is wrong (an unknown verb, a missing name). */
export function buildCommand(
  kind: CommandKind,
  verb: string | undefined,
  name: string | undefined,
  o: CommandOptions,
  user: string,
): OperatorCommand | string {
  if (kind === 'monitor-all') return { type: 'monitorAll', user }
  const table = kind === 'group' ? GROUP_VERBS : RESOURCE_VERBS
  const type = verb ? table[verb] : undefined
  if (!type) return `mccs ${kind} <${Object.keys(table).join('|')}> <name>`
  if (!name) return `mccs ${kind} ${verb} <name>: the ${kind} name is missing`
  switch (type) {
    case 'groupOnline':
      return { type, user, group: name, ...(o.node ? { node: o.node } : {}) }
    case 'groupSwitch':
      return { type, user, group: name, ...(o.node ? { to: o.node } : {}) }
    case 'groupLock':
      return { type, user, group: name, persistent: o.persistent === true }
    case 'groupClear':
      return { type, user, group: name, ...(o.node ? { node: o.node } : {}) }
    case 'groupFailover':
      return { type, user, group: name, enabled: o.off !== true }
    case 'groupOffline':
    case 'groupUnlock':
    case 'groupFlush':
    case 'groupProbe':
      return { type, user, group: name }
    case 'resourceOnline':
      return { type, user, resource: name, ...(o.node ? { node: o.node } : {}) }
    case 'resourceProbe':
      return { type, user, resource: name, ...(o.node ? { node: o.node } : {}) }
    case 'resourceActivate':
      return { type, user, resource: name, monitoring: verb !== 'deactivate', ...(o.node ? { node: o.node } : {}) }
    case 'resourceOffline':
      return { type, user, resource: name }
    default:
      return `unsupported ${kind} command ${verb}`
  }
}
