// The console's authorisation under attack (issue 12, finding 1 and acceptance 2): every route the router
// holds (collected from fastify's onRoute hook, not from the OpenAPI document) is sent over real HTTPS with
// percent-encoded, double-encoded, mixed-case, trailing-slash, `//`, dot-segment and other path variants,
// with every method, without a session, with a forged session cookie and CSRF token, and with a real
// session but a forged CSRF token. No answer may be other than 401/403/404/405 (public routes excepted),
// and nothing may change: the configuration and account files, licenses, support bundles, the engine
// state, the operation log.
import t from 'tap'
import https from 'node:https'
import path from 'node:path'
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto'
import { readdir, readFile, writeFile, stat } from 'node:fs/promises'
import { startTestAgent, res } from '../agent/helpers.js'
import { startConsole } from '../../core/console/server.js'
import { consoleSettings } from '../../core/console/settings.js'
import { issueLicense } from '../../core/license/format.js'
import { TRUSTED_KEYS_FILE } from '../../core/license/store.js'

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
/** The routes that answer without a session: the login, the API document and the console page. */
const PUBLIC = [
  'POST /api/login',
  'GET /api/openapi.json',
  'HEAD /api/openapi.json',
  'GET /',
  'HEAD /',
  'GET /main',
  'HEAD /main',
  'GET /main/assets/*',
  'HEAD /main/assets/*',
]

/** Every variant of a path an attacker might send so that a raw-URL check and the router disagree. */
export function pathVariants(p: string): string[] {
  const segs = p.split('/').slice(1)
  const enc = (c: string, upper = true) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')[upper ? 'toUpperCase' : 'toLowerCase']()
  const mapSegs = (f: (s: string, i: number) => string) => '/' + segs.map(f).join('/')
  const firstLetter = (s: string, upper = true) => (s ? enc(s[0]!, upper) + s.slice(1) : s)
  const out = new Set<string>([
    p,
    mapSegs((s, i) => (i === 0 ? firstLetter(s) : s)), // /%61pi/config
    mapSegs((s) => firstLetter(s)), // every segment
    mapSegs((s) => firstLetter(s, false)),
    mapSegs((s) => [...s].map((c) => enc(c)).join('')), // every character
    mapSegs((s, i) => (i === 0 && s ? '%25' + s.charCodeAt(0).toString(16) + s.slice(1) : s)), // double-encoded: /%2561pi/config
    mapSegs((s) => (s ? '%25' + s.charCodeAt(0).toString(16) + s.slice(1) : s)),
    mapSegs((s, i) => (i === segs.length - 1 && s.length > 1 ? s.slice(0, -1) + enc(s.at(-1)!) : s)), // the last letter
    p.toUpperCase(),
    mapSegs((s) => s.charAt(0).toUpperCase() + s.slice(1)),
    p + '/',
    '/' + p,
    p.replace(/\//g, '//'),
    p + '//',
    p.replace(/\/([^/]*)$/, '//$1'),
    p.replace(/^\/([^/]*)\//, '/$1%2F'),
    p.replace(/^\/([^/]*)\//, '/$1%2f'),
    p.replace(/^\/([^/]*)\//, '/$1\\'),
    '/.' + p,
    p.replace(/^\/([^/]*)\//, '/$1/./'),
    p.replace(/^\/([^/]*)\//, '/$1/x/../'),
    p.replace(/^\/([^/]*)\//, '/$1/%2e/'),
    '/x/..' + p,
    p + ';x=1',
    p + '%00',
    p + '%20',
    p + '%23',
    p + '?/api/login',
  ])
  return [...out]
}

interface Snapshot {
  files: Record<string, string>
  oplog: string
  engine: string
  sessions: number
}

async function hashTree(dir: string, out: Record<string, string>, skip: (f: string) => boolean): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const e of entries) {
    const f = path.join(dir, e.name)
    if (skip(f)) continue
    if (e.isDirectory()) await hashTree(f, out, skip)
    else if (e.isFile())
      out[f] =
        createHash('sha256')
          .update(await readFile(f))
          .digest('hex') + ` ${(await stat(f)).mode.toString(8)}`
  }
}

t.setTimeout(280_000)

t.test('no path variant, method or forged credential reaches a non-public route or changes anything', async (t) => {
  const ta = await startTestAgent({
    groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
    resources: [res('d0', 'dummy', {}), res('d1', 'dummy', {}), res('d2', 'dummy', {})],
    dependencies: [{ parent: 'd1', child: 'd0' }],
    types: {},
  })
  t.teardown(() => ta.cleanup())
  const b = ta.agent.opts.bootstrap
  // A trusted license key, so that a license install that got through would change something.
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  await writeFile(path.join(b.configDir, TRUSTED_KEYS_FILE), publicKey.export({ type: 'spki', format: 'pem' }) as string)
  const license = issueLicense(
    { type: 'term', node: 'n1', hostId: 'ANY', issued: '2026-01-01T00:00:00Z', expires: '2099-01-01T00:00:00Z' },
    privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  )
  // The new trusted key no longer vouches for the harness's license: the agent's periodic re-check (5 s)
  // puts n1 in limited mode and writes a licenseMode record. Let that happen before the snapshot, or it
  // would land in the operation log during the attacks as if a request had caused it.
  const t0 = Date.now()
  while (ta.agent.status().licenses?.n1?.mode !== 'limited' && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 100))
  t.equal(ta.agent.status().licenses?.n1?.mode, 'limited', 'the license re-check has seen the new key (settled before the snapshot)')

  const settings = { ...consoleSettings(b, path.join(ta.home, 'no-ui'), {}), listen: ['127.0.0.1'], port: 0 }
  const c = await startConsole(ta.agent, settings)
  t.teardown(() => c.close())
  const port = c.addresses[0]!.port
  const agent = new https.Agent({ keepAlive: true, maxSockets: 4, ca: c.tls.ca!, servername: 'localhost' })
  t.teardown(() => agent.destroy())

  const send = (method: string, p: string, headers: Record<string, string>, body?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path: p,
          method,
          agent,
          headers: {
            ...headers,
            ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
          },
        },
        (r) => {
          let text = ''
          r.setEncoding('utf8')
          r.on('data', (d) => {
            text += d
          })
          r.on('end', () => resolve({ status: r.statusCode!, body: text }))
          // A stream that stays open (the event stream got through) answers with what came so far.
          const timer = setTimeout(() => {
            resolve({ status: r.statusCode!, body: `${text} [stream still open]` })
            r.destroy()
          }, 3000)
          r.on('close', () => clearTimeout(timer))
        },
      )
      // No answer at all within 10 s is a finding too (a handler that got through and waits).
      req.setTimeout(10_000, () => {
        resolve({ status: 0, body: 'no answer in 10 s' })
        req.destroy()
      })
      req.on('error', (e) => (req.destroyed ? undefined : reject(e)))
      req.end(body)
    })

  // A real operator session (its CSRF token is what a forged one must not equal).
  const loginRaw = (password: string) =>
    new Promise<{ cookie: string; csrf: string }>((resolve, reject) => {
      const body = JSON.stringify({ user: 'mcuser', password })
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/login',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
        },
        (r) => {
          let text = ''
          r.setEncoding('utf8')
          r.on('data', (d) => {
            text += d
          })
          r.on('end', () => {
            if (r.statusCode !== 200) return reject(new Error(`login ${r.statusCode} ${text}`))
            resolve({ cookie: String([r.headers['set-cookie']].flat()[0]).split(';')[0]!, csrf: JSON.parse(text).csrfToken })
          })
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  const first = await loginRaw('mccs')
  const changed = await send(
    'POST',
    '/api/password',
    { cookie: first.cookie, 'x-csrf-token': first.csrf },
    JSON.stringify({ current: 'mccs', next: 'attack-test1!x' }),
  )
  t.equal(changed.status, 204, 'the operator changed the default password')
  const op = { cookie: first.cookie, csrf: first.csrf }

  // Routes from the router itself.
  const routes = c.routes
  t.ok(routes.length >= 40, `${routes.length} routes (methods counted) in the router`)
  for (const r of routes) t.ok(c.app.hasRoute({ method: r.method as 'GET', url: r.url }), `the router holds ${r.method} ${r.url}`)
  const publicRoutes = routes
    .filter((r) => r.auth === 'public')
    .map((r) => `${r.method} ${r.url}`)
    .sort()
  t.same(publicRoutes, [...PUBLIC].sort(), 'exactly the login, the API document and the console page are public')
  const isPublic = (method: string, url: string) => PUBLIC.includes(`${method} ${url}`)

  // Values that would change something if a request got through.
  const main = ta.agent.store.current().main
  const fill: Record<string, string> = {
    group: 'g',
    resource: 'd0',
    verb: 'online',
    type: 'dummy',
    node: 'n1',
    parent: 'd1',
    child: 'd0',
    id: '20260101T000000Z-abcdef',
    '*': 'app.js',
  }
  const concrete = (url: string) => url.replace(/:([A-Za-z]+)/g, (_, k: string) => fill[k]!).replace('*', fill['*']!)
  const bodies: Record<string, unknown> = {
    '/api/login': { user: 'mcuser', password: 'not-the-password' },
    '/api/password': { current: 'attack-test1!x', next: 'attack-next2!x' },
    '/api/groups': { name: 'pwned', nodes: ['n1'] },
    '/api/groups/:group': { autoStart: true },
    '/api/resources': { name: 'pwned', type: 'dummy', group: 'g', attrs: {} },
    '/api/resources/:resource': { attrs: { note: 'pwned' } },
    '/api/dependencies': { parent: 'd2', child: 'd0' },
    '/api/config': {
      text: JSON.stringify({
        ...main,
        groups: [...main.groups, { name: 'pwned', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
      }),
      expectGeneration: main.generation,
    },
    '/api/types/:type/discover': { field: 'node', attrs: {} },
    '/api/types/:type/validate': { perNode: { n1: {} } },
    '/api/nodes/:node/rename': { name: 'n9' },
    '/api/support': { nodes: 'all' },
    '/api/licenses': { node: 'n1', text: license },
    '/api/groups/:group/actions/:verb': { node: 'n1' },
    '/api/resources/:resource/actions/:verb': { node: 'n1' },
    '/api/monitor-all': {},
    '/api/logout': {},
    '/api/logout/everywhere': {},
    '/api/password/postpone': {},
  }

  const snapshot = async (): Promise<Snapshot> => {
    ta.agent.log.flush()
    const files: Record<string, string> = {}
    const skip = (f: string) => path.basename(f).includes('console-sessions.json') // the operator's session file (its last-seen time)
    await hashTree(b.configDir, files, skip)
    await hashTree(b.stateDir, files, skip)
    const st = ta.agent.status()
    return {
      files,
      oplog: await readFile(settings.oplogFile, 'utf8').catch(() => ''),
      engine: JSON.stringify({
        generation: ta.agent.store.current().main.generation,
        groups: st.groups.map((g) => ({ ...g, resources: g.resources.map((r) => ({ name: r.name, nodes: r.nodes })) })),
      }),
      sessions: c.deps.sessions.size,
    }
  }
  const before = await snapshot()
  t.ok(
    Object.keys(before.files).some((f) => f.endsWith('main.json')) && Object.keys(before.files).some((f) => f.endsWith('accounts.json')),
    'main.json and accounts.json are in the snapshot',
  )

  const forged = randomBytes(32).toString('base64url')
  const modes: Array<{ name: string; headers: Record<string, string>; unsafeOnly?: boolean }> = [
    { name: 'no session', headers: {} },
    {
      name: 'forged session and CSRF',
      headers: { cookie: `mccs_session=${forged}`, 'x-csrf-token': randomBytes(32).toString('base64url') },
    },
    {
      name: 'real session, forged CSRF',
      headers: { cookie: op.cookie, 'x-csrf-token': op.csrf.replace(/^./, (x) => (x === 'A' ? 'B' : 'A')) },
      unsafeOnly: true,
    },
  ]
  const urls = [...new Set(routes.map((r) => r.url))]
  const bad: string[] = []
  let sent = 0
  for (const url of urls) {
    const variants = pathVariants(concrete(url))
    for (const method of METHODS) {
      const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH'
      const body = withBody ? JSON.stringify(bodies[url] ?? {}) : undefined
      for (const mode of modes) {
        if (mode.unsafeOnly && (method === 'GET' || method === 'HEAD' || method === 'OPTIONS')) continue
        const queue = variants.map((v) => (method === 'DELETE' && !v.includes('?') ? `${v}?force=true` : v))
        await Promise.all(
          queue.map(async (v) => {
            const r = await send(method, v, mode.headers, body)
            sent++
            if (process.env.ATTACK_TRACE) console.error(method, v, mode.name, r.status)
            const allowed = isPublic(method, url) ? r.status < 500 : [401, 403, 404, 405].includes(r.status)
            // An unmatched path is answered without echoing it (the caller chose it).
            if (r.status === 404 && v.length > 3 && r.body.includes(v)) bad.push(`${method} ${v} (${mode.name}) -> 404 echoes the path`)
            if (!allowed) bad.push(`${method} ${v} (${mode.name}) -> ${r.status} ${r.body.slice(0, 120)}`)
          }),
        )
      }
    }
  }
  t.comment(`${sent} requests over ${urls.length} paths`)
  t.same(bad, [], 'no answer but 401/403/404/405 from a non-public route')
  const after = await snapshot()
  t.same(after.files, before.files, 'configuration, accounts, licenses, support bundles and engine state files unchanged')
  t.equal(after.oplog, before.oplog, 'nothing in the operation log')
  t.equal(after.engine, before.engine, 'no engine state changed (generation, groups, locks, resources)')
  t.equal(after.sessions, before.sessions, 'no session was created or ended')
})
