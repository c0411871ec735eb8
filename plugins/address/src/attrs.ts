// The address type's attributes and their checks (pure: shared by validate and the hooks).
import { diag, isInterfaceName, isUnicastMac, normalizeMac, parseIpCidr, type Diagnostic, type ParsedCidr } from '@mccs/sdk'

export type Outbound = 'None' | 'Replacement' | 'SkipAsSource'
export const OUTBOUND: readonly Outbound[] = ['None', 'Replacement', 'SkipAsSource']

export interface Attrs {
  address: string
  nic: string
  outbound?: Outbound
  virtualMac?: string
  dad?: boolean
  dadTimeoutMs?: number
  garpCount?: number
  garpIntervalMs?: number
  [k: string]: unknown
}

const intIn = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max

export function check(a: Attrs, base: string): Diagnostic[] {
  const d: Diagnostic[] = []
  const c = parseIpCidr(a.address)
  if (!c) d.push(diag(`${base}/address`, 'must be an IPv4 or IPv6 address with its prefix length', 'e.g. 10.80.0.100/24 or fd00::100/64'))
  else if (c.family === 4 && /^(0|127|22[4-9]|23\d|24\d|25[0-5])\./.test(c.address))
    d.push(diag(`${base}/address`, `${c.address} is not a unicast host address`))
  else if (c.family === 6 && /^(ff|fe8|fe9|fea|feb|::1$|::$)/i.test(c.address))
    d.push(diag(`${base}/address`, `${c.address} is multicast, link-local or loopback`))
  if (!isInterfaceName(a.nic)) d.push(diag(`${base}/nic`, 'must be an interface name (the device of the nic resource)'))
  else if (a.nic === 'lo') d.push(diag(`${base}/nic`, "'lo' is reserved: a virtual IP lives on a network card"))
  if (a.outbound !== undefined && !OUTBOUND.includes(a.outbound)) d.push(diag(`${base}/outbound`, `must be one of ${OUTBOUND.join(', ')}`))
  if (a.virtualMac !== undefined) {
    const m = normalizeMac(a.virtualMac)
    if (!m) d.push(diag(`${base}/virtualMac`, 'must be a MAC address like 48-88-03-5E-EA-BB'))
    else if (!isUnicastMac(m))
      d.push(diag(`${base}/virtualMac`, 'must be a unicast MAC (the lowest bit of the first byte clear, not all zeros)'))
  }
  if (a.dad !== undefined && typeof a.dad !== 'boolean') d.push(diag(`${base}/dad`, 'must be true or false'))
  if (a.dadTimeoutMs !== undefined && !intIn(a.dadTimeoutMs, 50, 10000)) d.push(diag(`${base}/dadTimeoutMs`, 'must be 50..10000 ms'))
  if (a.garpCount !== undefined && !intIn(a.garpCount, 1, 10)) d.push(diag(`${base}/garpCount`, 'must be 1..10'))
  if (a.garpIntervalMs !== undefined && !intIn(a.garpIntervalMs, 100, 5000)) d.push(diag(`${base}/garpIntervalMs`, 'must be 100..5000 ms'))
  return d
}

export const vipOf = (a: Attrs): ParsedCidr => parseIpCidr(a.address)!

/** The manual's Generate button: 48-88-03-XX-XX-XX with three random bytes (unicast, as the prefix is). */
export function generateVirtualMac(random: () => number = Math.random): string {
  const byte = () =>
    Math.floor(random() * 256)
      .toString(16)
      .padStart(2, '0')
      .toUpperCase()
  return `48-88-03-${byte()}-${byte()}-${byte()}`
}
