// Every node's manual operation log (issue 18, What 6): the tail a node answers over the peer channel (its
// own records only, a torn or cut line dropped) and the merge the asking node makes (by time, a node that
// does not answer named, another node's records in its answer refused).
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { oplogTail } from '../../core/log/oplog-tail.js'
import { gatherOplogs } from '../../core/agent/oplog-peers.js'
import { OpLog, type OpRecord } from '../../core/log/oplog.js'
import type { PeerRpc } from '../../core/agent/peer-rpc.js'

const rec = (node: string, at: string, command = 'groupOnline', more: Partial<OpRecord> = {}): OpRecord => ({
  at,
  user: 'op',
  node,
  command,
  target: 'g',
  result: 'accepted',
  ...more,
})

t.test('oplogTail: this node, newest last, torn lines and a cut first line dropped', async (t) => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'mccs-oplog-tail-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  const f = path.join(d, 'operation.log')
  const lines = [
    rec('n1', '2026-01-01T00:00:01Z', 'a'),
    rec('n9', '2026-01-01T00:00:02Z', 'foreign'),
    rec('n1', '2026-01-01T00:00:03Z', 'b'),
    rec('n1', '2026-01-01T00:00:04Z', 'c'),
  ].map((r) => JSON.stringify(r))
  await writeFile(f, lines.join('\n') + '\n{"torn":\n')
  t.same(
    (await oplogTail(f, 'n1', 10, 1 << 20)).map((r) => r.command),
    ['a', 'b', 'c'],
  )
  t.same(
    (await oplogTail(f, 'n1', 2, 1 << 20)).map((r) => r.command),
    ['b', 'c'],
    'the newest `limit`',
  )
  const lastTwo = Buffer.byteLength(lines[3]! + '\n{"torn":\n') + 5 // the first line read is cut: dropped
  t.same(
    (await oplogTail(f, 'n1', 10, lastTwo)).map((r) => r.command),
    ['c'],
  )
  t.same(await oplogTail(path.join(d, 'none.log'), 'n1', 10, 1000), [], 'no file: none')
})

t.test('gatherOplogs: merged by time, the silent node named, foreign records refused', async (t) => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'mccs-oplog-gather-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  const log = new OpLog(path.join(d, 'operation.log'))
  await log.append(rec('n1', '2026-01-01T00:00:02Z', 'mine1'))
  await log.append(rec('n1', '2026-01-01T00:00:05Z', 'mine2', { via: 'n2' }))
  const asked: Array<{ node: string; limit: number }> = []
  const rpc = {
    request: async (node: string, m: { t: string; limit: number }) => {
      asked.push({ node, limit: m.limit })
      if (node === 'n3') throw new Error('n3 is not reachable')
      return [
        rec('n2', '2026-01-01T00:00:01Z', 'theirs1'),
        rec('n1', '2026-01-01T00:00:03Z', 'forged'),
        rec('n2', '2026-01-01T00:00:04Z', 'theirs2'),
      ]
    },
  } as unknown as PeerRpc
  const g = await gatherOplogs(rpc, ['n1', 'n2', 'n3'], 'n1', log, 100)
  t.same(
    g.records.map((r) => `${r.node}:${r.command}`),
    ['n2:theirs1', 'n1:mine1', 'n2:theirs2', 'n1:mine2'],
  )
  t.equal(g.records[3]!.via, 'n2', 'where a forwarded command was given')
  t.same(g.nodes, ['n1', 'n2'])
  t.same(g.missing, [{ node: 'n3', reason: 'n3 is not reachable' }])
  t.same(asked, [
    { node: 'n2', limit: 100 },
    { node: 'n3', limit: 100 },
  ])
  await t.rejects(gatherOplogs(rpc, ['n1'], 'n1', log, 0), { code: 'MCCS_ERR_INVALID', field: 'limit' })
  await t.rejects(gatherOplogs(rpc, ['n1'], 'n1', log, 10_001), { code: 'MCCS_ERR_INVALID', field: 'limit' })
})
