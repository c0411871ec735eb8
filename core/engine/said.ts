// What the engine says in words, translatable: beside each English reason (kept for logs, JSON and old
// readers) the message key and parameters of core/i18n's locale files, so the console and the CLI render it
// in the reader's language. A parameter may itself be said (a fault's reason inside "fault expired: …").
// The English text is written here as before; test/engine/said.test.ts checks that the key's English text
// with these parameters is that same text.

export type SaidParam = string | number | Said
export interface Said {
  /** The message key (named `id`: the logs' redaction hides any field named like `key`). */
  id: string
  params?: Record<string, SaidParam>
}

/** The English reason and its key + parameters, to spread into a notice: `{ kind, …msg(key, params, text) }`. */
export function msg(key: string, params: Record<string, SaidParam>, reason: string): { reason: string; said: Said } {
  return { reason, said: { id: key, params } }
}

/** A reason as the engine passes it on: English, and its words when the engine wrote it (a plugin's own
 *  reason has none; it is shown as the plugin wrote it). */
export interface Worded {
  reason: string
  said?: Said
}

/** The words of a reason as a parameter of another: its key when it has one, else its text. */
export const asParam = (w: Worded): SaidParam => w.said ?? w.reason

/** A code inside words (an answer, an execution status, an action's kind): its own key, so a reader sees
 *  it in its language; in English it reads as the code itself. */
export const codeWord = (of: 'answer' | 'status' | 'action', code: string): Said => ({ id: `said.${of}.${code}` })
