// The console's language: the product language the page was served in (<html lang>) until a user logs
// in, then the user's own (GET /api/session). Every string the console shows goes through tr(); a switch
// in Preferences sets the language and the main screen is built again in it.
import { t, say, isLocale, type Locale, type MessageKey, type Params, type Said } from '../../i18n/messages.js'
import { formatTime, formatClock } from '../../i18n/time.js'

let current: Locale = isLocale(document.documentElement.lang) ? document.documentElement.lang : 'en'

export const lang = (): Locale => current

const listeners: Array<() => void> = []

/** Sets the language; when it changed, the main screen is built again in it (main.ts listens). */
export function setLang(l: Locale): void {
  const was = current
  current = l
  document.documentElement.lang = l
  if (was !== l) for (const f of listeners) f()
}

export function whenLanguageChanges(f: () => void): void {
  listeners.push(f)
}

export function tr(key: MessageKey, params?: Params): string {
  return t(current, key, params)
}

/** A key built at run time (a state or a code): its text, or `fallback` when no locale has it. */
export function trOr(key: string, fallback: string, params?: Params): string {
  const s = t(current, key as MessageKey, params)
  return s === key ? fallback : s
}

/** What the agent recorded in words (a fault's reason, a notice, a timeline entry) in the console's language;
 *  the English it stored when the record has no words (an older agent, a plugin's own reason). */
export const trSaid = (said: Said | null | undefined, english: string): string => say(current, said, english)

/** The product's one date/time format, in the console's language. */
export const fmtTime = (at: number | string, o: { ms?: boolean } = {}): string => formatTime(current, at, o)
export const fmtClock = (at: number | string): string => formatClock(at)
