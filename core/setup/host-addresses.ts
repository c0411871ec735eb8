// The addresses of this host, for the questions setup asks: a heartbeat link's address must be one of
// them (a typo would make a node that never hears anyone), and a joining node finds its own address on
// each of the cluster's links as the one in the same subnet as the member's.
import { isIP } from 'node:net'
import os from 'node:os'
import { MccsError } from '../errors.js'

export interface HostAddress {
  address: string
  ifname: string
  cidr: string | null
  family: 4 | 6
}

/** Every address on this host's interfaces (loopback too: tests and one-host demos use it). */
export function hostAddresses(): HostAddress[] {
  const out: HostAddress[] = []
  for (const [ifname, addrs] of Object.entries(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv6' && a.scopeid) continue // link-local: not usable as a link address without a zone
      out.push({ address: a.address, ifname, cidr: a.cidr, family: a.family === 'IPv4' ? 4 : 6 })
    }
  }
  return out
}

/** Refuses an address that is not an IP address, or not one of this host's. `field` names the flag or answer. */
export function checkOnHost(address: string, field: string, have: HostAddress[] = hostAddresses()): string {
  if (!isIP(address)) throw new MccsError('MCCS_ERR_INVALID', `'${address}' is not an IP address`, { field })
  if (!have.some((a) => a.address === address)) {
    const list =
      have
        .filter((a) => a.ifname !== 'lo')
        .map((a) => `${a.address} (${a.ifname})`)
        .join(', ') || 'none but loopback'
    throw new MccsError('MCCS_ERR_INVALID', `${address} is not an address of this host (its addresses: ${list})`, { field })
  }
  return address
}

/** This host's address in the same subnet as `peer` (the member's address on a link), or null. */
export function sameSubnet(peer: string, have: HostAddress[] = hostAddresses()): HostAddress | null {
  const fam = isIP(peer)
  for (const a of have) {
    if (a.family !== fam || !a.cidr || a.address === peer) continue
    const bits = Number(a.cidr.split('/')[1])
    if (inPrefix(a.address, peer, bits, fam)) return a
  }
  return null
}

function toBits(ip: string, fam: number): bigint {
  if (fam === 4) return ip.split('.').reduce((acc, x) => (acc << 8n) | BigInt(Number(x)), 0n)
  const [head, tail = ''] = ip.split('::')
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n)
}

function inPrefix(a: string, b: string, bits: number, fam: number): boolean {
  const width = fam === 4 ? 32 : 128
  if (!(bits > 0 && bits <= width)) return false
  const shift = BigInt(width - bits)
  return toBits(a, fam) >> shift === toBits(b, fam) >> shift
}
