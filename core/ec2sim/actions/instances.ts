// DescribeInstances, DescribeInstanceStatus, StopInstances, StartInstances.
import { Ec2Error } from '../errors.js'
import { applyFilters, selectByIds } from '../filters.js'
import { STATE_CODES, subnetOf } from '../state.js'
import type { Ec2State, InstanceState } from '../types.js'
import { tagSet } from '../xml.js'
import type { Params } from '../query.js'
import type { ActionDef } from './context.js'
import { eniXml } from './enis.js'

const stateXml = (s: InstanceState['state']) => ({ code: STATE_CODES[s], name: s })

function select(state: Ec2State, p: Params, required: boolean): InstanceState[] {
  const ids = p.ids('InstanceId', 'i', 'InvalidInstanceID.Malformed')
  if (required && !ids.length) throw new Ec2Error('MissingParameter', 'The request must contain the parameter InstanceId')
  return selectByIds(state.instances, ids, (i) => i.id, 'InvalidInstanceID.NotFound', 'instance ID')
}

function filtered(state: Ec2State, p: Params, list: InstanceState[]): InstanceState[] {
  return applyFilters(
    list,
    p.filters(),
    {
      'instance-id': (i) => [i.id],
      'instance-state-name': (i) => [i.state],
      'instance-state-code': (i) => [String(STATE_CODES[i.state])],
      'subnet-id': (i) => [i.subnetId],
      'vpc-id': (i) => [subnetOf(state, i.subnetId).vpcId],
      'private-ip-address': (i) => [i.privateIp],
      'availability-zone': (i) => [subnetOf(state, i.subnetId).az],
      'reservation-id': (i) => [i.reservationId],
      'network-interface.network-interface-id': (i) => i.enis.map((e) => e.id),
      'network-interface.addresses.private-ip-address': (i) => i.enis.flatMap((e) => [e.privateIp, ...e.secondaryPrivateIps]),
    },
    (i) => ({ Name: i.name }),
  )
}

function instanceXml(state: Ec2State, i: InstanceState) {
  const sn = subnetOf(state, i.subnetId)
  const eip = state.addresses.find((a) => a.instanceId === i.id && a.privateIp === i.privateIp)
  return {
    instanceId: i.id,
    imageId: 'ami-0sim',
    instanceState: stateXml(i.state),
    privateDnsName: `ip-${i.privateIp.replace(/\./g, '-')}.ec2.internal`,
    dnsName: '',
    reason: i.state === 'stopped' ? 'User initiated' : '',
    amiLaunchIndex: 0,
    instanceType: 't3.micro',
    launchTime: i.launchTime,
    placement: { availabilityZone: sn.az, groupName: '', tenancy: 'default' },
    monitoring: { state: 'disabled' },
    subnetId: i.subnetId,
    vpcId: sn.vpcId,
    privateIpAddress: i.privateIp,
    ipAddress: eip?.publicIp,
    sourceDestCheck: i.enis[0]!.sourceDestCheck,
    groupSet: [{ groupId: 'sg-0sim', groupName: 'default' }],
    architecture: 'x86_64',
    rootDeviceType: 'ebs',
    rootDeviceName: '/dev/xvda',
    virtualizationType: 'hvm',
    tagSet: tagSet(i.name),
    networkInterfaceSet: i.enis.map((e) => {
      const x = eniXml(state, i, e)
      return {
        networkInterfaceId: x.networkInterfaceId,
        subnetId: x.subnetId,
        vpcId: x.vpcId,
        description: '',
        ownerId: x.ownerId,
        status: 'in-use',
        macAddress: x.macAddress,
        privateIpAddress: x.privateIpAddress,
        privateDnsName: x.privateDnsName,
        sourceDestCheck: x.sourceDestCheck,
        groupSet: x.groupSet,
        attachment: {
          attachmentId: e.attachmentId,
          deviceIndex: e.deviceIndex,
          status: 'attached',
          attachTime: i.launchTime,
          deleteOnTermination: e.deviceIndex === 0,
          networkCardIndex: 0,
        },
        association: x.association,
        privateIpAddressesSet: x.privateIpAddressesSet,
        ipv6AddressesSet: [],
        interfaceType: 'interface',
      }
    }),
  }
}

export const DescribeInstances: ActionDef = {
  mutating: false,
  run({ state, p }) {
    const list = filtered(state, p, select(state, p, false))
    return {
      reservationSet: list.map((i) => ({
        reservationId: i.reservationId,
        ownerId: state.accountId,
        groupSet: [],
        instancesSet: [instanceXml(state, i)],
      })),
    }
  },
}

export const DescribeInstanceStatus: ActionDef = {
  mutating: false,
  run({ state, p }) {
    const all = p.bool('IncludeAllInstances') ?? false
    const list = filtered(state, p, select(state, p, false)).filter((i) => all || i.state === 'running')
    const ok = (i: InstanceState) =>
      i.state === 'running'
        ? { status: 'ok', details: [{ name: 'reachability', status: 'passed' }] }
        : { status: 'not-applicable', details: [] }
    return {
      instanceStatusSet: list.map((i) => ({
        instanceId: i.id,
        availabilityZone: subnetOf(state, i.subnetId).az,
        instanceState: stateXml(i.state),
        systemStatus: ok(i),
        instanceStatus: ok(i),
      })),
    }
  },
}

export const StopInstances: ActionDef = {
  mutating: true,
  run({ state, p, now, transitionMs }) {
    p.bool('Force')
    p.bool('Hibernate')
    const list = select(state, p, true)
    const bad = list.find((i) => i.state === 'pending')
    if (bad) throw new Ec2Error('IncorrectInstanceState', `The instance '${bad.id}' is not in a state from which it can be stopped.`)
    return {
      instancesSet: list.map((i) => {
        const previous = i.state
        if (i.state === 'running') Object.assign(i, { state: 'stopping', transitionAt: now + transitionMs })
        return { instanceId: i.id, currentState: stateXml(i.state), previousState: stateXml(previous) }
      }),
    }
  },
}

export const StartInstances: ActionDef = {
  mutating: true,
  run({ state, p, now, transitionMs }) {
    const list = select(state, p, true)
    const bad = list.find((i) => i.state === 'stopping')
    if (bad) throw new Ec2Error('IncorrectInstanceState', `The instance '${bad.id}' is not in a state from which it can be started.`)
    return {
      instancesSet: list.map((i) => {
        const previous = i.state
        if (i.state === 'stopped') Object.assign(i, { state: 'pending', transitionAt: now + transitionMs })
        return { instanceId: i.id, currentState: stateXml(i.state), previousState: stateXml(previous) }
      }),
    }
  },
}
