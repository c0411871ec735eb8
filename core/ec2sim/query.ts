// EC2 Query parameters: a flat map of names such as `RouteTableId.1` or `Filter.2.Value.1`, read and
// validated here so that every action reports a bad or missing parameter the way EC2 does.
import { Ec2Error, invalidValue, missing } from './errors.js'
import { parseCidr, parseIp } from './ip.js'

export interface Filter {
  name: string
  values: string[]
}

const ID_PATTERN = /^[0-9A-Za-z][0-9A-Za-z_-]*$/

export class Params {
  constructor(readonly map: Map<string, string>) {}

  static parse(text: string): Params {
    const map = new Map<string, string>()
    for (const [k, v] of new URLSearchParams(text)) if (!map.has(k)) map.set(k, v)
    return new Params(map)
  }

  has(name: string): boolean {
    return this.map.has(name)
  }

  str(name: string): string | undefined {
    return this.map.get(name)
  }

  req(name: string): string {
    const v = this.map.get(name)
    if (v === undefined || v === '') throw missing(name)
    return v
  }

  bool(name: string): boolean | undefined {
    const v = this.map.get(name)
    if (v === undefined) return undefined
    if (/^true$/i.test(v)) return true
    if (/^false$/i.test(v)) return false
    throw invalidValue(name, v, "Expected: 'boolean'.")
  }

  int(name: string, min: number, max: number): number | undefined {
    const v = this.map.get(name)
    if (v === undefined) return undefined
    const n = Number(v)
    if (!/^-?\d+$/.test(v) || n < min || n > max) throw invalidValue(name, v, `Expected an integer from ${min} to ${max}.`)
    return n
  }

  /** `Prefix.1`, `Prefix.2`, ... in index order (EC2 lists start at 1; gaps are allowed). */
  list(prefix: string): string[] {
    const out: Array<[number, string]> = []
    const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)$`)
    for (const [k, v] of this.map) {
      const m = re.exec(k)
      if (m) out.push([Number(m[1]), v])
    }
    return out.sort((a, b) => a[0] - b[0]).map(([, v]) => v)
  }

  filters(): Filter[] {
    const byIndex = new Map<number, { name?: string; values: Array<[number, string]> }>()
    for (const [k, v] of this.map) {
      const m = /^Filter\.(\d+)\.(Name|Value\.(\d+))$/.exec(k)
      if (!m) continue
      const f = byIndex.get(Number(m[1])) ?? { values: [] }
      if (m[2] === 'Name') f.name = v
      else f.values.push([Number(m[3]), v])
      byIndex.set(Number(m[1]), f)
    }
    return [...byIndex.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([i, f]) => {
        if (!f.name) throw missing(`Filter.${i}.Name`)
        return { name: f.name, values: f.values.sort((a, b) => a[0] - b[0]).map(([, v]) => v) }
      })
  }

  /** An id such as `rtb-0abc`; a wrong prefix or character is `<Kind>.Malformed` as in EC2. */
  id(name: string, prefix: string, malformed: string, required: true): string
  id(name: string, prefix: string, malformed: string, required?: false): string | undefined
  id(name: string, prefix: string, malformed: string, required = false): string | undefined {
    const v = required ? this.req(name) : this.str(name)
    if (v === undefined) return undefined
    checkId(v, prefix, malformed)
    return v
  }

  ids(prefix: string, idPrefix: string, malformed: string): string[] {
    const v = this.list(prefix)
    for (const id of v) checkId(id, idPrefix, malformed)
    return v
  }

  cidr(name: string): string {
    const v = this.req(name)
    if (!parseCidr(v)) throw invalidValue(name, v, 'This is not a valid CIDR block.')
    return v
  }

  ip(name: string, v: string): number {
    const n = parseIp(v)
    if (n === null) throw invalidValue(name, v, 'This is not a valid IPv4 address.')
    return n
  }
}

export function checkId(v: string, prefix: string, malformed: string): void {
  if (!v.startsWith(prefix + '-') || !ID_PATTERN.test(v.slice(prefix.length + 1))) {
    throw new Ec2Error(malformed, `Invalid id: "${v}" (expecting "${prefix}-...")`)
  }
}
