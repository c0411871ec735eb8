// DescribeRouteTables, CreateRoute, ReplaceRoute, DeleteRoute.
import { Ec2Error, invalidValue, notFound } from '../errors.js'
import { applyFilters, selectByIds } from '../filters.js'
import type { Params } from '../query.js'
import { checkId } from '../query.js'
import { allEnis, findEni, findInstance } from '../state.js'
import type { Ec2State, RouteState, RouteTableState } from '../types.js'
import { tagSet } from '../xml.js'
import type { ActionDef } from './context.js'

function findTable(state: Ec2State, p: Params): RouteTableState {
  const id = p.id('RouteTableId', 'rtb', 'InvalidRouteTableID.Malformed', true)
  return (
    state.routeTables.find((t) => t.id === id) ??
    (() => {
      throw notFound('InvalidRouteTableID.NotFound', 'routeTable ID', id)
    })()
  )
}

/** A route's target from GatewayId | NetworkInterfaceId | InstanceId: exactly one, existing, in the table's VPC. */
function target(state: Ec2State, p: Params, table: RouteTableState): Omit<RouteState, 'destinationCidrBlock' | 'origin'> {
  const given = ['GatewayId', 'NetworkInterfaceId', 'InstanceId'].filter((k) => p.has(k))
  const unsupported = [
    'NatGatewayId',
    'TransitGatewayId',
    'VpcPeeringConnectionId',
    'EgressOnlyInternetGatewayId',
    'LocalGatewayId',
    'CarrierGatewayId',
    'VpcEndpointId',
    'CoreNetworkArn',
  ].filter((k) => p.has(k))
  if (unsupported.length) throw new Ec2Error('InvalidParameterValue', `This endpoint does not simulate ${unsupported.join(', ')} targets`)
  if (given.length === 0)
    throw new Ec2Error('MissingParameter', 'The request must contain exactly one of gatewayId, networkInterfaceId or instanceId')
  if (given.length > 1) throw new Ec2Error('InvalidParameterCombination', `Only one of ${given.join(', ')} may be given`)
  const vpcOf = (subnetId: string) => state.subnets.find((s) => s.id === subnetId)?.vpcId
  if (given[0] === 'GatewayId') {
    const g = p.req('GatewayId')
    if (g === 'local') throw invalidValue('GatewayId', g, 'The local route cannot be created or changed.')
    checkId(g, g.startsWith('vgw-') ? 'vgw' : 'igw', 'InvalidGatewayID.Malformed')
    return { gatewayId: g }
  }
  if (given[0] === 'NetworkInterfaceId') {
    const id = p.id('NetworkInterfaceId', 'eni', 'InvalidNetworkInterfaceID.Malformed', true)
    const { inst, eni } = findEni(state, id)
    if (vpcOf(eni.subnetId) !== table.vpcId)
      throw new Ec2Error('InvalidParameterValue', `Network interface ${id} and route table ${table.id} belong to different networks`)
    return { networkInterfaceId: eni.id, instanceId: inst.id }
  }
  const id = p.id('InstanceId', 'i', 'InvalidInstanceID.Malformed', true)
  const inst = findInstance(state, id)
  if (inst.enis.length > 1)
    throw new Ec2Error(
      'InvalidInstanceID',
      `There are multiple interfaces attached to instance '${id}'. Please specify an interface ID for the operation instead.`,
    )
  if (vpcOf(inst.subnetId) !== table.vpcId)
    throw new Ec2Error('InvalidParameterValue', `Instance ${id} and route table ${table.id} belong to different networks`)
  return { networkInterfaceId: inst.enis[0]!.id, instanceId: inst.id }
}

function localCidr(state: Ec2State, table: RouteTableState): string {
  return state.vpcs.find((v) => v.id === table.vpcId)!.cidr
}

function routeXml(state: Ec2State, r: RouteState) {
  const inst = r.instanceId ? state.instances.find((i) => i.id === r.instanceId) : undefined
  const eniGone = r.networkInterfaceId && !allEnis(state).some((x) => x.eni.id === r.networkInterfaceId)
  // EC2 shows a route to a stopped instance's ENI as a blackhole: traffic to it goes nowhere.
  const blackhole = eniGone || (inst !== undefined && inst.state !== 'running')
  return {
    destinationCidrBlock: r.destinationCidrBlock,
    gatewayId: r.gatewayId,
    instanceId: r.instanceId,
    instanceOwnerId: r.instanceId ? state.accountId : undefined,
    networkInterfaceId: r.networkInterfaceId,
    state: blackhole ? 'blackhole' : 'active',
    origin: r.origin,
  }
}

export const DescribeRouteTables: ActionDef = {
  mutating: false,
  run({ state, p }) {
    const ids = p.ids('RouteTableId', 'rtb', 'InvalidRouteTableID.Malformed')
    const tables = applyFilters(
      selectByIds(state.routeTables, ids, (t) => t.id, 'InvalidRouteTableID.NotFound', 'routeTable ID'),
      p.filters(),
      {
        'route-table-id': (t) => [t.id],
        'vpc-id': (t) => [t.vpcId],
        'owner-id': () => [state.accountId],
        'route.destination-cidr-block': (t) => t.routes.map((r) => r.destinationCidrBlock),
        'route.network-interface-id': (t) => t.routes.map((r) => r.networkInterfaceId),
        'route.instance-id': (t) => t.routes.map((r) => r.instanceId),
        'route.gateway-id': (t) => t.routes.map((r) => r.gatewayId),
        'route.origin': (t) => t.routes.map((r) => r.origin),
        'route.state': (t) => t.routes.map((r) => routeXml(state, r).state),
        'association.subnet-id': (t) => t.associations.map((a) => a.subnetId),
        'association.route-table-association-id': (t) => t.associations.map((a) => a.id),
        'association.main': (t) => [String(t.associations.some((a) => a.main))],
      },
      (t) => ({ Name: t.name }),
    )
    return {
      routeTableSet: tables.map((t) => ({
        routeTableId: t.id,
        vpcId: t.vpcId,
        ownerId: state.accountId,
        routeSet: t.routes.map((r) => routeXml(state, r)),
        associationSet: t.associations.map((a) => ({
          routeTableAssociationId: a.id,
          routeTableId: t.id,
          subnetId: a.subnetId,
          main: a.main,
          associationState: { state: 'associated' },
        })),
        propagatingVgwSet: [],
        tagSet: tagSet(t.name),
      })),
    }
  },
}

export const CreateRoute: ActionDef = {
  mutating: true,
  run({ state, p }) {
    const table = findTable(state, p)
    const dest = p.cidr('DestinationCidrBlock')
    const t = target(state, p, table)
    if (table.routes.some((r) => r.destinationCidrBlock === dest)) {
      throw new Ec2Error('RouteAlreadyExists', `The route identified by ${dest} already exists.`)
    }
    table.routes.push({ destinationCidrBlock: dest, ...t, origin: 'CreateRoute' })
    return { return: true }
  },
}

function existingRoute(state: Ec2State, p: Params, table: RouteTableState, verb: string): number {
  const dest = p.cidr('DestinationCidrBlock')
  if (dest === localCidr(state, table))
    throw invalidValue('DestinationCidrBlock', dest, `The local route of ${table.id} cannot be ${verb}.`)
  const i = table.routes.findIndex((r) => r.destinationCidrBlock === dest)
  if (i < 0) throw new Ec2Error('InvalidRoute.NotFound', `no route with destination-cidr-block ${dest} in route table ${table.id}`)
  return i
}

export const ReplaceRoute: ActionDef = {
  mutating: true,
  run({ state, p }) {
    const table = findTable(state, p)
    const i = existingRoute(state, p, table, 'replaced')
    const t = target(state, p, table)
    table.routes[i] = { destinationCidrBlock: table.routes[i]!.destinationCidrBlock, ...t, origin: 'CreateRoute' }
    return { return: true }
  },
}

export const DeleteRoute: ActionDef = {
  mutating: true,
  run({ state, p }) {
    const table = findTable(state, p)
    const i = existingRoute(state, p, table, 'deleted')
    table.routes.splice(i, 1)
    return { return: true }
  },
}
