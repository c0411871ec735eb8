// aws-sip: a secondary private IP that moves between the nodes' ENIs (all in one subnet).
//   online   DescribeNetworkInterfaces (fresh); AssignPrivateIpAddresses AllowReassignment unless already ours
//   offline  UnassignPrivateIpAddresses if this ENI has it
//   monitor  DescribeNetworkInterfaces (shared, cached on the node holding the IP): the IP on this ENI?
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
  inCidr,
  isIpv4,
  parseCidr,
  ipv4ToInt,
  checkNodeEnis,
  eniChoices,
  profileChoices,
  type HookContext,
  type Diagnostic,
  type Eni,
} from '@mccs/sdk'
import { permissionDiagnostics, ec2Fault, discoverCommon, discoverFault } from '@mccs/sdk/aws-answers'

interface Attrs {
  ip: string
  eni: string
  profile?: string
  region?: string
  [k: string]: unknown
}

/** Held by this node in this isolate's lifetime: its monitor may use the shared cache. */
const ownedHere = new Set<string>()

async function eniNow(ctx: HookContext<Attrs>, fresh: boolean): Promise<Eni | undefined> {
  const r = await ctx.aws.ec2.describe(
    'DescribeNetworkInterfaces',
    { NetworkInterfaceIds: [ctx.attrs.eni] },
    fresh ? { maxAgeMs: 0 } : undefined,
  )
  return (r.NetworkInterfaces as Eni[] | undefined)?.[0]
}
const has = (e: Eni | undefined, ip: string) => !!e?.PrivateIpAddresses?.some((p) => p.PrivateIpAddress === ip && !p.Primary)

const fault = ec2Fault

export default definePlugin<Attrs>({
  async validate(ctx, { perNode }) {
    const any = Object.values(perNode)[0]
    if (!any) return ok()
    const ip = String(any.ip ?? '')
    if (!isIpv4(ip)) return invalid([diag('/ip', 'must be an IPv4 address')])
    const diags: Diagnostic[] = []
    try {
      const { problems, enis } = await checkNodeEnis(ctx.aws.ec2, perNode)
      diags.push(...problems.map((p) => diag(p.path, p.summary, p.detail)))
      const subnetIds = [
        ...new Set(
          Object.values(enis)
            .map((e) => e.SubnetId)
            .filter((s): s is string => !!s),
        ),
      ]
      if (subnetIds.length) {
        const r = await ctx.aws.ec2.describe('DescribeSubnets', { SubnetIds: subnetIds })
        const cidr = new Map(
          ((r.Subnets ?? []) as Array<{ SubnetId: string; CidrBlock?: string }>).map((s) => [s.SubnetId, s.CidrBlock ?? '']),
        )
        for (const [node, e] of Object.entries(enis)) {
          const c = cidr.get(e.SubnetId ?? '') ?? ''
          if (!inCidr(ip, c))
            diags.push(
              diag(
                '/ip',
                `${ip} is outside subnet ${e.SubnetId} (${c}) of ${node}'s ENI ${e.NetworkInterfaceId}`,
                "a secondary private IP cannot leave its subnet: every node's ENI must be in a subnet that holds it",
              ),
            )
          else {
            // AWS keeps the first four addresses and the last one of every subnet.
            const p = parseCidr(c)!,
              n = ipv4ToInt(ip)
            if (n - p.base < 4 || n === p.base + p.size - 1) diags.push(diag('/ip', `${ip} is reserved by AWS in subnet ${c}`))
          }
          if (e.PrivateIpAddress === ip) diags.push(diag('/ip', `${ip} is the primary IP of ${node}'s ENI ${e.NetworkInterfaceId}`))
        }
      }
      const mine = perNode[ctx.node] ?? any
      const eni = String(mine.eni ?? '')
      diags.push(
        ...(await permissionDiagnostics(ctx, [
          { action: 'DescribeNetworkInterfaces', params: { NetworkInterfaceIds: [eni] } },
          { action: 'DescribeSubnets', params: {} },
          { action: 'AssignPrivateIpAddresses', params: { NetworkInterfaceId: eni, PrivateIpAddresses: [ip], AllowReassignment: true } },
          { action: 'UnassignPrivateIpAddresses', params: { NetworkInterfaceId: eni, PrivateIpAddresses: [ip] } },
        ])),
      )
    } catch (e) {
      diags.push(diag(`/nodes/${ctx.node}/profile`, `cannot check against EC2 from ${ctx.node}: ${errorText(e)}`))
    }
    return diags.some((d) => d.severity === 'error') ? invalid(diags) : ok(undefined, diags.length ? { diagnostics: diags } : {})
  },

  async discover(ctx, field, partial) {
    try {
      return await discoverCommon(ctx, field, partial)
    } catch (e) {
      return discoverFault(e)
    }
  },

  async online(ctx) {
    const { ip, eni } = ctx.attrs
    try {
      if (has(await eniNow(ctx, true), ip)) {
        ownedHere.add(ctx.resource)
        return ok(`${ip} already on ${eni}`)
      }
      await ctx.aws.ec2.call('AssignPrivateIpAddresses', { NetworkInterfaceId: eni, PrivateIpAddresses: [ip], AllowReassignment: true })
      ownedHere.add(ctx.resource)
      ctx.log.info(`${ip} assigned to ${eni}`)
      return ok(`${ip} assigned to ${eni}`, { data: { ip, eni } })
    } catch (e) {
      return fault(`assign ${ip} to ${eni}`, e)
    }
  },

  async offline(ctx) {
    const { ip, eni } = ctx.attrs
    ownedHere.delete(ctx.resource)
    try {
      if (!has(await eniNow(ctx, true), ip)) return ok(`${ip} is not on ${eni}`)
      await ctx.aws.ec2.call('UnassignPrivateIpAddresses', { NetworkInterfaceId: eni, PrivateIpAddresses: [ip] })
      return ok(`${ip} unassigned from ${eni}`)
    } catch (e) {
      // Moved away meanwhile: nothing of ours is left to take down.
      if (ec2ErrorCode(e) === 'InvalidParameterValue' && /not assigned|does not have/i.test(errorText(e)))
        return ok(`${ip} is not on ${eni}`)
      return fault(`unassign ${ip} from ${eni}`, e)
    }
  },

  async clean(ctx) {
    ownedHere.delete(ctx.resource)
    return ok()
  },

  async monitor(ctx) {
    const { ip, eni } = ctx.attrs
    try {
      const e = await eniNow(ctx, !ownedHere.has(ctx.resource))
      if (!e) return failed(`ENI ${eni} does not exist`, { recoverable: false })
      return has(e, ip) ? ok(`${ip} on ${eni}`) : notRunning(`${ip} is not assigned to ${eni}`)
    } catch (err) {
      if (cannotKnow(err)) return unknown(`cannot ask EC2 now: ${errorText(err)}`)
      return fault('DescribeNetworkInterfaces', err)
    }
  },
})
