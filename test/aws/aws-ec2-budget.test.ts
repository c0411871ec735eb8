// The aws.ec2 capability under throttling and load, through the real sandbox against the real endpoint:
// 50 % of calls throttled (online still completes, retries logged, no monitor says notRunning), and the
// monitor budget (20 resources' monitors in one round cost one DescribeRouteTables call).
import t from 'tap'
import { rig, routeIn } from './sim-host.js'

const oip = (i: number) => ({ ip: `192.168.50.${i}`, routeTables: ['rtb-0demo1'], eni: 'eni-n1' })

t.test('50 % throttling: online completes, the log shows the retries, monitors never say notRunning', async (t) => {
  const r = await rig(t, 'aws-oip')
  const on = await r.host.call('online', { attrs: oip(1), node: 'n1', timeoutMs: 30_000 })
  t.equal(on.answer, 'ok', on.reason ?? on.error ?? '')
  r.sim.setFaults({ throttlePercent: 50 })
  for (let i = 2; i <= 4; i++) {
    const o = await r.host.call('online', { attrs: oip(i), node: 'n1', resource: `oip${i}`, timeoutMs: 30_000 })
    t.equal(o.answer, 'ok', `online oip${i} with half the calls throttled: ${o.reason ?? o.error ?? ''}`)
    t.equal(routeIn(r.sim, 'rtb-0demo1', `192.168.50.${i}/32`)?.networkInterfaceId, 'eni-n1')
  }
  const retries = r.host.logs.filter((l) => /RequestLimitExceeded .*; retry \d+ in \d+ ms/.test(l.msg))
  t.ok(retries.length > 0, `${retries.length} retries logged, e.g. "${retries[0]?.msg}"`)
  const answers: Record<string, number> = {}
  for (let round = 0; round < 25; round++) {
    const m = await r.host.call('monitor', { attrs: oip(1), node: 'n1', timeoutMs: 2000, resource: 'r1' })
    answers[m.answer] = (answers[m.answer] ?? 0) + 1
  }
  t.notOk(answers.notRunning, `monitor answers over 25 rounds: ${JSON.stringify(answers)}`)
  t.notOk(answers.failed)
  t.ok(r.provider.retries() > 0)
})

t.test('a monitor that cannot get an answer before its deadline says unknown', async (t) => {
  const r = await rig(t, 'aws-oip', { build: false })
  t.equal((await r.host.call('online', { attrs: oip(1), node: 'n1' })).answer, 'ok')
  r.sim.setFaults({ throttlePercent: 100 })
  await new Promise((res) => setTimeout(res, 1600))
  const m = await r.host.call('monitor', { attrs: oip(1), node: 'n1', timeoutMs: 1500 })
  t.same([m.status, m.answer], ['done', 'unknown'], m.reason ?? '')
  t.match(m.reason, /RequestLimitExceeded|throttl/)
})

t.test('monitor budget: 20 resources monitored in one round cost one DescribeRouteTables call', async (t) => {
  const r = await rig(t, 'aws-oip', { build: false })
  for (let i = 1; i <= 20; i++) t.equal((await r.host.call('online', { attrs: oip(i), node: 'n1', resource: `oip${i}` })).answer, 'ok')
  await new Promise((res) => setTimeout(res, 1600)) // let the cache expire
  r.sim.resetCalls()
  const round = await Promise.all(
    Array.from({ length: 20 }, (_, k) => r.host.call('monitor', { attrs: oip(k + 1), node: 'n1', resource: `oip${k + 1}` })),
  )
  t.ok(
    round.every((m) => m.answer === 'ok'),
    round.map((m) => m.answer).join(),
  )
  t.same(r.sim.calls(), { DescribeRouteTables: 1 }, 'one API call for the whole round')
  // A second round within the cache window costs nothing.
  const again = await Promise.all(
    Array.from({ length: 20 }, (_, k) => r.host.call('monitor', { attrs: oip(k + 1), node: 'n1', resource: `oip${k + 1}` })),
  )
  t.ok(again.every((m) => m.answer === 'ok'))
  t.same(r.sim.calls(), { DescribeRouteTables: 1 })
})

t.test('the capability refuses undeclared actions, unknown parameters and bad settings, naming the field', async (t) => {
  const r = await rig(t, 'aws-oip', { build: false })
  const { writeFileSync } = await import('node:fs')
  const path = await import('node:path')
  const info = (attrs: Record<string, unknown> = {}) =>
    ({
      plugin: 'x',
      resource: 'r',
      node: 'n1',
      hook: 'online',
      attrs,
      signal: new AbortController().signal,
      deadline: Date.now() + 5000,
      log: { debug() {}, info() {}, warn() {}, error() {} },
      paths: { home: r.home, scripts: r.home },
      permissions: { has: (p: string) => p === 'aws.ec2:DescribeVpcs', withPrefix: () => ['aws.ec2:DescribeVpcs'] },
    }) as never
  const m = r.provider.methods
  t.equal(m.call!.authorize(['StopInstances', {}], info()), 'aws.ec2:StopInstances')
  t.equal(m.call!.authorize(['DescribeVpcs', {}], info()), null)
  await t.rejects(m.call!.run(['DescribeVpcs', { VpcIdz: ['x'] }], info()), {
    code: 'MCCS_ERR_CAPABILITY_ARGS',
    field: 'aws.ec2.params.VpcIdz',
  })
  await t.rejects(m.call!.run(['describe vpcs', {}], info()), { code: 'MCCS_ERR_CAPABILITY_ARGS', field: 'aws.ec2.call: action' })
  await t.rejects(m.call!.run(['DescribeVpcs', {}], info({ region: 'mars' })), { code: 'MCCS_ERR_AWS_CONFIG', field: 'region' })
  await t.rejects(m.call!.run(['DescribeVpcs', { VpcIds: ['vpc-0nope'] }], info()), {
    code: 'MCCS_ERR_AWS_API',
    field: 'InvalidVpcID.NotFound',
  })
  writeFileSync(path.join(r.home, 'config/aws.json'), JSON.stringify({ region: 'us-east-1', endpoint: 'ftp://x' }))
  await t.rejects(m.call!.run(['DescribeVpcs', {}], info()), { code: 'MCCS_ERR_AWS_CONFIG', field: '/endpoint' })
  writeFileSync(
    path.join(r.home, 'config/aws.json'),
    JSON.stringify({ region: 'us-east-1', endpoint: r.sim.url, profile: 'limited', secret: 1 }),
  )
  await t.rejects(m.call!.run(['DescribeVpcs', {}], info()), { code: 'MCCS_ERR_AWS_CONFIG', field: '/secret' })
})
