// `mccs hb ...` and `mccs node remove` (issue 16, What 3) as an operator runs them (bin/mccs against a running
// agent): the change's fields are checked with the field and reason printed and the usage exit code; a single
// node, which is no cluster, refuses a live change (exit 3); `mccs hb show` prints what is in force. The
// changes across a cluster are test/cluster/hb-live.test.ts.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { startTestAgent } from '../agent/helpers.js'

t.test('mccs hb against a single-node agent', async (t) => {
  const ta = await startTestAgent({ groups: [], resources: [], dependencies: [], types: {} })
  t.teardown(() => ta.cleanup())
  const hbFile = path.join(ta.home, 'config/hb.json')
  const before = await readFile(hbFile, 'utf8')

  const show = await ta.cli('hb', 'show')
  t.equal(show.code, 0, show.err)
  t.match(show.out, /hb\.json generation 1, cluster test, timing \d+ \/ \d+ ms/)

  const bad = await ta.cli('hb', 'set-timing', '--interval-ms', '100', '--dead-ms', '150')
  t.equal(bad.code, 2, 'a bad field is a usage error')
  t.match(bad.err, /deadMs: must be at least twice intervalMs/, 'the field and the reason are printed')

  const missing = await ta.cli('hb', 'set-timing', '--interval-ms', '100')
  t.equal(missing.code, 2)
  t.match(missing.err, /deadMs: must be an integer/)

  const usage = await ta.cli('hb', 'link', 'add')
  t.equal(usage.code, 2)
  t.match(usage.err, /usage: mccs hb/)

  const address = await ta.cli('hb', 'link', 'add', 'l9', '--address', 'n1')
  t.equal(address.code, 2)
  t.match(address.err, /--address takes <name>=<address>/)

  const single = await ta.cli('node', 'remove', 'n1')
  t.equal(single.code, 3, 'refused: a single node is not a cluster')
  t.match(single.err, /not part of a cluster/)

  const valid = await ta.cli('hb', 'set-timing', '--interval-ms', '200', '--dead-ms', '1000')
  t.equal(valid.code, 3)
  t.equal(await readFile(hbFile, 'utf8'), before, 'hb.json unchanged')
  const oplog = await readFile(path.join(ta.home, 'logs/operation.log'), 'utf8').catch(() => '')
  t.notMatch(oplog, /"command":"hb\.[a-zA-Z]+".*"result":"done"/, 'nothing recorded as done')
  t.match(oplog, /"command":"hb\.setTiming".*"result":"rejected".*"code":"MCCS_ERR_INVALID"/, 'the refusal is in the operation log')
  t.match(oplog, /"command":"hb\.removeNode".*"result":"rejected".*"code":"MCCS_ERR_CONFLICT"/)
})
