// The operation log for what the console changes itself (configuration import, licenses, support bundles,
// passwords, the outcome of a command it waited for). Operator commands and configuration edits are logged
// by the agent (Agent.command, configEdit); these are the changes that do not pass through there.
import type { Agent } from '../agent/agent.js'
import type { OpRecord } from '../log/oplog.js'
import { isMccsError } from '../errors.js'

export type AuditRecord = Omit<OpRecord, 'at' | 'node'>

/** Appends one record naming the user; written (fsynced) before the console answers. */
export function audit(agent: Agent, r: AuditRecord): Promise<void> {
  return agent.oplog.append({ ...r, node: agent.node })
}

/** Runs a change and logs it as done, rejected (an MccsError: the caller's input) or failed. */
export async function audited<T>(agent: Agent, r: Omit<AuditRecord, 'result'>, change: () => Promise<T>): Promise<T> {
  let value: T
  try {
    value = await change()
  } catch (e) {
    await audit(agent, {
      ...r,
      result: isMccsError(e) ? 'rejected' : 'failed',
      code: isMccsError(e) ? e.code : 'MCCS_ERR_INTERNAL',
      reason: (e as Error)?.message ?? String(e),
    }).catch(() => {})
    throw e
  }
  // The change is made: a log that cannot be written is reported in the agent log, not as the change failing.
  await audit(agent, { ...r, result: 'done' }).catch((e: unknown) =>
    agent.log.log('error', 'operation log not written', { command: r.command, user: r.user, error: (e as Error).message }),
  )
  return value
}
