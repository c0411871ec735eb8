// The language of the CLI's human output: --lang, then MCCS_LANG, then the product language chosen at setup
// (<config>/setup.json), then English. --json output is the same in every language.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MccsError } from '../errors.js'
import { normalize, pickLocale } from '../i18n/locale.js'
import { LOCALES, type Locale } from '../i18n/messages.js'

/** The locale a command speaks; an unknown --lang or MCCS_LANG is refused, naming where it came from. */
export async function cliLocale(flag: unknown, configDir: ConfigDir, env: NodeJS.ProcessEnv = process.env): Promise<Locale> {
  for (const [field, v] of [
    ['--lang', flag],
    ['MCCS_LANG', env.MCCS_LANG],
  ] as const) {
    if (v === undefined || v === '') continue
    const l = typeof v === 'string' ? normalize(v) : undefined
    if (!l) throw new MccsError('MCCS_ERR_INVALID', `'${String(v)}' is not a language MCCS offers: ${LOCALES.join(' or ')}`, { field })
    return l
  }
  return pickLocale(await productLanguage(configDir))
}

/** Where this node's config folder is: the caller knows how it read the settings (the thin entry has read
 *  them already; the full one has the full loader), so this file loads neither. */
export type ConfigDir = () => Promise<string>

/** The language setup recorded for this node, or undefined (never set up, or settings unreadable). */
async function productLanguage(configDir: ConfigDir): Promise<string | undefined> {
  try {
    return await setupLanguage(await configDir())
  } catch {
    return undefined
  }
}

/** The language of <config>/setup.json (core/setup/node-files.ts writes it; importing that module would load
 *  the settings loader, which the thin commands avoid). */
export async function setupLanguage(configDir: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(join(configDir, SETUP_FILE), 'utf8')) as { language?: string } | null)?.language
  } catch {
    return undefined
  }
}

/** As SETUP_FILE in core/setup/node-files.ts (test/cli/thin-bootstrap.test.ts compares them). */
export const SETUP_FILE = 'setup.json'
