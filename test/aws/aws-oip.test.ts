// aws-oip through the real sandbox and the real aws.ec2 provider against the real EC2-compatible endpoint.
import t from 'tap'
import { rig, routeIn, eniOf } from './sim-host.js'

const attrs = (node: string, extra: Record<string, unknown> = {}) => ({ ip: '192.168.100.5', routeTables: ['rtb-0demo1', 'rtb-0demo2'], eni: `eni-${node}`, ...extra })
const D = '192.168.100.5/32'

t.test('online routes the IP to this node, is idempotent, and a second node takes it over (overlay)', async (t) => {
  const r = await rig(t, 'aws-oip')
  t.equal(eniOf(r.sim, 'eni-n1')?.sourceDestCheck, true)
  const on = await r.host.call('online', { attrs: attrs('n1'), node: 'n1' })
  t.same([on.status, on.answer], ['done', 'ok'], on.reason ?? on.error ?? '')
  t.equal(routeIn(r.sim, 'rtb-0demo1', D)?.networkInterfaceId, 'eni-n1')
  t.equal(routeIn(r.sim, 'rtb-0demo2', D)?.networkInterfaceId, 'eni-n1')
  t.equal(eniOf(r.sim, 'eni-n1')?.sourceDestCheck, false, 'source/dest check disabled')
  r.sim.resetCalls()
  const again = await r.host.call('online', { attrs: attrs('n1'), node: 'n1' })
  t.equal(again.answer, 'ok')
  t.notOk(r.sim.calls().ReplaceRoute ?? r.sim.calls().CreateRoute, 'a second online changes nothing')
  t.equal((await r.host.call('monitor', { attrs: attrs('n1'), node: 'n1' })).answer, 'ok')
  // n2 takes over: overlay replaces the routes; n1's offline (overlay) leaves them.
  t.equal((await r.host.call('offline', { attrs: attrs('n1'), node: 'n1' })).answer, 'ok')
  t.equal(routeIn(r.sim, 'rtb-0demo1', D)?.networkInterfaceId, 'eni-n1', 'overlay offline changes nothing')
  const n2 = (await r.node('n2')).host
  const m2 = await n2.call('monitor', { attrs: attrs('n2'), node: 'n2' })
  t.equal(m2.answer, 'notRunning', 'n2 does not have it yet')
  r.sim.resetCalls()
  const on2 = await n2.call('online', { attrs: attrs('n2'), node: 'n2' })
  t.equal(on2.answer, 'ok', on2.reason ?? '')
  t.same(r.sim.calls().ReplaceRoute, 2, 'one ReplaceRoute per table')
  t.equal(routeIn(r.sim, 'rtb-0demo2', D)?.networkInterfaceId, 'eni-n2')
  const m1 = await r.host.call('monitor', { attrs: attrs('n1'), node: 'n1' })
  t.equal(m1.answer, 'notRunning', 'n1 sees the route elsewhere and does not pull it back')
  t.equal(routeIn(r.sim, 'rtb-0demo2', D)?.networkInterfaceId, 'eni-n2')
  t.ok(n2.logs.some((l) => /aws ec2 ReplaceRoute: ok in \d+ ms/.test(l.msg)), 'every call is logged with its latency')
})

t.test('create/delete routing control deletes the routes offline', async (t) => {
  const r = await rig(t, 'aws-oip')
  const a = attrs('n1', { routingControl: 'create' })
  t.equal((await r.host.call('online', { attrs: a, node: 'n1' })).answer, 'ok')
  t.ok(routeIn(r.sim, 'rtb-0demo1', D))
  t.equal((await r.host.call('offline', { attrs: a, node: 'n1' })).answer, 'ok')
  t.notOk(routeIn(r.sim, 'rtb-0demo1', D), 'route deleted')
  t.equal((await r.host.call('offline', { attrs: a, node: 'n1' })).answer, 'ok', 'offline twice is fine')
  t.equal((await r.host.call('monitor', { attrs: a, node: 'n1' })).answer, 'notRunning')
})

t.test('monitor repairs drift on the owning node and says so in the log', async (t) => {
  const r = await rig(t, 'aws-oip')
  t.equal((await r.host.call('online', { attrs: attrs('n1'), node: 'n1' })).answer, 'ok')
  // Someone points one table elsewhere behind our back (through the API, as a person would).
  const h2 = await (await r.node('n2')).host.call('online', { attrs: attrs('n2', { routeTables: ['rtb-0demo2'] }), node: 'n2' })
  t.equal(h2.answer, 'ok')
  await new Promise((res) => setTimeout(res, 1700)) // past the describe cache
  const m = await r.host.call('monitor', { attrs: attrs('n1'), node: 'n1' })
  t.equal(m.answer, 'ok', m.reason ?? '')
  t.match(m.reason, /drift repaired/)
  t.equal(routeIn(r.sim, 'rtb-0demo2', D)?.networkInterfaceId, 'eni-n1')
  t.ok(r.host.logs.some((l) => l.level === 'warn' && /route drift .* repairing/.test(l.msg)))
})

t.test('validate refuses with the field named', async (t) => {
  const r = await rig(t, 'aws-oip')
  const v = async (perNode: Record<string, Record<string, unknown>>, node = 'n1') => r.host.call('validate', { attrs: perNode[node], node, args: [{ perNode }] })
  const good = await v({ n1: attrs('n1'), n2: attrs('n2') })
  t.same([good.status, good.answer], ['done', 'ok'], JSON.stringify(good.diagnostics))
  const inside = await v({ n1: attrs('n1', { ip: '10.0.3.7' }), n2: attrs('n2', { ip: '10.0.3.7' }) })
  t.equal(inside.answer, 'invalid')
  t.match(inside.diagnostics, [{ path: '/ip', summary: /inside CIDR 10\.0\.0\.0\/16 of vpc-0demo/ }])
  const same = await v({ n1: attrs('n1'), n2: attrs('n1') })
  t.match(same.diagnostics, [{ path: '/nodes/n2/eni', summary: /also set for node n1/ }])
  const rtb = await v({ n1: attrs('n1', { routeTables: ['rtb-0demo1', 'rtb-0nope'] }), n2: attrs('n2', { routeTables: ['rtb-0demo1', 'rtb-0nope'] }) })
  t.match(rtb.diagnostics, [{ path: '/routeTables/1', summary: /rtb-0nope does not exist/ }])
  const eni = await v({ n1: attrs('n1'), n2: attrs('n2', { eni: 'eni-0gone' }) })
  t.match(eni.diagnostics, [{ path: '/nodes/n2/eni', summary: /does not exist/ }])
  const limited = await v({ n1: attrs('n1', { profile: 'limited' }), n2: attrs('n2') })
  t.equal(limited.answer, 'invalid')
  const denied = (limited.diagnostics ?? []).map((d) => d.summary)
  t.ok(denied.some((s) => /profile limited may not call ec2:ReplaceRoute \(UnauthorizedOperation\)/.test(s)), denied.join('\n'))
  t.ok(denied.some((s) => /ec2:ModifyNetworkInterfaceAttribute/.test(s)))
  t.notOk(denied.some((s) => /DescribeRouteTables/.test(s)), 'allowed actions are not reported as denied')
  t.ok((limited.diagnostics ?? []).every((d) => d.path === '/nodes/n1/profile'))
})

t.test('discover lists route tables with Name tags, ENIs and profiles', async (t) => {
  const r = await rig(t, 'aws-oip')
  const rt = await r.host.call('discover', { attrs: {}, args: ['routeTables', {}] })
  t.match(rt.choices, [{ value: 'rtb-0demo1', label: /^main/ }, { value: 'rtb-0demo2', label: /^private/ }])
  const en = await r.host.call('discover', { attrs: {}, args: ['eni', {}] })
  t.match(en.choices, [{ value: 'eni-n1', label: /n1-eth0 — i-n1 — 10\.0\.1\.10/ }, { value: 'eni-n2' }])
  const pr = await r.host.call('discover', { attrs: {}, args: ['profile', {}] })
  t.same(pr.choices, [{ value: 'default' }, { value: 'limited' }, { value: 'mccs' }])
})
