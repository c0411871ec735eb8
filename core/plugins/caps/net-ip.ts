// `ip -j` output into the `net` capability's plain types, and the argv of the `ip` changes. Pure: the
// provider (net.ts) runs the commands. Field names are iproute2's JSON (6.x; older ones agree).
import type { AddAddressRequest, NetAddress, NetLink, NetRoute } from '../../../sdk/src/caps-net.js'
import { parseIpCidr, parseIp } from '../../../sdk/src/caps-net.js'

type Json = Record<string, unknown>
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : [])
/** iproute2 prints "forever" as 4294967295 (all ones). */
const lifetime = (v: unknown): number | null => (typeof v === 'number' && v < 0xffffffff ? v : null)

function parseJson(text: string, what: string): Json[] {
  const t = text.trim()
  if (t === '') return []
  let v: unknown
  try {
    v = JSON.parse(t)
  } catch {
    throw new Error(`${what}: output is not JSON: ${t.slice(0, 120)}`)
  }
  if (!Array.isArray(v)) throw new Error(`${what}: expected a JSON array`)
  return v as Json[]
}

/** `ip -j -d link show` */
export function parseLinks(text: string): NetLink[] {
  return parseJson(text, 'ip -j link').map((l) => {
    const flags = Array.isArray(l.flags) ? (l.flags as string[]) : []
    const info = (l.linkinfo ?? {}) as Json
    const mac = str(l.address)
    return {
      name: String(l.ifname),
      index: Number(l.ifindex),
      mac: l.link_type === 'ether' && mac ? mac.toLowerCase() : null,
      permMac: str(l.permaddr)?.toLowerCase() ?? null,
      mtu: Number(l.mtu ?? 0),
      up: flags.includes('UP'),
      carrier: flags.includes('LOWER_UP'),
      operstate: str(l.operstate) ?? 'UNKNOWN',
      kind: str(info.info_kind),
      master: str(l.master),
      slaveKind: str(info.info_slave_kind),
      loopback: flags.includes('LOOPBACK'),
    }
  })
}

/** `ip -j addr show` */
export function parseAddresses(text: string): NetAddress[] {
  const out: NetAddress[] = []
  for (const l of parseJson(text, 'ip -j addr')) {
    for (const a of arr(l.addr_info)) {
      const family = a.family === 'inet' ? 4 : a.family === 'inet6' ? 6 : null
      if (family === null || typeof a.local !== 'string') continue
      const prefixLength = Number(a.prefixlen)
      out.push({
        iface: String(l.ifname),
        family,
        address: a.local,
        prefixLength,
        cidr: `${a.local}/${prefixLength}`,
        scope: str(a.scope) ?? 'global',
        secondary: a.secondary === true,
        // IPv4 shows preferred_life_time 4294967295 even when deprecated: the flag is what counts.
        deprecated: a.deprecated === true,
        noprefixroute: a.noprefixroute === true,
        nodad: a.nodad === true,
        tentative: a.tentative === true,
        dadfailed: a.dadfailed === true,
        validLft: lifetime(a.valid_life_time),
        preferredLft: lifetime(a.preferred_life_time),
        label: str(a.label),
      })
    }
  }
  return out
}

/** `ip -j route show` (family given: the JSON does not say it). */
export function parseRoutes(text: string, family: 4 | 6): NetRoute[] {
  return parseJson(text, 'ip -j route').map((r) => {
    const route: NetRoute = { family, dst: String(r.dst) }
    if (typeof r.gateway === 'string') route.gateway = r.gateway
    if (typeof r.dev === 'string') route.dev = r.dev
    if (typeof r.protocol === 'string') route.protocol = r.protocol
    if (typeof r.scope === 'string') route.scope = r.scope
    if (typeof r.prefsrc === 'string') route.prefsrc = r.prefsrc
    if (typeof r.metric === 'number') route.metric = r.metric
    if (typeof r.type === 'string' && r.type !== 'unicast') route.type = r.type
    return route
  })
}

/** `ip addr add`: flags map to iproute2 words; `deprecated` is `preferred_lft 0`. */
export function addAddressArgs(r: AddAddressRequest): string[] {
  const c = parseIpCidr(r.address)!
  const args = [c.family === 6 ? '-6' : '-4', 'addr', 'add', c.cidr, 'dev', r.iface]
  // nodad exists for IPv6 only (iproute2 warns and ignores it on IPv4).
  if (r.nodad && c.family === 6) args.push('nodad')
  if (r.noprefixroute) args.push('noprefixroute')
  if (r.deprecated) args.push('preferred_lft', '0')
  return args
}

export function removeAddressArgs(iface: string, address: string): string[] {
  const c = parseIpCidr(address)!
  return [c.family === 6 ? '-6' : '-4', 'addr', 'del', c.cidr, 'dev', iface]
}

/** `ip route add` from a route as `routes()` answers it. */
export function addRouteArgs(r: NetRoute): string[] {
  const args = [r.family === 6 ? '-6' : '-4', 'route', 'add']
  if (r.type) args.push(r.type)
  args.push(r.dst)
  if (r.gateway) args.push('via', r.gateway)
  if (r.dev) args.push('dev', r.dev)
  if (r.protocol) args.push('proto', r.protocol)
  if (r.scope) args.push('scope', r.scope)
  if (r.prefsrc) args.push('src', r.prefsrc)
  if (r.metric !== undefined) args.push('metric', String(r.metric))
  return args
}

/** Checks a route handed in by a plugin; returns the field that is wrong, or null. */
export function badRouteField(r: unknown): string | null {
  if (typeof r !== 'object' || r === null) return 'route'
  const x = r as Record<string, unknown>
  if (x.family !== 4 && x.family !== 6) return 'family'
  if (x.dst !== 'default' && parseIpCidr(x.dst)?.family !== x.family && parseIp(x.dst)?.family !== x.family) return 'dst'
  if (x.gateway !== undefined && parseIp(x.gateway)?.family !== x.family) return 'gateway'
  if (x.prefsrc !== undefined && parseIp(x.prefsrc)?.family !== x.family) return 'prefsrc'
  for (const f of ['dev', 'protocol', 'scope', 'type'] as const) {
    if (x[f] !== undefined && (typeof x[f] !== 'string' || !/^[A-Za-z0-9_.@-]{1,32}$/.test(x[f] as string))) return f
  }
  if (x.metric !== undefined && !(Number.isInteger(x.metric) && (x.metric as number) >= 0 && (x.metric as number) <= 0xffffffff))
    return 'metric'
  return null
}
