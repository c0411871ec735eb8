// Support and license routes inside the real console app: behind the session and CSRF checks like every
// other /api route, with the console's error shape, and listed in the OpenAPI document.
import t from 'tap'
import { harness, readyClient, Client } from '../console/api-helpers.js'
import { untarGz } from '../../core/support/tar.js'

t.test('support and license routes in the console: session, CSRF, answers', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const anon = new Client(h)
  for (const [m, u] of [
    ['GET', '/api/support'],
    ['POST', '/api/support'],
    ['GET', '/api/support/20260101T000000Z-abcdef'],
    ['GET', '/api/licenses'],
    ['POST', '/api/licenses'],
  ] as const) {
    const r = await anon.req(m, u, m === 'POST' ? { nodes: 'all', node: 'n1', text: 'x' } : undefined)
    t.equal(r.status, 401, `${m} ${u} without a session`)
  }
  const c = await readyClient(h)
  let r = await c.req('POST', '/api/support', { nodes: 'all' }, { csrf: null })
  t.equal(r.status, 403, 'no CSRF token')
  t.equal(r.body.error.code, 'MCCS_ERR_CSRF')
  r = await c.req('POST', '/api/support', { nodes: 'all' })
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.match(r.body, { nodes: ['n1'], unreachable: [] })
  const id = r.body.id as string
  r = await c.req('GET', '/api/support')
  t.same(
    r.body.map((x: { id: string }) => x.id),
    [id],
  )
  r = await c.req('GET', `/api/support/${id}`)
  t.equal(r.status, 200)
  t.equal(r.headers['content-type'], 'application/gzip')
  t.ok(untarGz(r.raw.rawPayload).some((e) => e.name === 'n1.tar.gz'))
  r = await c.req('POST', '/api/support', { nodes: 7 })
  t.equal(r.status, 400)
  t.match(r.body, { error: { code: 'MCCS_ERR_INVALID', field: '/nodes' } })
  r = await c.req('GET', '/api/licenses')
  t.match(r.body, [{ node: 'n1', valid: true, mode: 'valid', type: 'term', daysLeft: 30 }]) // the test agent's harness licenses its node
  r = await c.req('POST', '/api/licenses', { node: 'n1', text: 'type=dongle\n' })
  t.equal(r.status, 400)
  t.match(r.body, { error: { code: 'MCCS_ERR_LICENSE_FORMAT', field: '/text' } })
  const doc = (await anon.req('GET', '/api/openapi.json')).body
  for (const p of ['/api/support', '/api/support/{id}', '/api/licenses']) t.ok(doc.paths?.[p], `${p} in the OpenAPI document`)
})
