// aws-oip through the real sandbox and the real aws.ec2 provider against the real EC2-compatible endpoint.
import t from 'tap'
import { rig, routeIn, eniOf, pluginDir } from './sim-host.js'
import { createTestHost } from '@mccs/plugin-kit/testing'

const attrs = (node: string, extra: Record<string, unknown> = {}) => ({
  ip: '192.168.100.5',
  routeTables: ['rtb-0demo1', 'rtb-0demo2'],
  eni: `eni-${node}`,
  ...extra,
})
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
  t.ok(
    n2.logs.some((l) => /aws ec2 ReplaceRoute: ok in \d+ ms/.test(l.msg)),
    'every call is logged with its latency',
  )
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

const writes = (c: Record<string, number>) =>
  (c.ReplaceRoute ?? 0) + (c.CreateRoute ?? 0) + (c.DeleteRoute ?? 0) + (c.ModifyNetworkInterfaceAttribute ?? 0)

t.test('monitor only observes: drift on the node that brought the IP online is reported, never repaired', async (t) => {
  const r = await rig(t, 'aws-oip')
  t.equal((await r.host.call('online', { attrs: attrs('n1'), node: 'n1' })).answer, 'ok')
  // Someone points one table elsewhere behind our back (through the API, as a person would).
  const h2 = await (await r.node('n2')).host.call('online', { attrs: attrs('n2', { routeTables: ['rtb-0demo2'] }), node: 'n2' })
  t.equal(h2.answer, 'ok')
  await new Promise((res) => setTimeout(res, 1700)) // past the describe cache
  r.sim.resetCalls()
  const m = await r.host.call('monitor', { attrs: attrs('n1'), node: 'n1' })
  t.equal(m.answer, 'notRunning', 'drift is a result for the engine (a miss, then a fault and its restart or failover)')
  t.match(m.reason, /rtb-0demo2: eni-n2/, 'naming the table and where its route points')
  t.equal(writes(r.sim.calls()), 0, 'the monitor changed nothing in EC2')
  t.equal(routeIn(r.sim, 'rtb-0demo2', D)?.networkInterfaceId, 'eni-n2', 'the route stays where it was put')
  t.ok(
    r.host.logs.some((l) => l.level === 'warn' && /route drift for 192\.168\.100\.5\/32: rtb-0demo2: eni-n2/.test(l.msg)),
    'logged as drift',
  )
  t.equal((await r.host.call('monitor', { attrs: attrs('n1'), node: 'n1' })).answer, 'notRunning')
  t.equal(r.host.logs.filter((l) => /route drift/.test(l.msg)).length, 1, 'a lasting drift is logged once')
  t.notOk(
    r.host.logs.some((l) => /repairing|drift repaired/.test(l.msg)),
    'no repair is attempted or announced',
  )
})

t.test('a node whose group moved away while it was paused (SIGSTOP, then fenced) does not pull the route back', async (t) => {
  const r = await rig(t, 'aws-oip')
  t.equal((await r.host.call('online', { attrs: attrs('n1'), node: 'n1' })).answer, 'ok')
  t.equal((await r.host.call('monitor', { attrs: attrs('n1'), node: 'n1' })).answer, 'ok', 'held and cached on n1')
  // n1 is paused: n2 takes the group (n1's offline never ran); n1 resumes and its overdue monitor runs.
  const n2 = (await r.node('n2')).host
  t.equal((await n2.call('online', { attrs: attrs('n2'), node: 'n2' })).answer, 'ok')
  for (const wait of [0, 1700]) {
    await new Promise((res) => setTimeout(res, wait))
    r.sim.resetCalls()
    const m = await r.host.call('monitor', { attrs: attrs('n1'), node: 'n1' })
    t.not(m.answer, 'failed', 'not a fault of n1: the IP is simply not here')
    t.equal(writes(r.sim.calls()), 0, `n1's monitor changed nothing (after ${wait} ms)`)
    t.same([routeIn(r.sim, 'rtb-0demo1', D)?.networkInterfaceId, routeIn(r.sim, 'rtb-0demo2', D)?.networkInterfaceId], ['eni-n2', 'eni-n2'])
  }
  t.equal((await r.host.call('monitor', { attrs: attrs('n1'), node: 'n1' })).answer, 'notRunning', 'past the cache: not running on n1')
})

t.test('taken offline here, the overlay route left in place: the monitor (and a probe) answer notRunning', async (t) => {
  const r = await rig(t, 'aws-oip')
  t.equal((await r.host.call('online', { attrs: attrs('n1'), node: 'n1' })).answer, 'ok')
  t.equal((await r.host.call('offline', { attrs: attrs('n1'), node: 'n1' })).answer, 'ok')
  t.equal(routeIn(r.sim, 'rtb-0demo1', D)?.networkInterfaceId, 'eni-n1', 'overlay: the route stays by design')
  await new Promise((res) => setTimeout(res, 1700))
  r.sim.resetCalls()
  const m = await r.host.call('monitor', { attrs: attrs('n1'), node: 'n1' })
  t.equal(m.answer, 'notRunning', 'offline stays offline: a route that still targets us is not a resource running here')
  t.match(m.reason, /taken offline/)
  t.equal(writes(r.sim.calls()), 0)
  t.same(Object.keys(r.host.state.get('r1') ?? {}), ['offline'], "the resource's state keeps the offline mark (and no online claim)")
  // The mark is kept in the resource's state, which survives an agent restart: a new agent's probe agrees.
  const restarted = await createTestHost({
    pluginDir: pluginDir('aws-oip'),
    build: false,
    nodes: ['n1', 'n2'],
    node: 'n1',
    fakes: { providers: [r.provider] },
  })
  t.teardown(() => restarted.dispose())
  restarted.state.set('r1', structuredClone(r.host.state.get('r1')!))
  t.equal((await restarted.call('monitor', { attrs: attrs('n1'), node: 'n1' })).answer, 'notRunning', 'after a restart too')
  // Brought online again here: monitored as running.
  t.equal((await r.host.call('online', { attrs: attrs('n1'), node: 'n1' })).answer, 'ok')
  t.equal((await r.host.call('monitor', { attrs: attrs('n1'), node: 'n1' })).answer, 'ok')
  // clean (the forced offline) leaves the same mark.
  t.equal((await r.host.call('clean', { attrs: attrs('n1'), node: 'n1' })).answer, 'ok')
  t.equal((await r.host.call('monitor', { attrs: attrs('n1'), node: 'n1' })).answer, 'notRunning')
})

t.test('a route that targets a node which never had the resource is adopted (started outside the cluster)', async (t) => {
  const r = await rig(t, 'aws-oip')
  const n2 = (await r.node('n2')).host
  t.equal((await n2.call('online', { attrs: attrs('n2'), node: 'n2' })).answer, 'ok')
  n2.state.clear() // as on a node that never ran it: no record either way
  t.equal(
    (await n2.call('monitor', { attrs: attrs('n2'), node: 'n2' })).answer,
    'ok',
    'the route targets n2: running there (adopted by the engine)',
  )
  t.equal((await r.host.call('monitor', { attrs: attrs('n1'), node: 'n1' })).answer, 'notRunning')
})

t.test('validate refuses with the field named', async (t) => {
  const r = await rig(t, 'aws-oip')
  const v = async (perNode: Record<string, Record<string, unknown>>, node = 'n1') =>
    r.host.call('validate', { attrs: perNode[node], node, args: [{ perNode }] })
  const good = await v({ n1: attrs('n1'), n2: attrs('n2') })
  t.same([good.status, good.answer], ['done', 'ok'], JSON.stringify(good.diagnostics))
  const inside = await v({ n1: attrs('n1', { ip: '10.0.3.7' }), n2: attrs('n2', { ip: '10.0.3.7' }) })
  t.equal(inside.answer, 'invalid')
  t.match(inside.diagnostics, [{ path: '/ip', summary: /inside CIDR 10\.0\.0\.0\/16 of vpc-0demo/ }])
  const same = await v({ n1: attrs('n1'), n2: attrs('n1') })
  t.match(same.diagnostics, [{ path: '/nodes/n2/eni', summary: /also set for node n1/ }])
  const rtb = await v({
    n1: attrs('n1', { routeTables: ['rtb-0demo1', 'rtb-0nope'] }),
    n2: attrs('n2', { routeTables: ['rtb-0demo1', 'rtb-0nope'] }),
  })
  t.match(rtb.diagnostics, [{ path: '/routeTables/1', summary: /rtb-0nope does not exist/ }])
  const eni = await v({ n1: attrs('n1'), n2: attrs('n2', { eni: 'eni-0gone' }) })
  t.match(eni.diagnostics, [{ path: '/nodes/n2/eni', summary: /does not exist/ }])
  const limited = await v({ n1: attrs('n1', { profile: 'limited' }), n2: attrs('n2') })
  t.equal(limited.answer, 'invalid')
  const denied = (limited.diagnostics ?? []).map((d) => d.summary)
  t.ok(
    denied.some((s) => /profile limited may not call ec2:ReplaceRoute \(UnauthorizedOperation\)/.test(s)),
    denied.join('\n'),
  )
  t.ok(denied.some((s) => /ec2:ModifyNetworkInterfaceAttribute/.test(s)))
  t.notOk(
    denied.some((s) => /DescribeRouteTables/.test(s)),
    'allowed actions are not reported as denied',
  )
  t.ok((limited.diagnostics ?? []).every((d) => d.path === '/nodes/n1/profile'))
})

t.test('discover lists route tables with Name tags, ENIs and profiles', async (t) => {
  const r = await rig(t, 'aws-oip')
  const rt = await r.host.call('discover', { attrs: {}, args: ['routeTables', {}] })
  t.match(rt.choices, [
    { value: 'rtb-0demo1', label: /^main/ },
    { value: 'rtb-0demo2', label: /^private/ },
  ])
  const en = await r.host.call('discover', { attrs: {}, args: ['eni', {}] })
  t.match(en.choices, [{ value: 'eni-n1', label: /n1-eth0 — i-n1 — 10\.0\.1\.10/ }, { value: 'eni-n2' }])
  const pr = await r.host.call('discover', { attrs: {}, args: ['profile', {}] })
  t.same(pr.choices, [{ value: 'default' }, { value: 'limited' }, { value: 'mccs' }])
})
