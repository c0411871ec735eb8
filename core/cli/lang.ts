// The language of the CLI's human output: --lang, then MCCS_LANG, then the product language chosen at setup
// (<config>/setup.json), then English. --json output is the same in every language.
import { MccsError } from '../errors.js'
import { normalize, pickLocale } from '../i18n/locale.js'
import { LOCALES, type Locale } from '../i18n/messages.js'

/** The locale a command speaks; an unknown --lang or MCCS_LANG is refused, naming where it came from. */
export async function cliLocale(flag: unknown, env: NodeJS.ProcessEnv = process.env): Promise<Locale> {
  for (const [field, v] of [
    ['--lang', flag],
    ['MCCS_LANG', env.MCCS_LANG],
  ] as const) {
    if (v === undefined || v === '') continue
    const l = typeof v === 'string' ? normalize(v) : undefined
    if (!l) throw new MccsError('MCCS_ERR_INVALID', `'${String(v)}' is not a language MCCS offers: ${LOCALES.join(' or ')}`, { field })
    return l
  }
  return pickLocale(await productLanguage())
}

/** The language setup recorded for this node, or undefined (never set up, or settings unreadable). */
async function productLanguage(): Promise<string | undefined> {
  try {
    const b = await (await import('../config/bootstrap.js')).loadBootstrap()
    return (await (await import('../setup/node-files.js')).readSetupRecord(b.configDir))?.language
  } catch {
    return undefined
  }
}
