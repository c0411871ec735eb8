// File-level validation of main.json and hb.json: syntax, schema, then cross-references (names,
// groups, nodes, types, dependency cycles, type attributes). Every issue is collected; nothing throws
// half-way. Defaults are applied to a copy, so a valid result is a complete MainConfig / HbConfig.

import { type DependencyConfig, type GroupConfig, type MainConfig, findCycle } from '../engine/index.js'
import type { HbConfig } from './hb-model.js'
import type { ErrorCode } from '../errors.js'
import { attributeAjv, configAjv, explainErrors, type ValidateFunction } from './ajv.js'
import type { ConfigIssue } from './issue.js'
import { pointerSegment as seg, readJson } from './json-text.js'
import { HB_SCHEMA, MAIN_SCHEMA, viewNamesBudget } from './schema.js'
import { readVersion, type ConfigKind } from './schema-version.js'

/** What the plugin host knows about resource types (the store does not load plugins itself). */
export interface TypeCatalog {
  has(type: string): boolean
  /** JSON Schema 2020-12 of the attributes; `x-mccs: { scope: "node" }` marks per-node properties. */
  attributeSchema(type: string): object | undefined
}

/** `from`: the schema version the document had (the config is at the current one, without the field). */
export type Validated<T> = { ok: true; config: T; from: number } | { ok: false; errors: ConfigIssue[] }

export interface FileContext {
  /** Named in every issue. */
  file: string
  /** The schema version of a document without `schemaVersion`: 'v1' for what was read from a file or
   *  received from a peer; 'current' for a configuration this agent built. Default: 'v1' for text,
   *  'current' for a parsed value. */
  unversioned?: 'v1' | 'current'
}

export interface MainContext extends FileContext {
  /** When given, group nodes and per-node attributes must name its nodes. */
  hb?: HbConfig
  /** When given, resource types must exist and attributes must match their schema. */
  types?: TypeCatalog
}

// Compiled on first use: schema compilation is most of this module's start-up cost (~0.1 s).
let schemas: { main: ValidateFunction; hb: ValidateFunction } | undefined
function compiledSchemas(): { main: ValidateFunction; hb: ValidateFunction } {
  if (!schemas) {
    const ajv = configAjv()
    schemas = { main: ajv.compile(MAIN_SCHEMA), hb: ajv.compile(HB_SCHEMA) }
  }
  return schemas
}

/** `doc` is the file text (string or bytes) or an already parsed value. */
export function validateMain(doc: unknown, ctx: MainContext): Validated<MainConfig> {
  const c = new Collector(ctx.file)
  const value = c.version('main', c.read(doc), ctx.unversioned ?? defaultUnversioned(doc))
  if (value === UNREADABLE) return c.result()
  c.schema(compiledSchemas().main, value)
  if (isObj(value)) checkMain(value, ctx, c)
  return c.result(value as MainConfig)
}

export function validateHb(doc: unknown, ctx: FileContext): Validated<HbConfig> {
  const c = new Collector(ctx.file)
  const value = c.version('hb', c.read(doc), ctx.unversioned ?? defaultUnversioned(doc))
  if (value === UNREADABLE) return c.result()
  c.schema(compiledSchemas().hb, value)
  if (isObj(value)) checkHb(value, c)
  return c.result(value as HbConfig)
}

// ---------------------------------------------------------------------------------------------

const UNREADABLE = Symbol('unreadable')

const defaultUnversioned = (doc: unknown): 'v1' | 'current' => (typeof doc === 'string' || doc instanceof Uint8Array ? 'v1' : 'current')

class Collector {
  readonly issues: ConfigIssue[] = []
  private readonly seen = new Set<string>()
  /** The schema version the document had. */
  private from = 0
  constructor(private readonly file: string) {}

  /** Brings an object to the current schema version (without the field). A version this agent cannot
   *  read stops here: checking a newer format against this one's schema would only list its novelties. */
  version(kind: ConfigKind, value: unknown, missing: 'v1' | 'current'): unknown {
    if (value === UNREADABLE || !isObj(value)) return value // the schema says what is wrong with a non-object
    const r = readVersion(kind, value, this.file, missing)
    if (!r.ok) {
      this.issues.push(r.issue)
      return UNREADABLE
    }
    this.from = r.from
    return r.doc
  }

  add(path: string, code: ErrorCode, reason: string, pos?: { line: number; column: number }): void {
    const key = `${path}\0${code}\0${reason}`
    if (this.seen.has(key)) return
    this.seen.add(key)
    this.issues.push({ file: this.file, path, code, reason, ...(pos ? { line: pos.line, column: pos.column } : {}) })
  }

  /** Parses text; returns a private copy of the value (defaults are written into it). */
  read(doc: unknown): unknown {
    if (doc instanceof Uint8Array) doc = Buffer.from(doc).toString('utf8')
    if (typeof doc === 'string') {
      const r = readJson(doc)
      if (!r.ok) {
        this.add('', 'MCCS_ERR_CONFIG_SYNTAX', `line ${r.error.line}, column ${r.error.column}: ${r.error.reason}`, r.error)
        return UNREADABLE
      }
      for (const d of r.duplicates) {
        this.add(d.pointer ?? '', 'MCCS_ERR_CONFIG_DUPLICATE', `line ${d.line}, column ${d.column}: ${d.reason}`, d)
      }
      return r.value
    }
    try {
      return structuredClone(doc)
    } catch {
      this.add('', 'MCCS_ERR_CONFIG_SCHEMA', 'is not plain JSON data')
      return UNREADABLE
    }
  }

  schema(validate: ValidateFunction, value: unknown): void {
    if (validate(value)) return
    for (const e of explainErrors(validate.errors)) this.add(e.path, 'MCCS_ERR_CONFIG_SCHEMA', e.reason)
  }

  result<T>(value?: T): Validated<T> {
    return this.issues.length === 0 && value !== undefined
      ? { ok: true, config: value, from: this.from }
      : { ok: false, errors: this.issues }
  }
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
/** Array members that are objects, with their index (the schema reports the others). */
const items = (v: unknown): { i: number; v: Obj }[] => (Array.isArray(v) ? v.flatMap((x, i) => (isObj(x) ? [{ i, v: x }] : [])) : [])

/** name -> first definition; later ones are reported as duplicates. */
function byName(list: { i: number; v: Obj }[], base: string, what: string, c: Collector): Map<string, { i: number; v: Obj }> {
  const map = new Map<string, { i: number; v: Obj }>()
  for (const e of list) {
    const name = str(e.v['name'])
    if (name === undefined) continue
    const prev = map.get(name)
    if (prev) c.add(`${base}/${e.i}/name`, 'MCCS_ERR_CONFIG_DUPLICATE', `${what} name "${name}" is already used by ${base}/${prev.i}`)
    else map.set(name, e)
  }
  return map
}

function checkMain(main: Obj, ctx: MainContext, c: Collector): void {
  const groups = byName(items(main['groups']), '/groups', 'group', c)
  const resources = byName(items(main['resources']), '/resources', 'resource', c)
  const hbNodes = ctx.hb ? new Set(ctx.hb.nodes.map((n) => n.name)) : undefined

  if (hbNodes) {
    for (const g of items(main['groups'])) {
      const nodes = Array.isArray(g.v['nodes']) ? g.v['nodes'] : []
      nodes.forEach((n, j) => {
        if (typeof n === 'string' && !hbNodes.has(n))
          c.add(`/groups/${g.i}/nodes/${j}`, 'MCCS_ERR_CONFIG_REF', `no node named "${n}" in hb.json`)
      })
    }
  }

  for (const r of items(main['resources'])) {
    const at = `/resources/${r.i}`
    const group = str(r.v['group'])
    const g = group === undefined ? undefined : groups.get(group)
    if (group !== undefined && !g) c.add(`${at}/group`, 'MCCS_ERR_CONFIG_REF', `no group named "${group}"`)
    if (hbNodes && isObj(r.v['nodeAttrs'])) {
      for (const n of Object.keys(r.v['nodeAttrs'])) {
        if (!hbNodes.has(n))
          c.add(`${at}/nodeAttrs/${seg(n)}`, 'MCCS_ERR_CONFIG_REF', `per-node attributes for "${n}", which is not a node in hb.json`)
      }
    }
    const type = str(r.v['type'])
    if (type === undefined || !ctx.types) continue
    if (!ctx.types.has(type)) {
      c.add(`${at}/type`, 'MCCS_ERR_CONFIG_REF', `unknown resource type "${type}" (no loaded plugin provides it)`)
      continue
    }
    checkAttrs(r.v, at, type, g?.v as Partial<GroupConfig> | undefined, hbNodes, ctx.types, c)
  }

  if (ctx.types && isObj(main['types'])) {
    for (const t of Object.keys(main['types'])) {
      if (!ctx.types.has(t)) c.add(`/types/${seg(t)}`, 'MCCS_ERR_CONFIG_REF', `policy for unknown resource type "${t}"`)
    }
  }

  checkDependencies(items(main['dependencies']), resources, c)
}

function checkDependencies(deps: { i: number; v: Obj }[], resources: Map<string, { i: number; v: Obj }>, c: Collector): void {
  const edges: (DependencyConfig & { i: number })[] = []
  const seen = new Map<string, number>()
  for (const d of deps) {
    const at = `/dependencies/${d.i}`
    const parent = str(d.v['parent'])
    const child = str(d.v['child'])
    if (parent === undefined || child === undefined) continue
    let ok = true
    for (const [end, name] of [
      ['parent', parent],
      ['child', child],
    ] as const) {
      if (!resources.has(name)) {
        c.add(`${at}/${end}`, 'MCCS_ERR_CONFIG_REF', `no resource named "${name}"`)
        ok = false
      }
    }
    if (parent === child) {
      c.add(at, 'MCCS_ERR_DEP_CYCLE', `resource "${parent}" cannot depend on itself`)
      continue
    }
    const key = `${parent}\0${child}`
    const prev = seen.get(key)
    if (prev !== undefined) {
      c.add(at, 'MCCS_ERR_CONFIG_DUPLICATE', `same dependency as /dependencies/${prev}`)
      continue
    }
    seen.set(key, d.i)
    if (!ok) continue
    const pg = str(resources.get(parent)?.v['group'])
    const cg = str(resources.get(child)?.v['group'])
    if (pg !== cg) {
      c.add(
        at,
        'MCCS_ERR_CONFIG_DEPENDENCY',
        `"${parent}" (group ${pg}) and "${child}" (group ${cg}) are in different groups; a dependency links resources of one group`,
      )
      continue
    }
    edges.push({ parent, child, i: d.i })
  }
  // Report every independent cycle: name one, drop one of its edges, look again (bounded).
  for (let n = 0; n < 20; n++) {
    const cycle = findCycle(resources.keys(), edges)
    if (!cycle) break
    const k = edges.findIndex((e) => e.parent === cycle[0] && e.child === cycle[1])
    const edge = edges[k]
    if (!edge) break
    c.add(`/dependencies/${edge.i}`, 'MCCS_ERR_DEP_CYCLE', `dependencies form a cycle: ${cycle.join(' -> ')} (each depends on the next)`)
    edges.splice(k, 1)
  }
}

// --- resource attributes against the type's schema ---

let attrAjv: ReturnType<typeof attributeAjv> | undefined
const compiled = new WeakMap<object, ValidateFunction | Error>()

function compile(schema: object): ValidateFunction | Error {
  let v = compiled.get(schema)
  if (!v) {
    try {
      // A plugin's $id would collide with another plugin's or with a reload of the same one.
      const { $id: _id, ...rest } = schema as Obj
      v = (attrAjv ??= attributeAjv()).compile(rest)
    } catch (e) {
      v = e instanceof Error ? e : new Error(String(e))
    }
    compiled.set(schema, v)
  }
  return v
}

function nodeScoped(schema: object): Set<string> {
  const props = (schema as Obj)['properties']
  const out = new Set<string>()
  if (isObj(props)) {
    for (const [k, p] of Object.entries(props)) {
      const hint = isObj(p) ? p['x-mccs'] : undefined
      if (isObj(hint) && hint['scope'] === 'node') out.add(k)
    }
  }
  return out
}

/**
 * Validates attrs merged with nodeAttrs[node] for each node of the group (what a hook will see there),
 * and points each error to where the value is, or to where a missing one belongs.
 */
function checkAttrs(
  r: Obj,
  at: string,
  type: string,
  group: Partial<GroupConfig> | undefined,
  hbNodes: Set<string> | undefined,
  types: TypeCatalog,
  c: Collector,
): void {
  const schema = types.attributeSchema(type)
  if (!schema) return
  const validate = compile(schema)
  if (validate instanceof Error) {
    c.add(`${at}/type`, 'MCCS_ERR_MANIFEST', `the attribute schema of type "${type}" is invalid: ${validate.message}`)
    return
  }
  const attrs = isObj(r['attrs']) ? r['attrs'] : {}
  const nodeAttrs = isObj(r['nodeAttrs']) ? r['nodeAttrs'] : {}
  const perNode = nodeScoped(schema)
  // Unknown nodes are reported once as such, not again as missing attributes.
  const nodes = Array.isArray(group?.nodes)
    ? group.nodes.filter((n): n is string => typeof n === 'string' && (!hbNodes || hbNodes.has(n)))
    : []
  const targets = nodes.length > 0 ? nodes : [undefined]
  // (where, reason) -> nodes it happens on: a global mistake is reported once, a per-node one names its nodes.
  const found = new Map<string, { where: string; reason: string; on: string[] }>()
  for (const node of targets) {
    const own = node !== undefined && isObj(nodeAttrs[node]) ? nodeAttrs[node] : {}
    const merged = structuredClone({ ...attrs, ...own })
    if (validate(merged)) continue
    for (const e of explainErrors(validate.errors)) {
      const top = e.path.split('/')[1]?.replace(/~1/g, '/').replace(/~0/g, '~')
      const inNode = node !== undefined && top !== undefined && (top in own || (!(top in attrs) && perNode.has(top)))
      const where = inNode ? `${at}/nodeAttrs/${seg(node)}${e.path}` : `${at}/attrs${e.path}`
      const reason = e.reason.replace(/^required property/, 'required attribute').replace(/^unknown property/, 'unknown attribute')
      const key = `${where}\0${reason}`
      const f = found.get(key) ?? { where, reason, on: [] }
      if (node !== undefined) f.on.push(node)
      found.set(key, f)
    }
  }
  for (const f of found.values()) {
    const partial = f.on.length > 0 && f.on.length < targets.length && !f.where.startsWith(`${at}/nodeAttrs/`)
    c.add(f.where, 'MCCS_ERR_CONFIG_ATTRS', partial ? `${f.reason} (on node ${f.on.join(', ')})` : f.reason)
  }
}

// --- hb.json ---

function checkHb(hb: Obj, c: Collector): void {
  const nodes = items(hb['nodes'])
  byName(nodes, '/nodes', 'node', c)
  const links = byName(items(hb['links']), '/links', 'link', c)
  const owner = new Map<string, string>() // link + address -> node
  for (const n of nodes) {
    const addresses = isObj(n.v['addresses']) ? n.v['addresses'] : {}
    for (const [link, addr] of Object.entries(addresses)) {
      const at = `/nodes/${n.i}/addresses/${seg(link)}`
      if (!links.has(link)) {
        c.add(at, 'MCCS_ERR_CONFIG_REF', `no link named "${link}" in /links`)
        continue
      }
      if (typeof addr !== 'string') continue
      const key = `${link}\0${addr.toLowerCase()}`
      const other = owner.get(key)
      if (other !== undefined) c.add(at, 'MCCS_ERR_CONFIG_DUPLICATE', `address ${addr} is also node "${other}"'s address on link "${link}"`)
      else owner.set(key, str(n.v['name']) ?? `#${n.i}`)
    }
  }
  // A heartbeat names every peer its sender hears, and its coordinator, within a 1 KiB view: the longest such
  // list (the node with the shortest name hearing all the others) must fit, or no view could be sent.
  const lengths = nodes.map((n) => str(n.v['name'])?.length ?? 0).sort((a, b) => a - b)
  const heard = lengths.slice(1).reduce((s, l) => s + l + 3, 0) + (lengths.at(-1) ?? 0)
  const budget = viewNamesBudget(lengths.length)
  if (lengths.length > 1 && heard > budget)
    c.add(
      '/nodes',
      'MCCS_ERR_CONFIG_SCHEMA',
      `the node names are too long for one heartbeat: a view would carry ${heard} bytes of names, at most ${budget} fit; shorten some names`,
    )
  const votes = nodes.map((n) => n.v['votes'])
  if (votes.length > 0 && votes.every((v) => v === 0))
    c.add('/nodes', 'MCCS_ERR_CONFIG_SCHEMA', 'no node has a vote: the cluster could never be quorate')
  const timing = hb['timing']
  if (
    isObj(timing) &&
    typeof timing['intervalMs'] === 'number' &&
    typeof timing['deadMs'] === 'number' &&
    timing['deadMs'] < 2 * timing['intervalMs']
  ) {
    c.add(
      '/timing/deadMs',
      'MCCS_ERR_CONFIG_SCHEMA',
      `must be at least twice intervalMs (${2 * timing['intervalMs']} ms): one late heartbeat must not declare a node dead`,
    )
  }
  const quorum = hb['quorum']
  if (isObj(quorum) && quorum['twoNode'] === true) {
    if (nodes.length !== 2)
      c.add(
        '/quorum/twoNode',
        'MCCS_ERR_CONFIG_SCHEMA',
        `is for clusters of exactly two nodes (this one has ${nodes.length}): a larger cluster has a majority`,
      )
    if (quorum['server'] !== undefined)
      c.add('/quorum/twoNode', 'MCCS_ERR_CONFIG_SCHEMA', 'cannot be combined with a quorum server: the server breaks the tie; choose one')
  }
}
