// address: a virtual IP that follows the group. Online = DAD probe, record intent, virtual MAC,
// outbound mode, add the address, announce it (first gratuitous ARP at once, the rest of the burst in
// the background). Offline/clean = undo exactly what the record says. Monitor = the address is on the
// right link (and the virtual MAC is set). Linux mapping of the outbound modes: docs/network.md.
import {
  definePlugin,
  ok,
  notRunning,
  failed,
  invalid,
  diag,
  normalizeMac,
  sameIp,
  type Diagnostic,
  type HookAnswer,
  type HookContext,
} from '@mccs/sdk'
import { check, generateVirtualMac, vipOf, type Attrs } from './attrs.js'
import { KEY, undo, type Applied } from './undo.js'

/** How long the IPv4 duplicate probe waits for an answer. A live holder's kernel answers an ARP probe in well under
 *  10 ms even loaded; the wait is paid by every failover (at 500 ms it was a third of a 3-node takeover). */
const DEFAULT_DAD_MS = 200
/** IPv6: how long online waits for the kernel's DAD to finish (tentative -> usable). */
const V6_DAD_WAIT_MS = 3000

interface CapError {
  message?: string
  code?: string
}
const msg = (e: unknown) => (e as CapError)?.message ?? String(e)

async function save(ctx: HookContext<Attrs>, rec: Applied): Promise<void> {
  await ctx.state.set(KEY, rec)
}

async function bringOnline(ctx: HookContext<Attrs>): Promise<HookAnswer> {
  const a = ctx.attrs
  const vip = vipOf(a)
  const link = await ctx.net.link(a.nic)
  if (!link) return failed(`no network card '${a.nic}' on ${ctx.node}`, { recoverable: false })
  if (link.loopback) return failed(`${a.nic} is the loopback interface`, { recoverable: false })

  let rec = await ctx.state.get<Applied>(KEY)
  if (rec && (rec.iface !== a.nic || rec.cidr !== vip.cidr)) {
    // The configuration changed since the last online here: undo the old record first.
    await undo(ctx, rec)
    rec = undefined
  }
  const all = await ctx.net.addresses()
  const elsewhere = all.find((x) => sameIp(x.address, vip.address) && x.iface !== a.nic)
  if (elsewhere) return failed(`${vip.address} is already on ${elsewhere.iface} of ${ctx.node}, not on ${a.nic}`, { recoverable: false })
  const mine = all.filter((x) => x.iface === a.nic)
  const present = mine.some((x) => sameIp(x.address, vip.address))

  if (!present && vip.family === 4 && a.dad !== false) {
    const p = await ctx.net.probe({ iface: a.nic, address: vip.address, timeoutMs: a.dadTimeoutMs ?? DEFAULT_DAD_MS })
    if (p.duplicate) {
      const who = p.replies.map((r) => `${r.ip} at ${r.mac}`).join(', ')
      return failed(`address conflict: ${vip.address} is already in use on ${a.nic}'s network (answered by ${who}); not brought online`, {
        recoverable: false,
        data: { conflict: p.replies },
      })
    }
  }

  rec ??= { iface: a.nic, cidr: vip.cidr, macBefore: null, macSet: null, removed: [], routesBefore: [] }
  await save(ctx, rec)
  const vmac = a.virtualMac ? normalizeMac(a.virtualMac) : null
  if (vmac && link.mac !== vmac) {
    rec.macBefore ??= link.mac
    rec.macSet = vmac
    await save(ctx, rec)
    await ctx.net.setMac({ iface: a.nic, mac: vmac })
  }
  if (a.outbound === 'Replacement') {
    // The NIC's own addresses of the family go (and with an IPv4 primary, the kernel drops its
    // secondaries and routes: hence routes recorded first, and the VIP added after).
    const own = mine.filter((x) => x.family === vip.family && x.scope === 'global' && !sameIp(x.address, vip.address))
    if (own.length) {
      if (!rec.routesBefore.length) rec.routesBefore = await ctx.net.routes({ iface: a.nic })
      rec.removed.push(...own)
      await save(ctx, rec)
      for (const x of own) await ctx.net.removeAddress({ iface: a.nic, address: x.cidr })
    }
  }
  const skip = a.outbound === 'SkipAsSource'
  // IPv6: the kernel announces the address itself when its DAD completes (no ndisend on Debian 12).
  const added = await ctx.net.addAddress({
    iface: a.nic,
    address: vip.cidr,
    noprefixroute: skip,
    deprecated: skip,
    ...(vip.family === 6 ? { announce: true } : {}),
  })

  if (vip.family === 6) {
    // The kernel runs DAD for IPv6: wait until the address is usable, refuse it if DAD failed.
    for (const end = Math.min(ctx.deadline - 500, Date.now() + V6_DAD_WAIT_MS); ;) {
      const x = (await ctx.net.addresses({ iface: a.nic })).find((y) => sameIp(y.address, vip.address))
      if (x?.dadfailed) {
        await undo(ctx, rec)
        return failed(`address conflict: the kernel's duplicate address detection failed for ${vip.address} on ${a.nic}`, {
          recoverable: false,
        })
      }
      if (!x?.tentative || Date.now() > end) break
      await ctx.sleep(100)
    }
  }
  let announced = ''
  try {
    const an = await ctx.net.announce({ iface: a.nic, address: vip.address, count: a.garpCount ?? 3, intervalMs: a.garpIntervalMs ?? 400 })
    announced =
      an.tool === 'kernel'
        ? ', announced by the kernel when its DAD completed'
        : `, announced with ${an.tool} (${an.sent} sent, ${an.scheduled} to follow)`
  } catch (e) {
    // The address works without it; neighbours learn it at their next ARP/ND lookup.
    ctx.log.warn(`announcing ${vip.address} failed: ${msg(e)}`)
    announced = `, not announced: ${msg(e)}`
  }
  return ok(
    `${vip.cidr} on ${a.nic}${added.added ? '' : ' (already there)'}${vmac ? `, MAC ${vmac}` : ''}, outbound ${a.outbound ?? 'None'}${announced}`,
    { data: { iface: a.nic, address: vip.cidr, mac: vmac ?? link.mac } },
  )
}

async function takeOffline(ctx: HookContext<Attrs>): Promise<HookAnswer> {
  const rec = await ctx.state.get<Applied>(KEY)
  if (rec) {
    const done = await undo(ctx, rec)
    return ok(done.length ? done.join(', ') : 'nothing to undo')
  }
  // No record (never online here, or already undone): make sure the address is not left behind.
  const bad = check(ctx.attrs, '')
  if (bad.length) return ok('no record and no valid configuration: nothing to undo')
  const r = await ctx.net.removeAddress({ iface: ctx.attrs.nic, address: vipOf(ctx.attrs).cidr })
  return ok(r.removed ? `removed ${vipOf(ctx.attrs).cidr}` : 'not present')
}

export default definePlugin<Attrs>({
  async validate(ctx, { perNode }) {
    const diags: Diagnostic[] = []
    for (const [node, a] of Object.entries(perNode)) diags.push(...check(a, `/nodes/${node}`))
    const mine = perNode[ctx.node]
    if (mine && !diags.length) {
      const l = await ctx.net.link(mine.nic)
      if (!l) diags.push(diag(`/nodes/${ctx.node}/nic`, `no network card '${mine.nic}' on ${ctx.node}`))
      const vip = vipOf(mine)
      const own = (await ctx.net.addresses()).find((x) => sameIp(x.address, vip.address))
      if (own) {
        const rec = await ctx.state.get<Applied>(KEY)
        if (!rec)
          diags.push(
            diag(
              `/nodes/${ctx.node}/address`,
              `${vip.address} is already a fixed address of ${ctx.node} (${own.iface}): a virtual IP must be free`,
            ),
          )
      }
    }
    return diags.length ? invalid(diags) : ok()
  },

  async discover(ctx, field) {
    if (field === 'virtualMac') {
      const mac = generateVirtualMac()
      return ok('generated', { choices: [{ value: mac, label: mac }] })
    }
    if (field !== 'nic') return failed(`nothing to discover for '${field}'`, { recoverable: false })
    const [links, addrs] = await Promise.all([ctx.net.links(), ctx.net.addresses()])
    const choices = links
      .filter((l) => !l.loopback && l.slaveKind !== 'bond')
      .map((l) => {
        const own = addrs.filter((x) => x.iface === l.name && x.scope !== 'link').map((x) => x.cidr)
        return { value: l.name, label: `${l.name} / ${own.length ? own.join(', ') : 'no address'}` }
      })
    return ok(`${choices.length} network cards on ${ctx.node}`, { choices })
  },

  async online(ctx) {
    const bad = check(ctx.attrs, '')
    if (bad.length) return invalid(bad)
    try {
      return await bringOnline(ctx)
    } catch (e) {
      return failed(`online of ${ctx.attrs.address} on ${ctx.attrs.nic} failed: ${msg(e)}`)
    }
  },

  async offline(ctx) {
    try {
      return await takeOffline(ctx)
    } catch (e) {
      return failed(`offline failed: ${msg(e)}`)
    }
  },

  async clean(ctx) {
    try {
      return await takeOffline(ctx)
    } catch (e) {
      return failed(`clean failed: ${msg(e)}`)
    }
  },

  async monitor(ctx): Promise<HookAnswer> {
    const bad = check(ctx.attrs, '')
    if (bad.length) return invalid(bad)
    const a = ctx.attrs
    const vip = vipOf(a)
    const here = (await ctx.net.addresses()).filter((x) => sameIp(x.address, vip.address))
    if (!here.length) return notRunning(`${vip.address} is not on ${ctx.node}`)
    const onNic = here.find((x) => x.iface === a.nic)
    if (!onNic) return notRunning(`${vip.address} is on ${here.map((x) => x.iface).join(', ')}, not on ${a.nic}`)
    if (onNic.dadfailed) return failed(`the kernel found ${vip.address} duplicated on the network (dadfailed)`, { recoverable: false })
    const vmac = a.virtualMac ? normalizeMac(a.virtualMac) : null
    if (vmac) {
      const l = await ctx.net.link(a.nic)
      if (l?.mac !== vmac) return failed(`${a.nic} has MAC ${l?.mac ?? '?'}, not the virtual MAC ${vmac}`)
    }
    return ok(`${onNic.cidr} on ${a.nic}${vmac ? `, MAC ${vmac}` : ''}`)
  },
})
