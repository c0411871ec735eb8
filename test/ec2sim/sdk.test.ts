// The JS SDK (@aws-sdk/client-ec2) against the endpoint: every action, EC2 error codes as SDK exceptions,
// throttling, latency, per-key allow lists, persistence across restarts, malformed requests changing nothing.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import {
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  CreateRouteCommand,
  DeleteRouteCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeInstanceStatusCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DisassociateAddressCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceRouteCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  UnassignPrivateIpAddressesCommand,
} from '@aws-sdk/client-ec2'
import { seedForNodes } from '../../core/ec2sim/server.js'
import { SignatureV4 } from '@smithy/signature-v4'
import { NodeSha256 } from '../../core/ec2sim/sigv4.js'
import { client, errorCode, failure, rawCall, sim, tempDir } from './helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('describe calls and their filters', async (t) => {
  const s = await sim(t)
  const ec2 = client(s.url)
  const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'cidr', Values: ['10.0.0.0/16'] }] }))
  t.same(
    vpcs.Vpcs?.map((v) => [v.VpcId, v.CidrBlock]),
    [['vpc-0demo', '10.0.0.0/16']],
  )
  const subnets = await ec2.send(
    new DescribeSubnetsCommand({
      Filters: [
        { Name: 'vpc-id', Values: ['vpc-0demo'] },
        { Name: 'availability-zone', Values: ['us-east-1b'] },
      ],
    }),
  )
  t.same(
    subnets.Subnets?.map((x) => [x.SubnetId, x.CidrBlock]),
    [['subnet-0demo2', '10.0.2.0/24']],
  )

  const all = await ec2.send(new DescribeRouteTablesCommand({}))
  t.same(
    all.RouteTables?.map((r) => [r.RouteTableId, r.Tags?.find((x) => x.Key === 'Name')?.Value]),
    [
      ['rtb-0demo1', 'main'],
      ['rtb-0demo2', 'private'],
    ],
  )
  t.same(all.RouteTables?.[0]?.Routes, [
    { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', Origin: 'CreateRouteTable', State: 'active' },
  ])
  const byName = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'tag:Name', Values: ['priv*'] }] }))
  t.same(
    byName.RouteTables?.map((r) => r.RouteTableId),
    ['rtb-0demo2'],
  )
  const byIds = await ec2.send(
    new DescribeRouteTablesCommand({ RouteTableIds: ['rtb-0demo2', 'rtb-0demo1'], Filters: [{ Name: 'vpc-id', Values: ['vpc-0demo'] }] }),
  )
  t.equal(byIds.RouteTables?.length, 2)
  t.equal(
    (await failure(ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: ['rtb-0demo1', 'rtb-0gone'] })))).name,
    'InvalidRouteTableID.NotFound',
  )
  t.equal(
    (await failure(ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: ['subnet-0demo1'] })))).name,
    'InvalidRouteTableID.Malformed',
  )
  t.equal(
    (await failure(ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] })))).name,
    'InvalidParameterValue',
  )

  const enis = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: ['i-0node2'] }] }))
  t.same(
    enis.NetworkInterfaces?.map((e) => [e.NetworkInterfaceId, e.PrivateIpAddress, e.Attachment?.InstanceId, e.SourceDestCheck]),
    [['eni-0node2', '10.0.1.11', 'i-0node2', true]],
  )
  const bySubnet = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: ['subnet-0demo1'] }] }))
  t.same(
    bySubnet.NetworkInterfaces?.map((e) => e.NetworkInterfaceId),
    ['eni-0node1', 'eni-0node2'],
  )
  t.equal(
    (await failure(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-0zzz'] })))).name,
    'InvalidNetworkInterfaceID.NotFound',
  )

  const inst = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: 'tag:Name', Values: ['node1'] },
        { Name: 'instance-state-name', Values: ['running'] },
      ],
    }),
  )
  t.same(
    inst.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => [
      i.InstanceId,
      i.State?.Name,
      i.PrivateIpAddress,
      i.NetworkInterfaces?.[0]?.NetworkInterfaceId,
    ]),
    [['i-0node1', 'running', '10.0.1.10', 'eni-0node1']],
  )
  t.match(inst.Reservations?.[0]?.ReservationId, /^r-[0-9a-f]{17}$/)
  t.equal((await failure(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0nothere'] })))).name, 'InvalidInstanceID.NotFound')

  const eips = await ec2.send(new DescribeAddressesCommand({ Filters: [{ Name: 'public-ip', Values: ['203.0.113.11'] }] }))
  t.same(
    eips.Addresses?.map((a) => [a.AllocationId, a.PublicIp, a.Domain, a.AssociationId]),
    [['eipalloc-0demo2', '203.0.113.11', 'vpc', undefined]],
  )
  t.equal(
    (await failure(ec2.send(new DescribeAddressesCommand({ AllocationIds: ['eipalloc-0nope'] })))).name,
    'InvalidAllocationID.NotFound',
  )
})

t.test('routes: create, replace, delete, with EC2 errors', async (t) => {
  const s = await sim(t)
  const ec2 = client(s.url)
  await ec2.send(
    new CreateRouteCommand({ RouteTableId: 'rtb-0demo1', DestinationCidrBlock: '192.168.10.1/32', NetworkInterfaceId: 'eni-0node1' }),
  )
  const routes = () =>
    s
      .state()
      .routeTables.find((r) => r.id === 'rtb-0demo1')!
      .routes.filter((r) => r.origin === 'CreateRoute')
  t.same(
    routes().map((r) => [r.destinationCidrBlock, r.networkInterfaceId, r.instanceId]),
    [['192.168.10.1/32', 'eni-0node1', 'i-0node1']],
  )
  t.equal(
    (
      await failure(
        ec2.send(
          new CreateRouteCommand({ RouteTableId: 'rtb-0demo1', DestinationCidrBlock: '192.168.10.1/32', NetworkInterfaceId: 'eni-0node2' }),
        ),
      )
    ).name,
    'RouteAlreadyExists',
  )
  t.equal(
    (
      await failure(
        ec2.send(
          new CreateRouteCommand({ RouteTableId: 'rtb-0nope', DestinationCidrBlock: '192.168.10.2/32', NetworkInterfaceId: 'eni-0node2' }),
        ),
      )
    ).name,
    'InvalidRouteTableID.NotFound',
  )
  t.equal(
    (
      await failure(
        ec2.send(
          new CreateRouteCommand({ RouteTableId: 'rtb-0demo1', DestinationCidrBlock: '192.168.10.2/32', NetworkInterfaceId: 'eni-0nope' }),
        ),
      )
    ).name,
    'InvalidNetworkInterfaceID.NotFound',
  )
  t.equal(
    (await failure(ec2.send(new CreateRouteCommand({ RouteTableId: 'rtb-0demo1', DestinationCidrBlock: '192.168.10.2/32' })))).name,
    'MissingParameter',
  )
  t.equal(
    (
      await failure(
        ec2.send(
          new CreateRouteCommand({
            RouteTableId: 'rtb-0demo1',
            DestinationCidrBlock: '192.168.10.2/32',
            NetworkInterfaceId: 'eni-0node1',
            InstanceId: 'i-0node1',
          }),
        ),
      )
    ).name,
    'InvalidParameterCombination',
  )

  // The rest of the table query filters, on a table that now has a route to an ENI.
  const f = await ec2.send(
    new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.destination-cidr-block', Values: ['192.168.10.1/32'] }] }),
  )
  t.same(
    f.RouteTables?.map((r) => r.RouteTableId),
    ['rtb-0demo1'],
  )
  t.same(f.RouteTables?.[0]?.Routes?.[1], {
    DestinationCidrBlock: '192.168.10.1/32',
    InstanceId: 'i-0node1',
    InstanceOwnerId: '123456789012',
    NetworkInterfaceId: 'eni-0node1',
    Origin: 'CreateRoute',
    State: 'active',
  })
  const byId = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route-table-id', Values: ['rtb-0demo2'] }] }))
  t.same(
    byId.RouteTables?.map((r) => r.RouteTableId),
    ['rtb-0demo2'],
  )

  await ec2.send(
    new ReplaceRouteCommand({ RouteTableId: 'rtb-0demo1', DestinationCidrBlock: '192.168.10.1/32', NetworkInterfaceId: 'eni-0node2' }),
  )
  t.same(
    routes().map((r) => [r.destinationCidrBlock, r.networkInterfaceId, r.instanceId]),
    [['192.168.10.1/32', 'eni-0node2', 'i-0node2']],
  )
  t.equal(
    (
      await failure(
        ec2.send(
          new ReplaceRouteCommand({
            RouteTableId: 'rtb-0demo1',
            DestinationCidrBlock: '192.168.99.0/24',
            NetworkInterfaceId: 'eni-0node2',
          }),
        ),
      )
    ).name,
    'InvalidRoute.NotFound',
  )
  t.equal(
    (
      await failure(
        ec2.send(
          new ReplaceRouteCommand({ RouteTableId: 'rtb-0demo1', DestinationCidrBlock: '10.0.0.0/16', NetworkInterfaceId: 'eni-0node2' }),
        ),
      )
    ).name,
    'InvalidParameterValue',
    'the local route stays',
  )

  await ec2.send(new DeleteRouteCommand({ RouteTableId: 'rtb-0demo1', DestinationCidrBlock: '192.168.10.1/32' }))
  t.same(routes(), [])
  t.equal(
    (await failure(ec2.send(new DeleteRouteCommand({ RouteTableId: 'rtb-0demo1', DestinationCidrBlock: '192.168.10.1/32' })))).name,
    'InvalidRoute.NotFound',
  )
  t.equal(s.calls().CreateRoute, 6, 'failed calls are counted too')
})

t.test('ENIs: source/dest check, secondary IPs moved only with AllowReassignment', async (t) => {
  const s = await sim(t, { seed: seedForNodes(['n1', 'n2']) })
  const ec2 = client(s.url)
  const eni = (id: string) =>
    s
      .state()
      .instances.flatMap((i) => i.enis)
      .find((e) => e.id === id)!
  await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: 'eni-n1', SourceDestCheck: { Value: false } }))
  t.equal(eni('eni-n1').sourceDestCheck, false)
  t.equal((await failure(ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: 'eni-n1' })))).name, 'MissingParameter')

  const a = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-n1', PrivateIpAddresses: ['10.0.1.100'] }))
  t.same(
    a.AssignedPrivateIpAddresses?.map((x) => x.PrivateIpAddress),
    ['10.0.1.100'],
  )
  t.same(eni('eni-n1').secondaryPrivateIps, ['10.0.1.100'])
  const moved = await failure(
    ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-n2', PrivateIpAddresses: ['10.0.1.100'] })),
  )
  t.equal(moved.name, 'InvalidIPAddress.InUse')
  t.same(eni('eni-n1').secondaryPrivateIps, ['10.0.1.100'], 'still on n1')
  await ec2.send(
    new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-n2', PrivateIpAddresses: ['10.0.1.100'], AllowReassignment: true }),
  )
  t.same([eni('eni-n1').secondaryPrivateIps, eni('eni-n2').secondaryPrivateIps], [[], ['10.0.1.100']])
  const found = await ec2.send(
    new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'addresses.private-ip-address', Values: ['10.0.1.100'] }] }),
  )
  t.same(
    found.NetworkInterfaces?.map((e) => [e.NetworkInterfaceId, e.PrivateIpAddresses?.map((p) => [p.PrivateIpAddress, p.Primary])]),
    [
      [
        'eni-n2',
        [
          ['10.0.1.11', true],
          ['10.0.1.100', false],
        ],
      ],
    ],
  )

  t.equal(
    (await failure(ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-n1', PrivateIpAddresses: ['10.0.2.5'] })))).name,
    'InvalidParameterValue',
    'outside the subnet',
  )
  t.equal(
    (await failure(ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-n1', PrivateIpAddresses: ['10.0.1.2'] })))).name,
    'InvalidParameterValue',
    'reserved address',
  )
  t.equal(
    (
      await failure(
        ec2.send(
          new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-n1', PrivateIpAddresses: ['10.0.1.11'], AllowReassignment: true }),
        ),
      )
    ).name,
    'InvalidIPAddress.InUse',
    'a primary IP never moves',
  )
  t.equal(
    (await failure(ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-n1', PrivateIpAddresses: ['10.0.1.300'] }))))
      .name,
    'InvalidParameterValue',
  )
  const counted = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-n1', SecondaryPrivateIpAddressCount: 2 }))
  t.same(
    counted.AssignedPrivateIpAddresses?.map((x) => x.PrivateIpAddress),
    ['10.0.1.4', '10.0.1.5'],
    'the first free usable addresses',
  )

  await ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-n2', PrivateIpAddresses: ['10.0.1.100'] }))
  t.same(eni('eni-n2').secondaryPrivateIps, [])
  t.equal(
    (await failure(ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-n2', PrivateIpAddresses: ['10.0.1.100'] }))))
      .name,
    'InvalidParameterValue',
  )

  // The EC2 API reference lists no DryRun for these two (the SDK does not even send it): a raw request that
  // carries one is refused as an unknown parameter, never answered DryRunOperation, and assigns nothing.
  for (const body of [
    'Action=AssignPrivateIpAddresses&Version=2016-11-15&NetworkInterfaceId=eni-n1&PrivateIpAddress.1=10.0.1.120&DryRun=true',
    'Action=UnassignPrivateIpAddresses&Version=2016-11-15&NetworkInterfaceId=eni-n1&PrivateIpAddress.1=10.0.1.4&DryRun=true',
  ]) {
    const r = await rawCall(s.url, body)
    t.same([r.status, errorCode(r.text)], [400, 'UnknownParameter'], body.split('&')[0]!)
    t.match(r.text, /DryRun/, 'the message names the parameter')
  }
  t.same(eni('eni-n1').secondaryPrivateIps, ['10.0.1.4', '10.0.1.5'], 'nothing assigned or unassigned')
})

t.test('Elastic IPs: associate moves an associated address unless AllowReassociation=false, disassociate by id or IP', async (t) => {
  const s = await sim(t)
  const ec2 = client(s.url)
  const eip = () => s.state().addresses.find((a) => a.allocationId === 'eipalloc-0demo1')!
  const r = await ec2.send(new AssociateAddressCommand({ AllocationId: 'eipalloc-0demo1', NetworkInterfaceId: 'eni-0node1' }))
  t.match(r.AssociationId, /^eipassoc-[0-9a-f]{17}$/)
  t.same(
    [eip().networkInterfaceId, eip().instanceId, eip().privateIp, eip().associationId],
    ['eni-0node1', 'i-0node1', '10.0.1.10', r.AssociationId],
  )
  // EC2 API reference: in a VPC "reassociation is automatic, but you can specify false to ensure the operation
  // fails if the Elastic IP address is already associated with another resource".
  const refused = await failure(
    ec2.send(new AssociateAddressCommand({ AllocationId: 'eipalloc-0demo1', NetworkInterfaceId: 'eni-0node2', AllowReassociation: false })),
  )
  t.same([refused.name, refused.status], ['Resource.AlreadyAssociated', 400], 'AllowReassociation=false refuses')
  t.same([eip().networkInterfaceId, eip().associationId], ['eni-0node1', r.AssociationId], 'and changes nothing')
  const again = await ec2.send(
    new AssociateAddressCommand({ AllocationId: 'eipalloc-0demo1', NetworkInterfaceId: 'eni-0node1', AllowReassociation: false }),
  )
  t.equal(eip().networkInterfaceId, 'eni-0node1', 'the same target is not "another resource"')
  const moved = await ec2.send(new AssociateAddressCommand({ AllocationId: 'eipalloc-0demo1', NetworkInterfaceId: 'eni-0node2' }))
  t.same(
    [eip().networkInterfaceId, eip().associationId],
    ['eni-0node2', moved.AssociationId],
    'without AllowReassociation the address moves (the default)',
  )
  t.not(moved.AssociationId, again.AssociationId)
  const back = await ec2.send(
    new AssociateAddressCommand({ AllocationId: 'eipalloc-0demo1', NetworkInterfaceId: 'eni-0node1', AllowReassociation: true }),
  )
  t.equal(eip().networkInterfaceId, 'eni-0node1', 'AllowReassociation=true moves it too')
  await ec2.send(new DisassociateAddressCommand({ AssociationId: back.AssociationId }))
  t.equal(eip().associationId, undefined)
  const r2 = await ec2.send(
    new AssociateAddressCommand({ AllocationId: 'eipalloc-0demo1', NetworkInterfaceId: 'eni-0node2', AllowReassociation: true }),
  )
  t.same([eip().networkInterfaceId, eip().associationId], ['eni-0node2', r2.AssociationId])
  const d = await ec2.send(new DescribeAddressesCommand({ AllocationIds: ['eipalloc-0demo1'] }))
  t.same(
    d.Addresses?.map((a) => [a.NetworkInterfaceId, a.InstanceId, a.PrivateIpAddress, a.AssociationId]),
    [['eni-0node2', 'i-0node2', '10.0.1.11', r2.AssociationId]],
  )
  const viaEni = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-0node2'] }))
  t.equal(viaEni.NetworkInterfaces?.[0]?.Association?.PublicIp, '203.0.113.10')
  t.equal(
    (await failure(ec2.send(new AssociateAddressCommand({ AllocationId: 'eipalloc-0nope', NetworkInterfaceId: 'eni-0node2' })))).name,
    'InvalidAllocationID.NotFound',
  )
  t.equal(
    (await failure(ec2.send(new DisassociateAddressCommand({ AssociationId: r.AssociationId })))).name,
    'InvalidAssociationID.NotFound',
    'the first association is gone',
  )
  await ec2.send(new DisassociateAddressCommand({ AssociationId: r2.AssociationId }))
  t.equal(eip().associationId, undefined)
  await ec2.send(new AssociateAddressCommand({ AllocationId: 'eipalloc-0demo1', InstanceId: 'i-0node1' }))
  t.equal(eip().networkInterfaceId, 'eni-0node1', 'InstanceId means its primary ENI')
  await ec2.send(new DisassociateAddressCommand({ PublicIp: '203.0.113.10' }))
  t.equal(eip().associationId, undefined)
})

t.test('instances: stop goes stopping then stopped; start; status', async (t) => {
  const s = await sim(t, { transitionMs: 300 })
  const ec2 = client(s.url)
  await ec2.send(new CreateRouteCommand({ RouteTableId: 'rtb-0demo1', DestinationCidrBlock: '192.168.0.9/32', InstanceId: 'i-0node2' }))
  const stop = await ec2.send(new StopInstancesCommand({ InstanceIds: ['i-0node2'], Force: true }))
  t.same(
    stop.StoppingInstances?.map((i) => [i.InstanceId, i.PreviousState?.Name, i.CurrentState?.Name, i.CurrentState?.Code]),
    [['i-0node2', 'running', 'stopping', 64]],
  )
  const state = async () =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0node2'] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name
  t.equal(await state(), 'stopping')
  await sleep(400)
  t.equal(await state(), 'stopped')
  t.equal(JSON.parse(fs.readFileSync(s.stateFile, 'utf8')).instances[1].state, 'stopped', 'the state file follows')
  const rt = await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: ['rtb-0demo1'] }))
  t.equal(rt.RouteTables?.[0]?.Routes?.[1]?.State, 'blackhole', 'a route to a stopped instance is a blackhole')
  const st = await ec2.send(new DescribeInstanceStatusCommand({}))
  t.same(
    st.InstanceStatuses?.map((x) => x.InstanceId),
    ['i-0node1'],
    'only running instances by default',
  )
  const stAll = await ec2.send(new DescribeInstanceStatusCommand({ IncludeAllInstances: true, InstanceIds: ['i-0node2'] }))
  t.same(
    stAll.InstanceStatuses?.map((x) => x.InstanceState?.Name),
    ['stopped'],
  )
  const filt = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['stopped'] }] }))
  t.same(
    filt.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId),
    ['i-0node2'],
  )
  const start = await ec2.send(new StartInstancesCommand({ InstanceIds: ['i-0node2'] }))
  t.same(
    start.StartingInstances?.map((i) => [i.PreviousState?.Name, i.CurrentState?.Name]),
    [['stopped', 'pending']],
  )
  await sleep(400)
  t.equal(await state(), 'running')
  t.equal((await failure(ec2.send(new StopInstancesCommand({ InstanceIds: ['i-0node1', 'i-0ghost'] })))).name, 'InvalidInstanceID.NotFound')
  t.equal(s.state().instances[0]!.state, 'running', 'a failed stop stops nothing')
})

t.test('throttling, latency, signatures, clock skew', async (t) => {
  const s = await sim(t)
  const ec2 = client(s.url)
  s.setFaults({ throttlePercent: 100 })
  const th = await failure(ec2.send(new DescribeVpcsCommand({})))
  t.same([th.name, th.status], ['RequestLimitExceeded', 503])
  s.setFaults({ throttlePercent: 0, latencyMs: 250 })
  let t0 = Date.now()
  await ec2.send(new DescribeVpcsCommand({}))
  const slow = Date.now() - t0
  s.setFaults({ latencyMs: 0 })
  t0 = Date.now()
  await ec2.send(new DescribeVpcsCommand({}))
  const fast = Date.now() - t0
  t.ok(slow >= 250 && fast < 200, `250 ms latency measured: ${slow} ms with, ${fast} ms without`)
  t.equal(s.calls().DescribeVpcs, 3)
  t.throws(() => s.setFaults({ throttlePercent: 101 }), { code: 'MCCS_ERR_INVALID', field: 'throttlePercent' })

  const bad = await failure(client(s.url, { accessKeyId: 'test', secretAccessKey: 'wrong' }).send(new DescribeVpcsCommand({})))
  t.same([bad.name, bad.status], ['SignatureDoesNotMatch', 403])
  const unknown = await failure(client(s.url, { accessKeyId: 'nobody', secretAccessKey: 'test' }).send(new DescribeVpcsCommand({})))
  t.same([unknown.name, unknown.status], ['AuthFailure', 401])
  const skewed = await failure(client(s.url, undefined, { systemClockOffset: -20 * 60_000 }).send(new DescribeVpcsCommand({})))
  t.equal(skewed.name, 'RequestExpired')
  const unsigned = await fetch(s.url + '/?Action=DescribeVpcs&Version=2016-11-15')
  t.same([unsigned.status, errorCode(await unsigned.text())], [401, 'MissingAuthenticationToken'])
  s.resetCalls()
  t.same(s.calls(), {})
})

t.test('per-key allow lists, DryRun', async (t) => {
  const s = await sim(t, {
    keys: [
      { accessKeyId: 'test', secretAccessKey: 'test' },
      { accessKeyId: 'ro', secretAccessKey: 'ro-secret', allow: ['DescribeRouteTables', 'ec2:DescribeNetworkInterfaces'] },
    ],
  })
  const ro = client(s.url, { accessKeyId: 'ro', secretAccessKey: 'ro-secret' })
  t.equal((await ro.send(new DescribeRouteTablesCommand({}))).RouteTables?.length, 2)
  t.equal((await ro.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces?.length, 2)
  const denied = await failure(
    ro.send(
      new CreateRouteCommand({ RouteTableId: 'rtb-0demo1', DestinationCidrBlock: '192.168.1.1/32', NetworkInterfaceId: 'eni-0node1' }),
    ),
  )
  t.same([denied.name, denied.status], ['UnauthorizedOperation', 403])
  t.match(denied.message, /ec2:CreateRoute/, 'the refused action is named')
  const dryDenied = await failure(
    ro.send(
      new ReplaceRouteCommand({
        RouteTableId: 'rtb-0demo1',
        DestinationCidrBlock: '192.168.1.1/32',
        NetworkInterfaceId: 'eni-0node1',
        DryRun: true,
      }),
    ),
  )
  t.equal(dryDenied.name, 'UnauthorizedOperation')
  const rw = client(s.url)
  const dry = await failure(
    rw.send(
      new CreateRouteCommand({
        RouteTableId: 'rtb-0demo1',
        DestinationCidrBlock: '192.168.1.1/32',
        NetworkInterfaceId: 'eni-0node1',
        DryRun: true,
      }),
    ),
  )
  t.same([dry.name, dry.status], ['DryRunOperation', 412])
  t.equal((await failure(rw.send(new StopInstancesCommand({ InstanceIds: ['i-0node1'], DryRun: true })))).name, 'DryRunOperation')
  t.equal(s.state().routeTables[0]!.routes.length, 1, 'DryRun changed nothing')
  t.equal(s.state().instances[0]!.state, 'running')
  t.equal((await failure(ro.send(new DescribeVpcsCommand({ DryRun: true })))).name, 'UnauthorizedOperation')
})

t.test('state survives a restart with the same state file', async (t) => {
  const dir = tempDir(t)
  const stateFile = path.join(dir, 'state.json')
  const first = await sim(t, { stateFile })
  const ec2 = client(first.url)
  await ec2.send(
    new CreateRouteCommand({ RouteTableId: 'rtb-0demo2', DestinationCidrBlock: '172.16.0.1/32', NetworkInterfaceId: 'eni-0node2' }),
  )
  const assoc = await ec2.send(new AssociateAddressCommand({ AllocationId: 'eipalloc-0demo2', NetworkInterfaceId: 'eni-0node1' }))
  await first.close()
  // A different seed: ignored, because the state file exists.
  const second = await sim(t, { stateFile, seed: seedForNodes(['x1']) })
  const ec2b = client(second.url)
  const rt = await ec2b.send(
    new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.destination-cidr-block', Values: ['172.16.0.1/32'] }] }),
  )
  t.same(
    rt.RouteTables?.map((r) => r.RouteTableId),
    ['rtb-0demo2'],
  )
  const a = await ec2b.send(new DescribeAddressesCommand({ AllocationIds: ['eipalloc-0demo2'] }))
  t.equal(a.Addresses?.[0]?.AssociationId, assoc.AssociationId)
  t.same(
    second.calls(),
    { CreateRoute: 1, AssociateAddress: 1, DescribeRouteTables: 1, DescribeAddresses: 1 },
    'call counts carry over too',
  )
})

t.test('malformed requests get the EC2 error and change nothing', async (t) => {
  const s = await sim(t)
  const ec2 = client(s.url)
  const before = JSON.stringify({ ...s.state(), calls: {} })
  const unchanged = () => t.equal(JSON.stringify({ ...s.state(), calls: {} }), before, 'state unchanged')
  t.equal(
    (
      await failure(
        ec2.send(
          new CreateRouteCommand({
            RouteTableId: 'rtb-0demo1',
            DestinationCidrBlock: '192.168.1.300/32',
            NetworkInterfaceId: 'eni-0node1',
          }),
        ),
      )
    ).name,
    'InvalidParameterValue',
  )
  t.equal(
    (
      await failure(
        ec2.send(
          new CreateRouteCommand({ RouteTableId: 'rtb-0demo1', DestinationCidrBlock: '192.168.1.1/24', NetworkInterfaceId: 'eni-0node1' }),
        ),
      )
    ).name,
    'InvalidParameterValue',
    'not a network address',
  )
  unchanged()
  const cases: Array<[string, string | Buffer, string, number, string?]> = [
    [
      'missing parameter',
      'Action=CreateRoute&Version=2016-11-15&DestinationCidrBlock=192.168.1.1%2F32&NetworkInterfaceId=eni-0node1',
      'MissingParameter',
      400,
    ],
    ['unknown action', 'Action=LaunchMissiles&Version=2016-11-15', 'InvalidAction', 400],
    ['no action', 'Version=2016-11-15&RouteTableId=rtb-0demo1', 'MissingAction', 400],
    ['garbage body', Buffer.from([0xff, 0x00, 0x3d, 0x26, 0x26, 0x3d, 0x9c, 0x25, 0x32]), 'MissingAction', 400],
    [
      'bad boolean',
      'Action=AssociateAddress&Version=2016-11-15&AllocationId=eipalloc-0demo1&NetworkInterfaceId=eni-0node1&AllowReassociation=maybe',
      'InvalidParameterValue',
      400,
    ],
    ['JSON body', '{"Action":"DescribeVpcs"}', 'InvalidRequest', 400, 'application/json'],
  ]
  for (const [what, body, code, status, ct] of cases) {
    const r = await rawCall(s.url, body, ct ? { contentType: ct } : {})
    t.same([r.status, errorCode(r.text)], [status, code], what)
    t.match(
      r.text,
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>[^<]+<\/Code><Message>[^<]+<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/,
      `${what}: EC2's error document`,
    )
  }
  unchanged()
  const ok = await rawCall(s.url, 'Action=DescribeVpcs&Version=2016-11-15')
  t.match(
    ok.text,
    /<DescribeVpcsResponse xmlns="http:\/\/ec2.amazonaws.com\/doc\/2016-11-15\/"><requestId>[0-9a-f-]{36}<\/requestId><vpcSet><item><vpcId>vpc-0demo<\/vpcId>/,
  )
  const tampered = await rawCall(s.url, 'Action=DescribeVpcs&Version=2016-11-15', { secret: 'other' })
  t.same([tampered.status, errorCode(tampered.text)], [403, 'SignatureDoesNotMatch'])
})

t.test('GET requests: signed headers and presigned URLs', async (t) => {
  const s = await sim(t)
  const u = new URL(s.url)
  const signer = new SignatureV4({
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    region: 'eu-north-1',
    service: 'ec2',
    sha256: NodeSha256,
  })
  const req = {
    method: 'GET',
    protocol: 'http:',
    hostname: u.hostname,
    port: Number(u.port),
    path: '/',
    headers: { host: u.host },
    query: { Action: 'DescribeRouteTables', Version: '2016-11-15', 'Filter.1.Name': 'tag:Name', 'Filter.1.Value.1': 'private' },
  }
  const qs = (q: Record<string, unknown> | undefined) => new URLSearchParams((q ?? {}) as Record<string, string>).toString()
  const signed = await signer.sign(req)
  const r1 = await fetch(`${s.url}/?${qs(signed.query)}`, { headers: signed.headers })
  t.equal(r1.status, 200)
  t.match(await r1.text(), /<routeTableId>rtb-0demo2<\/routeTableId>/)
  const pre = await signer.presign(req, { expiresIn: 60 })
  const r2 = await fetch(`${s.url}/?${qs(pre.query)}`)
  t.equal(r2.status, 200, 'presigned URL accepted')
  const tampered = { ...pre.query, 'Filter.1.Value.1': 'main' }
  const r3 = await fetch(`${s.url}/?${qs(tampered)}`)
  t.same([r3.status, errorCode(await r3.text())], [403, 'SignatureDoesNotMatch'], 'a changed parameter breaks the signature')
  const old = await signer.presign(req, { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) })
  const r4 = await fetch(`${s.url}/?${qs(old.query)}`)
  t.same([r4.status, errorCode(await r4.text())], [400, 'RequestExpired'])
})
