// The one lookup of user-facing text: flat keys ("err.MCCS_ERR_INVALID", "ui.menu.file") in the locale
// files beside this one (en.json, ko.json), with {name} parameters. Both dictionaries are bundled: the
// console switches language without a reload, and the CLI and the API answer per caller.
// test/i18n/consistency.test.ts fails on a key in one locale only, a parameter set that differs between
// locales, or a key the code uses that no locale has.
import en from './en.json' with { type: 'json' }
import ko from './ko.json' with { type: 'json' }

export const LOCALES = ['ko', 'en'] as const
export type Locale = (typeof LOCALES)[number]
/** What a process without a recorded choice speaks (a node never set up: tests, scripts, development homes). */
export const FALLBACK_LOCALE: Locale = 'en'

export type MessageKey = keyof typeof en
export type Params = Record<string, string | number>

const DICTS: Record<Locale, Record<string, string>> = { en, ko }

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (LOCALES as readonly string[]).includes(v)
}

/** The dictionary of a locale (read-only: the SDK and tests compare key sets). */
export function dictionary(locale: Locale): Readonly<Record<string, string>> {
  return DICTS[locale]
}

/** The text of key in locale with {name} filled from params; English when the locale lacks the key (the
 *  consistency test keeps that from shipping), the key itself when no locale has it. */
export function t(locale: Locale, key: MessageKey, params?: Params): string {
  const text = DICTS[locale][key] ?? DICTS.en[key] ?? key
  return params ? fill(text, params) : text
}

/** {name} → params.name; an unknown {name} stays as written so a mistake shows instead of vanishing. */
export function fill(text: string, params: Params): string {
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : m))
}

/** The {name} parameters a text uses, sorted (the consistency test and the SDK compare them). */
export function paramsOf(text: string): string[] {
  return [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort()
}

/** What the agent said in words (core/engine/said.ts: a key and parameters, a parameter perhaps said too). */
export interface Said {
  id: string
  params?: Record<string, string | number | Said>
}

/** A record's words in `locale`: its key and parameters rendered, else the English it stored (a record of an
 *  older agent, or a key this version does not know). */
export function say(locale: Locale, said: Said | null | undefined, english: string): string {
  return (said && render(locale, said)) ?? english
}

function render(locale: Locale, s: Said, depth = 0): string | null {
  if (typeof s !== 'object' || typeof s.id !== 'string' || !Object.hasOwn(DICTS.en, s.id) || depth > 32) return null
  const params: Params = {}
  for (const [k, v] of Object.entries(s.params ?? {})) {
    if (typeof v === 'string' || typeof v === 'number') params[k] = v
    else {
      const inner = v && render(locale, v, depth + 1)
      if (inner === null) return null
      params[k] = inner
    }
  }
  return fill(DICTS[locale][s.id] ?? DICTS.en[s.id]!, params)
}
