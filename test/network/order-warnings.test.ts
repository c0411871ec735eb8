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
