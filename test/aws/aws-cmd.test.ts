// mccs aws policy / check through the CLI entry (main()), on a temp install home.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { main } from '../../core/cli/main.js'
import { rig } from './sim-host.js'

const capture = () => {
  const out: string[] = [],
    err: string[] = []
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err }
}

t.test('policy lists exactly the EC2 actions of the configured AWS types; check dry-runs them', async (t) => {
  const r = await rig(t, 'aws-oip', { build: false })
  mkdirSync(path.join(r.home, 'config'), { recursive: true })
  writeFileSync(
    path.join(r.home, 'config/main.json'),
    JSON.stringify({
      generation: 1,
      types: {},
      groups: [],
      dependencies: [],
      resources: [
        { name: 'oip', type: 'aws-oip', group: 'g' },
        { name: 'eip', type: 'aws-eip', group: 'g' },
        { name: 'p', type: 'process', group: 'g' },
      ],
    }),
  )
  writeFileSync(
    path.join(r.home, 'config/hb.json'),
    JSON.stringify({ nodes: [{ name: 'n1', fencing: [{ type: 'fence-aws', attrs: {} }] }] }),
  )
  const prev = process.env.MCCS_HOME
  process.env.MCCS_HOME = r.home
  t.teardown(() => {
    if (prev === undefined) delete process.env.MCCS_HOME
    else process.env.MCCS_HOME = prev
  })
  const c = capture()
  t.equal(await main(['aws', 'policy', '--json'], c.io), 0, c.err.join('\n'))
  const policy = JSON.parse(c.out.join('\n'))
  t.same(
    policy.Statement[0].Action,
    [
      'ec2:AssociateAddress',
      'ec2:CreateRoute',
      'ec2:DeleteRoute',
      'ec2:DescribeAddresses',
      'ec2:DescribeInstances',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeRouteTables',
      'ec2:DescribeVpcs',
      'ec2:DisassociateAddress',
      'ec2:ModifyNetworkInterfaceAttribute',
      'ec2:ReplaceRoute',
      'ec2:StopInstances',
    ],
    'aws-oip + aws-eip + fence-aws, nothing of aws-sip (not configured)',
  )
  t.equal(policy.Version, '2012-10-17')
  const h = capture()
  t.equal(await main(['aws', 'policy'], h.io), 0)
  t.match(h.out.join('\n'), /aws-oip\s+CreateRoute DeleteRoute/)
  // check, with the limited key: describes allowed, changes denied (exit 1).
  writeFileSync(path.join(r.home, 'config/aws.json'), JSON.stringify({ profile: 'limited', region: 'us-east-1', endpoint: r.sim.url }))
  const k = capture()
  t.equal(await main(['aws', 'check', '--json'], k.io), 1, k.err.join('\n'))
  const rows = JSON.parse(k.out.join('\n')).actions as Array<{ action: string; result: string }>
  t.same(rows.find((x) => x.action === 'DescribeRouteTables')?.result, 'allowed')
  t.same(rows.find((x) => x.action === 'ReplaceRoute')?.result, 'denied')
  t.same(rows.find((x) => x.action === 'StopInstances')?.result, 'denied')
})
