// The engine's public surface: the pure decision core of MCCS. Outside core/engine only this file is
// imported (the layer lint, scripts/lint-layers.mjs), so what the rest of MCCS relies on is listed here.

export { step, initialState, type StepResult, type EngineInput } from './scheduler.js'
export { simulate, type SimEvent, type SimStep, type SimulateOptions, type SimulateResult, type ScriptedResult } from './simulate.js'
export { monitorSchedule, type MonitorEntry } from './monitor-schedule.js'
export type { EngineEvent, OperatorCommand, MonitorResultEvent, ActionResultEvent, NodeChangeEvent } from './events.js'
export { isOperatorCommand } from './events.js'
export type { Action, ActionKind, Notice, NoticeKind, Plan, CommandOutcome } from './plan.js'
export type { Said, SaidParam } from './said.js'
export { msg, codeWord } from './said.js'
export type {
  EngineState,
  GroupRuntime,
  ResourceNodeState,
  NodeState,
  GroupStateName,
  ResourceStateName,
  Membership,
  LockKind,
} from './state.js'
export { resourceState, pendingActions, stuckResources, isStickyFault } from './state.js'
export type { InitialOptions } from './align.js'
export { selfFenceOrder, type SelfFenceGroup } from './self-fence.js'
export { intentOf, sameIntent, afterRestart, applyIntent, intentProblem, type OperatorIntent, type GroupIntent } from './intent.js'
// The model of main.json (hb.json's is core/config/hb-model.ts).
export type { NodeName, MainConfig, GroupConfig, ResourceConfig, DependencyConfig, TypeDefaults } from './model.js'
export { SHIPPED_DEFAULTS, resolvePolicy, resolveAttrs } from './model.js'
export { findCycle } from './graph.js'
export { runScenario, type ScenarioFile } from './scenario.js'
