// Secrets never leave the node in a support bundle: JSON values under secret-looking key names are
// replaced, at any depth. Key names, not values, decide (a value cannot be told apart from data).
const SECRET_WORD = /passw|passphrase|^pass$|secret|token|credential|private.?key|api.?key|access.?key|session|cookie|^key$|[_.-]key$|^auth/i
/** camelCase names ending in Key (clusterKey, sshKey) are keys; lower-case words ending in "key" (monkey) are not. */
const CAMEL_KEY = /[a-z0-9]Key$/

export const isSecretKey = (name: string): boolean => SECRET_WORD.test(name) || CAMEL_KEY.test(name)

export const REDACTED = '[redacted]'

export function redactJson(v: unknown, depth = 0): unknown {
  if (depth > 32 || v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map((x) => redactJson(x, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) out[k] = isSecretKey(k) ? REDACTED : redactJson(x, depth + 1)
  return out
}

/** JSON text -> redacted JSON text; text that is not JSON is not included (it might hold anything). */
export function redactJsonText(text: string): { ok: true; text: string } | { ok: false; reason: string } {
  try {
    return { ok: true, text: JSON.stringify(redactJson(JSON.parse(text)), null, 2) + '\n' }
  } catch (e) {
    return { ok: false, reason: `not JSON, left out so no secret leaks: ${(e as Error).message}` }
  }
}
