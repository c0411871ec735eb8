// A new coordinator's intent gather (core/agent/intent-sync.ts) does not wait for a member that leaves the
// partition meanwhile (safety lab: a member partitioned away during the gather held the new coordinator's
// engine start for its connection timeouts, 2 s per link), and still starts from the newest record of the
// members that stay.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { IntentSync, type IntentAnswer } from '../../core/agent/intent-sync.js'
import type { PeerRpc } from '../../core/agent/peer-rpc.js'

const quiet = { log: () => {} }

t.test('a member that leaves the partition is not waited for; the others answer', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mccs-intent-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const sync = new IntentSync({ node: 'n1', log: quiet, file: path.join(dir, 'intent.json'), timeoutMs: 10_000 })
  const n3: IntentAnswer = { seq: 4, live: true, intent: { groups: { web: { lock: 'persistent' } } } as IntentAnswer['intent'] }
  const rpc = {
    // n2 vanished: its request would only fail at the deadline; n3 answers at once.
    request: (n: string) => (n === 'n3' ? Promise.resolve(n3) : new Promise(() => {})),
  } as unknown as PeerRpc
  let n2In = true
  setTimeout(() => (n2In = false), 100)
  const t0 = Date.now()
  const intent = await sync.gather(rpc, ['n2', 'n3'], (n) => n !== 'n2' || n2In)
  const took = Date.now() - t0
  t.ok(took < 1000, `answered ${took} ms after the start, not at the 10 s deadline`)
  t.same(intent, n3.intent, "the engine starts from n3's record (the newest of the members that stayed)")
  t.equal(sync.current().seq, 4, 'and keeps it')
})

t.test('members that stay are waited for as before', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mccs-intent-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const sync = new IntentSync({ node: 'n1', log: quiet, file: path.join(dir, 'intent.json'), timeoutMs: 10_000 })
  const late: IntentAnswer = { seq: 7, live: true, intent: { groups: { web: { target: 'n2' } } } as IntentAnswer['intent'] }
  const rpc = {
    request: () => new Promise((r) => setTimeout(() => r(late), 300)),
  } as unknown as PeerRpc
  const intent = await sync.gather(rpc, ['n2'], () => true)
  t.same(intent, late.intent, "n2's answer after 300 ms is taken")
})
