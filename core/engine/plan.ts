// What a step asks the world to do. The plan is data, like etcd raft's `Ready`: the engine never runs
// anything; the executor does, following the rules written here.

import type { NodeName } from './model.js'
import type { ErrorCode } from '../errors.js'
import type { Said } from './said.js'

export type ActionKind = 'online' | 'offline' | 'monitor' | 'clean' | 'probe' | 'cancel' | 'fence'

/**
 * One thing to do on one node.
 *
 * Ordering rules (the executor must keep them):
 * 1. An action starts only after every action named in `after` has completed successfully
 *    (status done, answer ok). `after` names actions of the same plan only. Actions without an edge
 *    between them may run in parallel (independent dependency branches do).
 * 2. Online: a parent's online lists its children's onlines; offline: a child's offline lists its
 *    parents' offlines. When a group moves, the first onlines on the new node list the last offlines on
 *    the old one: nothing starts on the new node before the old one is clean.
 * 3. `cancel` actions come first in a plan and have no `after`: drop the target if it has not started,
 *    abort it if it runs. The engine has already forgotten the target; a late result for it is ignored.
 *    When an action fails, the engine cancels its dependents in the plan of that result.
 * 4. `fence` makes sure the node runs nothing (the cluster layer does it). The engine never brings a group
 *    online elsewhere while a node that may still run it is not fenced: it waits for `nodeChange fenced`
 *    (or this action's ok result).
 * 5. Every action except `cancel` gets exactly one `actionResult` back, with its id. Should none arrive by
 *    `deadline`, the engine stops waiting (a tick past it): it cancels the action and learns the truth
 *    with a probe (core/engine/deadlines.ts); a result that comes later is ignored like any other.
 */
export interface Action {
  /** Deterministic (from the state's counter): `a<seq>`. */
  id: string
  kind: ActionKind
  resource?: string
  group?: string
  node: NodeName
  timeoutMs: number
  after: string[]
  reason: string
  /** The reason in words of the locale files (core/engine/said.ts), for the timeline's readers. */
  said?: Said
  /** cancel: the id of the action to cancel. */
  target?: string
  /** The engine's own bookkeeping (its clock, `now` of step()): past this the result counts as lost.
   *  The executor need not read it; it applies `timeoutMs`. Absent on `cancel`. */
  deadline?: number
}

export type NoticeKind =
  | 'commandAccepted'
  | 'commandRejected'
  | 'resourceFaulted'
  | 'groupFaulted'
  | 'groupPartial'
  | 'groupFailover'
  | 'noFailoverTarget'
  | 'restart'
  | 'onlineRetry'
  | 'monitorMiss'
  | 'monitorTimeout'
  | 'monitorUnknown'
  | 'actionFailed'
  | 'cleanFailed'
  | 'needsFence'
  | 'nodeFenced'
  | 'fenceFailed'
  /** The node came back before its fence was done: the fence is cancelled, the node probed. */
  | 'fenceWithdrawn'
  | 'adopted'
  /** Found running in a group the operator took offline, or on a node in standby: not adopted, taken down. */
  | 'foundWhileOffline'
  | 'concurrencyViolation'
  | 'probeInconclusive'
  | 'lockedNoAction'
  | 'countersReset'
  /** A fault passed its failureTimeoutS: cleared, the resource probed. */
  | 'faultExpired'
  /** An action's result did not come by its deadline: it is cancelled and the resource probed. */
  | 'actionLost'

/** Something worth telling the operator (the log, the console). Notices need no execution. */
export interface Notice {
  kind: NoticeKind
  group?: string
  resource?: string
  node?: NodeName
  /** commandRejected: the reason's code from the error catalogue. */
  code?: ErrorCode
  /** Operator commands: who asked (for the manual operation log). */
  user?: string
  /** Operator commands: the command type. */
  command?: string
  /** In English (logs, JSON, older readers). */
  reason: string
  /** The same in words of the locale files (core/engine/said.ts); absent on records of older agents. */
  said?: Said
}

export interface Plan {
  actions: Action[]
  notices: Notice[]
}

/** The answer to an operator command. */
export type CommandOutcome =
  | { status: 'accepted' }
  /** `said`: the reason in words of the locale files (absent from older agents). */
  | { status: 'rejected'; code: ErrorCode; reason: string; said?: Said }
