// Help → Help (issue 18, What 6): GET /api/help/console-guide, the console guide's Markdown as text in
// JSON; the page renders it with text nodes only (ui/markdown.ts), never as HTML. Behind the session like
// every other page of the console: the guide describes the cluster's operations, the login page needs none
// of it, and the public routes stay the login, the page and the API document.
// The build copies docs/console-guide.md beside the UI (dist/console/); a development checkout that has
// not built the UI reads docs/ itself.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { packageRoot } from '../../paths.js'
import { replyError } from '../http-errors.js'
import type { RouteDeps } from './deps.js'

export const GUIDE_FILE = 'console-guide.md'
/** The guide is about 10 kB; a file much larger than that is not the guide. */
const MAX_GUIDE = 512 * 1024

export function registerHelpRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get(
    '/api/help/console-guide',
    { schema: { summary: 'The console guide (Help → Help): its Markdown text, rendered by the page as text' } },
    async (_req, reply) => {
      for (const file of [path.join(deps.settings.uiDir, GUIDE_FILE), path.join(packageRoot(), 'docs', GUIDE_FILE)]) {
        const text = await readFile(file, 'utf8').catch(() => null)
        if (text !== null && text.length <= MAX_GUIDE) return { name: GUIDE_FILE, markdown: text }
      }
      return replyError(reply, 'MCCS_ERR_NOT_FOUND', `the console guide (${GUIDE_FILE}) is not installed with this console`)
    },
  )
}
