// GET /api/oplog/all (issue 18, What 6): every node's manual operation log as one list; on one node, this
// node's records with the node named; the limit validated with the field named.
import t from 'tap'
import { harness, readyClient } from './api-helpers.js'

t.test('GET /api/oplog/all', async (t) => {
  const h = await harness({ groups: true })
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  t.equal((await c.req('PUT', '/api/log-level', { level: 'warn' })).status, 200)
  t.equal((await c.req('POST', '/api/groups/g/actions/probe', {})).status, 200)
  const r = await c.req('GET', '/api/oplog/all?limit=50')
  t.equal(r.status, 200)
  t.same(r.body.nodes, ['n1'])
  t.same(r.body.missing, [])
  const ops = (r.body.entries as Array<{ op: string; node: string; at: string }>).map((e) => `${e.node} ${e.op}`)
  t.ok(ops.indexOf('n1 logLevel') >= 0 && ops.indexOf('n1 groupProbe') > ops.indexOf('n1 logLevel'), `oldest first: ${ops.join(', ')}`)
  const bad = await c.req('GET', '/api/oplog/all?limit=0')
  t.equal(bad.status, 400)
  t.match(bad.body.error.field, /limit/)
  t.equal((await c.req('GET', '/api/oplog/all?node=n1')).status, 400, 'no other parameter')
})
