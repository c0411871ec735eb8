// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: it throws on
// anything a Prometheus server would refuse or that the format's rules forbid (a family split by another,
// TYPE after a sample, a repeated series, a bad escape, a histogram whose buckets are not cumulative or
// lack +Inf / _sum / _count), naming the line.
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}
export interface Family {
  name: string
  type: string
  help: string | null
  samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

function parseValue(s: string, at: string): number {
  if (s === 'NaN') return NaN
  if (s === '+Inf' || s === 'Inf') return Infinity
  if (s === '-Inf') return -Infinity
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`${at}: value '${s}' is not a float`)
  return Number(s)
}

function unescapeHelp(s: string, at: string): string {
  return s.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === '\\') return '\\'
    if (c === 'n') return '\n'
    throw new Error(`${at}: bad escape \\${c} in HELP`)
  })
}

/** The family a sample belongs to: a histogram's _bucket/_sum/_count and a summary's _sum/_count. */
function familyOf(name: string, types: Map<string, string>): string {
  for (const suf of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suf)) continue
    const base = name.slice(0, -suf.length)
    const t = types.get(base)
    if (t === 'histogram' || (t === 'summary' && suf !== '_bucket')) return base
  }
  return name
}

function parseLabels(s: string, at: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {}
  let i = 1 // after '{'
  for (;;) {
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) }
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i))
    if (!m) throw new Error(`${at}: bad label name at column ${i}`)
    const key = m[0]
    i += key.length
    if (s[i] !== '=' || s[i + 1] !== '"') throw new Error(`${at}: label ${key} needs ="value"`)
    i += 2
    let v = ''
    for (;;) {
      const c = s[i]
      if (c === undefined) throw new Error(`${at}: unterminated value of label ${key}`)
      if (c === '"') {
        i++
        break
      }
      if (c === '\n') throw new Error(`${at}: raw newline in label ${key}`)
      if (c === '\\') {
        const n = s[i + 1]
        if (n === '\\') v += '\\'
        else if (n === '"') v += '"'
        else if (n === 'n') v += '\n'
        else throw new Error(`${at}: bad escape \\${n ?? ''} in label ${key}`)
        i += 2
        continue
      }
      v += c
      i++
    }
    if (!LABEL.test(key) || key.startsWith('__')) throw new Error(`${at}: label name ${key} is reserved or invalid`)
    if (key in labels) throw new Error(`${at}: label ${key} repeated`)
    labels[key] = v
    if (s[i] === ',') {
      i++
      continue
    }
    if (s[i] !== '}') throw new Error(`${at}: expected , or } after label ${key}`)
  }
}

export function parseExposition(text: string): Map<string, Family> {
  if (text.length && !text.endsWith('\n')) throw new Error('the text must end with a newline')
  const families = new Map<string, Family>()
  const types = new Map<string, string>()
  const closed = new Set<string>()
  const seen = new Set<string>()
  let current: string | null = null
  const enter = (fam: string, at: string) => {
    if (current === fam) return
    if (closed.has(fam) || families.get(fam)?.samples.length) throw new Error(`${at}: family ${fam} continues after another family began`)
    if (current) closed.add(current)
    current = fam
  }
  const lines = text.split('\n').slice(0, -1)
  lines.forEach((line, idx) => {
    const at = `line ${idx + 1}`
    if (line === '') return
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line)
      if (!m) return // a plain comment
      const [, kw, name, rest] = m as unknown as [string, string, string, string | undefined]
      if (!NAME.test(name)) throw new Error(`${at}: bad metric name ${name}`)
      const fam = families.get(name) ?? { name, type: 'untyped', help: null, samples: [] }
      if (fam.samples.length) throw new Error(`${at}: ${kw} of ${name} after its samples`)
      if (current !== name && closed.has(name)) throw new Error(`${at}: ${name} described twice`)
      if (current && current !== name) closed.add(current)
      current = name
      if (kw === 'TYPE') {
        if (types.has(name)) throw new Error(`${at}: second TYPE for ${name}`)
        if (!rest || !TYPES.has(rest)) throw new Error(`${at}: bad type '${rest ?? ''}' for ${name}`)
        types.set(name, rest)
        fam.type = rest
      } else {
        if (fam.help !== null) throw new Error(`${at}: second HELP for ${name}`)
        fam.help = unescapeHelp(rest ?? '', at)
      }
      families.set(name, fam)
      return
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)
    if (!nm) throw new Error(`${at}: bad metric name`)
    const name = nm[0]
    let rest = line.slice(name.length)
    let labels: Record<string, string> = {}
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, at))
    const parts = rest.split(' ')
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3)
      throw new Error(`${at}: expected one space, a value and an optional timestamp`)
    const value = parseValue(parts[1]!, at)
    if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) throw new Error(`${at}: bad timestamp`)
    const fam = familyOf(name, types)
    enter(fam, at)
    const key = name + JSON.stringify(Object.entries(labels).sort())
    if (seen.has(key)) throw new Error(`${at}: series ${key} repeated`)
    seen.add(key)
    const f = families.get(fam) ?? { name: fam, type: 'untyped', help: null, samples: [] }
    const t = f.type
    if (t === 'counter' && (value < 0 || Number.isNaN(value))) throw new Error(`${at}: counter ${name} is ${value}`)
    if (t === 'histogram' && name === fam) throw new Error(`${at}: histogram ${fam} sample without _bucket/_sum/_count`)
    if (t === 'histogram' && name.endsWith('_bucket') && !('le' in labels)) throw new Error(`${at}: bucket without le`)
    f.samples.push({ name, labels, value })
    families.set(fam, f)
  })
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f)
  return families
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, Sample[]>()
  const keyOf = (l: Record<string, string>) =>
    JSON.stringify(
      Object.entries(l)
        .filter(([k]) => k !== 'le')
        .sort(),
    )
  for (const s of f.samples) groups.set(keyOf(s.labels), [...(groups.get(keyOf(s.labels)) ?? []), s])
  for (const [k, ss] of groups) {
    const buckets = ss
      .filter((s) => s.name === `${f.name}_bucket`)
      .map((s) => ({ le: parseValue(s.labels.le!, `${f.name}${k}`), v: s.value }))
    const count = ss.find((s) => s.name === `${f.name}_count`)
    if (!ss.some((s) => s.name === `${f.name}_sum`) || !count) throw new Error(`histogram ${f.name}${k}: _sum or _count missing`)
    const inf = buckets.find((b) => b.le === Infinity)
    if (!inf) throw new Error(`histogram ${f.name}${k}: no +Inf bucket`)
    if (inf.v !== count.value) throw new Error(`histogram ${f.name}${k}: +Inf bucket ${inf.v} != _count ${count.value}`)
    const sorted = [...buckets].sort((a, b) => a.le - b.le)
    for (let i = 1; i < sorted.length; i++)
      if (sorted[i]!.v < sorted[i - 1]!.v) throw new Error(`histogram ${f.name}${k}: buckets not cumulative at le=${sorted[i]!.le}`)
  }
}

/** The value of one series (labels must match exactly), or undefined. */
export function valueOf(fams: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of fams.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue
      const a = Object.entries(s.labels).sort(),
        b = Object.entries(labels).sort()
      if (JSON.stringify(a) === JSON.stringify(b)) return s.value
    }
  }
  return undefined
}

/** Every sample of a metric name. */
export const samplesOf = (fams: Map<string, Family>, name: string): Sample[] =>
  [...fams.values()].flatMap((f) => f.samples.filter((s) => s.name === name))
