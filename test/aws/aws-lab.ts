// The AWS lab: real agents in the namespace lab with the EC2-compatible endpoint (`mccs ec2-sim`) in the
// client namespace, reached over link 0; groups g-oip, g-sip, g-eip. Used by test/aws/aws-failover.test.ts
// and scripts/bench/aws.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'
import { rpc } from '../../core/cli/control-client.js'
import { packageRoot } from '../../core/paths.js'
import { seedForNodes, type Ec2State } from '../../core/ec2sim/server.js'

const PORT = 4566
export const OIP = '192.168.77.7/32', SIP = '10.0.1.77', EIP = 'eipalloc-0demo1'
export const GROUPS = ['g-oip', 'g-sip', 'g-eip']

export function awsMain(nodes: string[]): Record<string, unknown> {
  const per = (f: (n: string) => Record<string, unknown>) => Object.fromEntries(nodes.map((n) => [n, f(n)]))
  const group = (name: string) => ({ name, nodes, failoverOnFailure: true, autoStart: true, autoFailback: false })
  return {
    generation: 1, types: {},
    groups: [group('g-oip'), group('g-sip'), group('g-eip')],
    resources: [
      { name: 'oip', type: 'aws-oip', group: 'g-oip', critical: true, monitored: true, attrs: { ip: OIP, routeTables: ['rtb-0demo1', 'rtb-0demo2'] }, nodeAttrs: per((n) => ({ eni: `eni-${n}` })) },
      { name: 'sip', type: 'aws-sip', group: 'g-sip', critical: true, monitored: true, attrs: { ip: SIP }, nodeAttrs: per((n) => ({ eni: `eni-${n}` })) },
      { name: 'eip', type: 'aws-eip', group: 'g-eip', critical: true, monitored: true, attrs: { allocationId: EIP }, nodeAttrs: per((n) => ({ eni: `eni-${n}` })) },
    ],
    dependencies: [],
  }
}

/** The lab with the endpoint in the client namespace and agents configured for it (also used by the bench). */
export async function awsLab(prefix: string, o: { latencyMs?: number; throttlePercent?: number } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mccs-awslab-'))
  const stateFile = path.join(dir, 'ec2.json')
  writeFileSync(path.join(dir, 'seed.json'), JSON.stringify(seedForNodes(['n1', 'n2'])))
  const endpoint = `http://10.80.0.250:${PORT}`
  const c = await AgentCluster.create({
    prefix, nodes: 2,
    main: (_lab, nodes) => awsMain(nodes),
    files: () => ({
      'config/aws.json': JSON.stringify({ profile: 'mccs', region: 'us-east-1', endpoint }),
      'aws/credentials': '[mccs]\naws_access_key_id = test\naws_secret_access_key = test\n',
      'aws/config': '[profile mccs]\nregion = us-east-1\n',
    }),
    env: (_n, home) => ({ AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'aws/credentials'), AWS_CONFIG_FILE: path.join(home, 'aws/config') }),
  })
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  const sim = c.lab.spawn('client', [process.execPath, '--no-node-snapshot', path.join(packageRoot(), 'dist/mccs.js'), 'ec2-sim',
    '--listen', `10.80.0.250:${PORT}`, '--allow-remote', '--state', stateFile, '--seed', path.join(dir, 'seed.json'),
    '--latency-ms', String(o.latencyMs ?? 0), '--throttle-percent', String(o.throttlePercent ?? 0)], { env, stdio: 'ignore' })
  const state = () => JSON.parse(readFileSync(stateFile, 'utf8')) as Ec2State
  await until(async () => { try { return state().format === 'mccs-ec2sim/1' } catch { return false } }, 10_000, 'the endpoint state file')
  const destroy = async () => {
    sim.kill('SIGKILL')
    await c.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
  const where = () => {
    const s = state()
    const enis = s.instances.flatMap((i) => i.enis)
    return {
      oip: [...new Set(s.routeTables.filter((r) => ['rtb-0demo1', 'rtb-0demo2'].includes(r.id)).map((r) => r.routes.find((x) => x.destinationCidrBlock === OIP)?.networkInterfaceId ?? 'none'))].join(','),
      sip: enis.filter((e) => e.secondaryPrivateIps.includes(SIP)).map((e) => e.id).join(',') || 'none',
      eip: s.addresses.find((a) => a.allocationId === EIP)?.networkInterfaceId ?? 'none',
    }
  }
  const sock = (n: string) => path.join(c.homes[n]!, 'state/mccs.sock')
  /** groupSwitch through n1's control socket (the coordinator), waiting until the group is online there. */
  const switchTo = async (group: string, to: string) => {
    const calls0 = state().calls
    const t0 = Date.now()
    const reply = await rpc<{ outcome: { status: string; reason?: string }; reached?: boolean }>(sock('n1'), 'command',
      { cmd: { type: 'groupSwitch', user: 'test', group, to }, wait: true, timeoutMs: 60_000 }, 90_000)
    const ms = Date.now() - t0
    const calls1 = state().calls
    const diff: Record<string, number> = {}
    for (const [k, v] of Object.entries(calls1)) if (v - (calls0[k] ?? 0) > 0) diff[k] = v - (calls0[k] ?? 0)
    return { reply, ms, calls: diff, total: Object.values(diff).reduce((a, b) => a + b, 0) }
  }
  return { c, state, where, switchTo, destroy, sock }
}

