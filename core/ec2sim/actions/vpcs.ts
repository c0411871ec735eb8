// DescribeVpcs, DescribeSubnets.
import { applyFilters, selectByIds } from '../filters.js'
import { parseCidr } from '../ip.js'
import { allEnis } from '../state.js'
import { tagSet } from '../xml.js'
import type { ActionDef } from './context.js'

const nameTags = (r: { name: string }) => ({ Name: r.name })

export const DescribeVpcs: ActionDef = {
  mutating: false,
  run({ state, p }) {
    const ids = p.ids('VpcId', 'vpc', 'InvalidVpcID.Malformed')
    const vpcs = applyFilters(
      selectByIds(state.vpcs, ids, (v) => v.id, 'InvalidVpcID.NotFound', 'vpc ID'),
      p.filters(),
      {
        'vpc-id': (v) => [v.id],
        cidr: (v) => [v.cidr],
        'cidr-block-association.cidr-block': (v) => [v.cidr],
        state: () => ['available'],
        'is-default': () => ['false'],
        'owner-id': () => [state.accountId],
      },
      nameTags,
    )
    return {
      vpcSet: vpcs.map((v) => ({
        vpcId: v.id,
        ownerId: state.accountId,
        state: 'available',
        cidrBlock: v.cidr,
        cidrBlockAssociationSet: [
          { cidrBlock: v.cidr, associationId: `vpc-cidr-assoc-${v.id.slice(4)}`, cidrBlockState: { state: 'associated' } },
        ],
        dhcpOptionsId: 'dopt-0sim',
        instanceTenancy: 'default',
        isDefault: false,
        tagSet: tagSet(v.name),
      })),
    }
  },
}

export const DescribeSubnets: ActionDef = {
  mutating: false,
  run({ state, p }) {
    const ids = p.ids('SubnetId', 'subnet', 'InvalidSubnetID.Malformed')
    const subnets = applyFilters(
      selectByIds(state.subnets, ids, (s) => s.id, 'InvalidSubnetID.NotFound', 'subnet ID'),
      p.filters(),
      {
        'subnet-id': (s) => [s.id],
        'vpc-id': (s) => [s.vpcId],
        'cidr-block': (s) => [s.cidr],
        cidr: (s) => [s.cidr],
        'availability-zone': (s) => [s.az],
        state: () => ['available'],
        'default-for-az': () => ['false'],
        'owner-id': () => [state.accountId],
      },
      nameTags,
    )
    const used = allEnis(state)
    return {
      subnetSet: subnets.map((s) => {
        const size = parseCidr(s.cidr)!.size
        const taken = used.filter((x) => x.eni.subnetId === s.id).reduce((n, x) => n + 1 + x.eni.secondaryPrivateIps.length, 0)
        return {
          subnetId: s.id,
          subnetArn: `arn:aws:ec2:${state.region}:${state.accountId}:subnet/${s.id}`,
          state: 'available',
          ownerId: state.accountId,
          vpcId: s.vpcId,
          cidrBlock: s.cidr,
          availableIpAddressCount: Math.max(0, size - 5 - taken),
          availabilityZone: s.az,
          availabilityZoneId: `use1-az${s.az.slice(-1).charCodeAt(0) - 96}`,
          defaultForAz: false,
          mapPublicIpOnLaunch: false,
          tagSet: tagSet(s.name),
        }
      }),
    }
  },
}
