// Which locale a caller gets. The precedence, one place for every front end:
//   the CLI: --lang, then MCCS_LANG, then the product language (setup.json), then English;
//   the API: the session user's preference, then Accept-Language, then the product language.
import { FALLBACK_LOCALE, isLocale, type Locale } from './messages.js'

/** The first usable of the candidates (undefined and unknown values are skipped), else the fallback. */
export function pickLocale(...candidates: Array<string | null | undefined>): Locale {
  for (const c of candidates) {
    const l = normalize(c)
    if (l) return l
  }
  return FALLBACK_LOCALE
}

/** "ko", "ko-KR", "ko_KR.UTF-8", "EN" → a locale; anything else → undefined. */
export function normalize(v: string | null | undefined): Locale | undefined {
  if (typeof v !== 'string') return undefined
  const base = v.trim().toLowerCase().split(/[-_.]/)[0]
  return isLocale(base) ? base : undefined
}

/** The best locale an Accept-Language header offers (by q, then order), or undefined. */
export function fromAcceptLanguage(header: string | undefined): Locale | undefined {
  if (!header) return undefined
  const ranked = header
    .split(',')
    .map((part, i) => {
      const [tag, ...ps] = part.trim().split(';')
      const q = ps.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)).find(Boolean)
      return { l: normalize(tag), q: q ? Number(q[1]) : 1, i }
    })
    .filter((x): x is { l: Locale; q: number; i: number } => !!x.l && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
  return ranked[0]?.l
}
