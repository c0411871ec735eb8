// The Prometheus text exposition format (version 0.0.4), written: one family at a time, HELP and TYPE
// before its samples, label values escaped. Families are declared up front so that a family with no
// sample still says what it is, and a sample of an undeclared family is a programming error.
export type MetricType = 'counter' | 'gauge' | 'histogram'
export type Labels = Record<string, string | number | boolean>

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

const escLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
const escHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')

/** Go's float formatting as Prometheus reads it: integers plainly, +Inf/-Inf/NaN by name. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels)
  if (!keys.length) return ''
  return (
    '{' +
    keys
      .map((k) => {
        if (!LABEL.test(k) || k.startsWith('__')) throw new Error(`metrics: bad label name ${k}`)
        return `${k}="${escLabel(String(labels[k]))}"`
      })
      .join(',') +
    '}'
  )
}

interface FamilyDef {
  type: MetricType
  help: string
  lines: string[]
  series: Set<string>
}

export class Exposition {
  private readonly families = new Map<string, FamilyDef>()

  /** Declares a family (its order in the output is the order of declaration). */
  family(name: string, type: MetricType, help: string): this {
    if (!NAME.test(name)) throw new Error(`metrics: bad metric name ${name}`)
    if (this.families.has(name)) throw new Error(`metrics: ${name} declared twice`)
    this.families.set(name, { type, help, lines: [], series: new Set() })
    return this
  }

  /** One sample of a counter or gauge. A repeated series is dropped (the first value stands). */
  add(name: string, labels: Labels, value: number): this {
    const f = this.def(name)
    if (f.type === 'histogram') throw new Error(`metrics: ${name} is a histogram: use histogram()`)
    this.line(f, name, labels, value)
    return this
  }

  /** A histogram's series: cumulative buckets (with +Inf), _sum and _count. */
  histogram(name: string, labels: Labels, h: { bounds: number[]; counts: number[]; sum: number; count: number }): this {
    const f = this.def(name)
    if (f.type !== 'histogram') throw new Error(`metrics: ${name} is not a histogram`)
    let acc = 0
    h.bounds.forEach((le, i) => {
      acc += h.counts[i] ?? 0
      this.line(f, `${name}_bucket`, { ...labels, le: formatValue(le) }, acc)
    })
    this.line(f, `${name}_bucket`, { ...labels, le: '+Inf' }, h.count)
    this.line(f, `${name}_sum`, labels, h.sum)
    this.line(f, `${name}_count`, labels, h.count)
    return this
  }

  text(): string {
    let out = ''
    for (const [name, f] of this.families) {
      out += `# HELP ${name} ${escHelp(f.help)}\n# TYPE ${name} ${f.type}\n`
      for (const l of f.lines) out += l + '\n'
    }
    return out
  }

  private def(name: string): FamilyDef {
    const f = this.families.get(name)
    if (!f) throw new Error(`metrics: ${name} was not declared`)
    return f
  }

  private line(f: FamilyDef, name: string, labels: Labels, value: number): void {
    const l = labelText(labels)
    if (f.series.has(name + l)) return
    f.series.add(name + l)
    f.lines.push(`${name}${l} ${formatValue(value)}`)
  }
}
