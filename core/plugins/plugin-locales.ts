// A plugin's own locale files (manifest `locales`: {"en": "locales/en.json", "ko": "locales/ko.json"}):
// its display name, wizard labels and help in each language it declares. Each file is a flat JSON object of
// strings with {name} parameters, like core/i18n's. Checked when the plugin is loaded (the agent, and
// mccs-plugin validate/build): every key of any declared locale is in every declared locale, with the same
// parameters, and each locale has the display name and every wizard title and description. Errors name the
// plugin, the key and the locale.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { MccsError } from '../errors.js'
import { isLocale, paramsOf, type Locale } from '../i18n/messages.js'
import type { PluginManifest } from '../../sdk/src/types.js'

export type PluginLocales = Partial<Record<Locale, Record<string, string>>>

/** The keys every declared locale must have: the display name, each wizard property's title and
 *  description where the manifest has one (wizard.<property>.title, wizard.<property>.description), and each
 *  heading the wizard groups its fields under (`x-mccs.group`: wizardGroup.<heading>). */
export function requiredLocaleKeys(m: PluginManifest): string[] {
  const keys = ['displayName']
  if (m.description) keys.push('description')
  const props = (m.wizard as { properties?: Record<string, WizardProp> }).properties ?? {}
  const groups = new Set<string>()
  for (const [p, s] of Object.entries(props)) {
    if (typeof s?.title === 'string') keys.push(`wizard.${p}.title`)
    if (typeof s?.description === 'string') keys.push(`wizard.${p}.description`)
    const g = groupOf(s)
    if (g !== undefined) groups.add(g)
  }
  for (const g of groups) keys.push(groupKey(g))
  return keys
}

type WizardProp = { title?: unknown; description?: unknown; 'x-mccs'?: { group?: unknown } } | null

/** The heading a wizard property is grouped under, if any. */
export const groupOf = (s: WizardProp | undefined): string | undefined => {
  const g = s?.['x-mccs']?.group
  return typeof g === 'string' && g !== '' ? g : undefined
}

/** The locale key of a wizard heading: the heading's own (English) text after `wizardGroup.`. */
export const groupKey = (heading: string): string => `wizardGroup.${heading}`

/** Reads and checks the locale files a manifest declares; {} when it declares none. */
export async function loadPluginLocales(dir: string, m: PluginManifest): Promise<PluginLocales> {
  const subject = `plugin '${m.name}'`
  const out: PluginLocales = {}
  for (const [locale, rel] of Object.entries(m.locales ?? {})) {
    const field = `/locales/${locale}`
    if (!isLocale(locale))
      throw new MccsError('MCCS_ERR_MANIFEST', `'${locale}' is not a language MCCS offers: ko or en`, { subject, field })
    const file = path.resolve(dir, rel)
    if (!file.startsWith(path.resolve(dir) + path.sep))
      throw new MccsError('MCCS_ERR_MANIFEST', `'${rel}' is outside the plugin folder`, { subject, field })
    let doc: unknown
    try {
      doc = JSON.parse(await readFile(file, 'utf8'))
    } catch (e) {
      throw new MccsError('MCCS_ERR_MANIFEST', `locale file ${rel} cannot be read as JSON: ${(e as Error).message}`, { subject, field })
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc))
      throw new MccsError('MCCS_ERR_MANIFEST', `locale file ${rel} must be a JSON object of strings`, { subject, field })
    for (const [k, v] of Object.entries(doc)) {
      if (typeof v !== 'string' || !v.trim())
        throw new MccsError('MCCS_ERR_MANIFEST', `key '${k}' in locale '${locale}' (${rel}) must be a non-empty string`, { subject, field })
    }
    out[locale] = doc as Record<string, string>
  }
  checkPluginLocales(m, out)
  return out
}

/** Every key in every declared locale, with the same parameters; the required keys in each. */
export function checkPluginLocales(m: PluginManifest, locales: PluginLocales): void {
  const subject = `plugin '${m.name}'`
  const declared = Object.keys(locales) as Locale[]
  if (!declared.length) return
  const all = new Set([...requiredLocaleKeys(m), ...declared.flatMap((l) => Object.keys(locales[l]!))])
  for (const key of all) {
    for (const l of declared) {
      if (!Object.hasOwn(locales[l]!, key))
        throw new MccsError('MCCS_ERR_MANIFEST', `key '${key}' is missing in locale '${l}' (${m.locales![l]})`, {
          subject,
          field: `/locales/${l}`,
          data: { key, locale: l },
        })
    }
    const sets = new Set(declared.map((l) => paramsOf(locales[l]![key]!).join(',')))
    if (sets.size > 1)
      throw new MccsError('MCCS_ERR_MANIFEST', `key '${key}' has different {parameters} in ${declared.join(' and ')}`, {
        subject,
        field: `/locales/${declared[1]}`,
        data: { key },
      })
  }
}
