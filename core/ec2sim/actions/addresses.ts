// DescribeAddresses, AssociateAddress, DisassociateAddress (VPC Elastic IPs).
import { Ec2Error, invalidValue, notFound } from '../errors.js'
import { applyFilters, selectByIds } from '../filters.js'
import { parseIp } from '../ip.js'
import type { Params } from '../query.js'
import { findEni, findInstance, newId } from '../state.js'
import type { AddressState, Ec2State } from '../types.js'
import { tagSet } from '../xml.js'
import type { ActionDef } from './context.js'

const clear = (a: AddressState) => {
  delete a.associationId
  delete a.networkInterfaceId
  delete a.instanceId
  delete a.privateIp
}

function byPublicIp(state: Ec2State, p: Params, name: string): AddressState {
  const ip = p.req(name)
  if (parseIp(ip) === null) throw invalidValue(name, ip, 'This is not a valid IPv4 address.')
  return (
    state.addresses.find((a) => a.publicIp === ip) ??
    (() => {
      throw new Ec2Error('InvalidAddress.NotFound', `Address '${ip}' not found.`)
    })()
  )
}

export const DescribeAddresses: ActionDef = {
  mutating: false,
  run({ state, p }) {
    let list = selectByIds(
      state.addresses,
      p.ids('AllocationId', 'eipalloc', 'InvalidAllocationID.Malformed'),
      (a) => a.allocationId,
      'InvalidAllocationID.NotFound',
      'allocation ID',
    )
    const ips = p.list('PublicIp')
    ips.forEach((ip, i) => {
      if (parseIp(ip) === null) throw invalidValue(`PublicIp.${i + 1}`, ip, 'This is not a valid IPv4 address.')
    })
    const unknown = ips.filter((ip) => !state.addresses.some((a) => a.publicIp === ip))
    if (unknown.length) throw new Ec2Error('InvalidAddress.NotFound', `Address '${unknown.join(', ')}' not found.`)
    if (ips.length) list = list.filter((a) => ips.includes(a.publicIp))
    list = applyFilters(
      list,
      p.filters(),
      {
        'allocation-id': (a) => [a.allocationId],
        'public-ip': (a) => [a.publicIp],
        'association-id': (a) => [a.associationId],
        'network-interface-id': (a) => [a.networkInterfaceId],
        'instance-id': (a) => [a.instanceId],
        'private-ip-address': (a) => [a.privateIp],
        domain: () => ['vpc'],
        'network-interface-owner-id': (a) => [a.networkInterfaceId ? state.accountId : undefined],
        'network-border-group': () => [state.region],
      },
      (a) => ({ Name: a.name }),
    )
    return {
      addressesSet: list.map((a) => ({
        publicIp: a.publicIp,
        allocationId: a.allocationId,
        domain: 'vpc',
        instanceId: a.instanceId,
        associationId: a.associationId,
        networkInterfaceId: a.networkInterfaceId,
        networkInterfaceOwnerId: a.networkInterfaceId ? state.accountId : undefined,
        privateIpAddress: a.privateIp,
        tagSet: tagSet(a.name),
        publicIpv4Pool: 'amazon',
        networkBorderGroup: state.region,
      })),
    }
  },
}

export const AssociateAddress: ActionDef = {
  mutating: true,
  run({ state, p }) {
    const allocId = p.id('AllocationId', 'eipalloc', 'InvalidAllocationID.Malformed')
    let addr: AddressState
    if (allocId !== undefined) {
      addr =
        state.addresses.find((a) => a.allocationId === allocId) ??
        (() => {
          throw notFound('InvalidAllocationID.NotFound', 'allocation ID', allocId)
        })()
    } else if (p.has('PublicIp')) {
      addr = byPublicIp(state, p, 'PublicIp')
    } else {
      throw new Ec2Error('MissingParameter', 'The request must contain the parameter AllocationId')
    }
    const eniId = p.id('NetworkInterfaceId', 'eni', 'InvalidNetworkInterfaceID.Malformed')
    const instId = p.id('InstanceId', 'i', 'InvalidInstanceID.Malformed')
    if (eniId === undefined && instId === undefined)
      throw new Ec2Error('MissingParameter', 'The request must contain the parameter InstanceId or NetworkInterfaceId')
    if (eniId !== undefined && instId !== undefined)
      throw new Ec2Error('InvalidParameterCombination', 'InstanceId and NetworkInterfaceId cannot both be given')
    const { inst, eni } =
      eniId !== undefined
        ? findEni(state, eniId)
        : (() => {
            const i = findInstance(state, instId!)
            return { inst: i, eni: i.enis[0]! }
          })()
    const privateIp = p.str('PrivateIpAddress') ?? eni.privateIp
    if (parseIp(privateIp) === null) throw invalidValue('PrivateIpAddress', privateIp, 'This is not a valid IPv4 address.')
    if (privateIp !== eni.privateIp && !eni.secondaryPrivateIps.includes(privateIp)) {
      throw invalidValue('PrivateIpAddress', privateIp, `The address is not assigned to ${eni.id}.`)
    }
    // In a VPC reassociation is automatic (EC2 API reference); AllowReassociation=false makes the call fail
    // when the address is associated with another resource. The target's own Elastic IP, if it has one, is
    // disassociated either way ("the existing address is disassociated ... but remains allocated").
    const reassoc = p.bool('AllowReassociation') ?? true
    const elsewhere = addr.associationId !== undefined && (addr.networkInterfaceId !== eni.id || addr.privateIp !== privateIp)
    if (!reassoc && elsewhere) {
      throw new Ec2Error(
        'Resource.AlreadyAssociated',
        `resource ${addr.allocationId} is already associated with associate-id ${addr.associationId}`,
      )
    }
    const occupant = state.addresses.find((a) => a !== addr && a.networkInterfaceId === eni.id && a.privateIp === privateIp)
    if (occupant) clear(occupant)
    Object.assign(addr, { associationId: newId('eipassoc'), networkInterfaceId: eni.id, instanceId: inst.id, privateIp })
    return { return: true, associationId: addr.associationId }
  },
}

export const DisassociateAddress: ActionDef = {
  mutating: true,
  run({ state, p }) {
    const assocId = p.id('AssociationId', 'eipassoc', 'InvalidAssociationID.Malformed')
    if (assocId !== undefined) {
      const a = state.addresses.find((x) => x.associationId === assocId)
      if (!a) throw notFound('InvalidAssociationID.NotFound', 'association ID', assocId)
      clear(a)
    } else if (p.has('PublicIp')) {
      clear(byPublicIp(state, p, 'PublicIp'))
    } else {
      throw new Ec2Error('MissingParameter', 'The request must contain the parameter AssociationId')
    }
    return { return: true }
  },
}
