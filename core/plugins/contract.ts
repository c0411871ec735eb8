// Checks what a plugin hook returned. A plugin that breaks the contract is named in the error and its
// call counts as failed for its own resource only.
import type { Answer, Diagnostic, HookAnswer, HookName } from '../../sdk/src/types.js'

const ANSWERS: ReadonlySet<string> = new Set(['ok', 'notRunning', 'invalid', 'degraded', 'failed', 'unknown'])
const ALLOWED: Record<HookName, ReadonlySet<Answer>> = {
  validate: new Set(['ok', 'invalid']),
  discover: new Set(['ok', 'failed', 'unknown']),
  online: new Set(['ok', 'failed', 'invalid', 'degraded']),
  offline: new Set(['ok', 'failed']),
  clean: new Set(['ok', 'failed']),
  monitor: new Set(['ok', 'notRunning', 'degraded', 'failed', 'unknown', 'invalid']),
  fence: new Set(['ok', 'failed', 'unknown']),
  status: new Set(['ok', 'notRunning', 'failed', 'unknown']),
}
const MAX_REASON = 4096
const MAX_DATA = 64 * 1024

export type Checked = { ok: true; value: HookAnswer } | { ok: false; field: string; reason: string }

export function checkAnswer(hook: HookName, v: unknown): Checked {
  const bad = (field: string, reason: string): Checked => ({ ok: false, field, reason })
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('(return value)', 'must be an object like { answer: "ok" }')
  const r = v as Record<string, unknown>
  if (typeof r.answer !== 'string' || !ANSWERS.has(r.answer)) {
    return bad('answer', `must be one of ok, notRunning, invalid, degraded, failed, unknown (got ${JSON.stringify(r.answer)})`)
  }
  const answer = r.answer as Answer
  if (!ALLOWED[hook].has(answer)) return bad('answer', `'${answer}' is not a valid answer for ${hook}`)
  const out: HookAnswer = { answer }
  if (r.recoverable !== undefined) {
    if (typeof r.recoverable !== 'boolean') return bad('recoverable', 'must be a boolean')
    out.recoverable = r.recoverable
  }
  if (r.reason !== undefined && r.reason !== null) {
    if (typeof r.reason !== 'string') return bad('reason', 'must be a string')
    out.reason = r.reason.slice(0, MAX_REASON)
  }
  if (r.diagnostics !== undefined) {
    if (!Array.isArray(r.diagnostics) || r.diagnostics.length > 200) return bad('diagnostics', 'must be an array of at most 200 items')
    const diags: Diagnostic[] = []
    for (const [i, d] of r.diagnostics.entries()) {
      const x = d as Record<string, unknown>
      if (typeof x !== 'object' || x === null) return bad(`diagnostics[${i}]`, 'must be an object')
      if (x.severity !== 'error' && x.severity !== 'warning') return bad(`diagnostics[${i}].severity`, "must be 'error' or 'warning'")
      if (typeof x.summary !== 'string' || !x.summary) return bad(`diagnostics[${i}].summary`, 'must be a non-empty string')
      if (x.path !== undefined && typeof x.path !== 'string') return bad(`diagnostics[${i}].path`, 'must be a JSON pointer string')
      if (x.detail !== undefined && typeof x.detail !== 'string') return bad(`diagnostics[${i}].detail`, 'must be a string')
      diags.push({
        severity: x.severity,
        summary: x.summary.slice(0, MAX_REASON),
        ...(x.path !== undefined ? { path: x.path as string } : {}),
        ...(x.detail !== undefined ? { detail: (x.detail as string).slice(0, MAX_REASON) } : {}),
      })
    }
    out.diagnostics = diags
  }
  if (answer === 'invalid' && !out.diagnostics?.length) return bad('diagnostics', "an 'invalid' answer must say which field is wrong")
  if (r.choices !== undefined) {
    if (!Array.isArray(r.choices) || r.choices.length > 10000) return bad('choices', 'must be an array')
    for (const [i, c] of r.choices.entries()) {
      if (typeof c !== 'object' || c === null || typeof (c as { value?: unknown }).value !== 'string')
        return bad(`choices[${i}].value`, 'must be a string')
      const label = (c as { label?: unknown }).label
      if (label !== undefined && typeof label !== 'string') return bad(`choices[${i}].label`, 'must be a string')
    }
    out.choices = r.choices as HookAnswer['choices']
  }
  if (r.data !== undefined) {
    if (typeof r.data !== 'object' || r.data === null || Array.isArray(r.data)) return bad('data', 'must be an object')
    if (JSON.stringify(r.data).length > MAX_DATA) return bad('data', `must serialise to at most ${MAX_DATA} bytes`)
    out.data = r.data as Record<string, unknown>
  }
  return { ok: true, value: out }
}

/** Default of the recoverable axis when the plugin did not say. */
export function defaultRecoverable(a: Answer): boolean {
  return a !== 'invalid'
}
