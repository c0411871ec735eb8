// Every action the endpoint answers, by its EC2 name.
import type { ActionDef } from './context.js'
import { AssociateAddress, DescribeAddresses, DisassociateAddress } from './addresses.js'
import { AssignPrivateIpAddresses, DescribeNetworkInterfaces, ModifyNetworkInterfaceAttribute, UnassignPrivateIpAddresses } from './enis.js'
import { DescribeInstances, DescribeInstanceStatus, StartInstances, StopInstances } from './instances.js'
import { CreateRoute, DeleteRoute, DescribeRouteTables, ReplaceRoute } from './routes.js'
import { DescribeSubnets, DescribeVpcs } from './vpcs.js'

export const ACTIONS: Record<string, ActionDef | undefined> = {
  DescribeVpcs,
  DescribeSubnets,
  DescribeRouteTables,
  CreateRoute,
  ReplaceRoute,
  DeleteRoute,
  DescribeNetworkInterfaces,
  ModifyNetworkInterfaceAttribute,
  AssignPrivateIpAddresses,
  UnassignPrivateIpAddresses,
  DescribeAddresses,
  AssociateAddress,
  DisassociateAddress,
  DescribeInstances,
  DescribeInstanceStatus,
  StopInstances,
  StartInstances,
}

export type { ActionContext, ActionDef } from './context.js'
