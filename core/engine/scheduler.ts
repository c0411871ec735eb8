// The engine's entry point: (input, state, event, now) -> (state, plan). Pure: no I/O, no clock, no
// randomness; the same arguments always give the same answer.

import type { EngineInput } from './config-index.js'
import { indexConfig } from './config-index.js'
import { Draft } from './draft.js'
import type { EngineEvent } from './events.js'
import { isOperatorCommand } from './events.js'
import type { CommandOutcome, Plan } from './plan.js'
import type { EngineState } from './state.js'
import { aligned } from './align.js'
import { onCommand } from './commands.js'
import { onNodeChange, onStart, onTick } from './membership.js'
import { observe } from './policy.js'
import { reconcile } from './reconcile.js'
import { onActionResult } from './results.js'
import { onNodeMode } from './node-mode.js'

export type { EngineInput } from './config-index.js'
export { initialState } from './align.js'

export interface StepResult {
  state: EngineState
  plan: Plan
  /** Set for operator commands: accepted, or rejected with a catalogue code and the reason. */
  outcome?: CommandOutcome
}

export function step(input: EngineInput, state: EngineState, event: EngineEvent, now: number): StepResult {
  const idx = indexConfig(input)
  const d = new Draft(idx, state, now, input.limited, input.limitedSaid)
  // A new main.json, or a new node list (hb.json changed live, issue 16): the state follows the configuration.
  if (state.generation !== input.config.generation || !sameNodes(state, input)) {
    d.replaceAll(aligned(idx, state))
    d.generation = input.config.generation
    for (const g of idx.groups.keys()) d.touched.add(g)
  }
  let outcome: CommandOutcome | undefined
  const operator = isOperatorCommand(event)
  switch (event.type) {
    case 'monitorResult': {
      const s = d.rs(event.resource, event.node)
      if (s?.monitored) observe(d, event.resource, event.node, event)
      break
    }
    case 'actionResult':
      onActionResult(d, event)
      break
    case 'nodeChange':
      onNodeChange(d, event.node, event.membership)
      break
    case 'start':
      onStart(d, event.node)
      break
    case 'nodeMode':
      onNodeMode(d, event.node, event.standby)
      break
    case 'tick':
      onTick(d)
      break
    // The license input changed: every group is reconsidered (a pending auto-start may now go ahead).
    case 'licenseChange':
      for (const g of idx.groups.keys()) d.touched.add(g)
      break
    default:
      outcome = onCommand(d, event)
  }
  // Locked groups are reconciled only to carry out operator commands and their results: the engine
  // never moves them on its own. Unlock by itself starts nothing.
  const mayFollowUp = operator || event.type === 'actionResult'
  if (!(operator && event.type === 'groupUnlock')) {
    for (const g of [...d.touched]) {
      const gs = d.group(g)
      if (gs && (gs.lock === 'none' || mayFollowUp)) reconcile(d, g)
    }
  }
  // Cancels first (plan.ts, rule 3).
  const actions = [...d.actions.filter((a) => a.kind === 'cancel'), ...d.actions.filter((a) => a.kind !== 'cancel')]
  const out: StepResult = { state: d.finish(), plan: { actions, notices: d.notices } }
  if (outcome) out.outcome = outcome
  return out
}

function sameNodes(state: EngineState, input: EngineInput): boolean {
  const have = Object.keys(state.nodes)
  return have.length === input.nodes.length && input.nodes.every((n) => n in state.nodes)
}
