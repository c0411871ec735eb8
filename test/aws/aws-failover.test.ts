// Acceptance: real agents in the namespace lab, the EC2-compatible endpoint (`mccs ec2-sim`) running in the
// client namespace (reached by the agents over link 0). Groups with an Overlay IP, a Secondary Private IP and
// an Elastic IP switch n1 -> n2 -> n1; after each move the endpoint's state file must show the route / IP /
// association on the new node's ENI. API calls per failover are counted from the endpoint's call counts.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { labAvailable } from '../../scripts/lab/lab.js'
import { until } from '../../scripts/lab/agent-cluster.js'
import { awsLab, GROUPS } from './aws-lab.js'

const avail = await labAvailable()

if (!avail.ok) {
  t.test('AWS groups fail over in the lab', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('OIP, SIP and EIP groups switch n1 -> n2 -> n1; the VPC follows each move', async (t) => {
    const L = await awsLab(`mccs${process.pid}a-`)
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of L.c.nodes) writeFileSync(path.join(process.env.MCCS_DEBUG_LAB, `aws-${n}.log`), await L.c.log(n))
      await L.destroy()
    })
    L.c.start()
    const groups = GROUPS
    const onlineOn = async (n: string) => {
      const s = await L.c.status('n1')
      return groups.every((g) => s.groups.find((x) => x.name === g)?.nodes[n] === 'online')
    }
    await until(async () => onlineOn('n1'), 60_000, 'the AWS groups online on n1').catch(async (e) => {
      for (const n of L.c.nodes) t.comment(`${n}: ${JSON.stringify(await L.c.status(n).catch((x: Error) => x.message))}`)
      throw e
    })
    t.same(L.where(), { oip: 'eni-n1', sip: 'eni-n1', eip: 'eni-n1' }, 'started on n1: route, secondary IP and EIP on eni-n1')
    const report: string[] = []
    for (const to of ['n2', 'n1']) {
      for (const g of groups) {
        const r = await L.switchTo(g, to)
        t.equal(r.reply.outcome.status, 'accepted', `${g} -> ${to}: ${r.reply.outcome.reason ?? ''}`)
        t.ok(r.reply.reached, `${g} reached ${to} in ${r.ms} ms`)
        report.push(`${g} -> ${to}: ${r.ms} ms, ${r.total} API calls ${JSON.stringify(r.calls)}`)
      }
      t.same(
        L.where(),
        { oip: `eni-${to}`, sip: `eni-${to}`, eip: `eni-${to}` },
        `after the moves to ${to}, the VPC shows everything on eni-${to}`,
      )
    }
    t.comment(report.join('\n'))
    writeFileSync(path.join(os.tmpdir(), `mccs-aws-failover-${process.pid}.txt`), report.join('\n'))
    const log = (await L.c.log('n1')) + (await L.c.log('n2'))
    t.match(log, /aws ec2 ReplaceRoute: ok in \d+ ms/, 'the agents log each EC2 call with its latency')
    t.notMatch(log, /aws_secret_access_key|secretAccessKey|"test"\s*,\s*"test"/, 'no secret in the logs')
  })
}
