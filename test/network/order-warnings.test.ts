// The manual's dependency order for network resources (3.2.6) as configuration warnings.
import t from 'tap'
import { orderWarnings } from '../../core/config/order-warnings.js'

const res = (name: string, type: string, group = 'g') => ({
  name,
  type,
  group,
  critical: true,
  attrs: {},
  nodeAttrs: {},
  policy: {},
  monitored: true,
})
const dep = (parent: string, child: string) => ({ parent, child })

t.test('the manual order gives no warning', async (t) => {
  t.same(
    orderWarnings({
      resources: [res('nic', 'nic'), res('vip', 'address'), res('app', 'process')],
      dependencies: [dep('vip', 'nic'), dep('app', 'vip')],
    }),
    [],
  )
  t.same(
    orderWarnings({
      resources: [res('nic', 'nic'), res('vip', 'address'), res('oip', 'aws-oip'), res('eip', 'aws-eip')],
      dependencies: [dep('vip', 'oip'), dep('oip', 'nic'), dep('eip', 'nic')],
    }),
    [],
  )
})

t.test('an address without a NIC below it is named', async (t) => {
  const w = orderWarnings({ resources: [res('nic', 'nic'), res('vip', 'address')], dependencies: [] })
  t.equal(w.length, 1)
  t.equal(w[0]!.resource, 'vip')
  t.equal(w[0]!.path, '/resources/1')
  t.match(w[0]!.reason, /address -> nic/)
})

t.test('a NIC above its address (reversed edge) is named', async (t) => {
  const w = orderWarnings({ resources: [res('nic', 'nic'), res('vip', 'address')], dependencies: [dep('nic', 'vip')] })
  t.ok(w.some((x) => x.resource === 'nic' && /belongs at the bottom/.test(x.reason)))
  t.ok(w.some((x) => x.resource === 'vip' && /does not depend on a nic/.test(x.reason)))
})

t.test('aws-oip above the address, or beside it, contradicts address -> aws-oip -> nic', async (t) => {
  const above = orderWarnings({
    resources: [res('nic', 'nic'), res('vip', 'address'), res('oip', 'aws-oip')],
    dependencies: [dep('oip', 'vip'), dep('vip', 'nic')],
  })
  t.ok(
    above.some((x) => x.resource === 'oip' && /depends on address 'vip'/.test(x.reason)),
    JSON.stringify(above),
  )
  const beside = orderWarnings({
    resources: [res('nic', 'nic'), res('vip', 'address'), res('sip', 'aws-sip')],
    dependencies: [dep('vip', 'nic'), dep('sip', 'nic')],
  })
  t.same(
    beside.map((x) => x.resource),
    ['vip'],
  )
  t.match(beside[0]!.reason, /address -> aws-sip -> nic/)
})

t.test('aws-eip needs a NIC below it; a NIC in another group does not count', async (t) => {
  const w = orderWarnings({ resources: [res('nic', 'nic', 'other'), res('eip', 'aws-eip')], dependencies: [dep('eip', 'nic')] })
  t.same(
    w.map((x) => x.resource),
    ['eip'],
  )
})

// Issue 18, What 7: an address must sit on the NIC its nic resource checks, on every node.
t.test("an address whose per-node NIC differs from the nic resource's device is named, with the node", async (t) => {
  const group = { name: 'g', nodes: ['n1', 'n2'], failoverOnFailure: true, autoStart: false, autoFailback: false }
  const nic = { ...res('public', 'nic'), attrs: { device: 'eth0' }, nodeAttrs: { n2: { device: 'ens5' } } }
  const right = { ...res('vip', 'address'), attrs: { address: '10.80.0.100/24', nic: 'eth0' }, nodeAttrs: { n2: { nic: 'ens5' } } }
  const wrong = { ...right, nodeAttrs: { n2: { nic: 'eth0' } } }
  t.same(
    orderWarnings({ groups: [group], resources: [nic, right], dependencies: [dep('vip', 'public')] }),
    [],
    'the same NIC on both nodes',
  )
  const w = orderWarnings({ groups: [group], resources: [nic, wrong], dependencies: [dep('vip', 'public')] })
  t.equal(w.length, 1, JSON.stringify(w))
  t.equal(w[0]!.resource, 'vip')
  t.equal(w[0]!.path, '/resources/1')
  t.match(w[0]!.reason, /'eth0' on n2/)
  t.match(w[0]!.reason, /nic 'public'.*'ens5'/)
  t.notMatch(w[0]!.reason, /n1/, 'n1 agrees and is not named')
  // Through an Overlay IP between them (address -> aws-oip -> nic) the NIC below is found too.
  const oip = { ...res('oip', 'aws-oip'), attrs: { ip: '10.80.0.100' } }
  const via = orderWarnings({ groups: [group], resources: [nic, wrong, oip], dependencies: [dep('vip', 'oip'), dep('oip', 'public')] })
  t.same(
    via.map((x) => x.resource),
    ['vip'],
  )
})

// Issue 18, What 7: an Overlay or Secondary IP only routes or assigns the IP; an address resource above it
// must configure it on the node.
t.test('an aws-oip or aws-sip whose IP no address resource above it holds is named', async (t) => {
  const nic = { ...res('public', 'nic'), attrs: { device: 'eth0' } }
  const vip = (ip: string) => ({ ...res('vip', 'address'), attrs: { address: `${ip}/24`, nic: 'eth0' } })
  const oip = { ...res('oip', 'aws-oip'), attrs: { ip: '10.80.0.100/32' } }
  const sip = { ...res('sip', 'aws-sip'), attrs: { ip: '172.31.0.50' } }
  t.same(
    orderWarnings({ resources: [nic, vip('10.80.0.100'), oip], dependencies: [dep('vip', 'oip'), dep('oip', 'public')] }),
    [],
    'the address above holds the Overlay IP',
  )
  const alone = orderWarnings({ resources: [nic, sip], dependencies: [dep('sip', 'public')] })
  t.same(
    alone.map((x) => x.resource),
    ['sip'],
  )
  t.match(alone[0]!.reason, /aws-sip 'sip'.*172\.31\.0\.50.*no address resource above it/)
  const other = orderWarnings({ resources: [nic, vip('10.80.0.101'), oip], dependencies: [dep('vip', 'oip'), dep('oip', 'public')] })
  t.same(
    other.map((x) => x.resource),
    ['oip'],
  )
  t.match(other[0]!.reason, /10\.80\.0\.100/)
  t.match(other[0]!.reason, /'vip' above it holds 10\.80\.0\.101/)
})

t.test('the one link that answers a warning is offered with it, never one that makes a cycle or has a choice', async (t) => {
  const byRes = (w: ReturnType<typeof orderWarnings>, r: string) => w.filter((x) => x.resource === r).map((x) => x.link ?? null)
  // nic, then aws-sip, then address, as the demo's printout orders them.
  const w1 = orderWarnings({ resources: [res('nic', 'nic'), res('sip', 'aws-sip')], dependencies: [] })
  t.same(byRes(w1, 'sip'), [{ parent: 'sip', child: 'nic' }], 'aws-sip -> the only nic')
  const w2 = orderWarnings({
    resources: [res('nic', 'nic'), res('sip', 'aws-sip'), res('vip', 'address')],
    dependencies: [dep('sip', 'nic'), dep('vip', 'nic')],
  })
  t.same(byRes(w2, 'vip'), [{ parent: 'vip', child: 'sip' }], 'address -> the aws-sip of its group')
  const w3 = orderWarnings({ resources: [res('nic', 'nic'), res('vip', 'address')], dependencies: [] })
  t.same(byRes(w3, 'vip'), [{ parent: 'vip', child: 'nic' }], 'address -> the only nic')
  const w4 = orderWarnings({ resources: [res('nic', 'nic'), res('nic2', 'nic'), res('vip', 'address')], dependencies: [] })
  t.same(byRes(w4, 'vip'), [null], 'two NICs: a choice, so no offer')
  const w5 = orderWarnings({ resources: [res('nic', 'nic'), res('vip', 'address')], dependencies: [dep('nic', 'vip')] })
  t.same(byRes(w5, 'vip'), [null], 'the nic already depends on the address: linking back would be a cycle')
  const w6 = orderWarnings({ resources: [res('nic', 'nic', 'other'), res('vip', 'address')], dependencies: [] })
  t.same(byRes(w6, 'vip'), [null], "another group's nic is not offered")
})
