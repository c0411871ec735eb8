// nic: a node's network adapter. Nothing is configured on it: online checks that it exists and has a
// link, and marks the resource online in `state` (a NIC has no state of its own, so without the mark a
// standby node's monitor would claim a NIC that is merely present). Monitor checks link up + carrier
// and, when `hosts` is set, that at least one host answers a ping (VCS NetworkHosts, MCCS isolation
// test addresses): a live port behind a dead switch still shows a carrier.
import {
  definePlugin,
  ok,
  notRunning,
  failed,
  invalid,
  diag,
  isInterfaceName,
  parseIp,
  type Diagnostic,
  type HookAnswer,
  type HookContext,
  type NetLink,
} from '@mccs/sdk'

interface Attrs {
  device: string
  hosts?: string[]
  pingTimeoutMs?: number
  [k: string]: unknown
}

const ONLINE = 'online'
const HOST = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9][A-Za-z0-9-]{0,62})*$/
/** Interfaces that can never carry a cluster address. */
const RESERVED = new Set(['lo'])

/** Why a link cannot be a cluster NIC, or null. */
function refusal(l: NetLink): string | null {
  if (l.loopback || RESERVED.has(l.name)) return `${l.name} is the loopback interface`
  if (l.slaveKind === 'bond') return `${l.name} is a slave of bond ${l.master ?? '?'}: use the bond itself`
  return null
}

function check(a: Attrs, base: string): Diagnostic[] {
  const d: Diagnostic[] = []
  if (!isInterfaceName(a.device)) d.push(diag(`${base}/device`, 'must be an interface name', '1-15 of A-Z a-z 0-9 _ . @ -'))
  else if (RESERVED.has(a.device)) d.push(diag(`${base}/device`, `'${a.device}' is reserved (loopback) and cannot be a cluster NIC`))
  if (a.hosts !== undefined) {
    if (!Array.isArray(a.hosts)) d.push(diag(`${base}/hosts`, 'must be a list of addresses'))
    else
      a.hosts.forEach((h, i) => {
        if (typeof h !== 'string' || !(parseIp(h) || HOST.test(h)))
          d.push(diag(`${base}/hosts/${i}`, 'must be an IP address or a host name'))
      })
  }
  if (a.pingTimeoutMs !== undefined && (typeof a.pingTimeoutMs !== 'number' || a.pingTimeoutMs < 50 || a.pingTimeoutMs > 10000)) {
    d.push(diag(`${base}/pingTimeoutMs`, 'must be 50..10000 ms'))
  }
  return d
}

/** Link up with carrier, or the reason it is not. */
function linkFault(l: NetLink | null, device: string, node: string): string | null {
  if (!l) return `no network adapter '${device}' on ${node}`
  if (!l.up) return `${device} is administratively down (ip link set ${device} up)`
  if (!l.carrier) return `${device} has no carrier (cable, switch port or peer down)`
  return null
}

async function hostsAnswer(ctx: HookContext<Attrs>): Promise<{ ok: boolean; detail: string }> {
  const hosts = ctx.attrs.hosts ?? []
  const budget = Math.max(50, Math.min(ctx.attrs.pingTimeoutMs ?? 1000, ctx.deadline - Date.now() - 200))
  const res = await Promise.all(
    hosts.map((host) => ctx.net.ping({ host, timeoutMs: budget }).catch(() => ({ host, reachable: false, rttMs: null }))),
  )
  const up = res.filter((r) => r.reachable)
  return up.length
    ? { ok: true, detail: `${up.length}/${hosts.length} hosts answer` }
    : { ok: false, detail: `none of ${hosts.join(', ')} answered within ${budget} ms (switch or uplink dead?)` }
}

export default definePlugin<Attrs>({
  async validate(ctx, { perNode }) {
    const diags: Diagnostic[] = []
    for (const [node, a] of Object.entries(perNode)) diags.push(...check(a, `/nodes/${node}`))
    // This node's adapters can be seen: refuse a missing one, loopback and bonding slaves.
    const mine = perNode[ctx.node]
    if (mine && isInterfaceName(mine.device) && !diags.length) {
      const l = await ctx.net.link(mine.device)
      if (!l) diags.push(diag(`/nodes/${ctx.node}/device`, `no network adapter '${mine.device}' on ${ctx.node}`))
      else {
        const why = refusal(l)
        if (why) diags.push(diag(`/nodes/${ctx.node}/device`, why))
      }
    }
    return diags.length ? invalid(diags) : ok()
  },

  async discover(ctx, field) {
    if (field !== 'device') return failed(`nothing to discover for '${field}'`, { recoverable: false })
    const [links, addrs] = await Promise.all([ctx.net.links(), ctx.net.addresses()])
    const choices = links
      .filter((l) => !refusal(l))
      .map((l) => {
        const mine = addrs.filter((a) => a.iface === l.name && a.scope !== 'link').map((a) => a.cidr)
        return { value: l.name, label: `${l.name} / ${mine.length ? mine.join(', ') : 'no address'}` }
      })
    return ok(`${choices.length} adapters on ${ctx.node}`, { choices })
  },

  async online(ctx): Promise<HookAnswer> {
    const bad = check(ctx.attrs, '')
    if (bad.length) return invalid(bad)
    const l = await ctx.net.link(ctx.attrs.device)
    const why = l ? refusal(l) : null
    if (why) return failed(why, { recoverable: false })
    const fault = linkFault(l, ctx.attrs.device, ctx.node)
    if (fault) return failed(fault, { recoverable: false })
    await ctx.state.set(ONLINE, true)
    return ok(`${ctx.attrs.device} up, carrier, mac ${l!.mac ?? '-'}`)
  },

  async offline(ctx) {
    await ctx.state.delete(ONLINE)
    return ok()
  },

  async clean(ctx) {
    await ctx.state.delete(ONLINE)
    return ok()
  },

  async monitor(ctx): Promise<HookAnswer> {
    if (!(await ctx.state.get<boolean>(ONLINE))) return notRunning('not brought online on this node')
    const l = await ctx.net.link(ctx.attrs.device)
    const fault = linkFault(l, ctx.attrs.device, ctx.node)
    // Restarting a NIC in place cannot bring a cable back: fault at once so the group moves.
    if (fault) return failed(fault, { recoverable: false, data: { device: ctx.attrs.device } })
    if (ctx.attrs.hosts?.length) {
      const h = await hostsAnswer(ctx)
      if (!h.ok) return failed(h.detail, { recoverable: false })
      return ok(`${ctx.attrs.device} up, carrier; ${h.detail}`)
    }
    return ok(`${ctx.attrs.device} up, carrier`)
  },
})
