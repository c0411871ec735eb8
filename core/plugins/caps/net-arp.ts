// The packet tools behind the `net` capability: iputils `arping` (gratuitous ARP with -U, duplicate
// address detection with -D), ndisc6's `ndisend` (IPv6 unsolicited neighbour advertisement; without it
// the kernel's own, switched on with `sysctl`) and iputils `ping`. Argv builders and output parsers only
// (pure); net.ts runs them.
import { existsSync } from 'node:fs'

/** First existing path of a tool (Debian has moved some between /usr/sbin and /usr/bin). */
export function findTool(candidates: readonly string[]): string | null {
  for (const c of candidates) if (existsSync(c)) return c
  return null
}
export const TOOLS = {
  ip: ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'],
  arping: ['/usr/sbin/arping', '/usr/bin/arping', '/sbin/arping', '/bin/arping'],
  ndisend: ['/usr/bin/ndisend', '/usr/sbin/ndisend'],
  ping: ['/usr/bin/ping', '/bin/ping', '/usr/sbin/ping'],
  sysctl: ['/usr/sbin/sysctl', '/sbin/sysctl', '/usr/bin/sysctl'],
} as const

/**
 * DAD probe: `arping -D` sends a probe with source 0.0.0.0 (so no neighbour learns anything) and, in
 * this mode, exits at the first reply with status 1. iputils takes whole seconds only (-w), so the
 * caller ends the probe itself at its own timeout: still running then = nobody answered.
 */
export const probeArgs = (iface: string, address: string): string[] => ['-D', '-c', '1', '-w', '5', '-I', iface, address]

/** `Unicast reply from 10.80.0.100 [3E:4C:04:0E:DA:51]  0.548ms` lines. */
export function parseArpReplies(stdout: string): { ip: string; mac: string }[] {
  const out: { ip: string; mac: string }[] = []
  for (const m of stdout.matchAll(/reply from (\S+) \[([0-9A-Fa-f:]{17})\]/g)) out.push({ ip: m[1]!, mac: m[2]!.toLowerCase() })
  return out
}

/** One gratuitous ARP (request form, `-U`: sender = target = the address), sent at once on start. */
export const garpArgs = (iface: string, address: string): string[] => ['-U', '-c', '1', '-I', iface, address]

/** One unsolicited neighbour advertisement for an IPv6 address (`ndisend ADDRESS IFACE`). */
export const unaArgs = (iface: string, address: string): string[] => [address, iface]

/** The kernel's per-interface switch for unsolicited neighbour advertisements (slash form: interface
 *  names may hold dots, e.g. VLANs). */
export const ndiscNotifyKey = (iface: string): string => `net/ipv6/conf/${iface}/ndisc_notify`

/** One echo request; -W is whole seconds, the caller bounds the wait more tightly. */
export function pingArgs(host: string, timeoutMs: number, iface?: string): string[] {
  const args = ['-n', '-c', '1', '-W', String(Math.max(1, Math.ceil(timeoutMs / 1000)))]
  if (iface) args.push('-I', iface)
  args.push(host)
  return args
}

/** `64 bytes from 10.80.0.2: icmp_seq=1 ttl=64 time=0.116 ms` → 0.116 */
export function parsePingRtt(stdout: string): number | null {
  const m = /bytes from .*time[=<]([\d.]+) ms/.exec(stdout)
  return m ? Number(m[1]) : null
}
