// Capability `net`: the node's links, addresses and routes through `ip -j`, address/MAC/route changes
// through `ip`, and the packets an HA address needs (gratuitous ARP / unsolicited NA, ARP probe, ping)
// through Debian's iputils-arping, ndisc6 and iputils-ping. Argv arrays only, never a shell; every
// child is bounded by the call's deadline and killed (whole process group) when the hook is cancelled.
// Reads need `net:read`, changes `net:write`. Every argument is checked here, at the edge.
import type {
  AddAddressRequest,
  AddressRef,
  AnnounceRequest,
  AnnounceResult,
  NetRoute,
  PingRequest,
  PingResult,
  ProbeRequest,
  ProbeResult,
} from '../../../sdk/src/caps-net.js'
import { isInterfaceName, isUnicastMac, normalizeMac, parseIpCidr, parseIp } from '../../../sdk/src/caps-net.js'
import type { ExecResult } from '../../../sdk/src/types.js'
import { MccsError } from '../../errors.js'
import { simpleMethod, type CallInfo, type CapabilityProvider } from '../capabilities.js'
import { runProcess } from './exec.js'
import { addAddressArgs, addRouteArgs, badRouteField, parseAddresses, parseLinks, parseRoutes, removeAddressArgs } from './net-ip.js'
import { findTool, garpArgs, parseArpReplies, parsePingRtt, pingArgs, probeArgs, TOOLS, unaArgs, ndiscNotifyKey } from './net-arp.js'

export interface NetProviderOptions {
  /** Run every command inside this named network namespace (`ip netns exec NS …`): tests and the lab. */
  netns?: string
}

const IP_TIMEOUT_MS = 5000
/** How long an announcement's first packet may take to fail (bad interface) before it counts as sent. */
const FIRST_PACKET_MS = 50

const bad = (method: string, field: string, reason: string) =>
  new MccsError('MCCS_ERR_CAPABILITY_ARGS', reason, { field: `net.${method}: ${field}` })
const failed = (method: string, reason: string) => new MccsError('MCCS_ERR_CAPABILITY_FAILED', `net.${method}: ${reason}`)

function obj(method: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(method, 'request', 'must be an object')
  return v as Record<string, unknown>
}
function iface(method: string, v: unknown, field = 'iface'): string {
  if (!isInterfaceName(v)) throw bad(method, field, 'must be an interface name (1-15 of A-Z a-z 0-9 _ . @ -)')
  return v
}
function ms(method: string, v: unknown, field: string, def: number, min: number, max: number): number {
  if (v === undefined) return def
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw bad(method, field, `must be a number ${min}..${max}`)
  return v
}
const stderrOf = (r: ExecResult) => (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] ?? ''

export function createNetProvider(opts: NetProviderOptions = {}): CapabilityProvider {
  const tool = (name: keyof typeof TOOLS, method: string): string => {
    const f = findTool(TOOLS[name])
    if (!f) throw failed(method, `${name} is not installed (looked in ${TOOLS[name].join(', ')})`)
    return f
  }
  /** Runs a tool (inside opts.netns when set) bounded by the call. */
  const run = (file: string, args: string[], signal: AbortSignal, deadline: number, timeoutMs = IP_TIMEOUT_MS): Promise<ExecResult> => {
    const [f, a] = opts.netns ? [tool('ip', 'run'), ['netns', 'exec', opts.netns, file, ...args]] : [file, args]
    return runProcess({ file: f, args: a, timeoutMs, maxOutputBytes: 1024 * 1024 }, signal, deadline)
  }
  const ip = async (method: string, args: string[], call: CallInfo): Promise<ExecResult> => {
    if (call.signal.aborted) throw new MccsError('MCCS_ERR_CANCELLED', 'hook cancelled')
    const r = await run(tool('ip', method), args, call.signal, call.deadline)
    call.log.debug('net', { method, args, code: r.code, ms: Math.round(r.durationMs) })
    if (r.timedOut) throw failed(method, `ip ${args.join(' ')} timed out`)
    return r
  }
  const ipOk = async (method: string, args: string[], call: CallInfo): Promise<string> => {
    const r = await ip(method, args, call)
    if (r.code !== 0) throw failed(method, `ip ${args.join(' ')}: ${stderrOf(r)}`)
    return r.stdout
  }
  const sysctlRead = async (key: string, call: CallInfo): Promise<string | null> => {
    const r = await run(tool('sysctl', 'sysctl'), ['-n', key], call.signal, call.deadline)
    return r.code === 0 ? r.stdout.trim() : null
  }
  /** Switches on the kernel's unsolicited NAs for a link; false (and a warning) when it cannot. */
  const ndiscNotifyOn = async (dev: string, call: CallInfo): Promise<boolean> => {
    const key = ndiscNotifyKey(dev)
    if ((await sysctlRead(key, call)) === '1') return true
    const r = await run(tool('sysctl', 'sysctl'), ['-q', '-w', `${key}=1`], call.signal, call.deadline)
    call.log.debug('net', { method: 'addAddress', sysctl: `${key}=1`, code: r.code })
    if (r.code !== 0) call.log.warn(`cannot switch on IPv6 announcements on ${dev}: ${stderrOf(r)}`)
    return r.code === 0
  }
  const links = async (call: CallInfo) => parseLinks(await ipOk('links', ['-j', '-d', 'link', 'show'], call))
  const addresses = async (method: string, dev: string | undefined, call: CallInfo) => {
    const r = await ip(method, ['-j', 'addr', 'show', ...(dev ? ['dev', dev] : [])], call)
    if (r.code !== 0) {
      if (dev && /does not exist/.test(r.stderr)) return []
      throw failed(method, stderrOf(r))
    }
    return parseAddresses(r.stdout)
  }
  const routes = async (dev: string | undefined, call: CallInfo): Promise<NetRoute[]> => {
    const out: NetRoute[] = []
    for (const fam of [4, 6] as const) {
      const r = await ip('routes', ['-j', `-${fam}`, 'route', 'show', ...(dev ? ['dev', dev] : [])], call)
      if (r.code !== 0) {
        if (dev && /does not exist/.test(r.stderr)) return []
        throw failed('routes', stderrOf(r))
      }
      out.push(...parseRoutes(r.stdout, fam))
    }
    return out
  }

  return {
    name: 'net',
    methods: {
      links: simpleMethod('net:read', async (_a, call) => links(call)),
      link: simpleMethod('net:read', async ([name], call) => {
        const n = iface('link', name, 'name')
        return (await links(call)).find((l) => l.name === n) ?? null
      }),
      addresses: simpleMethod('net:read', async ([req], call) => {
        const dev = req === undefined ? undefined : obj('addresses', req).iface
        return addresses('addresses', dev === undefined ? undefined : iface('addresses', dev), call)
      }),
      routes: simpleMethod('net:read', async ([req], call) => {
        const dev = req === undefined ? undefined : obj('routes', req).iface
        return routes(dev === undefined ? undefined : iface('routes', dev), call)
      }),

      addAddress: simpleMethod('net:write', async ([req], call) => {
        const r = obj('addAddress', req)
        const dev = iface('addAddress', r.iface)
        if (!parseIpCidr(r.address))
          throw bad('addAddress', 'address', 'must be an IPv4 or IPv6 address with a prefix length, e.g. 10.0.0.5/24')
        for (const f of ['nodad', 'noprefixroute', 'deprecated', 'announce'] as const) {
          if (r[f] !== undefined && typeof r[f] !== 'boolean') throw bad('addAddress', f, 'must be true or false')
        }
        const v6 = parseIpCidr(r.address)!.family === 6
        const kernelAnnounce = v6 && r.announce === true && r.nodad !== true ? await ndiscNotifyOn(dev, call) : undefined
        const args = addAddressArgs({ ...(r as unknown as AddAddressRequest), iface: dev })
        const res = await ip('addAddress', args, call)
        const more = kernelAnnounce === undefined ? {} : { kernelAnnounce }
        if (res.code === 0) return { added: true, ...more }
        if (/File exists|[Aa]ddress already assigned/.test(res.stderr)) return { added: false, ...more }
        throw failed('addAddress', `ip ${args.join(' ')}: ${stderrOf(res)}`)
      }),
      removeAddress: simpleMethod('net:write', async ([req], call) => {
        const r = obj('removeAddress', req) as Partial<AddressRef>
        const dev = iface('removeAddress', r.iface)
        if (!parseIpCidr(r.address)) throw bad('removeAddress', 'address', 'must be an address with its prefix length, e.g. 10.0.0.5/24')
        const args = removeAddressArgs(dev, r.address!)
        const res = await ip('removeAddress', args, call)
        if (res.code === 0) return { removed: true }
        if (/Cannot assign requested address|[Aa]ddress not found|does not exist/.test(res.stderr)) return { removed: false }
        throw failed('removeAddress', `ip ${args.join(' ')}: ${stderrOf(res)}`)
      }),
      setMac: simpleMethod('net:write', async ([req], call) => {
        const r = obj('setMac', req)
        const dev = iface('setMac', r.iface)
        const mac = normalizeMac(r.mac)
        if (!mac || !isUnicastMac(mac)) throw bad('setMac', 'mac', 'must be a unicast MAC address like 48:88:03:5e:ea:bb')
        const link = (await links(call)).find((l) => l.name === dev)
        if (!link) throw failed('setMac', `no link ${dev}`)
        if (link.mac === mac) return { previous: link.mac, changed: false }
        await ipOk('setMac', ['link', 'set', 'dev', dev, 'address', mac], call)
        return { previous: link.mac, changed: true }
      }),
      addRoute: simpleMethod('net:write', async ([route], call) => {
        const f = badRouteField(route)
        if (f) throw bad('addRoute', f, 'is not valid for a route (see routes() for the shape)')
        const args = addRouteArgs(route as NetRoute)
        const res = await ip('addRoute', args, call)
        if (res.code === 0) return { added: true }
        if (/File exists/.test(res.stderr)) return { added: false }
        throw failed('addRoute', `ip ${args.join(' ')}: ${stderrOf(res)}`)
      }),

      probe: simpleMethod('net:read', async ([req], call): Promise<ProbeResult> => {
        const r = obj('probe', req) as Partial<ProbeRequest>
        const dev = iface('probe', r.iface)
        const addr = parseIp(r.address)
        if (!addr) throw bad('probe', 'address', 'must be an IP address without prefix')
        if (addr.family !== 4) throw bad('probe', 'address', "ARP probes are IPv4 only (IPv6 addresses get the kernel's own DAD)")
        const timeoutMs = ms('probe', r.timeoutMs, 'timeoutMs', 500, 50, 10_000)
        const res = await run(tool('arping', 'probe'), probeArgs(dev, addr.address), call.signal, call.deadline, timeoutMs)
        call.log.debug('net', {
          method: 'probe',
          address: addr.address,
          code: res.code,
          timedOut: res.timedOut,
          ms: Math.round(res.durationMs),
        })
        if (call.signal.aborted) throw new MccsError('MCCS_ERR_CANCELLED', 'hook cancelled')
        // Ended by our timeout: nobody answered in time. Exit 1 in DAD mode: someone answered.
        if (res.timedOut || res.code === 0) return { duplicate: false, replies: [] }
        const replies = parseArpReplies(res.stdout)
        if (res.code === 1 && replies.length) return { duplicate: true, replies }
        throw failed('probe', `arping -D on ${dev}: ${stderrOf(res) || `exit ${res.code}`}`)
      }),
      ping: simpleMethod('net:read', async ([req], call): Promise<PingResult> => {
        const r = obj('ping', req) as Partial<PingRequest>
        if (
          typeof r.host !== 'string' ||
          !(parseIp(r.host) || /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9][A-Za-z0-9-]{0,62})*$/.test(r.host))
        ) {
          throw bad('ping', 'host', 'must be an IP address or a host name')
        }
        const dev = r.iface === undefined ? undefined : iface('ping', r.iface)
        const timeoutMs = ms('ping', r.timeoutMs, 'timeoutMs', 1000, 10, 60_000)
        const res = await run(tool('ping', 'ping'), pingArgs(r.host, timeoutMs, dev), call.signal, call.deadline, timeoutMs)
        if (call.signal.aborted) throw new MccsError('MCCS_ERR_CANCELLED', 'hook cancelled')
        if (res.code === 0) return { host: r.host, reachable: true, rttMs: parsePingRtt(res.stdout) }
        if (res.timedOut || res.code === 1) return { host: r.host, reachable: false, rttMs: null }
        throw failed('ping', `ping ${r.host}: ${stderrOf(res) || `exit ${res.code}`}`)
      }),

      announce: simpleMethod('net:write', async ([req], call): Promise<AnnounceResult> => {
        const r = obj('announce', req) as Partial<AnnounceRequest>
        const dev = iface('announce', r.iface)
        const addr = parseIp(r.address)
        if (!addr) throw bad('announce', 'address', 'must be an IP address without prefix')
        const count = ms('announce', r.count, 'count', 3, 1, 10)
        if (!Number.isInteger(count)) throw bad('announce', 'count', 'must be a whole number 1..10')
        const intervalMs = ms('announce', r.intervalMs, 'intervalMs', 400, 100, 5000)
        if (addr.family === 6 && !findTool(TOOLS.ndisend)) {
          // Debian 12 has no ndisend and Node no raw ICMPv6 socket: the kernel's own NA (sent when DAD
          // completed, see addAddress announce) is the announcement, if it is switched on for the link.
          if ((await sysctlRead(ndiscNotifyKey(dev), call)) === '1') return { sent: 0, scheduled: 0, tool: 'kernel' }
          throw failed('announce', `ndisend is not installed and the kernel does not announce on ${dev} (ndisc_notify is off)`)
        }
        const [name, file, args] =
          addr.family === 4
            ? (['arping', tool('arping', 'announce'), garpArgs(dev, addr.address)] as const)
            : (['ndisend', tool('ndisend', 'announce'), unaArgs(dev, addr.address)] as const)
        // Each packet is its own short-lived process: iputils takes whole-second intervals only, and
        // the hook must not wait for the burst. Background packets outlive the hook on purpose, each
        // bounded by its own 3 s deadline.
        const send = () => run(file, args, new AbortController().signal, Date.now() + 3000, 3000)
        const first = send()
        const early = await Promise.race([
          first,
          new Promise<null>((res) => {
            setTimeout(() => res(null), FIRST_PACKET_MS).unref()
          }),
        ])
        if (early && early.code !== 0 && !early.timedOut)
          throw failed('announce', `${name} on ${dev}: ${stderrOf(early) || `exit ${early.code}`}`)
        for (let i = 1; i < count; i++) {
          setTimeout(() => {
            void send().then((x) => {
              if (x.code !== 0 && !x.timedOut) call.log.warn(`${name} on ${dev} failed: ${stderrOf(x)}`)
            })
          }, i * intervalMs).unref()
        }
        call.log.debug('net', { method: 'announce', address: addr.address, iface: dev, count, intervalMs })
        return { sent: 1, scheduled: count - 1, tool: name }
      }),
    },
  }
}

/** The provider an agent offers its plugins (commands run in the agent's own network namespace). */
export const netProvider: CapabilityProvider = createNetProvider()
