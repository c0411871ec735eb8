// The answers a hook returns (ok, notRunning, degraded, unknown, failed, invalid) and a field diagnostic.
import type { Diagnostic, HookAnswer } from './types.js'

type Extra = Omit<HookAnswer, 'answer' | 'reason'>
export const ok = (reason?: string, extra: Extra = {}): HookAnswer => ({ answer: 'ok', reason, ...extra })
export const notRunning = (reason?: string, extra: Extra = {}): HookAnswer => ({ answer: 'notRunning', reason, ...extra })
export const degraded = (reason: string, extra: Extra = {}): HookAnswer => ({ answer: 'degraded', reason, ...extra })
/** The truth cannot be known now (API throttled, timeout): never read as "not running". */
export const unknown = (reason: string, extra: Extra = {}): HookAnswer => ({ answer: 'unknown', reason, recoverable: true, ...extra })
export const failed = (reason: string, opts: { recoverable?: boolean } & Extra = {}): HookAnswer => ({
  answer: 'failed',
  reason,
  recoverable: opts.recoverable ?? true,
  ...opts,
})
export const invalid = (diagnostics: Diagnostic[], reason = diagnostics.map((d) => d.summary).join('; ')): HookAnswer => ({
  answer: 'invalid',
  reason,
  recoverable: false,
  diagnostics,
})
/** One field-level diagnostic. */
export const diag = (path: string, summary: string, detail?: string, severity: Diagnostic['severity'] = 'error'): Diagnostic => ({
  path,
  summary,
  severity,
  ...(detail ? { detail } : {}),
})
