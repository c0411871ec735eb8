// IPv4 addresses and CIDR blocks as EC2 validates them (dotted quads, canonical network addresses).

const QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/

export function parseIp(s: string): number | null {
  if (!QUAD.test(s)) return null
  return s.split('.').reduce((a, o) => a * 256 + Number(o), 0)
}

export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((b) => Math.floor(n / 2 ** b) % 256).join('.')
}

export interface Cidr {
  base: number
  bits: number
  size: number
}

/** A CIDR block whose address is the network address (10.0.0.0/16, not 10.0.0.5/16); null otherwise. */
export function parseCidr(s: string): Cidr | null {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s)
  if (!m) return null
  const base = parseIp(m[1]!)
  const bits = Number(m[2])
  if (base === null || bits > 32) return null
  const size = 2 ** (32 - bits)
  if (base % size !== 0) return null
  return { base, bits, size }
}

export const inCidr = (ip: number, c: Cidr): boolean => ip >= c.base && ip < c.base + c.size

export const cidrsOverlap = (a: Cidr, b: Cidr): boolean => a.base < b.base + b.size && b.base < a.base + a.size

/** AWS reserves the first four addresses and the last one of every subnet. */
export function reservedInSubnet(ip: number, c: Cidr): boolean {
  return ip - c.base < 4 || ip === c.base + c.size - 1
}
