// aws-oip: an Overlay IP. A /32 route for an address outside the VPC's CIDRs, in one or more route tables,
// pointing at the active node's ENI. Clients in the VPC reach the address through the route; the node
// answers for it (its ENI's source/destination check is off, so EC2 delivers packets not addressed to it).
//   online   ModifyNetworkInterfaceAttribute (only if the check is on), DescribeRouteTables, then per table
//            ReplaceRoute (CreateRoute when absent) where the route does not already target this ENI
//   offline  overlay: nothing (the next node replaces the route); create: DeleteRoute where it targets us
//   monitor  DescribeRouteTables (shared, cached): every table must target this ENI. It only observes:
//            drift is answered notRunning (naming where each route points) and the engine decides — a
//            miss, a fault, then its restart in place or failover, each an action of the quorate cluster.
//            A monitor that wrote could pull the route back from the node that took the group while this
//            one was paused. Taken offline here (the overlay route stays by design), the answer is
//            notRunning whatever the route says, so an offline group is never adopted back from its own
//            leftover route. Throttled/unreachable EC2 gives unknown, never notRunning.
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
  nameTag,
  checkNodeEnis,
  eniChoices,
  profileChoices,
  type HookContext,
  type Diagnostic,
} from '@mccs/sdk'
import { permissionDiagnostics, ec2Fault, discoverCommon, discoverFault } from '@mccs/sdk/aws-answers'

interface Attrs {
  ip: string
  routeTables: string[]
  routingControl?: 'overlay' | 'create'
  eni: string
  profile?: string
  region?: string
  [k: string]: unknown
}
interface Route {
  DestinationCidrBlock?: string
  NetworkInterfaceId?: string
  InstanceId?: string
  GatewayId?: string
  State?: string
}
interface RouteTable {
  RouteTableId: string
  VpcId?: string
  Routes?: Route[]
  Tags?: Array<{ Key?: string; Value?: string }>
}

const dest = (ip: string) => (ip.endsWith('/32') ? ip : `${ip}/32`)
const bareIp = (ip: string) => ip.replace(/\/32$/, '')
/** The resource's state (ctx.state, kept across agent restarts): `online` {eni, at} while this node holds
 *  it, `offline` {at} once it was taken offline (or cleaned) here — the overlay route may still target us. */
const ONLINE = 'online',
  OFFLINE = 'offline'
/** The drift last logged per resource (this isolate's lifetime), so a lasting drift is logged once. */
const driftLogged = new Map<string, string>()

async function tables(ctx: HookContext<Attrs>, fresh: boolean): Promise<RouteTable[]> {
  const ids = ctx.attrs.routeTables
  const r = await ctx.aws.ec2.describe('DescribeRouteTables', { RouteTableIds: ids }, fresh ? { maxAgeMs: 0 } : undefined)
  return (r.RouteTables ?? []) as RouteTable[]
}

const routeOf = (t: RouteTable, d: string) => t.Routes?.find((r) => r.DestinationCidrBlock === d)

/** Points every table's route at this ENI; returns what was changed. */
async function pointRoutes(ctx: HookContext<Attrs>, found: RouteTable[]): Promise<string[]> {
  const d = dest(ctx.attrs.ip),
    eni = ctx.attrs.eni
  const changed: string[] = []
  const byId = new Map(found.map((t) => [t.RouteTableId, t]))
  for (const id of ctx.attrs.routeTables) {
    const t = byId.get(id)
    if (!t)
      throw Object.assign(new Error(`route table ${id} does not exist`), {
        code: 'MCCS_ERR_AWS_API',
        field: 'InvalidRouteTableID.NotFound',
      })
    const r = routeOf(t, d)
    if (r?.NetworkInterfaceId === eni && r.State !== 'blackhole') continue
    const params = { RouteTableId: id, DestinationCidrBlock: d, NetworkInterfaceId: eni }
    if (r) await ctx.aws.ec2.call('ReplaceRoute', params)
    else {
      try {
        await ctx.aws.ec2.call('CreateRoute', params)
      } catch (e) {
        // Another writer created it meanwhile: take it over.
        if (ec2ErrorCode(e) !== 'RouteAlreadyExists') throw e
        await ctx.aws.ec2.call('ReplaceRoute', params)
      }
    }
    changed.push(`${id}: ${r ? `${r.NetworkInterfaceId ?? r.InstanceId ?? r.GatewayId ?? 'blackhole'} -> ` : 'created -> '}${eni}`)
  }
  return changed
}

const fault = ec2Fault

export default definePlugin<Attrs>({
  async validate(ctx, { perNode }) {
    const diags: Diagnostic[] = []
    const any = Object.values(perNode)[0]
    if (!any) return ok()
    const ip = bareIp(String(any.ip ?? ''))
    if (!isIpv4(ip)) return invalid([diag('/ip', 'must be an IPv4 address (a.b.c.d or a.b.c.d/32)')])
    const tablesWanted = Array.isArray(any.routeTables) ? any.routeTables.map(String) : []
    if (!tablesWanted.length) return invalid([diag('/routeTables', 'choose at least one route table')])
    try {
      const { problems, enis } = await checkNodeEnis(ctx.aws.ec2, perNode)
      diags.push(...problems.map((p) => diag(p.path, p.summary, p.detail)))
      const vpcIds = [
        ...new Set(
          Object.values(enis)
            .map((e) => e.VpcId)
            .filter((v): v is string => !!v),
        ),
      ]
      if (vpcIds.length > 1)
        diags.push(diag('/nodes', `the nodes' ENIs are in different VPCs (${vpcIds.join(', ')})`, 'an overlay IP routes inside one VPC'))
      if (vpcIds.length) {
        const r = await ctx.aws.ec2.describe('DescribeVpcs', { VpcIds: vpcIds })
        for (const v of (r.Vpcs ?? []) as Array<{
          VpcId: string
          CidrBlock?: string
          CidrBlockAssociationSet?: Array<{ CidrBlock?: string }>
        }>) {
          const cidrs = new Set([v.CidrBlock, ...(v.CidrBlockAssociationSet ?? []).map((c) => c.CidrBlock)].filter((c): c is string => !!c))
          for (const c of cidrs)
            if (inCidr(ip, c))
              diags.push(
                diag(
                  '/ip',
                  `${ip} lies inside CIDR ${c} of ${v.VpcId}`,
                  'an overlay IP must be outside every CIDR of the VPC (use aws-sip for an address inside it)',
                ),
              )
        }
      }
      await Promise.all(
        tablesWanted.map(async (id: string, i: number) => {
          try {
            const r = await ctx.aws.ec2.describe('DescribeRouteTables', { RouteTableIds: [id] })
            const t = (r.RouteTables as RouteTable[] | undefined)?.[0]
            if (!t) diags.push(diag(`/routeTables/${i}`, `route table ${id} does not exist`))
            else if (vpcIds.length === 1 && t.VpcId && t.VpcId !== vpcIds[0])
              diags.push(diag(`/routeTables/${i}`, `route table ${id} is in ${t.VpcId}, not in the ENIs' VPC ${vpcIds[0]}`))
          } catch (e) {
            if (ec2ErrorCode(e)?.endsWith('NotFound'))
              diags.push(diag(`/routeTables/${i}`, `route table ${id} does not exist (${ec2ErrorCode(e)})`))
            else throw e
          }
        }),
      )
      // The permissions, with this node's identity: every action this resource will make.
      const mine = perNode[ctx.node] ?? any
      const t0 = tablesWanted[0]!,
        eni = String(mine.eni ?? '')
      const route = { RouteTableId: t0, DestinationCidrBlock: dest(ip), NetworkInterfaceId: eni }
      const checks = [
        { action: 'DescribeRouteTables', params: { RouteTableIds: [t0] } },
        { action: 'DescribeNetworkInterfaces', params: { NetworkInterfaceIds: [eni] } },
        { action: 'DescribeVpcs', params: {} },
        { action: 'ReplaceRoute', params: route },
        { action: 'CreateRoute', params: route },
        { action: 'ModifyNetworkInterfaceAttribute', params: { NetworkInterfaceId: eni, SourceDestCheck: { Value: false } } },
        ...(mine.routingControl === 'create'
          ? [{ action: 'DeleteRoute', params: { RouteTableId: t0, DestinationCidrBlock: dest(ip) } }]
          : []),
      ]
      diags.push(...(await permissionDiagnostics(ctx, checks)))
    } catch (e) {
      diags.push(diag(`/nodes/${ctx.node}/profile`, `cannot check against EC2 from ${ctx.node}: ${errorText(e)}`))
    }
    return diags.some((d) => d.severity === 'error') ? invalid(diags) : ok(undefined, diags.length ? { diagnostics: diags } : {})
  },

  async discover(ctx, field, partial) {
    try {
      if (field === 'routeTables') {
        const r = await ctx.aws.ec2.call('DescribeRouteTables', {})
        return ok(undefined, {
          choices: ((r.RouteTables ?? []) as RouteTable[]).map((t) => ({
            value: t.RouteTableId,
            label: `${nameTag(t) ?? '(no name)'} — ${t.VpcId ?? ''}`,
          })),
        })
      }
      return await discoverCommon(ctx, field, partial)
    } catch (e) {
      return discoverFault(e)
    }
  },

  async online(ctx) {
    const { eni } = ctx.attrs
    try {
      const e = await ctx.aws.ec2.describe('DescribeNetworkInterfaces', { NetworkInterfaceIds: [eni] }, { maxAgeMs: 0 })
      const nic = (e.NetworkInterfaces as Array<{ SourceDestCheck?: boolean }> | undefined)?.[0]
      if (!nic) return failed(`ENI ${eni} does not exist`, { recoverable: false })
      if (nic.SourceDestCheck !== false) {
        await ctx.aws.ec2.call('ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: eni, SourceDestCheck: { Value: false } })
        ctx.log.info(`source/destination check disabled on ${eni}`)
      }
      const changed = await pointRoutes(ctx, await tables(ctx, true))
      await ctx.state.set(ONLINE, { eni, at: ctx.now() })
      await ctx.state.delete(OFFLINE)
      if (changed.length) ctx.log.info(`${dest(ctx.attrs.ip)} now routed to ${eni}: ${changed.join('; ')}`)
      return ok(changed.length ? `routes to ${eni}: ${changed.join('; ')}` : `routes already target ${eni}`, {
        data: { eni, routeTables: ctx.attrs.routeTables, changed },
      })
    } catch (e) {
      return fault(`online ${dest(ctx.attrs.ip)} -> ${eni}`, e)
    }
  },

  async offline(ctx) {
    await takenOffline(ctx)
    if ((ctx.attrs.routingControl ?? 'overlay') === 'overlay') return ok('overlay: the routes stay until another node takes them')
    const d = dest(ctx.attrs.ip)
    try {
      const deleted: string[] = []
      for (const t of await tables(ctx, true)) {
        if (routeOf(t, d)?.NetworkInterfaceId !== ctx.attrs.eni) continue
        try {
          await ctx.aws.ec2.call('DeleteRoute', { RouteTableId: t.RouteTableId, DestinationCidrBlock: d })
          deleted.push(t.RouteTableId)
        } catch (e) {
          if (ec2ErrorCode(e) !== 'InvalidRoute.NotFound') throw e
        }
      }
      return ok(deleted.length ? `route ${d} deleted from ${deleted.join(', ')}` : `no route ${d} targets ${ctx.attrs.eni}`)
    } catch (e) {
      return fault(`offline ${d}`, e)
    }
  },

  async clean(ctx) {
    await takenOffline(ctx)
    return ok()
  },

  async monitor(ctx) {
    const d = dest(ctx.attrs.ip),
      eni = ctx.attrs.eni
    if (await ctx.state.get(OFFLINE)) {
      return notRunning(
        `${d} was taken offline on this node${(ctx.attrs.routingControl ?? 'overlay') === 'overlay' ? ' (overlay: a route left for the next node is not the IP running here)' : ''}`,
      )
    }
    const held = !!(await ctx.state.get(ONLINE))
    let found: RouteTable[]
    try {
      // The shared cache serves the node that holds the IP; a node that does not hold it asks afresh, so
      // it never reports a route that moved away in the last cache window as still its own.
      found = await tables(ctx, !held)
    } catch (e) {
      if (cannotKnow(e)) return unknown(`cannot ask EC2 now: ${errorText(e)}`)
      return fault('DescribeRouteTables', e)
    }
    const byId = new Map(found.map((t) => [t.RouteTableId, t]))
    const drift = ctx.attrs.routeTables.filter((id) => {
      const r = byId.get(id) && routeOf(byId.get(id)!, d)
      return !r || r.NetworkInterfaceId !== eni || r.State === 'blackhole'
    })
    if (!drift.length) {
      driftLogged.delete(ctx.resource)
      return ok(`${d} -> ${eni} in ${ctx.attrs.routeTables.length} route table(s)`)
    }
    const what = drift
      .map((id) => {
        const r = byId.get(id) && routeOf(byId.get(id)!, d)
        return `${id}: ${r ? (r.State === 'blackhole' && r.NetworkInterfaceId === eni ? `${eni} (blackhole)` : (r.NetworkInterfaceId ?? r.InstanceId ?? r.GatewayId ?? 'blackhole')) : 'no route'}`
      })
      .join('; ')
    // Never repaired here: the engine acts on the result (see the header). Logged once per change: a node
    // the group left while it was paused keeps its claim until its next offline, and monitors on.
    if (held && driftLogged.get(ctx.resource) !== what) ctx.log.warn(`route drift for ${d}: ${what}; reported, not repaired by the monitor`)
    driftLogged.set(ctx.resource, what)
    return notRunning(`${d} does not target ${eni} (${what})`)
  },
})

/** Offline or clean here: the claim goes, the mark that the monitor must not read a leftover route as ours stays. */
async function takenOffline(ctx: HookContext<Attrs>): Promise<void> {
  await ctx.state.set(OFFLINE, { at: ctx.now() })
  await ctx.state.delete(ONLINE)
}
