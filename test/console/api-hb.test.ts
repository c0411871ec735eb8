// POST /api/hb/change (issue 16, What 3): the live heartbeat change over REST is checked at the edge — a bad
// field is answered 400 with that field and its reason (the heartbeat port and the cluster name: why they
// never change live), a node that is not part of a cluster refuses with
// 409 — and hb.json is unchanged either way. The change itself across a cluster is test/cluster/hb-live.test.ts.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { harness, readyClient } from './api-helpers.js'

t.test('the live hb.json change route validates at the edge and changes nothing on refusal', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const hbFile = path.join(h.ta.home, 'config/hb.json')
  const before = await readFile(hbFile, 'utf8')

  const timing = await c.req('POST', '/api/hb/change', { change: { op: 'setTiming', intervalMs: 100, deadMs: 150 } })
  t.equal(timing.status, 400, JSON.stringify(timing.body))
  t.equal(timing.body.error.code, 'MCCS_ERR_INVALID')
  t.equal(timing.body.error.field, 'deadMs', 'the field is named')
  t.match(timing.body.error.message, /at least twice intervalMs/)

  const op = await c.req('POST', '/api/hb/change', { change: { op: 'grow' } })
  t.equal(op.status, 400)
  t.equal(op.body.error.field, 'op')

  const shape = await c.req('POST', '/api/hb/change', { change: { op: 'setTiming', intervalMs: 100, deadMs: 600 }, extra: 1 })
  t.equal(shape.status, 400, 'an unknown body field is refused by the route schema')

  // The heartbeat port and the cluster name never change live: refused with the reason, as an op or a field.
  const port = await c.req('POST', '/api/hb/change', { change: { op: 'setPort', port: 15000 } })
  t.equal(port.status, 400, JSON.stringify(port.body))
  t.equal(port.body.error.field, 'port')
  t.match(port.body.error.message, /the heartbeat port cannot change in a running cluster: nodes on different ports do not hear each other/)
  const name = await c.req('POST', '/api/hb/change', { change: { op: 'setQuorum', fenceDelayMs: 0, cluster: 'other' } })
  t.equal(name.status, 400, JSON.stringify(name.body))
  t.equal(name.body.error.field, 'cluster')
  t.match(name.body.error.message, /the cluster name cannot change in a running cluster/)
  const qs = await c.req('POST', '/api/hb/change', { change: { op: 'setQuorum', server: { host: '10.9.0.1', caFile: 'ca.crt' } } })
  t.equal(qs.status, 400, JSON.stringify(qs.body))
  t.equal(qs.body.error.field, 'server.keyFile', 'a quorum server without its key file: the field is named')

  const single = await c.req('POST', '/api/hb/change', { change: { op: 'setTiming', intervalMs: 200, deadMs: 1000 } })
  t.equal(single.status, 409, JSON.stringify(single.body))
  t.equal(single.body.error.code, 'MCCS_ERR_CONFLICT', 'a single node is not a cluster: change hb.json and restart')

  t.equal(await readFile(hbFile, 'utf8'), before, 'hb.json unchanged')
  const log = await readFile(path.join(h.ta.home, 'logs/operation.log'), 'utf8').catch(() => '')
  t.notMatch(log, /"command":"hb\.setTiming".*"result":"done"/, 'nothing recorded as done')
})
