// The OCF exit codes and what each means for MCCS, as Pacemaker treats them:
//   soft  (1 generic, 9 failed-promoted, any other code): recoverable — restart here while the budget lasts
//   hard  (2 args, 3 unimplemented, 4 perm, 5 installed): not retried on this node — the group fails over
//   fatal (6 configured): the configuration is wrong everywhere — `invalid` (never retried, MCCS's own
//         answer for a configuration error), or a hard failure where `invalid` is not an answer (offline)
//   7 not running; 8 running promoted: MCCS never promotes (it runs agents as plain primitives), so an
//   agent that reports itself promoted is running; 190/191 degraded (OCF 1.1) count as up.
import { ok, notRunning, degraded, failed, invalid, diag, type HookAnswer } from '@mccs/sdk'

export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
  RUNNING_PROMOTED: 8,
  FAILED_PROMOTED: 9,
  DEGRADED: 190,
  DEGRADED_PROMOTED: 191,
} as const

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(OCF).map(([k, v]) => [v, `OCF_${k}`]))
const HARD: ReadonlySet<number> = new Set([OCF.ERR_ARGS, OCF.ERR_UNIMPLEMENTED, OCF.ERR_PERM, OCF.ERR_INSTALLED])

export interface AgentRun {
  code: number | null
  signal: string | null
  timedOut: boolean
  stdout: string
  stderr: string
}

/** "exit 2 (OCF_ERR_ARGS): <the agent's exit reason>" — what an operator reads. */
export function describeRun(action: string, r: AgentRun, timeoutS?: number): string {
  if (r.timedOut) return `${action} timed out${timeoutS ? ` after ${timeoutS} s` : ''}`
  if (r.code === 127 && r.stderr.startsWith('cannot run')) return r.stderr.split('\n')[0]!
  if (r.code === null) return `${action} killed by ${r.signal ?? 'a signal'}`
  const why = exitReason(r.stderr)
  return `${action}: exit ${r.code}${NAMES[r.code] ? ` (${NAMES[r.code]})` : ''}${why ? `: ${why}` : ''}`
}

/** The agent's own explanation: its last `ocf-exit-reason:` line on stderr (ocf_exit_reason). */
export function exitReason(stderr: string): string | undefined {
  const lines = stderr.split('\n').filter((l) => l.includes('ocf-exit-reason:'))
  const last = lines.at(-1)
  return last
    ? last
        .slice(last.indexOf('ocf-exit-reason:') + 'ocf-exit-reason:'.length)
        .trim()
        .slice(0, 1000)
    : undefined
}

export type Severity = 'ok' | 'notRunning' | 'soft' | 'hard' | 'fatal' | 'degraded'

export function classify(r: AgentRun): Severity {
  if (r.timedOut || r.code === null) return 'soft'
  switch (r.code) {
    case OCF.SUCCESS:
    case OCF.RUNNING_PROMOTED:
      return 'ok'
    case OCF.NOT_RUNNING:
      return 'notRunning'
    case OCF.ERR_CONFIGURED:
      return 'fatal'
    case OCF.DEGRADED:
    case OCF.DEGRADED_PROMOTED:
      return 'degraded'
    default:
      return HARD.has(r.code) ? 'hard' : 'soft'
  }
}

const fatal = (reason: string): HookAnswer =>
  invalid([diag('/params', reason, 'the agent answered OCF_ERR_CONFIGURED: its configuration is wrong on every node')], reason)

/** start: 0 (and 8, 190/191) up; 7 is a failed start (soft); hard and fatal as above. */
export function startAnswer(r: AgentRun, timeoutS?: number): HookAnswer {
  const why = describeRun('start', r, timeoutS)
  switch (classify(r)) {
    case 'ok':
      return ok()
    case 'degraded':
      return degraded(why)
    case 'fatal':
      return fatal(why)
    case 'hard':
      return failed(why, { recoverable: false })
    default:
      return failed(why)
  }
}

/** stop: 0 or 7 means stopped; anything else failed (MCCS then cleans, and fences if that fails too). */
export function stopAnswer(r: AgentRun, timeoutS?: number): HookAnswer {
  const s = classify(r)
  if (!r.timedOut && (r.code === OCF.SUCCESS || r.code === OCF.NOT_RUNNING)) return ok()
  return failed(describeRun('stop', r, timeoutS), { recoverable: s !== 'hard' && s !== 'fatal' })
}

/** monitor: 0/8 running, 7 not running, 190/191 degraded, 1/9 soft, 2-5 hard, 6 invalid; a timeout is a failed monitor (Pacemaker's rule). */
export function monitorAnswer(r: AgentRun, timeoutS?: number): HookAnswer {
  const why = describeRun('monitor', r, timeoutS)
  switch (classify(r)) {
    case 'ok':
      return ok(r.code === OCF.RUNNING_PROMOTED ? 'running (the agent reports it promoted)' : undefined)
    case 'notRunning':
      return notRunning(why)
    case 'degraded':
      return degraded(why)
    case 'fatal':
      return fatal(why)
    case 'hard':
      return failed(why, { recoverable: false })
    default:
      return failed(why)
  }
}
