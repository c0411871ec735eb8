// aws-sip and aws-eip through the real sandbox and aws.ec2 provider, against the real EC2-compatible endpoint.
import t from 'tap'
import { rig, eniOf } from './sim-host.js'

t.test('aws-sip: online assigns, the other node takes it with AllowReassignment, offline unassigns', async (t) => {
  const r = await rig(t, 'aws-sip')
  const a = (n: string) => ({ ip: '10.0.1.50', eni: `eni-${n}` })
  const n2 = (await r.node('n2')).host
  const on = await r.host.call('online', { attrs: a('n1'), node: 'n1' })
  t.same([on.status, on.answer], ['done', 'ok'], on.reason ?? on.error ?? '')
  t.same(eniOf(r.sim, 'eni-n1')?.secondaryPrivateIps, ['10.0.1.50'])
  t.equal((await r.host.call('online', { attrs: a('n1'), node: 'n1' })).answer, 'ok', 'idempotent')
  t.equal((await r.host.call('monitor', { attrs: a('n1'), node: 'n1' })).answer, 'ok')
  t.equal((await n2.call('monitor', { attrs: a('n2'), node: 'n2' })).answer, 'notRunning')
  // n1 is lost (no offline): n2 takes the address over.
  const on2 = await n2.call('online', { attrs: a('n2'), node: 'n2' })
  t.equal(on2.answer, 'ok', on2.reason ?? '')
  t.same(eniOf(r.sim, 'eni-n2')?.secondaryPrivateIps, ['10.0.1.50'])
  t.same(eniOf(r.sim, 'eni-n1')?.secondaryPrivateIps, [], 'reassigned away from n1')
  t.equal((await r.host.call('offline', { attrs: a('n1'), node: 'n1' })).answer, 'ok', 'offline where it is not: ok, nothing done')
  t.same(eniOf(r.sim, 'eni-n2')?.secondaryPrivateIps, ['10.0.1.50'])
  t.equal((await n2.call('offline', { attrs: a('n2'), node: 'n2' })).answer, 'ok')
  t.same(eniOf(r.sim, 'eni-n2')?.secondaryPrivateIps, [])
  t.equal((await n2.call('monitor', { attrs: a('n2'), node: 'n2' })).answer, 'notRunning')
})

t.test('aws-sip validate: outside the subnet, the same ENI twice, a profile lacking a permission', async (t) => {
  const r = await rig(t, 'aws-sip')
  const v = (perNode: Record<string, Record<string, unknown>>) =>
    r.host.call('validate', { attrs: perNode.n1, node: 'n1', args: [{ perNode }] })
  const good = await v({ n1: { ip: '10.0.1.50', eni: 'eni-n1' }, n2: { ip: '10.0.1.50', eni: 'eni-n2' } })
  t.equal(good.answer, 'ok', JSON.stringify(good.diagnostics))
  t.ok((good.diagnostics ?? []).every((d) => d.severity === 'warning'))
  const out = await v({ n1: { ip: '10.0.2.50', eni: 'eni-n1' }, n2: { ip: '10.0.2.50', eni: 'eni-n2' } })
  t.equal(out.answer, 'invalid')
  t.match(out.diagnostics, [{ path: '/ip', summary: /10\.0\.2\.50 is outside subnet subnet-0demo1 \(10\.0\.1\.0\/24\)/ }])
  const reserved = await v({ n1: { ip: '10.0.1.2', eni: 'eni-n1' }, n2: { ip: '10.0.1.2', eni: 'eni-n2' } })
  t.match(reserved.diagnostics, [{ path: '/ip', summary: /reserved/ }])
  const same = await v({ n1: { ip: '10.0.1.50', eni: 'eni-n1' }, n2: { ip: '10.0.1.50', eni: 'eni-n1' } })
  t.match(same.diagnostics, [{ path: '/nodes/n2/eni', summary: /eni-n1 is also set for node n1/ }])
  // EC2 has no DryRun for (Un)AssignPrivateIpAddresses: they are reported as not checkable (a warning, and
  // nothing is assigned), never as allowed.
  const lim = await v({ n1: { ip: '10.0.1.50', eni: 'eni-n1', profile: 'limited' }, n2: { ip: '10.0.1.50', eni: 'eni-n2' } })
  t.equal(lim.answer, 'ok')
  t.same(
    (lim.diagnostics ?? []).map((d) => [d.severity, d.path, d.summary]),
    [
      ['warning', '/nodes/n1/profile', 'ec2:AssignPrivateIpAddresses cannot be checked in advance (EC2 has no DryRun for it)'],
      ['warning', '/nodes/n1/profile', 'ec2:UnassignPrivateIpAddresses cannot be checked in advance (EC2 has no DryRun for it)'],
    ],
  )
  t.same(eniOf(r.sim, 'eni-n1')?.secondaryPrivateIps, [], 'validation assigned nothing')
  t.notOk(r.sim.calls().AssignPrivateIpAddresses, 'and sent no assign call')
})

t.test('aws-eip: associate, move with AllowReassociation, disassociate; validation', async (t) => {
  const r = await rig(t, 'aws-eip')
  const a = (n: string) => ({ allocationId: 'eipalloc-0demo1', eni: `eni-${n}` })
  const addr = () => r.sim.state().addresses.find((x) => x.allocationId === 'eipalloc-0demo1')
  const n2 = (await r.node('n2')).host
  const on = await r.host.call('online', { attrs: a('n1'), node: 'n1' })
  t.same([on.status, on.answer], ['done', 'ok'], on.reason ?? on.error ?? '')
  t.equal(addr()?.networkInterfaceId, 'eni-n1')
  t.equal((await r.host.call('monitor', { attrs: a('n1'), node: 'n1' })).answer, 'ok')
  t.equal((await n2.call('online', { attrs: a('n2'), node: 'n2' })).answer, 'ok')
  t.equal(addr()?.networkInterfaceId, 'eni-n2', 'reassociated to n2')
  t.equal((await r.host.call('offline', { attrs: a('n1'), node: 'n1' })).answer, 'ok')
  t.equal(addr()?.networkInterfaceId, 'eni-n2', "n1's offline does not take n2's association")
  t.equal((await n2.call('offline', { attrs: a('n2'), node: 'n2' })).answer, 'ok')
  t.notOk(addr()?.networkInterfaceId, 'disassociated')
  t.equal((await n2.call('offline', { attrs: a('n2'), node: 'n2' })).answer, 'ok', 'offline twice')

  const v = (perNode: Record<string, Record<string, unknown>>) =>
    r.host.call('validate', { attrs: perNode.n1, node: 'n1', args: [{ perNode }] })
  t.equal((await v({ n1: a('n1'), n2: a('n2') })).answer, 'ok')
  const unknownEip = await v({ n1: { ...a('n1'), allocationId: 'eipalloc-0nope' }, n2: { ...a('n2'), allocationId: 'eipalloc-0nope' } })
  t.match(unknownEip.diagnostics, [{ path: '/allocationId', summary: /does not exist/ }])
  const lim = await v({ n1: { ...a('n1'), profile: 'limited' }, n2: a('n2') })
  t.match(lim.diagnostics, [
    { path: '/nodes/n1/profile', summary: /ec2:AssociateAddress/ },
    { path: '/nodes/n1/profile', summary: /ec2:DisassociateAddress/ },
  ])
  const choices = await r.host.call('discover', { attrs: {}, args: ['allocationId', {}] })
  t.match(choices.choices, [{ value: 'eipalloc-0demo1', label: /203\.0\.113\.10/ }, { value: 'eipalloc-0demo2' }])
})
