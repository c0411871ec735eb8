// Shapes of the simulated VPC: the seed an operator or a test writes, and the state the endpoint keeps
// (the seed plus what EC2 calls change: routes, secondary IPs, associations, instance states, call counts).

export interface SimKey {
  accessKeyId: string
  secretAccessKey: string
  allow?: string[]
}

export interface SeedRoute {
  destinationCidrBlock: string
  gatewayId?: string
  networkInterfaceId?: string
  instanceId?: string
}
export interface SeedSpec {
  region: string
  keys: SimKey[]
  vpcs: Array<{ id: string; cidr: string; name: string }>
  subnets: Array<{ id: string; vpcId: string; cidr: string; az: string; name: string }>
  /** main: the VPC's main table (default: the VPC's first table); subnetIds: explicit subnet associations. */
  routeTables: Array<{ id: string; vpcId: string; name: string; main?: boolean; subnetIds?: string[]; routes: SeedRoute[] }>
  instances: Array<{
    id: string
    name: string
    subnetId: string
    privateIp: string
    enis: Array<{ id: string; name: string; subnetId: string; privateIp: string; sourceDestCheck?: boolean }>
  }>
  addresses: Array<{ allocationId: string; publicIp: string; name: string }>
}

export type InstanceStateName = 'pending' | 'running' | 'stopping' | 'stopped'

export interface EniState {
  id: string
  name: string
  subnetId: string
  privateIp: string
  sourceDestCheck: boolean
  /** Secondary private IPs, in assignment order. */
  secondaryPrivateIps: string[]
  attachmentId: string
  deviceIndex: number
  macAddress: string
}

export interface InstanceState {
  id: string
  name: string
  subnetId: string
  privateIp: string
  reservationId: string
  launchTime: string
  state: InstanceStateName
  /** Epoch ms at which a transitional state (pending, stopping) ends. */
  transitionAt?: number
  enis: EniState[]
}

export interface RouteState {
  destinationCidrBlock: string
  gatewayId?: string
  networkInterfaceId?: string
  instanceId?: string
  origin: 'CreateRouteTable' | 'CreateRoute'
}

export interface RouteTableState {
  id: string
  vpcId: string
  name: string
  associations: Array<{ id: string; main: boolean; subnetId?: string }>
  routes: RouteState[]
}

export interface AddressState {
  allocationId: string
  publicIp: string
  name: string
  associationId?: string
  networkInterfaceId?: string
  instanceId?: string
  privateIp?: string
}

export interface Ec2State {
  format: 'mccs-ec2sim/1'
  region: string
  accountId: string
  keys: SimKey[]
  vpcs: SeedSpec['vpcs']
  subnets: SeedSpec['subnets']
  routeTables: RouteTableState[]
  instances: InstanceState[]
  addresses: AddressState[]
  /** Calls per EC2 action (throttled and failed ones included) since start or the last reset. */
  calls: Record<string, number>
}
