// Warnings when a group's dependencies contradict the manual's order for network resources (3.2.6):
// an address sits above its NIC (address depends on nic), and AWS Overlay/Secondary IP types sit
// between them (address -> aws-oip|aws-sip -> nic); an Elastic IP sits above the NIC (aws-eip -> nic).
// Pure: (config) => warnings. Edges are parent -> child, "parent depends on child".
import type { MainConfig } from '../engine/index.js'

export interface OrderWarning {
  /** JSON pointer of the resource concerned in main.json. */
  path: string
  resource: string
  reason: string
}

export const NIC_TYPE = 'nic'
export const ADDRESS_TYPE = 'address'
/** Types that must sit between the address and the NIC. */
export const BETWEEN_TYPES = ['aws-oip', 'aws-sip'] as const
/** Types that must sit directly above a NIC, without an address below them. */
export const ABOVE_NIC_TYPES = ['aws-eip'] as const

type Cfg = Pick<MainConfig, 'resources' | 'dependencies'>

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
  const warn = (name: string, reason: string) => out.push({ path: `/resources/${byName.get(name)!.index}`, resource: name, reason })
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
        )
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
        )
    }
  }
  return out
}
