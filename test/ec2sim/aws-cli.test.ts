// Acceptance 1 of issue 6: Debian's AWS CLI (/usr/bin/aws, a client nobody here wrote) against the endpoint.
// Exit codes and the CLI's parsed JSON output are asserted; the endpoint's state is checked after each change.
// Independent chains run side by side: each CLI start costs about a second of CPU (15 invocations).
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { sim, tempDir } from './helpers.js'

const AWS = '/usr/bin/aws'

interface Run {
  code: number
  out: string
  err: string
  json: any
}

t.test(
  'aws ec2 against the endpoint',
  { skip: fs.existsSync(AWS) ? false : `${AWS} is missing (scripts/test-deps.sh installs awscli)` },
  async (t) => {
    const s = await sim(t, { transitionMs: 200 })
    const home = tempDir(t)
    fs.writeFileSync(path.join(home, 'config'), '')
    fs.writeFileSync(path.join(home, 'credentials'), '')
    const env = {
      PATH: '/usr/bin:/bin',
      HOME: home,
      AWS_CONFIG_FILE: path.join(home, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    }
    const aws = (args: string[], extraEnv: Record<string, string> = {}): Promise<Run> =>
      new Promise((resolve) => {
        execFile(
          AWS,
          ['ec2', ...args, '--endpoint-url', s.url, '--output', 'json'],
          { env: { ...env, ...extraEnv }, timeout: 30_000 },
          (err, out, errOut) => {
            const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
            let json: unknown
            try {
              json = out.trim() ? JSON.parse(out) : undefined
            } catch {
              json = undefined
            }
            resolve({ code, out, err: errOut, json })
          },
        )
      })
    const table = (id: string) => s.state().routeTables.find((r) => r.id === id)!
    const eni = (id: string) =>
      s
        .state()
        .instances.flatMap((i) => i.enis)
        .find((e) => e.id === id)!

    const routes = async () => {
      const d = await aws(['describe-route-tables'])
      t.equal(d.code, 0, 'describe-route-tables exits 0')
      t.same(
        d.json.RouteTables.map((r: any) => [r.RouteTableId, r.Tags[0].Value, r.Routes[0].GatewayId]),
        [
          ['rtb-0demo1', 'main', 'local'],
          ['rtb-0demo2', 'private', 'local'],
        ],
      )
      const dry = await aws([
        'create-route',
        '--route-table-id',
        'rtb-0demo1',
        '--destination-cidr-block',
        '192.168.50.1/32',
        '--network-interface-id',
        'eni-0node1',
        '--dry-run',
      ])
      t.equal(dry.code, 254, '--dry-run is an error exit')
      t.match(dry.err, /\(DryRunOperation\) when calling the CreateRoute operation: Request would have succeeded/)
      t.equal(table('rtb-0demo1').routes.length, 1, 'the dry run changed nothing')
      const c = await aws([
        'create-route',
        '--route-table-id',
        'rtb-0demo1',
        '--destination-cidr-block',
        '192.168.50.1/32',
        '--network-interface-id',
        'eni-0node1',
      ])
      t.same([c.code, c.json], [0, { Return: true }])
      t.equal(table('rtb-0demo1').routes[1]?.networkInterfaceId, 'eni-0node1')
      const r = await aws([
        'replace-route',
        '--route-table-id',
        'rtb-0demo1',
        '--destination-cidr-block',
        '192.168.50.1/32',
        '--network-interface-id',
        'eni-0node2',
      ])
      t.equal(r.code, 0, 'replace-route exits 0')
      t.same(
        table('rtb-0demo1').routes.map((x) => x.networkInterfaceId ?? x.gatewayId),
        ['local', 'eni-0node2'],
      )
      const del = await aws(['delete-route', '--route-table-id', 'rtb-0demo1', '--destination-cidr-block', '192.168.50.1/32'])
      t.equal(del.code, 0, 'delete-route exits 0')
      t.equal(table('rtb-0demo1').routes.length, 1)
    }

    const ips = async () => {
      const a = await aws([
        'assign-private-ip-addresses',
        '--network-interface-id',
        'eni-0node1',
        '--private-ip-addresses',
        '10.0.1.77',
        '--allow-reassignment',
      ])
      t.same([a.code, a.json?.AssignedPrivateIpAddresses], [0, [{ PrivateIpAddress: '10.0.1.77' }]])
      const d = await aws(['describe-network-interfaces', '--filters', 'Name=addresses.private-ip-address,Values=10.0.1.77'])
      t.same(
        d.json.NetworkInterfaces.map((n: any) => [n.NetworkInterfaceId, n.PrivateIpAddresses.length]),
        [['eni-0node1', 2]],
      )
      const u = await aws(['unassign-private-ip-addresses', '--network-interface-id', 'eni-0node1', '--private-ip-addresses', '10.0.1.77'])
      t.equal(u.code, 0, 'unassign exits 0')
      t.same(eni('eni-0node1').secondaryPrivateIps, [])
    }

    const eips = async () => {
      const a = await aws(['associate-address', '--allocation-id', 'eipalloc-0demo1', '--network-interface-id', 'eni-0node2'])
      t.equal(a.code, 0, 'associate-address exits 0')
      t.match(a.json?.AssociationId, /^eipassoc-/)
      const d = await aws(['describe-addresses', '--allocation-ids', 'eipalloc-0demo1'])
      t.same(
        d.json.Addresses.map((x: any) => [x.PublicIp, x.NetworkInterfaceId, x.AssociationId]),
        [['203.0.113.10', 'eni-0node2', a.json?.AssociationId]],
      )
      const x = await aws(['disassociate-address', '--association-id', a.json?.AssociationId])
      t.equal(x.code, 0, 'disassociate-address exits 0')
      t.equal(s.state().addresses[0]!.associationId, undefined)
    }

    const instances = async () => {
      const stop = await aws(['stop-instances', '--instance-ids', 'i-0node2', '--force'])
      t.same([stop.code, stop.json?.StoppingInstances?.[0]?.CurrentState?.Name], [0, 'stopping'])
      await new Promise((r) => setTimeout(r, 300))
      t.equal(s.state().instances[1]!.state, 'stopped', 'stopping, then stopped')
      const start = await aws(['start-instances', '--instance-ids', 'i-0node2'])
      t.same([start.code, start.json?.StartingInstances?.[0]?.PreviousState?.Name], [0, 'stopped'])
      await new Promise((r) => setTimeout(r, 300))
      const d = await aws(['describe-instances', '--filters', 'Name=tag:Name,Values=node2'])
      t.same(
        d.json.Reservations.map((r: any) => [r.Instances[0].InstanceId, r.Instances[0].State.Name]),
        [['i-0node2', 'running']],
      )
    }

    const errors = async () => {
      const wrong = await aws(['describe-route-tables'], { AWS_SECRET_ACCESS_KEY: 'not-the-secret' })
      t.equal(wrong.code, 254, 'a wrong secret is refused')
      t.match(wrong.err, /\(SignatureDoesNotMatch\)/)
      const nf = await aws(['describe-route-tables', '--route-table-ids', 'rtb-0missing'])
      t.equal(nf.code, 254)
      t.match(
        nf.err,
        /An error occurred \(InvalidRouteTableID\.NotFound\) when calling the DescribeRouteTables operation: The routeTable ID 'rtb-0missing' does not exist/,
      )
    }

    await Promise.all([routes(), ips(), eips(), instances(), errors()])
    const calls = s.calls()
    t.same(
      [calls.CreateRoute, calls.ReplaceRoute, calls.DeleteRoute, calls.StopInstances, calls.StartInstances],
      [2, 1, 1, 1, 1],
      'every CLI call reached the endpoint',
    )
  },
)
