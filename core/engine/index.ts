// The engine's public surface: the pure decision core of MCCS.

export { step, initialState, type StepResult, type EngineInput } from './scheduler.js'
export { simulate, type SimEvent, type SimStep, type SimulateOptions, type SimulateResult, type ScriptedResult } from './simulate.js'
export { monitorSchedule, type MonitorEntry } from './monitor-schedule.js'
export { validate, type ValidationIssue } from './validate.js'
export type { EngineEvent, OperatorCommand, MonitorResultEvent, ActionResultEvent, NodeChangeEvent } from './events.js'
export { isOperatorCommand } from './events.js'
export type { Action, ActionKind, Notice, NoticeKind, Plan, CommandOutcome } from './plan.js'
export type { EngineState, GroupRuntime, ResourceNodeState, NodeState, GroupStateName, ResourceStateName, Membership, LockKind } from './state.js'
export { resourceState, pendingActions } from './state.js'
export type { InitialOptions } from './align.js'
export { selfFenceOrder, type SelfFenceGroup } from './self-fence.js'
