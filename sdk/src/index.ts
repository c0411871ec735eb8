// @mccs/sdk: what a resource-type plugin imports. Only types and small pure helpers live here,
// because the plugin bundle runs inside the sandbox where nothing of Node exists.
export * from './types.js'
export * from './caps-net.js'
export * from './caps-aws.js'
export * from './aws-answers.js'
export * from './wizard.js'
import type { Attrs, Diagnostic, FenceHooks, HookAnswer, ResourceHooks } from './types.js'

/** Declares a resource-type plugin. The returned object is what the host calls. */
export function definePlugin<A extends Attrs = Attrs>(hooks: ResourceHooks<A>): ResourceHooks<A> {
  return hooks
}
/** Declares a fence plugin (kind "fence" in plugin.json). */
export function defineFencePlugin<A extends Attrs = Attrs>(hooks: FenceHooks<A>): FenceHooks<A> {
  return hooks
}

type Extra = Omit<HookAnswer, 'answer' | 'reason'>
export const ok = (reason?: string, extra: Extra = {}): HookAnswer => ({ answer: 'ok', reason, ...extra })
export const notRunning = (reason?: string, extra: Extra = {}): HookAnswer => ({ answer: 'notRunning', reason, ...extra })
export const degraded = (reason: string, extra: Extra = {}): HookAnswer => ({ answer: 'degraded', reason, ...extra })
/** The truth cannot be known now (API throttled, timeout): never read as "not running". */
export const unknown = (reason: string, extra: Extra = {}): HookAnswer => ({ answer: 'unknown', reason, recoverable: true, ...extra })
export const failed = (reason: string, opts: { recoverable?: boolean } & Extra = {}): HookAnswer =>
  ({ answer: 'failed', reason, recoverable: opts.recoverable ?? true, ...opts })
export const invalid = (diagnostics: Diagnostic[], reason = diagnostics.map((d) => d.summary).join('; ')): HookAnswer =>
  ({ answer: 'invalid', reason, recoverable: false, diagnostics })
/** One field-level diagnostic. */
export const diag = (path: string, summary: string, detail?: string, severity: Diagnostic['severity'] = 'error'): Diagnostic =>
  ({ path, summary, severity, ...(detail ? { detail } : {}) })
