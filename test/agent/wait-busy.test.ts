// `--wait` waits out the actions already in progress (issue 19): a command refused only because its group is
// busy (MCCS_ERR_GROUP_BUSY) — right after a fault, a join or another command — is sent again once the group
// is idle, and answers with the end state. Without --wait the refusal stays immediate, and a --wait whose
// timeout ends first is answered with the refusal.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { startTestAgent, res, type TestAgent } from './helpers.js'

let a: TestAgent
t.before(async () => {
  a = await startTestAgent({
    types: {},
    groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: false, autoStart: false, autoFailback: false }],
    resources: [res('slow', 'dummy', { online: 'slow', delayMs: 3000 })],
    dependencies: [],
  })
})
t.teardown(async () => {
  await a?.cleanup()
})

const groupState = () => a.agent.status().groups.find((g) => g.name === 'g')!

t.test('offline --wait during a slow online waits for it, then takes the group offline', async (t) => {
  t.equal((await a.cli('group', 'online', 'g')).code, 0, 'online accepted (3 s to come up)')
  const now = await a.cli('group', 'offline', 'g')
  t.equal(now.code, 3, 'without --wait: refused at once')
  t.match(now.err, /MCCS_ERR_GROUP_BUSY/)
  const ko = await a.cli('group', 'offline', 'g', '--lang', 'ko')
  t.match(ko.err, /진행 중인 동작이 있음 \(flush로 취소\).*MCCS_ERR_GROUP_BUSY/, `the refusal's reason in Korean: ${ko.err.trim()}`)
  const t0 = Date.now()
  const r = await a.cli('group', 'offline', 'g', '--wait', '--timeout', '30')
  t.equal(r.code, 0, r.err + r.out)
  t.ok(Date.now() - t0 >= 1500, `it waited for the online in progress (${Date.now() - t0} ms)`)
  t.equal(groupState().nodes.n1, 'offline', 'the group is offline')
  const op = (await readFile(path.join(a.home, 'logs/operation.log'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  const offs = op.filter((x) => x.command === 'groupOffline').map((x) => x.result)
  t.same(offs, ['rejected', 'rejected', 'accepted'], 'the operation log: the two refusals without --wait, then one accepted offline')
})

t.test('a --wait whose timeout ends before the group is idle is answered with the refusal', async (t) => {
  t.equal((await a.cli('group', 'online', 'g')).code, 0)
  const r = await a.cli('group', 'offline', 'g', '--wait', '--timeout', '1')
  t.equal(r.code, 3, 'refused: the group was still busy when the timeout ended')
  t.match(r.err, /MCCS_ERR_GROUP_BUSY/)
  const done = await a.cli('group', 'online', 'g', '--wait', '--timeout', '30')
  t.equal(done.code, 0, 'online --wait then waits out its own earlier online and reports it reached')
  t.equal(groupState().nodes.n1, 'online')
})

t.test('the timeout is validated where it enters: the CLI flag and the control socket field', async (t) => {
  for (const bad of ['abc', '0', '-5', '100000']) {
    const r = await a.cli('group', 'offline', 'g', '--wait', '--timeout', bad)
    t.equal(r.code, 2, `--timeout ${bad}: usage error`)
    t.match(r.err, /--timeout/)
  }
  const { rpc } = await import('../../core/cli/control-client.js')
  const sock = path.join(a.home, 'state/mccs.sock')
  for (const bad of [-1, 1.5, 1e12, 'x']) {
    await t.rejects(
      rpc(sock, 'command', { cmd: { type: 'groupOffline', group: 'g', user: 'test' }, wait: true, timeoutMs: bad }, 5000),
      { code: 'MCCS_ERR_INVALID', field: 'params.timeoutMs' },
      `timeoutMs ${String(bad)} refused naming the field`,
    )
  }
  t.equal(groupState().nodes.n1, 'online', 'nothing changed')
})
