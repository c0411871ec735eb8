// The console itself: GET / -> 302 /main; GET /main -> the single-page UI (dist/console/index.html);
// GET /main/assets/* -> its files. Public (the page holds the login form); never in the OpenAPI document.
import { readFile, realpath } from 'node:fs/promises'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { RouteDeps } from './deps.js'
import { replyError } from '../http-errors.js'

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>MCCS</title></head>
<body><h1>MCCS web console</h1><p>The console is not built on this installation (dist/console/ is missing).
Run <code>npm run build</code>; the REST API under <code>/api/</code> works meanwhile (see <code>/api/openapi.json</code>).</p></body></html>`

export function registerConsolePageRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const dir = deps.settings.uiDir
  const page = { auth: 'public', hidden: true } as const

  app.get('/', { config: page }, async (_req, reply) => reply.redirect('/main', 302))

  app.get('/main', { config: page }, async (_req, reply) => {
    // The page speaks the product language until a user logs in (then theirs: GET /api/session).
    const html = (await readFile(path.join(dir, 'index.html'), 'utf8').catch(() => NOT_BUILT)).replace(
      '<html lang="en">',
      `<html lang="${deps.productLang}">`,
    )
    return reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(html)
  })

  app.get<{ Params: { '*': string } }>('/main/assets/*', { config: page }, async (req, reply) => {
    const root = path.join(dir, 'assets')
    const file = path.resolve(root, req.params['*'])
    // Inside assets/ only, after symlinks too.
    const real = await realpath(file).catch(() => null)
    const realRoot = await realpath(root).catch(() => null)
    if (!real || !realRoot || !real.startsWith(realRoot + path.sep)) return replyError(reply, 'MCCS_ERR_NOT_FOUND', 'no such asset')
    const body = await readFile(real).catch(() => null)
    if (!body) return replyError(reply, 'MCCS_ERR_NOT_FOUND', 'no such asset')
    return reply
      .header('content-type', TYPES[path.extname(real)] ?? 'application/octet-stream')
      .header('cache-control', 'no-cache')
      .send(body)
  })
}
