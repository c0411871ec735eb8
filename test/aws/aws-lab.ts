// The AWS lab: real agents in the namespace lab with the EC2-compatible endpoint (`mccs ec2-sim`) in the
// client namespace, reached over link 0; groups g-oip, g-sip, g-eip. Used by test/aws/aws-failover.test.ts
// and scripts/bench/aws.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { AgentCluster, until, type AgentClusterOptions } from '../../scripts/lab/agent-cluster.js'
import { rpc } from '../../core/cli/control-client.js'
import { packageRoot } from '../../core/paths.js'
import { createRequire } from 'node:module'
import { seedForNodes, type Ec2State } from '../../core/ec2sim/server.js'
import type { SeedSpec } from '../../core/ec2sim/types.js'

const PORT = 4566
export const OIP = '192.168.77.7/32',
  SIP = '10.0.1.77',
  EIP = 'eipalloc-0demo1'
export const GROUPS = ['g-oip', 'g-sip', 'g-eip']

export function awsMain(
  nodes: string[],
  o: { groups?: string[]; policy?: Record<string, number>; group?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const per = (f: (n: string) => Record<string, unknown>) => Object.fromEntries(nodes.map((n) => [n, f(n)]))
  const group = (name: string) => ({ name, nodes, failoverOnFailure: true, autoStart: true, autoFailback: false, ...o.group })
  const policy = o.policy ?? {}
  const groups = o.groups ?? GROUPS
  return {
    generation: 1,
    types: {},
    groups: groups.map(group),
    resources: [
      {
        name: 'oip',
        type: 'aws-oip',
        group: 'g-oip',
        critical: true,
        monitored: true,
        policy,
        attrs: { ip: OIP, routeTables: ['rtb-0demo1', 'rtb-0demo2'] },
        nodeAttrs: per((n) => ({ eni: `eni-${n}` })),
      },
      {
        name: 'sip',
        type: 'aws-sip',
        group: 'g-sip',
        critical: true,
        monitored: true,
        policy,
        attrs: { ip: SIP },
        nodeAttrs: per((n) => ({ eni: `eni-${n}` })),
      },
      {
        name: 'eip',
        type: 'aws-eip',
        group: 'g-eip',
        critical: true,
        monitored: true,
        policy,
        attrs: { allocationId: EIP },
        nodeAttrs: per((n) => ({ eni: `eni-${n}` })),
      },
    ].filter((r) => groups.includes(r.group)),
    dependencies: [],
  }
}

export interface AwsLabOptions {
  latencyMs?: number
  throttlePercent?: number
  /** Only these groups (default all three). */
  groups?: string[]
  /** Policy of every resource (e.g. shorter monitor intervals for fault tests). */
  policy?: Record<string, number>
  /** Settings of every group over the defaults (failover on, autoStart on, no failback). */
  group?: Record<string, unknown>
  /** What the lab's fence kills: the whole node (default) or its services only (the agent lives on). */
  fence?: 'node' | 'services'
  /** Changes to the endpoint's seed before it starts (routes already in place, say). */
  seed?: (s: SeedSpec) => void
  /** Changes to hb.json (e.g. two-node quorum, so one node can take over from a silent peer). */
  hb?: AgentClusterOptions['hb']
}

/** The lab with the endpoint in the client namespace and agents configured for it (also used by the bench). */
export async function awsLab(prefix: string, o: AwsLabOptions = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mccs-awslab-'))
  const stateFile = path.join(dir, 'ec2.json')
  const seed = seedForNodes(['n1', 'n2'])
  o.seed?.(seed)
  writeFileSync(path.join(dir, 'seed.json'), JSON.stringify(seed))
  const endpoint = `http://10.80.0.250:${PORT}`
  const c = await AgentCluster.create({
    prefix,
    nodes: 2,
    ...(o.fence ? { fence: o.fence } : {}),
    ...(o.hb ? { hb: o.hb } : {}),
    main: (_lab, nodes) =>
      awsMain(nodes, {
        ...(o.groups ? { groups: o.groups } : {}),
        ...(o.policy ? { policy: o.policy } : {}),
        ...(o.group ? { group: o.group } : {}),
      }),
    files: () => ({
      'config/aws.json': JSON.stringify({ profile: 'mccs', region: 'us-east-1', endpoint }),
      'aws/credentials': '[mccs]\naws_access_key_id = test\naws_secret_access_key = test\n',
      'aws/config': '[profile mccs]\nregion = us-east-1\n',
    }),
    env: (_n, home) => ({
      AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'aws/credentials'),
      AWS_CONFIG_FILE: path.join(home, 'aws/config'),
    }),
  })
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  const sim = c.lab.spawn(
    'client',
    [
      process.execPath,
      '--no-node-snapshot',
      path.join(packageRoot(), 'dist/mccs.js'),
      'ec2-sim',
      '--listen',
      `10.80.0.250:${PORT}`,
      '--allow-remote',
      '--state',
      stateFile,
      '--seed',
      path.join(dir, 'seed.json'),
      '--latency-ms',
      String(o.latencyMs ?? 0),
      '--throttle-percent',
      String(o.throttlePercent ?? 0),
    ],
    { env, stdio: 'ignore' },
  )
  const state = () => JSON.parse(readFileSync(stateFile, 'utf8')) as Ec2State
  await until(
    async () => {
      try {
        return state().format === 'mccs-ec2sim/1'
      } catch {
        return false
      }
    },
    10_000,
    'the endpoint state file',
  )
  const destroy = async () => {
    sim.kill('SIGKILL')
    await c.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
  const where = () => {
    const s = state()
    const enis = s.instances.flatMap((i) => i.enis)
    return {
      oip: [
        ...new Set(
          s.routeTables
            .filter((r) => ['rtb-0demo1', 'rtb-0demo2'].includes(r.id))
            .map((r) => r.routes.find((x) => x.destinationCidrBlock === OIP)?.networkInterfaceId ?? 'none'),
        ),
      ].join(','),
      sip:
        enis
          .filter((e) => e.secondaryPrivateIps.includes(SIP))
          .map((e) => e.id)
          .join(',') || 'none',
      eip: s.addresses.find((a) => a.allocationId === EIP)?.networkInterfaceId ?? 'none',
    }
  }
  const sock = (n: string) => path.join(c.homes[n]!, 'state/mccs.sock')
  /** groupSwitch through n1's control socket (the coordinator), waiting until the group is online there. */
  const switchTo = async (group: string, to: string) => {
    const calls0 = state().calls
    const t0 = Date.now()
    const reply = await rpc<{ outcome: { status: string; reason?: string }; reached?: boolean }>(
      sock('n1'),
      'command',
      { cmd: { type: 'groupSwitch', user: 'test', group, to }, wait: true, timeoutMs: 60_000 },
      90_000,
    )
    const ms = Date.now() - t0
    const calls1 = state().calls
    const diff: Record<string, number> = {}
    for (const [k, v] of Object.entries(calls1)) if (v - (calls0[k] ?? 0) > 0) diff[k] = v - (calls0[k] ?? 0)
    return { reply, ms, calls: diff, total: Object.values(diff).reduce((a, b) => a + b, 0) }
  }
  /** A group command through n1's control socket (forwarded to the coordinator), waiting for its outcome. */
  const command = (cmd: Record<string, unknown>, via = 'n1') =>
    rpc<{ outcome: { status: string; reason?: string }; reached?: boolean }>(
      sock(via),
      'command',
      { cmd: { user: 'test', ...cmd }, wait: true, timeoutMs: 60_000 },
      90_000,
    )
  /** An EC2 call made by someone else (an operator, another tool) from the client namespace, through the SDK. */
  const ec2 = async (action: string, params: Record<string, unknown>): Promise<unknown> => {
    const sdk = createRequire(import.meta.url).resolve('@aws-sdk/client-ec2')
    const script =
      `const m=require(${JSON.stringify(sdk)});const c=new m.EC2Client({endpoint:${JSON.stringify(endpoint)},region:'us-east-1',credentials:{accessKeyId:'test',secretAccessKey:'test'},maxAttempts:1});` +
      `c.send(new m[${JSON.stringify(`${action}Command`)}](${JSON.stringify(params)})).then((r)=>{delete r.$metadata;process.stdout.write(JSON.stringify(r))},(e)=>{process.stderr.write(e.name+': '+e.message);process.exit(1)})`
    const r = await c.lab.exec('client', [process.execPath, '-e', script], { check: false, timeoutMs: 20_000 })
    if (r.code !== 0) throw new Error(`${action}: ${r.stderr.trim()}`)
    return JSON.parse(r.stdout || '{}')
  }
  return { c, state, where, switchTo, command, ec2, destroy, sock }
}
