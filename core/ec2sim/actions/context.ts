// What an action handler gets: the state to read or change, its validated parameters, the clock.
import type { Params } from '../query.js'
import type { Ec2State } from '../types.js'
import type { XmlValue } from '../xml.js'

export interface ActionContext {
  state: Ec2State
  p: Params
  now: number
  /** How long pending and stopping last. */
  transitionMs: number
}

export interface ActionDef {
  /** Changes state: DryRun answers DryRunOperation without doing it. (Describe calls accept DryRun too.) */
  mutating: boolean
  /** false: the action has no DryRun parameter in EC2 (AssignPrivateIpAddresses, UnassignPrivateIpAddresses),
   *  so a request carrying one is refused as an unknown parameter instead of being dry-run. */
  dryRun?: false
  run(ctx: ActionContext): Record<string, XmlValue>
}
