// fence-aws through the real sandbox and aws.ec2 provider against the real EC2-compatible endpoint.
import t from 'tap'
import { rig } from './sim-host.js'

const attrs = { instances: { n1: 'i-n1', n2: 'i-n2' }, pollMs: 100 }
const stateOf = (r: Awaited<ReturnType<typeof rig>>, id: string) => r.sim.state().instances.find((i) => i.id === id)?.state

t.test('fence stops the lost node and waits until it is stopped; status reads it', async (t) => {
  const r = await rig(t, 'fence-aws')
  const before = await r.host.call('status', { attrs, node: 'n1', args: ['n2'] })
  t.same([before.answer, before.data?.off], ['failed', false], 'a running instance is not confirmed off')
  const f = await r.host.call('fence', { attrs, node: 'n1', args: ['n2'], timeoutMs: 10_000 })
  t.same([f.status, f.answer], ['done', 'ok'], f.reason ?? f.error ?? '')
  t.equal(stateOf(r, 'i-n2'), 'stopped')
  t.ok((r.sim.calls().DescribeInstances ?? 0) >= 2, 'waited through stopping to stopped')
  t.equal((await r.host.call('status', { attrs, node: 'n1', args: ['n2'] })).answer, 'notRunning')
  t.equal(stateOf(r, 'i-n1'), 'running', 'only the target is stopped')
  const again = await r.host.call('fence', { attrs, node: 'n1', args: ['n2'] })
  t.equal(again.answer, 'ok', 'fencing a stopped node is done at once')
})

t.test('fence fails for a node without an instance, at the deadline, or without permission', async (t) => {
  const r = await rig(t, 'fence-aws')
  const none = await r.host.call('fence', { attrs, node: 'n1', args: ['n3'] })
  t.same([none.answer, none.recoverable], ['failed', false])
  t.match(none.reason, /instances\.n3/)
  const slowRig = await rig(t, 'fence-aws', { transitionMs: 10_000, build: false })
  const t0 = Date.now()
  const slow = await slowRig.host.call('fence', { attrs, node: 'n1', args: ['n2'], timeoutMs: 2000 })
  t.same([slow.status, slow.answer], ['done', 'failed'], 'not confirmed stopped within the deadline: the plugin answers before it')
  t.match(slow.reason, /not stopped before the deadline \(last state stopping\)/)
  t.ok(Date.now() - t0 < 2000)
  const lim = await r.host.call('fence', { attrs: { ...attrs, profile: 'limited' }, node: 'n1', args: ['n1'] })
  t.same([lim.answer, lim.recoverable], ['failed', false])
  t.match(lim.reason, /UnauthorizedOperation/)
  const v = await r.host.call('validate', {
    attrs: { ...attrs, profile: 'limited' },
    node: 'n1',
    args: [{ perNode: { n1: { ...attrs, profile: 'limited' } } }],
  })
  t.match(v.diagnostics, [{ path: '/nodes/n1/profile', summary: /ec2:StopInstances/ }])
  const bad = await r.host.call('validate', {
    attrs,
    node: 'n1',
    args: [{ perNode: { n1: { instances: { n1: 'i-n1', n2: 'i-0gone' } } } }],
  })
  t.match(bad.diagnostics, [{ path: '/instances/n2', summary: /does not exist/ }])
})
