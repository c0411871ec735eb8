// The console's languages: the product language (chosen at setup, <config>/setup.json; a node never set up
// speaks English), each user's own choice (Preferences, kept in accounts.json), and which one a request
// gets: the session user's choice, then the browser's Accept-Language, then the product language.
import type { FastifyRequest } from 'fastify'
import { readSetupRecord } from '../setup/node-files.js'
import { pickLocale, fromAcceptLanguage } from '../i18n/locale.js'
import { isLocale, type Locale } from '../i18n/messages.js'
import type { AccountStore } from './auth/accounts.js'

/** The product language setup recorded in configDir, or English when there is no record. */
export async function productLanguage(configDir: string): Promise<Locale> {
  const r = await readSetupRecord(configDir)
  return pickLocale(isLocale(r?.language) ? r.language : undefined)
}

/** The language a user sees: their own choice, else the product's. */
export function userLanguage(accounts: AccountStore, product: Locale, user: string): Locale {
  return accounts.get(user)?.lang ?? product
}

/** The language of a request's answer (error messages). */
export function requestLanguage(accounts: AccountStore, product: Locale, req: FastifyRequest): Locale {
  const own = req.mccsSession ? accounts.get(req.mccsSession.user)?.lang : undefined
  const header = req.headers['accept-language']
  return pickLocale(own, fromAcceptLanguage(typeof header === 'string' ? header : undefined), product)
}
