// DescribeNetworkInterfaces, ModifyNetworkInterfaceAttribute, AssignPrivateIpAddresses, UnassignPrivateIpAddresses.
import { Ec2Error, invalidValue } from '../errors.js'
import { applyFilters, selectByIds } from '../filters.js'
import { formatIp, inCidr, parseCidr, reservedInSubnet } from '../ip.js'
import { allEnis, findEni, subnetOf } from '../state.js'
import type { Ec2State, EniState, InstanceState } from '../types.js'
import { tagSet } from '../xml.js'
import type { ActionDef } from './context.js'

const MAX_SECONDARY = 49

function association(state: Ec2State, eniId: string, ip: string) {
  const a = state.addresses.find((x) => x.networkInterfaceId === eniId && x.privateIp === ip)
  return a
    ? { publicIp: a.publicIp, publicDnsName: '', ipOwnerId: 'amazon', allocationId: a.allocationId, associationId: a.associationId }
    : undefined
}

export function eniXml(state: Ec2State, inst: InstanceState, eni: EniState) {
  const sn = subnetOf(state, eni.subnetId)
  const ips = [eni.privateIp, ...eni.secondaryPrivateIps]
  const dns = (ip: string) => `ip-${ip.replace(/\./g, '-')}.ec2.internal`
  return {
    networkInterfaceId: eni.id,
    subnetId: eni.subnetId,
    vpcId: sn.vpcId,
    availabilityZone: sn.az,
    description: '',
    ownerId: state.accountId,
    requesterManaged: false,
    status: 'in-use',
    macAddress: eni.macAddress,
    privateIpAddress: eni.privateIp,
    privateDnsName: dns(eni.privateIp),
    sourceDestCheck: eni.sourceDestCheck,
    groupSet: [{ groupId: 'sg-0sim', groupName: 'default' }],
    attachment: {
      attachmentId: eni.attachmentId,
      instanceId: inst.id,
      instanceOwnerId: state.accountId,
      deviceIndex: eni.deviceIndex,
      status: 'attached',
      attachTime: inst.launchTime,
      deleteOnTermination: eni.deviceIndex === 0,
      networkCardIndex: 0,
    },
    association: association(state, eni.id, eni.privateIp),
    tagSet: tagSet(eni.name),
    privateIpAddressesSet: ips.map((ip, i) => ({
      privateIpAddress: ip,
      privateDnsName: dns(ip),
      primary: i === 0,
      association: association(state, eni.id, ip),
    })),
    ipv6AddressesSet: [],
    interfaceType: 'interface',
  }
}

export const DescribeNetworkInterfaces: ActionDef = {
  mutating: false,
  run({ state, p }) {
    const ids = p.ids('NetworkInterfaceId', 'eni', 'InvalidNetworkInterfaceID.Malformed')
    const all = selectByIds(allEnis(state), ids, (x) => x.eni.id, 'InvalidNetworkInterfaceID.NotFound', 'networkInterface ID')
    const vpc = (x: { eni: EniState }) => subnetOf(state, x.eni.subnetId).vpcId
    const ips = (x: { eni: EniState }) => [x.eni.privateIp, ...x.eni.secondaryPrivateIps]
    const assoc = (x: { eni: EniState }) => state.addresses.filter((a) => a.networkInterfaceId === x.eni.id)
    const list = applyFilters(
      all,
      p.filters(),
      {
        'network-interface-id': (x) => [x.eni.id],
        'attachment.instance-id': (x) => [x.inst.id],
        'attachment.attachment-id': (x) => [x.eni.attachmentId],
        'attachment.device-index': (x) => [String(x.eni.deviceIndex)],
        'attachment.status': () => ['attached'],
        'subnet-id': (x) => [x.eni.subnetId],
        'vpc-id': (x) => [vpc(x)],
        'availability-zone': (x) => [subnetOf(state, x.eni.subnetId).az],
        status: () => ['in-use'],
        'private-ip-address': (x) => [x.eni.privateIp],
        'addresses.private-ip-address': ips,
        'addresses.primary': () => ['true', 'false'],
        'mac-address': (x) => [x.eni.macAddress],
        'source-dest-check': (x) => [String(x.eni.sourceDestCheck)],
        'owner-id': () => [state.accountId],
        'association.public-ip': (x) => assoc(x).map((a) => a.publicIp),
        'association.allocation-id': (x) => assoc(x).map((a) => a.allocationId),
        'association.association-id': (x) => assoc(x).map((a) => a.associationId),
      },
      (x) => ({ Name: x.eni.name }),
    )
    return { networkInterfaceSet: list.map((x) => eniXml(state, x.inst, x.eni)) }
  },
}

export const ModifyNetworkInterfaceAttribute: ActionDef = {
  mutating: true,
  run({ state, p }) {
    const { eni } = findEni(state, p.id('NetworkInterfaceId', 'eni', 'InvalidNetworkInterfaceID.Malformed', true))
    const other = ['Description.Value', 'SecurityGroupId.1', 'Attachment.AttachmentId', 'EnaSrdSpecification.EnaSrdEnabled'].filter((k) =>
      p.has(k),
    )
    if (other.length)
      throw new Ec2Error('InvalidParameterValue', `This endpoint only simulates the SourceDestCheck attribute (got ${other.join(', ')})`)
    const v = p.bool('SourceDestCheck.Value')
    if (v === undefined) throw new Ec2Error('MissingParameter', 'The request must contain exactly one attribute: SourceDestCheck.Value')
    eni.sourceDestCheck = v
    return { return: true }
  },
}

export const AssignPrivateIpAddresses: ActionDef = {
  mutating: true,
  dryRun: false,
  run({ state, p }) {
    const { eni } = findEni(state, p.id('NetworkInterfaceId', 'eni', 'InvalidNetworkInterfaceID.Malformed', true))
    const sn = subnetOf(state, eni.subnetId)
    const cidr = parseCidr(sn.cidr)!
    const wanted = p.list('PrivateIpAddress')
    const count = p.int('SecondaryPrivateIpAddressCount', 1, MAX_SECONDARY)
    const reassign = p.bool('AllowReassignment') ?? false
    if (!wanted.length && count === undefined)
      throw new Ec2Error('MissingParameter', 'The request must contain the parameter PrivateIpAddress.N or SecondaryPrivateIpAddressCount')
    if (wanted.length && count !== undefined)
      throw new Ec2Error('InvalidParameterCombination', 'PrivateIpAddress.N and SecondaryPrivateIpAddressCount cannot both be given')
    const holders = allEnis(state)
    const holder = (ip: string) => holders.find((x) => x.eni.privateIp === ip || x.eni.secondaryPrivateIps.includes(ip))
    let ips: string[]
    if (wanted.length) {
      ips = [...new Set(wanted)]
      ips.forEach((ip, i) => {
        const n = p.ip(`PrivateIpAddress.${i + 1}`, ip)
        if (!inCidr(n, cidr))
          throw invalidValue('PrivateIpAddress', ip, `Address does not fall within the subnet's address range (${sn.cidr}).`)
        if (reservedInSubnet(n, cidr)) throw invalidValue('PrivateIpAddress', ip, "Address is in subnet's reserved address range.")
        const h = holder(ip)
        if (!h || (h.eni.id === eni.id && h.eni.privateIp !== ip)) return
        if (h.eni.privateIp === ip)
          throw new Ec2Error('InvalidIPAddress.InUse', `Address ${ip} is the primary private IP of ${h.eni.id} and cannot be reassigned`)
        if (!reassign)
          throw new Ec2Error('InvalidIPAddress.InUse', `Address ${ip} is in use by ${h.eni.id}; set AllowReassignment to move it`)
      })
    } else {
      ips = []
      for (let n = cidr.base + 4; n < cidr.base + cidr.size - 1 && ips.length < count!; n++) if (!holder(formatIp(n))) ips.push(formatIp(n))
      if (ips.length < count!)
        throw new Ec2Error('InsufficientFreeAddressesInSubnet', `Subnet ${sn.id} has only ${ips.length} free addresses`)
    }
    const fresh = ips.filter((ip) => !eni.secondaryPrivateIps.includes(ip))
    if (eni.secondaryPrivateIps.length + fresh.length > MAX_SECONDARY) {
      throw new Ec2Error('PrivateIpAddressLimitExceeded', `Number of private addresses on ${eni.id} would exceed ${MAX_SECONDARY + 1}`)
    }
    for (const ip of fresh) {
      const h = holder(ip)
      if (h) {
        // Moving a secondary IP takes its Elastic IP association along, as EC2 does.
        h.eni.secondaryPrivateIps = h.eni.secondaryPrivateIps.filter((x) => x !== ip)
        for (const a of state.addresses)
          if (a.networkInterfaceId === h.eni.id && a.privateIp === ip)
            Object.assign(a, { networkInterfaceId: eni.id, instanceId: holders.find((x) => x.eni.id === eni.id)!.inst.id })
      }
      eni.secondaryPrivateIps.push(ip)
    }
    return { return: true, networkInterfaceId: eni.id, assignedPrivateIpAddressesSet: ips.map((ip) => ({ privateIpAddress: ip })) }
  },
}

export const UnassignPrivateIpAddresses: ActionDef = {
  mutating: true,
  dryRun: false,
  run({ state, p }) {
    const { eni } = findEni(state, p.id('NetworkInterfaceId', 'eni', 'InvalidNetworkInterfaceID.Malformed', true))
    const ips = p.list('PrivateIpAddress')
    if (!ips.length) throw new Ec2Error('MissingParameter', 'The request must contain the parameter PrivateIpAddress.N')
    ips.forEach((ip, i) => {
      p.ip(`PrivateIpAddress.${i + 1}`, ip)
      if (ip === eni.privateIp) throw invalidValue('PrivateIpAddress', ip, 'The primary private IP address cannot be unassigned.')
      if (!eni.secondaryPrivateIps.includes(ip))
        throw new Ec2Error('InvalidParameterValue', `Some of the specified addresses are not assigned to interface ${eni.id}`)
    })
    eni.secondaryPrivateIps = eni.secondaryPrivateIps.filter((x) => !ips.includes(x))
    for (const a of state.addresses) {
      if (a.networkInterfaceId === eni.id && a.privateIp && ips.includes(a.privateIp)) {
        delete a.associationId
        delete a.networkInterfaceId
        delete a.instanceId
        delete a.privateIp
      }
    }
    return { return: true }
  },
}
