// What online changed on the host, kept in the resource's `state` so that offline and clean undo
// exactly that, even after an agent restart. Written before each change (intent first), so a crash in
// the middle of online still leaves a record that covers it.
import type { HookContext, NetAddress, NetRoute } from '@mccs/sdk'
import type { Attrs } from './attrs.js'

export const KEY = 'applied'

export interface Applied {
  iface: string
  /** The virtual address as added (address/prefix). */
  cidr: string
  /** The NIC's MAC before the virtual MAC was set (null: not changed). */
  macBefore: string | null
  macSet: string | null
  /** Replacement: the NIC's own addresses removed while online, in the kernel's order (primary first). */
  removed: NetAddress[]
  /** Replacement: the link's routes before its addresses went (the kernel drops routes with them). */
  routesBefore: NetRoute[]
}

const routeKey = (r: NetRoute) => [r.family, r.dst, r.gateway ?? '', r.metric ?? '', r.type ?? ''].join('|')

/** Undoes a record: virtual address out, own addresses and dropped routes back, MAC restored. */
export async function undo(ctx: HookContext<Attrs>, rec: Applied): Promise<string[]> {
  const done: string[] = []
  const r = await ctx.net.removeAddress({ iface: rec.iface, address: rec.cidr })
  if (r.removed) done.push(`removed ${rec.cidr}`)
  for (const a of rec.removed) {
    const x = await ctx.net.addAddress({
      iface: rec.iface,
      address: a.cidr,
      nodad: a.nodad,
      noprefixroute: a.noprefixroute,
      deprecated: a.deprecated,
    })
    if (x.added) done.push(`restored ${a.cidr}`)
  }
  if (rec.routesBefore.length) {
    const now = new Set((await ctx.net.routes({ iface: rec.iface })).map(routeKey))
    for (const route of rec.routesBefore) {
      if (now.has(routeKey(route))) continue
      const x = await ctx.net.addRoute(route)
      if (x.added) done.push(`restored route ${route.dst}`)
    }
  }
  if (rec.macSet && rec.macBefore) {
    const m = await ctx.net.setMac({ iface: rec.iface, mac: rec.macBefore })
    if (m.changed) done.push(`MAC back to ${rec.macBefore}`)
  }
  await ctx.state.delete(KEY)
  return done
}
