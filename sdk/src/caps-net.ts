// The `net` capability: network links, addresses and routes of the node, and the few packets an HA
// address needs (gratuitous ARP / unsolicited NA, ARP probe, ping). Plugins see plain JSON. Reads need
// permission `net:read`; changes (addresses, MAC, routes, announcements) need `net:write`.
// Every argument is checked on the host: interface names, CIDRs and MACs are refused with
// MCCS_ERR_CAPABILITY_ARGS naming the field (`net.addAddress: address`).

/** One network interface (`ip -j -d link`). */
export interface NetLink {
  name: string
  index: number
  /** Current hardware address, lower case `aa:bb:cc:dd:ee:ff` (null for links without one). */
  mac: string | null
  /** The permanent (factory) address when the kernel knows it differs. */
  permMac: string | null
  mtu: number
  /** Administratively up (`ip link set … up`, flag UP). */
  up: boolean
  /** The driver sees a carrier (flag LOWER_UP): cable in, switch port alive. */
  carrier: boolean
  /** Kernel operational state: UP, DOWN, LOWERLAYERDOWN, UNKNOWN, … */
  operstate: string
  /** Link kind (`veth`, `bond`, `bridge`, `vlan`, …), null for plain hardware. */
  kind: string | null
  /** The bond or bridge this link is enslaved to. */
  master: string | null
  /** `bond` when this link is a bonding slave, `bridge` for a bridge port. */
  slaveKind: string | null
  loopback: boolean
}

/** One address on a link (`ip -j addr`). */
export interface NetAddress {
  iface: string
  family: 4 | 6
  address: string
  prefixLength: number
  /** `address/prefixLength` */
  cidr: string
  scope: string
  secondary: boolean
  /** preferred lifetime 0: never chosen as a source by IPv6 source address selection. */
  deprecated: boolean
  noprefixroute: boolean
  nodad: boolean
  tentative: boolean
  dadfailed: boolean
  /** Seconds; null = forever. */
  validLft: number | null
  preferredLft: number | null
  label: string | null
}

/** One route of the main table (`ip -j route` / `ip -j -6 route`). */
export interface NetRoute {
  family: 4 | 6
  /** `default` or a CIDR. */
  dst: string
  gateway?: string
  dev?: string
  protocol?: string
  scope?: string
  prefsrc?: string
  metric?: number
  type?: string
}

export interface AddAddressRequest {
  iface: string
  /** The address with its prefix length: `10.80.0.100/24`, `fd00::10/64`. */
  address: string
  /** IPv6: skip duplicate address detection (the address is usable at once). Ignored for IPv4. */
  nodad?: boolean
  /** Do not add the prefix route for the address's subnet. */
  noprefixroute?: boolean
  /** preferred_lft 0: the address is deprecated, so IPv6 source selection never picks it. */
  deprecated?: boolean
  /** IPv6: have the kernel send an unsolicited neighbour advertisement for the address when its DAD
   *  completes (sets net.ipv6.conf.<iface>.ndisc_notify=1 first; the setting stays). Ignored for IPv4. */
  announce?: boolean
}
export interface AddAddressResult {
  added: boolean
  /** IPv6 with `announce`: the kernel announces the address when DAD completes. */
  kernelAnnounce?: boolean
}

export interface AddressRef {
  iface: string
  address: string
}

export interface ProbeRequest {
  iface: string
  /** The IPv4 address to probe (no prefix). */
  address: string
  /** How long to wait for an answer (default 500 ms, bounded by the hook's deadline). */
  timeoutMs?: number
}
export interface ProbeResult {
  /** Another host answered for the address. */
  duplicate: boolean
  /** Who answered: its IP and hardware address. */
  replies: { ip: string; mac: string }[]
}

export interface AnnounceRequest {
  iface: string
  /** The address to announce (no prefix); IPv4 sends gratuitous ARP, IPv6 unsolicited neighbour advertisements. */
  address: string
  /** Packets in the burst (1–10, default 3). The first leaves before the call returns; the rest follow in the background. */
  count?: number
  /** Between packets of the burst (100–5000 ms, default 400). */
  intervalMs?: number
}
/** tool 'kernel': IPv6 without ndisend, the kernel announced the address itself when its DAD completed
 *  (addAddress with announce); sent and scheduled are then 0. */
export interface AnnounceResult {
  sent: number
  scheduled: number
  tool: string
}

export interface PingRequest {
  host: string
  /** Wait at most this long for the reply (default 1000 ms, bounded by the hook's deadline). */
  timeoutMs?: number
  /** Send from this interface. */
  iface?: string
}
export interface PingResult {
  host: string
  reachable: boolean
  rttMs: number | null
}

export interface NetCapability {
  /** net:read */
  links(): Promise<NetLink[]>
  /** net:read; null when no link has that name. */
  link(name: string): Promise<NetLink | null>
  /** net:read; every address, or those of one link. */
  addresses(req?: { iface?: string }): Promise<NetAddress[]>
  /** net:read; main-table routes (IPv4 and IPv6), or those through one link. */
  routes(req?: { iface?: string }): Promise<NetRoute[]>
  /** net:read; ARP probe (duplicate address detection, `arping -D`). */
  probe(req: ProbeRequest): Promise<ProbeResult>
  /** net:read; one ICMP echo (`ping`). */
  ping(req: PingRequest): Promise<PingResult>
  /** net:write; idempotent: an address already there gives `added: false`. */
  addAddress(req: AddAddressRequest): Promise<AddAddressResult>
  /** net:write; idempotent: an absent address gives `removed: false`. */
  removeAddress(req: AddressRef): Promise<{ removed: boolean }>
  /** net:write; sets the link's hardware address, answers the one it had. */
  setMac(req: { iface: string; mac: string }): Promise<{ previous: string | null; changed: boolean }>
  /** net:write; adds a route (to restore one the kernel dropped); an existing one gives `added: false`. */
  addRoute(route: NetRoute): Promise<{ added: boolean }>
  /** net:write; gratuitous ARP / unsolicited NA burst. */
  announce(req: AnnounceRequest): Promise<AnnounceResult>
}

// ---------- pure helpers shared by the host (argument checks) and the plugins (validate) ----------

/** Linux interface names: 1–15 bytes, no `/`, `:`, whitespace; not `.` or `..`. */
export function isInterfaceName(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9_.@-]{1,15}$/.test(v) && v !== '.' && v !== '..'
}

/** `aa:bb:cc:dd:ee:ff` or `AA-BB-CC-DD-EE-FF`, normalised to lower case with colons; null when not a MAC. */
export function normalizeMac(v: unknown): string | null {
  if (typeof v !== 'string' || !/^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/.test(v)) return null
  return v.toLowerCase().replace(/-/g, ':')
}
/** A MAC usable on a NIC: unicast (I/G bit clear) and not all zeros. */
export function isUnicastMac(mac: string): boolean {
  const n = normalizeMac(mac)
  return n !== null && (parseInt(n.slice(0, 2), 16) & 1) === 0 && n !== '00:00:00:00:00:00'
}

/** IPv4 dotted quad as a 32-bit number, or null. */
export function parseIPv4(v: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v)
  if (!m) return null
  const p = m.slice(1).map(Number)
  if (p.some((x, i) => x > 255 || (m[i + 1]!.length > 1 && m[i + 1]!.startsWith('0')))) return null
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0
}

/** IPv6 text as eight 16-bit groups, or null (accepts `::` and a trailing dotted quad). */
export function parseIPv6(v: string): number[] | null {
  if (!/^[0-9A-Fa-f:.]{2,45}$/.test(v) || v.split('::').length > 2) return null
  let s = v
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  if (dotted) {
    // The embedded IPv4 becomes the last two groups.
    const n = parseIPv4(dotted[1]!)
    if (n === null) return null
    s = `${s.slice(0, -dotted[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`
  }
  const part = (x: string): number[] | null => {
    if (x === '') return []
    const g = x.split(':')
    if (g.some((h) => !/^[0-9A-Fa-f]{1,4}$/.test(h))) return null
    return g.map((h) => parseInt(h, 16))
  }
  if (s.includes('::')) {
    const [a, b] = s.split('::') as [string, string]
    const pa = part(a),
      pb = part(b)
    if (!pa || !pb || pa.length + pb.length >= 8) return null
    return [...pa, ...Array<number>(8 - pa.length - pb.length).fill(0), ...pb]
  }
  const all = part(s)
  return all && all.length === 8 ? all : null
}

export interface ParsedIp {
  family: 4 | 6
  address: string
}
/** An IPv4 or IPv6 address (no prefix), or null. */
export function parseIp(v: unknown): ParsedIp | null {
  if (typeof v !== 'string') return null
  if (parseIPv4(v) !== null) return { family: 4, address: v }
  if (v.includes(':') && parseIPv6(v) !== null) return { family: 6, address: v.toLowerCase() }
  return null
}

export interface ParsedCidr extends ParsedIp {
  prefixLength: number
  cidr: string
}
/** `address/prefix` with a prefix that fits the family, or null. */
export function parseIpCidr(v: unknown): ParsedCidr | null {
  if (typeof v !== 'string') return null
  const m = /^([^/]+)\/(\d{1,3})$/.exec(v)
  if (!m) return null
  const ip = parseIp(m[1])
  const len = Number(m[2])
  if (!ip || len > (ip.family === 4 ? 32 : 128) || (m[2]!.length > 1 && m[2]!.startsWith('0'))) return null
  return { ...ip, prefixLength: len, cidr: `${ip.address}/${len}` }
}

/** Both addresses in the same subnet of the given prefix length (same family). */
export function sameSubnet(a: string, b: string, prefixLength: number): boolean {
  const x = parseIp(a),
    y = parseIp(b)
  if (!x || !y || x.family !== y.family) return false
  if (x.family === 4) {
    const mask = prefixLength === 0 ? 0 : (~0 << (32 - prefixLength)) >>> 0
    return (parseIPv4(x.address)! & mask) >>> 0 === (parseIPv4(y.address)! & mask) >>> 0
  }
  const ga = parseIPv6(x.address)!,
    gb = parseIPv6(y.address)!
  for (let i = 0, left = prefixLength; i < 8 && left > 0; i++, left -= 16) {
    const bits = Math.min(16, left)
    const mask = (0xffff << (16 - bits)) & 0xffff
    if ((ga[i]! & mask) !== (gb[i]! & mask)) return false
  }
  return true
}

/** Two spellings of one address compare equal (`fd00::1` = `fd00:0:0::1`). */
export function sameIp(a: string, b: string): boolean {
  const x = parseIp(a),
    y = parseIp(b)
  if (!x || !y || x.family !== y.family) return false
  return x.family === 4 ? x.address === y.address : parseIPv6(x.address)!.join() === parseIPv6(y.address)!.join()
}
