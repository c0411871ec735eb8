// The one date/time format of the product, in the chosen locale, in the viewer's local time zone:
//   en: 2026-12-06 18:19:28      ko: 2026. 12. 06. 18:19:28
// Both are 24-hour and sort the way they read; the console, the CLI and the operation log all use this.
import type { Locale } from './messages.js'

const pad = (n: number) => String(n).padStart(2, '0')

/** ms since the epoch (or an ISO string) → the product's date and time; unparseable input comes back as it
 *  was. `ms`: with milliseconds (the timeline, where entries a few ms apart must read in order). */
export function formatTime(locale: Locale, at: number | string, o: { ms?: boolean } = {}): string {
  const d = new Date(at)
  if (Number.isNaN(d.getTime())) return String(at)
  const date =
    locale === 'ko'
      ? `${d.getFullYear()}. ${pad(d.getMonth() + 1)}. ${pad(d.getDate())}.`
      : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
  return `${date} ${clock(d)}${o.ms ? `.${String(d.getMilliseconds()).padStart(3, '0')}` : ''}`
}

/** The time of day only (the live log and banners, where the date is today's). */
export function formatClock(at: number | string): string {
  const d = new Date(at)
  return Number.isNaN(d.getTime()) ? String(at) : clock(d)
}

const clock = (d: Date) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
