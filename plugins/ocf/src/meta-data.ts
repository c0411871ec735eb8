// An OCF agent's meta-data (its XML self-description) read into a model, turned into the wizard's
// schema for the agent's parameters, and used to check a resource's `params` (required present, unknown
// refused, integers, booleans and choices as the agent declares them).
import { parseXml, child, childrenNamed, type XmlElement } from './xml.js'

export interface OcfParam {
  name: string
  required: boolean
  unique: boolean
  deprecated: boolean
  shortdesc: string
  longdesc: string
  /** string | integer | boolean | select (OCF 1.1), or whatever the agent wrote (treated as string). */
  type: string
  default?: string
  /** The choices of a `select` parameter. */
  options?: string[]
}

export interface OcfAction {
  name: string
  timeoutS?: number
  intervalS?: number
  depth?: string
  role?: string
}

export interface OcfMeta {
  name: string
  version: string
  shortdesc: string
  longdesc: string
  params: OcfParam[]
  actions: OcfAction[]
}

/** A parameter name that can become OCF_RESKEY_<name> (the exec capability takes no other). */
export const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/
const OCF_TRUE = /^(1|yes|true|on|ja|y)$/i
const OCF_BOOLEAN = /^(1|0|yes|no|true|false|on|off|ja|nein|y|n)$/i
const MAX_DESC = 2000

const clean = (s: string | undefined): string => (s ?? '').replace(/[ \t]+\n/g, '\n').trim()
/** The English description when the agent gives several (lang="en"), else the first. */
function desc(el: XmlElement | undefined, name: string): string {
  const all = childrenNamed(el, name)
  return clean((all.find((d) => (d.attrs.lang ?? 'en').startsWith('en')) ?? all[0])?.text)
}

/** Pacemaker's durations: "20s", "20", "500ms", "2m", "2min", "1h" -> seconds (undefined when unreadable). */
export function durationS(v: string | undefined): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|msec|s|sec|m|min|h|hr)?\s*$/i.exec(v ?? '')
  if (!m) return undefined
  const n = Number(m[1])
  const unit = (m[2] ?? 's').toLowerCase()
  const f = unit.startsWith('ms') ? 0.001 : unit.startsWith('m') ? 60 : unit.startsWith('h') ? 3600 : 1
  return n * f
}

export function parseMetaData(xml: string): OcfMeta {
  const root = parseXml(xml)
  if (root.name !== 'resource-agent') throw new Error(`the root element is <${root.name}>, not <resource-agent>`)
  const params = childrenNamed(child(root, 'parameters'), 'parameter').map((p): OcfParam => {
    const content = child(p, 'content')
    const options = childrenNamed(content, 'option')
      .map((o) => o.attrs.value)
      .filter((v): v is string => typeof v === 'string')
    return {
      name: p.attrs.name ?? '',
      required: p.attrs.required === '1' || OCF_TRUE.test(p.attrs.required ?? ''),
      unique: p.attrs.unique === '1',
      deprecated: p.attrs.deprecated === '1' || child(p, 'deprecated') !== undefined,
      shortdesc: desc(p, 'shortdesc'),
      longdesc: desc(p, 'longdesc'),
      type: (content?.attrs.type ?? 'string').toLowerCase(),
      ...(content?.attrs.default !== undefined ? { default: content.attrs.default } : {}),
      ...(options.length ? { options } : {}),
    }
  })
  const actions = childrenNamed(child(root, 'actions'), 'action').map((a): OcfAction => ({
    name: a.attrs.name ?? '',
    ...(durationS(a.attrs.timeout) !== undefined ? { timeoutS: durationS(a.attrs.timeout) } : {}),
    ...(durationS(a.attrs.interval) !== undefined ? { intervalS: durationS(a.attrs.interval) } : {}),
    ...(a.attrs.depth !== undefined ? { depth: a.attrs.depth } : {}),
    ...(a.attrs.role !== undefined ? { role: a.attrs.role } : {}),
  }))
  return {
    name: root.attrs.name ?? '',
    version: clean(child(root, 'version')?.text) || (root.attrs.version ?? ''),
    shortdesc: desc(root, 'shortdesc'),
    longdesc: desc(root, 'longdesc'),
    params: params.filter((p) => p.name),
    actions: actions.filter((a) => a.name),
  }
}

/** The agent's advised timeout for an action, in seconds (monitor: the first monitor without a role). */
export function advisedTimeoutS(meta: OcfMeta, action: string): number | undefined {
  const all = meta.actions.filter((a) => a.name === action)
  return (all.find((a) => !a.role) ?? all[0])?.timeoutS
}

const cap = (s: string): string => (s.length > MAX_DESC ? `${s.slice(0, MAX_DESC)} …` : s)
/** Names that hold secrets by their look: masked in the wizard. */
const SECRET_NAME = /pass(w(or)?d)?$|password|passwd|secret|token/i

/**
 * The wizard schema of the agent's parameters: one field per parameter, titled by its shortdesc, its
 * longdesc as the description, required as the agent says, selects and booleans as choices. Defaults
 * are written in the description (and as the select's "(default: …)" entry), not as `default`: a
 * default put in the field would be saved as a value, and an agent's defaults are often computed at run
 * time (Dummy's state file is named after the resource).
 */
export function paramsSchema(meta: OcfMeta, agent: string): Record<string, unknown> {
  const usable = meta.params.filter((p) => PARAM_NAME.test(p.name))
  const properties: Record<string, unknown> = {}
  const order = [
    ...usable.filter((p) => p.required),
    ...usable.filter((p) => !p.required && !p.deprecated),
    ...usable.filter((p) => !p.required && p.deprecated),
  ]
  for (const [i, p] of order.entries()) {
    const notes = [
      p.default !== undefined && p.default !== '' ? `Default: ${p.default}.` : '',
      p.unique ? 'Must be unique across the cluster.' : '',
      p.deprecated ? 'Deprecated.' : '',
    ]
      .filter(Boolean)
      .join(' ')
    const description = cap([p.longdesc && p.longdesc !== p.shortdesc ? p.longdesc : '', notes].filter(Boolean).join('\n\n'))
    const title = `${p.shortdesc || p.name} (${p.name})`
    const hints: Record<string, unknown> = { order: i + 1, group: p.required ? 'Required' : p.deprecated ? 'Deprecated' : 'Optional' }
    let s: Record<string, unknown>
    if (p.type === 'boolean') s = { type: 'string', enum: ['true', 'false'] }
    else if (p.type === 'select' && p.options) s = { type: 'string', enum: p.options }
    else if (p.type === 'integer') s = { type: 'integer' }
    else {
      s = { type: 'string' }
      if (SECRET_NAME.test(p.name)) Object.assign(hints, { secret: true, widget: 'password' })
    }
    // A select shows "(default: …)" for its empty entry: there a default is safe, nothing is saved.
    if (s.enum && p.default !== undefined && p.default !== '')
      s.default = p.type === 'boolean' ? (OCF_TRUE.test(p.default) ? 'true' : 'false') : p.default
    properties[p.name] = { ...s, title, ...(description ? { description } : {}), 'x-mccs': hints }
  }
  const advised = ['start', 'stop', 'monitor'].map((a) => [a, advisedTimeoutS(meta, a)] as const).filter(([, v]) => v !== undefined)
  return {
    type: 'object',
    title: `ocf:${agent}${meta.shortdesc ? ` — ${meta.shortdesc}` : ''}`,
    description: cap(
      [
        meta.longdesc.length > 600 ? `${meta.longdesc.slice(0, 600)} …` : meta.longdesc,
        advised.length ? `Advised timeouts: ${advised.map(([a, v]) => `${a} ${v} s`).join(', ')}.` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
    ),
    additionalProperties: false,
    required: order.filter((p) => p.required).map((p) => p.name),
    properties,
  }
}

export interface ParamProblem {
  param: string
  summary: string
  detail?: string
}

/** The string an agent receives for a value (OCF parameters are environment variables). */
export function paramValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  return undefined
}

/** What is wrong with `params` for this agent: required missing, unknown names, values of the wrong kind. */
export function checkParams(meta: OcfMeta, agent: string, params: Record<string, unknown>): ParamProblem[] {
  const problems: ParamProblem[] = []
  const known = new Map(meta.params.map((p) => [p.name, p]))
  for (const [name, v] of Object.entries(params)) {
    const p = known.get(name)
    if (!p) {
      problems.push({
        param: name,
        summary: `is not a parameter of ocf:${agent}`,
        detail: `its parameters: ${[...known.keys()].join(', ') || 'none'}`,
      })
      continue
    }
    const s = paramValue(v)
    if (s === undefined) {
      problems.push({ param: name, summary: 'must be a string, a number or true/false' })
      continue
    }
    if (s.includes('\0')) {
      problems.push({ param: name, summary: 'must not contain a NUL character' })
      continue
    }
    if (p.type === 'integer' && s !== '' && !/^-?\d+$/.test(s))
      problems.push({ param: name, summary: `must be a whole number (got ${JSON.stringify(s)})` })
    if (p.type === 'boolean' && s !== '' && !OCF_BOOLEAN.test(s))
      problems.push({ param: name, summary: `must be true or false (got ${JSON.stringify(s)})` })
    if (p.type === 'select' && p.options && !p.options.includes(s))
      problems.push({ param: name, summary: `must be one of ${p.options.join(', ')} (got ${JSON.stringify(s)})` })
  }
  for (const p of meta.params) {
    if (p.required && (params[p.name] === undefined || paramValue(params[p.name]) === '')) {
      problems.push({ param: p.name, summary: `is required by ocf:${agent}`, ...(p.shortdesc ? { detail: p.shortdesc } : {}) })
    }
  }
  return problems
}
