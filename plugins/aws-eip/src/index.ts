// aws-eip: an Elastic IP associated with the active node's ENI.
//   online   DescribeAddresses (fresh); AssociateAddress AllowReassociation unless already ours
//   offline  DisassociateAddress when it is associated with this node's ENI
//   monitor  DescribeAddresses (shared, cached on the node holding it): associated with this ENI?
import {
  definePlugin,
  ok,
  notRunning,
  failed,
  unknown,
  invalid,
  diag,
  cannotKnow,
  ec2ErrorCode,
  errorText,
  isIpv4,
  nameTag,
  checkNodeEnis,
  eniChoices,
  profileChoices,
  type HookContext,
  type Diagnostic,
} from '@mccs/sdk'
import { permissionDiagnostics, ec2Fault, discoverCommon, discoverFault } from '@mccs/sdk/aws-answers'

interface Attrs {
  allocationId: string
  eni: string
  privateIp?: string
  profile?: string
  region?: string
  [k: string]: unknown
}
interface Address {
  AllocationId?: string
  PublicIp?: string
  AssociationId?: string
  NetworkInterfaceId?: string
  PrivateIpAddress?: string
  Tags?: Array<{ Key?: string; Value?: string }>
}

const ownedHere = new Set<string>()

async function address(ctx: HookContext<Attrs>, fresh: boolean): Promise<Address | undefined> {
  const r = await ctx.aws.ec2.describe(
    'DescribeAddresses',
    { AllocationIds: [ctx.attrs.allocationId] },
    fresh ? { maxAgeMs: 0 } : undefined,
  )
  return (r.Addresses as Address[] | undefined)?.[0]
}
const ours = (a: Address | undefined, at: Attrs) =>
  a?.NetworkInterfaceId === at.eni && (!at.privateIp || a.PrivateIpAddress === at.privateIp)

const fault = ec2Fault

export default definePlugin<Attrs>({
  async validate(ctx, { perNode }) {
    const any = Object.values(perNode)[0]
    if (!any) return ok()
    const alloc = String(any.allocationId ?? '')
    if (!/^eipalloc-[0-9a-zA-Z]+$/.test(alloc)) return invalid([diag('/allocationId', 'must be an allocation id like eipalloc-0123abcd')])
    const diags: Diagnostic[] = []
    try {
      const { problems, enis } = await checkNodeEnis(ctx.aws.ec2, perNode)
      diags.push(...problems.map((p) => diag(p.path, p.summary, p.detail)))
      try {
        const r = await ctx.aws.ec2.describe('DescribeAddresses', { AllocationIds: [alloc] })
        if (!(r.Addresses as Address[] | undefined)?.length) diags.push(diag('/allocationId', `Elastic IP ${alloc} does not exist`))
      } catch (e) {
        if (ec2ErrorCode(e)?.endsWith('NotFound'))
          diags.push(diag('/allocationId', `Elastic IP ${alloc} does not exist (${ec2ErrorCode(e)})`))
        else throw e
      }
      for (const [node, a] of Object.entries(perNode)) {
        if (a.privateIp === undefined) continue
        const e = enis[node]
        if (!isIpv4(a.privateIp)) diags.push(diag(`/nodes/${node}/privateIp`, 'must be an IPv4 address'))
        else if (e && !e.PrivateIpAddresses?.some((p) => p.PrivateIpAddress === a.privateIp))
          diags.push(diag(`/nodes/${node}/privateIp`, `${a.privateIp} is not an address of ${e.NetworkInterfaceId}`))
      }
      const mine = perNode[ctx.node] ?? any
      const eni = String(mine.eni ?? '')
      diags.push(
        ...(await permissionDiagnostics(ctx, [
          { action: 'DescribeAddresses', params: { AllocationIds: [alloc] } },
          { action: 'DescribeNetworkInterfaces', params: { NetworkInterfaceIds: [eni] } },
          { action: 'AssociateAddress', params: { AllocationId: alloc, NetworkInterfaceId: eni, AllowReassociation: true } },
          { action: 'DisassociateAddress', params: { AssociationId: 'eipassoc-00000000' } },
        ])),
      )
    } catch (e) {
      diags.push(diag(`/nodes/${ctx.node}/profile`, `cannot check against EC2 from ${ctx.node}: ${errorText(e)}`))
    }
    return diags.some((d) => d.severity === 'error') ? invalid(diags) : ok(undefined, diags.length ? { diagnostics: diags } : {})
  },

  async discover(ctx, field, partial) {
    try {
      if (field === 'allocationId') {
        const r = await ctx.aws.ec2.call('DescribeAddresses', {})
        return ok(undefined, {
          choices: ((r.Addresses ?? []) as Address[])
            .filter((a) => a.AllocationId)
            .map((a) => ({
              value: a.AllocationId!,
              label: [a.PublicIp, nameTag(a), a.NetworkInterfaceId ? `on ${a.NetworkInterfaceId}` : 'unassociated']
                .filter(Boolean)
                .join(' — '),
            })),
        })
      }
      return await discoverCommon(ctx, field, partial)
    } catch (e) {
      return discoverFault(e)
    }
  },

  async online(ctx) {
    const { allocationId, eni, privateIp } = ctx.attrs
    try {
      const a = await address(ctx, true)
      if (!a) return failed(`Elastic IP ${allocationId} does not exist`, { recoverable: false })
      if (ours(a, ctx.attrs)) {
        ownedHere.add(ctx.resource)
        return ok(`${a.PublicIp} already on ${eni}`)
      }
      await ctx.aws.ec2.call('AssociateAddress', {
        AllocationId: allocationId,
        NetworkInterfaceId: eni,
        AllowReassociation: true,
        ...(privateIp ? { PrivateIpAddress: privateIp } : {}),
      })
      ownedHere.add(ctx.resource)
      ctx.log.info(`${a.PublicIp} associated with ${eni}${a.NetworkInterfaceId ? ` (was on ${a.NetworkInterfaceId})` : ''}`)
      return ok(`${a.PublicIp} associated with ${eni}`, { data: { publicIp: a.PublicIp ?? null, eni } })
    } catch (e) {
      return fault(`associate ${allocationId} with ${eni}`, e)
    }
  },

  async offline(ctx) {
    const { allocationId, eni } = ctx.attrs
    ownedHere.delete(ctx.resource)
    try {
      const a = await address(ctx, true)
      if (!a?.AssociationId || a.NetworkInterfaceId !== eni) return ok(`${allocationId} is not associated with ${eni}`)
      await ctx.aws.ec2.call('DisassociateAddress', { AssociationId: a.AssociationId })
      return ok(`${a.PublicIp} disassociated from ${eni}`)
    } catch (e) {
      if (ec2ErrorCode(e) === 'InvalidAssociationID.NotFound') return ok(`${allocationId} is no longer associated`)
      return fault(`disassociate ${allocationId}`, e)
    }
  },

  async clean(ctx) {
    ownedHere.delete(ctx.resource)
    return ok()
  },

  async monitor(ctx) {
    try {
      const a = await address(ctx, !ownedHere.has(ctx.resource))
      if (!a) return failed(`Elastic IP ${ctx.attrs.allocationId} does not exist`, { recoverable: false })
      return ours(a, ctx.attrs)
        ? ok(`${a.PublicIp} on ${ctx.attrs.eni}`)
        : notRunning(`${a.PublicIp} is ${a.NetworkInterfaceId ? `on ${a.NetworkInterfaceId}` : 'not associated'}`)
    } catch (e) {
      if (cannotKnow(e)) return unknown(`cannot ask EC2 now: ${errorText(e)}`)
      return fault('DescribeAddresses', e)
    }
  },
})
