// The REST API on a real agent: every documented route refuses an unauthenticated call, bad bodies get
// 400 naming the field, and a group built and brought online through the API shows in /api/status.
import t from 'tap'
import { harness, Client, readyClient } from './api-helpers.js'
import { until } from '../agent/helpers.js'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'

t.test('every route of /api/openapi.json refuses an unauthenticated call', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const anon = new Client(h)
  const doc = await anon.req('GET', '/api/openapi.json')
  t.equal(doc.status, 200, 'the document needs no session')
  t.equal(doc.body.openapi, '3.1.0')
  // The package's version (issue 18, What 6; the About dialog shows it): not a hard-coded one.
  const pkg = JSON.parse(await readFile(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
  t.equal(doc.body.info.version, pkg.version, `info.version is the package version ${pkg.version}`)
  const ops: Array<{ method: string; path: string; op: any }> = []
  for (const [p, methods] of Object.entries<any>(doc.body.paths))
    for (const [m, op] of Object.entries<any>(methods)) ops.push({ method: m, path: p, op })
  t.ok(ops.length >= 28, `${ops.length} operations documented`)
  const publicOps = ops
    .filter((o) => o.op.security.length === 0)
    .map((o) => `${o.method} ${o.path}`)
    .sort()
  t.same(publicOps, ['get /api/openapi.json', 'post /api/login'], 'only login and the document are public')
  for (const want of [
    'post /api/groups/{group}/actions/{verb}',
    'put /api/config',
    'get /api/events',
    'post /api/types/{type}/validate',
    'delete /api/dependencies/{parent}/{child}',
  ]) {
    t.ok(
      ops.some((o) => `${o.method} ${o.path}` === want),
      `documented: ${want}`,
    )
  }
  // Every operation, with a forged cookie and without one, with a valid-looking body: 401 before anything runs.
  const forged = 'A'.repeat(43)
  for (const { method, path, op } of ops) {
    if (op.security.length === 0) continue
    const url = path.replace(/\{[^}]+\}/g, 'x1')
    const body = method === 'get' || method === 'delete' ? undefined : {}
    for (const cookie of [null, forged]) {
      const r = await anon.req(method.toUpperCase(), url, body, { cookie, csrf: 'whatever' })
      t.equal(r.status, 401, `${method.toUpperCase()} ${url} ${cookie ? 'forged' : 'anonymous'} -> 401`)
      t.equal(r.body?.error?.code, 'MCCS_ERR_UNAUTHENTICATED')
    }
  }
  const groupsBefore = h.ta.agent.store.current().main.groups.length
  t.equal(groupsBefore, 0, 'nothing was changed by the refused calls')
})

t.test('bad bodies and parameters get 400 naming the field', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const cases: Array<[string, string, unknown, string]> = [
    ['POST', '/api/groups', { nodes: ['n1'] }, '/name'],
    ['POST', '/api/groups', { name: 'g1', nodes: 'n1' }, '/nodes'],
    ['POST', '/api/groups', { name: 'g1', nodes: ['n1'], colour: 'red' }, '/colour'],
    ['POST', '/api/groups', { name: '1bad', nodes: ['n1'] }, '/name'],
    ['POST', '/api/groups', { name: 'g1', nodes: ['n1'], autoStart: 'yes' }, '/autoStart'],
    ['POST', '/api/resources', { name: 'r', type: 'dummy', group: 'g' }, '/attrs'],
    ['PATCH', '/api/groups/g1', {}, '/'],
    ['POST', '/api/groups/g1/actions/explode', {}, '/params/verb'],
    ['POST', '/api/groups/g1/actions/online', { wait: 'soon' }, '/wait'],
    ['GET', '/api/logs?lines=lots', undefined, '/query/lines'],
    ['GET', '/api/oplog?limit=0', undefined, '/query/limit'],
    ['PUT', '/api/config', { text: '{}' }, '/expectGeneration'],
    ['POST', '/api/types/dummy/validate', { perNode: [] }, '/perNode'],
    ['POST', '/api/dependencies', { parent: 'a' }, '/child'],
  ]
  for (const [m, url, body, field] of cases) {
    const r = await c.req(m, url, body)
    t.equal(r.status, 400, `${m} ${url} ${JSON.stringify(body)} -> 400`)
    t.equal(r.body.error.code, 'MCCS_ERR_INVALID')
    t.equal(r.body.error.field, field, `names ${field}: ${r.body.error.message}`)
  }
  const login = await new Client(h).req('POST', '/api/login', { user: 'mcuser' }, { cookie: null, csrf: null })
  t.equal(login.body.error.field, '/password')
  const notJson = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    headers: { 'content-type': 'application/json' },
    payload: '{"user":',
  })
  t.equal(notJson.statusCode, 400)
  t.equal(JSON.parse(notJson.body).error.code, 'MCCS_ERR_INVALID')
  // A refusal of the configuration itself names the field in the body too.
  const badType = await c.req('POST', '/api/resources', { name: 'r1', type: 'nosuchtype', group: 'nogroup', attrs: {} })
  t.equal(badType.status, 400)
  t.ok(badType.body.issues.length >= 1, JSON.stringify(badType.body))
  t.ok(
    badType.body.issues.some((i: { field: string }) => i.field === '/type' || i.field === '/group'),
    'issues point into the body',
  )
  const syntax = await c.req('PUT', '/api/config', { text: '{"groups": [', expectGeneration: 1 })
  t.equal(syntax.status, 400)
  t.equal(syntax.body.error.field, '/text')
  t.match(syntax.body.error.message, /line 1/)
  // Rename node (issue 16): a single node has no cluster to rename it in (the lab test renames a member).
  const rename = await c.req('POST', '/api/nodes/n1/rename', { name: 'n9' })
  t.equal(rename.status, 409, JSON.stringify(rename.body))
  t.equal(rename.body.error.code, 'MCCS_ERR_CONFLICT')
  const same = await c.req('POST', '/api/nodes/n1/rename', { name: 'n1' })
  t.equal(same.status, 400)
  t.equal(same.body.error.field, '/name', 'the new name, in the body')
  const badName = await c.req('POST', '/api/nodes/n1/rename', { name: '9bad name' })
  t.equal(badName.status, 400)
  t.equal(badName.body.error.field, '/name')
  t.equal((await c.req('GET', '/api/types/nosuch')).status, 404)
  t.equal((await c.req('GET', '/api/nosuchroute')).status, 404)
})

t.test('a group created, a resource added and brought online through the API shows in /api/status', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const g = await c.req('POST', '/api/groups', { name: 'web', nodes: ['n1'], autoStart: false })
  t.equal(g.status, 200, JSON.stringify(g.body))
  const gen1 = g.body.generation
  const dup = await c.req('POST', '/api/groups', { name: 'web', nodes: ['n1'] })
  t.equal(dup.status, 400)
  t.equal(dup.body.error.code, 'MCCS_ERR_CONFIG_DUPLICATE')
  t.equal(dup.body.error.field, '/name')
  const r1 = await c.req('POST', '/api/resources', {
    name: 'base',
    type: 'dummy',
    group: 'web',
    attrs: {},
    policy: { monitorIntervalS: 1 },
  })
  t.equal(r1.status, 200, JSON.stringify(r1.body))
  const r2 = await c.req('POST', '/api/resources', {
    name: 'top',
    type: 'dummy',
    group: 'web',
    attrs: { delayMs: 10 },
    nodeAttrs: { n1: { note: 'on n1' } },
  })
  t.equal(r2.status, 200, JSON.stringify(r2.body))
  const badAttr = await c.req('POST', '/api/resources', { name: 'bad', type: 'dummy', group: 'web', attrs: { online: 'sideways' } })
  t.equal(badAttr.status, 400)
  t.ok(
    badAttr.body.issues.some((i: { field: string }) => i.field.startsWith('/attrs/online') || i.field.includes('online')),
    JSON.stringify(badAttr.body.issues),
  )
  t.equal((await c.req('POST', '/api/dependencies', { parent: 'top', child: 'base' })).status, 200)
  const stale = await c.req('PATCH', '/api/groups/web', { autoFailback: true, expectGeneration: gen1 })
  t.equal(stale.status, 409, 'an edit from an older generation is refused')

  const on = await c.req('POST', '/api/groups/web/actions/online', { wait: true, timeoutS: 20 })
  t.equal(on.status, 200)
  t.equal(on.body.accepted, true)
  t.equal(on.body.reached, true, JSON.stringify(on.body.message))
  const st = await c.req('GET', '/api/status')
  const web = st.body.groups.find((x: { name: string }) => x.name === 'web')
  t.equal(web.activeNode, 'n1')
  t.equal(web.nodes.n1, 'online')
  t.same(web.resources.map((r: { name: string; nodes: Record<string, { state: string }> }) => [r.name, r.nodes.n1?.state]).sort(), [
    ['base', 'online'],
    ['top', 'online'],
  ])

  // Refused commands are answers, not errors.
  const refused = await c.req('POST', '/api/groups/nosuch/actions/online', {})
  t.equal(refused.status, 200)
  t.equal(refused.body.accepted, false)
  t.match(refused.body.outcome.code, /^MCCS_ERR_/)
  t.match(refused.body.message, /nosuch|not/)
  t.equal((await c.req('POST', '/api/groups/web/actions/lock', { persistent: true })).body.accepted, true)
  t.equal((await c.req('GET', '/api/status')).body.groups[0].lock, 'persistent')
  t.equal((await c.req('POST', '/api/groups/web/actions/unlock', {})).body.accepted, true)
  const del = await c.req('DELETE', '/api/resources/base')
  t.equal(del.status, 409, 'an online resource cannot be deleted')
  t.equal(del.body.error.code, 'MCCS_ERR_CONFLICT')
  t.equal((await c.req('DELETE', '/api/groups/nosuch')).status, 404)
  const off = await c.req('POST', '/api/groups/web/actions/offline', { wait: true, timeoutS: 20 })
  t.equal(off.body.reached, true)
  t.equal((await c.req('DELETE', '/api/dependencies/top/base')).status, 200)
  t.equal((await c.req('DELETE', '/api/resources/top')).status, 200)

  // The operation log has the console user's commands, newest last.
  const ops = await c.req('GET', '/api/oplog?limit=50')
  t.equal(ops.status, 200)
  const mine = ops.body
    .filter((e: { user: string }) => e.user === 'mcuser')
    .map((e: { op: string; target: string; result: string }) => `${e.op} ${e.target} ${e.result}`)
  t.ok(mine.includes('groupAdd web done'), mine.join('\n'))
  t.ok(mine.includes('groupOnline web accepted'))
  t.ok(mine.includes('groupOnline nosuch rejected'))
  t.equal(mine.at(-1), 'resourceDelete top done')
  const logs = await c.req('GET', '/api/logs?lines=20')
  t.equal(logs.body.lines.length, 20)
  t.match(logs.body.lines.at(-1), /"msg"/)

  // The configuration round trip: export, change, import with the generation.
  const cfg = await c.req('GET', '/api/config')
  const main = JSON.parse(cfg.body.text)
  t.equal(main.generation, cfg.body.generation)
  t.ok(
    Array.isArray(cfg.body.hb?.nodes) && cfg.body.hb.nodes.length > 0,
    'hb.json comes along (nodes, links, fencing) for the node screens',
  )
  main.groups[0].autoFailback = true
  const put = await c.req('PUT', '/api/config', { text: JSON.stringify(main), expectGeneration: cfg.body.generation })
  t.equal(put.status, 200, JSON.stringify(put.body))
  t.equal(put.body.generation, cfg.body.generation + 1)
  t.equal(h.ta.agent.store.current().main.groups[0]!.autoFailback, true)
  const again = await c.req('PUT', '/api/config', { text: JSON.stringify(main), expectGeneration: cfg.body.generation })
  t.equal(again.status, 409)
  main.groups[0].nodes = ['n7']
  const invalid = await c.req('PUT', '/api/config', { text: JSON.stringify(main), expectGeneration: put.body.generation })
  t.equal(invalid.status, 400)
  t.ok(
    invalid.body.issues.some((i: { field: string }) => i.field.startsWith('/text/groups/0/nodes')),
    JSON.stringify(invalid.body.issues),
  )
})

t.test('types and the wizard hooks', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const types = await c.req('GET', '/api/types')
  const dummy = types.body.find((x: { name: string }) => x.name === 'dummy')
  t.same(Object.keys(dummy).sort(), ['description', 'displayName', 'kind', 'name', 'permissions', 'version'])
  const info = await c.req('GET', '/api/types/dummy')
  t.equal(info.body.wizard.properties.note['x-mccs'].scope, 'node')
  const good = await c.req('POST', '/api/types/dummy/validate', { perNode: { n1: { online: 'ok', note: 'x' } } })
  t.same(good.body, { ok: true, diagnostics: [] })
  const bad = await c.req('POST', '/api/types/dummy/validate', { perNode: { n1: { online: 'sideways' }, n5: {} } })
  t.equal(bad.body.ok, false)
  t.same(bad.body.diagnostics.map((d: { field: string }) => d.field).sort(), ['/perNode/n1/online', '/perNode/n5'])
  const disc = await c.req('POST', '/api/types/dummy/discover', { field: 'node', attrs: {} })
  t.equal(disc.status, 200)
  t.same(disc.body.options, [{ value: 'on n1', label: 'discovered on n1' }], "the type's discover hook fills the list")
  t.equal(disc.body.answer, 'ok')
  const none = await c.req('POST', '/api/types/dummy/discover', { field: 'online', attrs: {} })
  t.same(none.body.options, [], 'a list the type does not know: no options')
  const elsewhere = await c.req('POST', '/api/types/dummy/discover', { field: 'node', node: 'n5', attrs: {} })
  t.equal(elsewhere.status, 404, 'a node outside the cluster')
  t.equal(elsewhere.body.error.field, '/node')
})

t.test('the console page: / redirects to /main, which answers without a session', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const anon = new Client(h)
  const root = await anon.req('GET', '/')
  t.equal(root.status, 302)
  t.equal(root.headers.location, '/main')
  const page = await anon.req('GET', '/main')
  t.equal(page.status, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.raw.body, /not built/)
  t.equal((await anon.req('GET', '/main/assets/../../../etc/passwd')).status, 404)
  await until(async () => true)
})
