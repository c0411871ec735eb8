// Everything that can happen to the engine. Operator commands carry `user` for the manual operation
// log; the engine accepts or rejects them (a rejection is data in the step output, never a throw).

import type { Answer, ExecStatus } from '../../sdk/src/types.js'
import type { Membership } from './state.js'
import type { NodeName } from './model.js'
import type { ErrorCode } from '../errors.js'

interface Cmd {
  user: string
}

export type GroupCommand =
  | (Cmd & { type: 'groupOnline'; group: string; node?: NodeName })
  | (Cmd & {
      type: 'groupOffline'
      group: string
      /** Stopped by its node's graceful leave (nowhere to move it): not an operator hold. */ leave?: true
    })
  /** Manual failover; `to` defaults to the next available node by priority. */
  | (Cmd & { type: 'groupSwitch'; group: string; to?: NodeName })
  | (Cmd & { type: 'groupLock'; group: string; persistent: boolean })
  | (Cmd & { type: 'groupUnlock'; group: string })
  /** Clear faults and counters (on one node, or every node of the group); probes to learn the truth. */
  | (Cmd & { type: 'groupClear'; group: string; node?: NodeName })
  /** "Command initialization": cancel everything in flight, then probe and adopt what is found. */
  | (Cmd & { type: 'groupFlush'; group: string })
  | (Cmd & { type: 'groupProbe'; group: string })
  /** The manual's "group failover on failure" switch. */
  | (Cmd & { type: 'groupFailover'; group: string; enabled: boolean })

export type ResourceCommand =
  /** Brings the resource's children up first. */
  | (Cmd & { type: 'resourceOnline'; resource: string; node?: NodeName })
  /** Takes the resource's parents down first. */
  | (Cmd & { type: 'resourceOffline'; resource: string })
  | (Cmd & { type: 'resourceProbe'; resource: string; node?: NodeName })
  | (Cmd & { type: 'resourceActivate'; resource: string; monitoring: boolean; node?: NodeName })
  | (Cmd & { type: 'monitorAll' })

export type NodeCommand =
  /** Maintenance on (`on`) or off for a node (mccs node maintenance|unmaintenance). */
  Cmd & { type: 'nodeMaintenance'; node: NodeName; on: boolean }

export type OperatorCommand = GroupCommand | ResourceCommand | NodeCommand

/** A result of the host's monitor loop (see monitorSchedule). */
export interface MonitorResultEvent {
  type: 'monitorResult'
  resource: string
  node: NodeName
  status: ExecStatus
  answer: Answer
  recoverable: boolean
  reason?: string
}

/** The outcome of an action of a plan. Results for unknown (cancelled, superseded) ids are ignored. */
export interface ActionResultEvent {
  type: 'actionResult'
  actionId: string
  status: ExecStatus
  answer: Answer
  recoverable: boolean
  /** Why this node refused to run it (no quorum, parked, diverged), when it did; `reason` says more. */
  code?: ErrorCode
  reason?: string
}

/** From the cluster layer. `fenced`: the node is down and provably runs nothing. */
export interface NodeChangeEvent {
  type: 'nodeChange'
  node: NodeName
  membership: Membership
}

/** Time passes (confidence intervals, fence retries). */
export interface TickEvent {
  type: 'tick'
}

/** The agent started on `node` (every up node when omitted): probe everything there before acting. */
export interface StartEvent {
  type: 'start'
  node?: NodeName
}

/** EngineInput.limited changed (a license installed, expired, lost): groups are reconsidered. */
export interface LicenseChangeEvent {
  type: 'licenseChange'
}

/** From the cluster layer: the node announced standby (mccs node standby: it moved its groups off and runs
 *  nothing by its own word) or its end. */
export interface NodeModeEvent {
  type: 'nodeMode'
  node: NodeName
  standby: boolean
}

export type EngineEvent =
  OperatorCommand | MonitorResultEvent | ActionResultEvent | NodeChangeEvent | TickEvent | StartEvent | LicenseChangeEvent | NodeModeEvent

const COMMANDS: ReadonlySet<string> = new Set<OperatorCommand['type']>([
  'groupOnline',
  'groupOffline',
  'groupSwitch',
  'groupLock',
  'groupUnlock',
  'groupClear',
  'groupFlush',
  'groupProbe',
  'groupFailover',
  'resourceOnline',
  'resourceOffline',
  'resourceProbe',
  'resourceActivate',
  'monitorAll',
  'nodeMaintenance',
])

export function isOperatorCommand(e: EngineEvent): e is OperatorCommand {
  return COMMANDS.has(e.type)
}
