// Warnings when a group's network resources contradict the manual (3.2.6): the order — an address sits
// above its NIC (address depends on nic), AWS Overlay/Secondary IP types sit between them (address ->
// aws-oip|aws-sip -> nic), an Elastic IP sits above the NIC (aws-eip -> nic) — and what the types cannot
// see of each other: an address's per-node NIC is the device of the nic resource below it, and an
// Overlay/Secondary IP is configured on the node by an address resource above it. The one source of
// these warnings for `mccs config validate`, the CLI's edits and the console's REST answers.
// Pure: (config) => warnings. Edges are parent -> child, "parent depends on child".
import { resolveAttrs, type MainConfig } from '../engine/index.js'

export interface OrderWarning {
  /** JSON pointer of the resource concerned in main.json. */
  path: string
  resource: string
  reason: string
  /** The one dependency that answers the warning, when the group leaves no choice (the console offers it as
   *  a button): `parent` depends on `child`. */
  link?: { parent: string; child: string }
}

export const NIC_TYPE = 'nic'
export const ADDRESS_TYPE = 'address'
/** Types that must sit between the address and the NIC. */
export const BETWEEN_TYPES = ['aws-oip', 'aws-sip'] as const
/** Types that must sit directly above a NIC, without an address below them. */
export const ABOVE_NIC_TYPES = ['aws-eip'] as const

/** Groups are optional: without them, an address's NIC is compared on the nodes its attributes name. */
type Cfg = Pick<MainConfig, 'resources' | 'dependencies'> & Partial<Pick<MainConfig, 'groups'>>

export function orderWarnings(cfg: Cfg): OrderWarning[] {
  const out: OrderWarning[] = []
  const byName = new Map(cfg.resources.map((r, i) => [r.name, { ...r, index: i }]))
  const children = new Map<string, string[]>()
  for (const d of cfg.dependencies) children.set(d.parent, [...(children.get(d.parent) ?? []), d.child])
  const typeOf = (n: string) => byName.get(n)?.type
  /** Every resource below `n` (what it depends on, transitively). */
  const below = (n: string): Set<string> => {
    const seen = new Set<string>()
    const stack = [...(children.get(n) ?? [])]
    while (stack.length) {
      const c = stack.pop()!
      if (seen.has(c)) continue
      seen.add(c)
      stack.push(...(children.get(c) ?? []))
    }
    return seen
  }
  const warn = (name: string, reason: string, link?: { parent: string; child: string }) =>
    out.push({ path: `/resources/${byName.get(name)!.index}`, resource: name, reason, ...(link ? { link } : {}) })
  /** The group's only resource of a type, if it has exactly one. */
  const onlyOf = (group: string, test: (t?: string) => boolean): string | undefined => {
    const xs = cfg.resources.filter((x) => x.group === group && test(x.type))
    return xs.length === 1 ? xs[0]!.name : undefined
  }
  /** A link is offered only where it makes no cycle: the child does not already depend on the parent. */
  const offer = (parent: string, child?: string) => (child && !below(child).has(parent) ? { parent, child } : undefined)
  const isBetween = (t?: string) => (BETWEEN_TYPES as readonly string[]).includes(t ?? '')
  const isAboveNic = (t?: string) => (ABOVE_NIC_TYPES as readonly string[]).includes(t ?? '')

  for (const r of cfg.resources) {
    const sub = below(r.name)
    const nicsBelow = [...sub].filter((n) => typeOf(n) === NIC_TYPE && byName.get(n)!.group === r.group)
    if (r.type === ADDRESS_TYPE) {
      if (!nicsBelow.length)
        warn(
          r.name,
          `address '${r.name}' does not depend on a nic resource of group '${r.group}': the manual's order is address -> nic (the NIC is checked first and its faults move the group)`,
          // With an Overlay/Secondary IP in the group the address goes above that one (warned below) instead.
          onlyOf(r.group, isBetween)
            ? undefined
            : offer(
                r.name,
                onlyOf(r.group, (t) => t === NIC_TYPE),
              ),
        )
      nicMismatch(r, nicsBelow)
      const awsInGroup = cfg.resources.filter((x) => x.group === r.group && isBetween(x.type))
      for (const x of awsInGroup) {
        if (below(x.name).has(r.name))
          warn(
            x.name,
            `${x.type} '${x.name}' depends on address '${r.name}': the manual's order is address -> ${x.type} -> nic (otherwise the address may not be reachable)`,
          )
        else if (!sub.has(x.name))
          warn(
            r.name,
            `address '${r.name}' does not depend on ${x.type} '${x.name}' of its group: the manual's order is address -> ${x.type} -> nic`,
            offer(r.name, x.name),
          )
      }
    }
    if (r.type === NIC_TYPE) {
      for (const n of sub) {
        const t = typeOf(n)
        if (t === ADDRESS_TYPE || isBetween(t) || isAboveNic(t))
          warn(r.name, `nic '${r.name}' depends on ${t} '${n}': the NIC belongs at the bottom (${t} -> nic)`)
      }
    }
    if (isBetween(r.type) || isAboveNic(r.type)) {
      if (!nicsBelow.length)
        warn(
          r.name,
          `${r.type} '${r.name}' does not depend on a nic resource of group '${r.group}': the manual's order is ${isBetween(r.type) ? `address -> ${r.type} -> nic` : `${r.type} -> nic`}`,
          offer(
            r.name,
            onlyOf(r.group, (t) => t === NIC_TYPE),
          ),
        )
    }
    if (isBetween(r.type)) ipWithoutAddress(r)
  }
  return out

  /** The address's `nic` on each node against the `device` of the nic resources below it there. */
  function nicMismatch(r: Res, nics: string[]): void {
    if (!nics.length) return
    const nodes = new Set(cfg.groups?.find((g) => g.name === r.group)?.nodes ?? [])
    for (const n of [r.name, ...nics]) for (const node of Object.keys(byName.get(n)!.nodeAttrs ?? {})) nodes.add(node)
    // Without any node known, the cluster-wide values are compared.
    const on = (x: Res, node: string | null) => (node === null ? x.attrs : resolveAttrs(x, node))
    const wrong: string[] = []
    for (const node of nodes.size ? [...nodes] : [null]) {
      const mine = on(r, node)['nic']
      if (typeof mine !== 'string') continue
      const devices = nics.map((n) => [n, on(byName.get(n)!, node)['device']] as const).filter(([, d]) => typeof d === 'string')
      if (!devices.length || devices.some(([, d]) => d === mine)) continue
      const theirs = devices.map(([n, d]) => `nic '${n}' has device '${String(d)}'`).join(', ')
      wrong.push(`'${mine}'${node === null ? '' : ` on ${node}`} where ${theirs}`)
    }
    if (wrong.length)
      warn(
        r.name,
        `address '${r.name}' is on network card ${wrong.join('; ')}: the address must be on the NIC that its nic resource checks (otherwise a NIC fault does not move it)`,
      )
  }

  /** An Overlay/Secondary IP only routes or assigns the IP in the VPC: an address resource above it configures it on the node. */
  function ipWithoutAddress(r: Res): void {
    const ip = ipOf(r.attrs['ip'])
    if (!ip) return
    const above = cfg.resources.filter((x) => x.type === ADDRESS_TYPE && x.group === r.group && below(x.name).has(r.name))
    if (above.some((x) => ipOf(x.attrs['address']) === ip)) return
    const others = above.filter((x) => ipOf(x.attrs['address'])).map((x) => `'${x.name}' above it holds ${ipOf(x.attrs['address'])}`)
    warn(
      r.name,
      `${r.type} '${r.name}' moves ${ip} but no address resource above it holds that IP${others.length ? ` (address ${others.join(', address ')})` : ''}: the manual's order is address -> ${r.type} -> nic, with the address configuring ${ip} on the active node`,
    )
  }
}

type Res = Cfg['resources'][number]

/** The IP of an `ip` or `address` attribute, without its prefix length. */
function ipOf(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v.split('/')[0]!.toLowerCase() : undefined
}
