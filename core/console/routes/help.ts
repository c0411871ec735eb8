// Help → Help (issue 18, What 6): GET /api/help/console-guide, the console guide's Markdown as text in
// JSON; the page renders it with text nodes only (ui/markdown.ts), never as HTML. Behind the session like
// every other page of the console: the guide describes the cluster's operations, the login page needs none
// of it, and the public routes stay the login, the page and the API document.
// The build copies docs/console-guide.md and its Korean version docs/console-guide.ko.md beside the UI
// (dist/console/); a development checkout that has not built the UI reads docs/ itself. Which one: ?lang=
// (the page asks in the language it shows), else the reader's (the user's choice, Accept-Language, the
// product language); English for any language without its own guide.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { packageRoot } from '../../paths.js'
import { replyError } from '../http-errors.js'
import type { RouteDeps } from './deps.js'
import { requestLanguage } from '../language.js'
import { LOCALES, type Locale } from '../../i18n/messages.js'

export const GUIDE_FILE = 'console-guide.md'
/** The guide of each language (English is GUIDE_FILE). */
export const GUIDE_FILES: Record<Locale, string> = { en: GUIDE_FILE, ko: 'console-guide.ko.md' }
/** The guide is about 10 kB; a file much larger than that is not the guide. */
const MAX_GUIDE = 512 * 1024

export function registerHelpRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get<{ Querystring: { lang?: Locale } }>(
    '/api/help/console-guide',
    {
      schema: {
        summary: "The console guide (Help → Help): its Markdown text in the reader's language, rendered by the page as text",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { lang: { type: 'string', enum: [...LOCALES] } },
        },
      },
    },
    async (req, reply) => {
      const lang = req.query.lang ?? requestLanguage(deps.accounts, deps.productLang, req)
      for (const name of [...new Set([GUIDE_FILES[lang], GUIDE_FILE])])
        for (const file of [path.join(deps.settings.uiDir, name), path.join(packageRoot(), 'docs', name)]) {
          const text = await readFile(file, 'utf8').catch(() => null)
          if (text !== null && text.length <= MAX_GUIDE) return { name, lang: name === GUIDE_FILE ? 'en' : lang, markdown: text }
        }
      return replyError(reply, 'MCCS_ERR_NOT_FOUND', `the console guide (${GUIDE_FILE}) is not installed with this console`)
    },
  )
}
