// Test rig for the AWS types: the real EC2-compatible endpoint (core/ec2sim) on 127.0.0.1, a temp home with
// config/aws.json and a shared credentials file (profiles `mccs` = key test/test, `limited` = a key that may
// only describe), and the plugin loaded into the real sandbox with the real aws.ec2 provider.
import type { Test } from 'tap'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startEc2Sim, seedForNodes, type Ec2Sim } from '../../core/ec2sim/server.js'
import { awsEc2Provider, type AwsEc2Provider } from '../../core/plugins/caps/aws-ec2.js'
import { createTestHost, type TestHost } from '@mccs/plugin-kit/testing'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const pluginDir = (name: string) => path.join(root, 'plugins', name)

export const LIMITED_ALLOW = [
  'DescribeRouteTables',
  'DescribeNetworkInterfaces',
  'DescribeVpcs',
  'DescribeSubnets',
  'DescribeAddresses',
  'DescribeInstances',
]

/** One agent per node, as in a cluster: each node has its own host, provider and describe cache. */
export interface Rig {
  sim: Ec2Sim
  home: string
  provider: AwsEc2Provider
  host: TestHost
  nodes: string[]
  node(n: string): Promise<{ host: TestHost; provider: AwsEc2Provider }>
}

export async function rig(
  t: Test,
  plugin: string,
  o: { nodes?: string[]; throttlePercent?: number; latencyMs?: number; cacheTtlMs?: number; build?: boolean; transitionMs?: number } = {},
): Promise<Rig> {
  const nodes = o.nodes ?? ['n1', 'n2']
  const home = mkdtempSync(path.join(os.tmpdir(), 'mccs-aws-'))
  const seed = seedForNodes(nodes)
  seed.keys = [
    { accessKeyId: 'test', secretAccessKey: 'test', allow: ['*'] },
    { accessKeyId: 'limited', secretAccessKey: 'limited-secret', allow: LIMITED_ALLOW },
  ]
  const sim = await startEc2Sim({
    host: '127.0.0.1',
    port: 0,
    stateFile: path.join(home, 'ec2.json'),
    seed,
    throttlePercent: o.throttlePercent ?? 0,
    latencyMs: o.latencyMs ?? 0,
    transitionMs: o.transitionMs ?? 300,
  })
  mkdirSync(path.join(home, 'config'), { recursive: true })
  writeFileSync(
    path.join(home, 'config/aws.json'),
    JSON.stringify({
      profile: 'mccs',
      region: 'us-east-1',
      endpoint: sim.url,
      ...(o.cacheTtlMs !== undefined ? { cacheTtlMs: o.cacheTtlMs } : {}),
    }),
  )
  writeFileSync(
    path.join(home, 'credentials'),
    '[mccs]\naws_access_key_id = test\naws_secret_access_key = test\n\n[limited]\naws_access_key_id = limited\naws_secret_access_key = limited-secret\n',
  )
  writeFileSync(path.join(home, 'config.ini'), '[default]\nregion = us-east-1\n')
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(home, 'credentials')
  process.env.AWS_CONFIG_FILE = path.join(home, 'config.ini')
  const made = new Map<string, { host: TestHost; provider: AwsEc2Provider }>()
  const node = async (n: string) => {
    const have = made.get(n)
    if (have) return have
    const provider = awsEc2Provider({ settingsFile: path.join(home, 'config/aws.json') })
    const host = await createTestHost({
      pluginDir: pluginDir(plugin),
      build: made.size === 0 && (o.build ?? true),
      nodes,
      node: n,
      fakes: { providers: [provider] },
    })
    made.set(n, { host, provider })
    return { host, provider }
  }
  const { host, provider } = await node(nodes[0]!)
  t.teardown(async () => {
    for (const m of made.values()) m.host.dispose()
    await sim.close()
    rmSync(home, { recursive: true, force: true })
  })
  return { sim, home, provider, host, nodes, node }
}

/** The route of `cidr` in a table of the endpoint's state. */
export const routeIn = (sim: Ec2Sim, rtb: string, cidr: string) =>
  sim
    .state()
    .routeTables.find((r) => r.id === rtb)
    ?.routes.find((r) => r.destinationCidrBlock === cidr)

export const eniOf = (sim: Ec2Sim, eni: string) =>
  sim
    .state()
    .instances.flatMap((i) => i.enis)
    .find((e) => e.id === eni)
