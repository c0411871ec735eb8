// The operator's configuration commands (add / delete / edit group and resource, link / unlink a
// dependency) as pure functions over MainConfig: each returns the next configuration or throws an
// MccsError naming the field and the reason. No I/O: what the agent knows of the world (which
// resources may run, which nodes and types exist) comes in through OpsContext. The config store
// validates the whole result again on commit (types, attribute schemas, references).

import {
  type DependencyConfig,
  type GroupConfig,
  type MainConfig,
  type ResourceConfig,
  type TypeDefaults,
  SHIPPED_DEFAULTS,
  findCycle,
} from '../engine/index.js'
import { MccsError } from '../errors.js'

/** Resource-type keywords of the product (manual 3.2.2.1: "a reserved keyword, such as network card
 *  (NIC) or process"); the names of the loaded types are reserved too. Compared case-insensitively. */
export const RESERVED_NAMES: readonly string[] = Object.freeze([
  'nic',
  'network-card',
  'ip',
  'network-address',
  'process',
  'script',
  'dummy',
  'mirror-disk',
  'aws-oip',
  'aws-sip',
  'aws-eip',
])

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/
const POLICY_KEYS = Object.keys(SHIPPED_DEFAULTS) as (keyof TypeDefaults)[]

export type ConfigOpName =
  'groupAdd' | 'groupDelete' | 'groupEdit' | 'resourceAdd' | 'resourceDelete' | 'resourceEdit' | 'resourceLink' | 'resourceUnlink'

export const CONFIG_OPS: readonly ConfigOpName[] = Object.freeze([
  'groupAdd',
  'groupDelete',
  'groupEdit',
  'resourceAdd',
  'resourceDelete',
  'resourceEdit',
  'resourceLink',
  'resourceUnlink',
])

export function isConfigOp(op: unknown): op is ConfigOpName {
  return typeof op === 'string' && (CONFIG_OPS as readonly string[]).includes(op)
}

export interface GroupFields {
  nodes?: string[]
  failoverOnFailure?: boolean
  autoStart?: boolean
  autoFailback?: boolean
}
export interface GroupAddArgs extends GroupFields {
  group: string
  nodes: string[]
}
export interface GroupEditArgs extends GroupFields {
  group: string
}
export interface GroupDeleteArgs {
  group: string
  force?: boolean
}

export interface ResourceAddArgs {
  resource: string
  type: string
  group: string
  critical?: boolean
  monitored?: boolean
  attrs?: Record<string, unknown>
  nodeAttrs?: Record<string, Record<string, unknown>>
  policy?: Partial<TypeDefaults>
}
export interface ResourceEditArgs {
  resource: string
  type?: string
  group?: string
  critical?: boolean
  monitored?: boolean
  /** Merged over the current attributes. */
  attrs?: Record<string, unknown>
  /** Merged over the current per-node attributes, node by node. */
  nodeAttrs?: Record<string, Record<string, unknown>>
  /** Merged over the current policy overrides. */
  policy?: Partial<TypeDefaults>
  /** Attributes to remove: `key` (global) or `node:key` (per node). */
  unsetAttrs?: string[]
  /** Policy overrides to remove (back to the type's value). */
  unsetPolicy?: string[]
}
export interface ResourceDeleteArgs {
  resource: string
  force?: boolean
}
export interface LinkArgs {
  parent: string
  child: string
}

export interface ConfigOpArgs {
  groupAdd: GroupAddArgs
  groupDelete: GroupDeleteArgs
  groupEdit: GroupEditArgs
  resourceAdd: ResourceAddArgs
  resourceDelete: ResourceDeleteArgs
  resourceEdit: ResourceEditArgs
  resourceLink: LinkArgs
  resourceUnlink: LinkArgs
}

/** What the caller knows of the world. Every member is optional: without it, the check is skipped. */
export interface OpsContext {
  /** Nodes of the cluster (hb.json). */
  nodes?: readonly string[]
  /** Loaded resource types. */
  types?: readonly string[]
  /** Why the resource may be running now (e.g. "online on n1"), or null when it is safely offline everywhere. */
  resourceActivity?: (resource: string) => string | null
  /** Why the group is active now (a resource may run, or actions are in flight), or null. */
  groupActivity?: (group: string) => string | null
}

export interface OpResult {
  next: MainConfig
  /** The group or resource the operation is about (for the operation log). */
  target: string
  /** One line for a human. */
  summary: string
  /** What else a forced delete removed. */
  removed?: { resources?: string[]; dependencies?: DependencyConfig[] }
}

/** Checks the shape of `args` (they come from the control socket) and applies `op` to `main`. */
export function applyConfigOp(main: MainConfig, op: string, args: unknown, ctx: OpsContext = {}): OpResult {
  if (!isConfigOp(op))
    throw new MccsError('MCCS_ERR_INVALID', `unknown configuration operation (one of ${CONFIG_OPS.join(', ')})`, { field: 'op' })
  if (!isObj(args)) throw new MccsError('MCCS_ERR_INVALID', 'must be an object', { field: 'args' })
  const cfg = structuredClone(main) as MainConfig
  cfg.groups ??= []
  cfg.resources ??= []
  cfg.dependencies ??= []
  cfg.types ??= {}
  switch (op) {
    case 'groupAdd':
      return groupAdd(cfg, parseGroupArgs(args, true) as GroupAddArgs, ctx)
    case 'groupEdit':
      return groupEdit(cfg, parseGroupArgs(args, false), ctx)
    case 'groupDelete':
      return groupDelete(cfg, { group: needName(args, 'group'), force: optBool(args, 'force') === true }, ctx)
    case 'resourceAdd':
      return resourceAdd(cfg, parseResourceAdd(args), ctx)
    case 'resourceEdit':
      return resourceEdit(cfg, parseResourceEdit(args), ctx)
    case 'resourceDelete':
      return resourceDelete(cfg, { resource: needName(args, 'resource'), force: optBool(args, 'force') === true }, ctx)
    case 'resourceLink':
      return link(cfg, { parent: needName(args, 'parent'), child: needName(args, 'child') }, ctx)
    case 'resourceUnlink':
      return unlink(cfg, { parent: needName(args, 'parent'), child: needName(args, 'child') })
  }
}

// --- groups ---

export function groupAdd(cfg: MainConfig, a: GroupAddArgs, ctx: OpsContext = {}): OpResult {
  if (cfg.groups.some((g) => g.name === a.group)) {
    throw new MccsError('MCCS_ERR_CONFIG_DUPLICATE', `a group named "${a.group}" already exists`, { field: 'group', subject: a.group })
  }
  checkGroupNodes(a.nodes, ctx)
  const g: GroupConfig = {
    name: a.group,
    nodes: [...a.nodes],
    failoverOnFailure: a.failoverOnFailure ?? true,
    autoStart: a.autoStart ?? true,
    autoFailback: a.autoFailback ?? false,
  }
  cfg.groups.push(g)
  return { next: cfg, target: a.group, summary: `group ${a.group} added (nodes ${g.nodes.join(', ')})` }
}

export function groupEdit(cfg: MainConfig, a: GroupEditArgs, ctx: OpsContext = {}): OpResult {
  const g = findGroup(cfg, a.group)
  const changes: string[] = []
  if (a.nodes !== undefined) {
    checkGroupNodes(a.nodes, ctx)
    if (!sameList(a.nodes, g.nodes)) changes.push(`nodes ${a.nodes.join(',')}`)
  }
  for (const k of ['failoverOnFailure', 'autoStart', 'autoFailback'] as const) {
    if (a[k] !== undefined && a[k] !== g[k]) changes.push(`${k} ${String(a[k])}`)
  }
  if (!changes.length)
    throw new MccsError(
      'MCCS_ERR_INVALID',
      'nothing to change (give --nodes, --[no-]failover, --[no-]autostart or --[no-]failback with a new value)',
      { field: 'args', subject: a.group },
    )
  refuseActiveGroup(a.group, 'edit', ctx)
  if (a.nodes !== undefined) g.nodes = [...a.nodes]
  for (const k of ['failoverOnFailure', 'autoStart', 'autoFailback'] as const) if (a[k] !== undefined) g[k] = a[k]!
  return { next: cfg, target: a.group, summary: `group ${a.group} changed: ${changes.join('; ')}` }
}

export function groupDelete(cfg: MainConfig, a: GroupDeleteArgs, ctx: OpsContext = {}): OpResult {
  findGroup(cfg, a.group)
  const members = cfg.resources.filter((r) => r.group === a.group).map((r) => r.name)
  if (members.length && !a.force) {
    throw new MccsError(
      'MCCS_ERR_CONFLICT',
      `still has resources (${members.join(', ')}); delete them first, or use --force to delete them with the group`,
      {
        field: 'group',
        subject: a.group,
        data: { resources: members },
      },
    )
  }
  refuseActiveGroup(a.group, 'delete', ctx)
  const gone = new Set(members)
  const deps = cfg.dependencies.filter((d) => gone.has(d.parent) || gone.has(d.child))
  cfg.groups = cfg.groups.filter((g) => g.name !== a.group)
  cfg.resources = cfg.resources.filter((r) => !gone.has(r.name))
  cfg.dependencies = cfg.dependencies.filter((d) => !gone.has(d.parent) && !gone.has(d.child))
  return {
    next: cfg,
    target: a.group,
    summary: `group ${a.group} deleted${members.length ? ` with its resources ${members.join(', ')}` : ''}`,
    ...(members.length ? { removed: { resources: members, dependencies: deps } } : {}),
  }
}

// --- resources ---

export function resourceAdd(cfg: MainConfig, a: ResourceAddArgs, ctx: OpsContext = {}): OpResult {
  checkResourceName(cfg, a.resource, ctx)
  findGroup(cfg, a.group, 'group')
  checkType(a.type, ctx)
  const nodeAttrs = a.nodeAttrs ?? {}
  checkNodeAttrNodes(nodeAttrs, ctx)
  const r: ResourceConfig = {
    name: a.resource,
    type: a.type,
    group: a.group,
    critical: a.critical ?? true,
    attrs: { ...(a.attrs ?? {}) },
    nodeAttrs: structuredClone(nodeAttrs),
    policy: { ...(a.policy ?? {}) },
    monitored: a.monitored ?? true,
  }
  cfg.resources.push(r)
  return { next: cfg, target: a.resource, summary: `resource ${a.resource} (${a.type}) added to group ${a.group}` }
}

export function resourceEdit(cfg: MainConfig, a: ResourceEditArgs, ctx: OpsContext = {}): OpResult {
  const r = findResource(cfg, a.resource)
  const before = JSON.stringify(r)
  if (a.type !== undefined && a.type !== r.type) {
    checkType(a.type, ctx)
    r.type = a.type
  }
  if (a.group !== undefined && a.group !== r.group) {
    findGroup(cfg, a.group, 'group')
    const links = cfg.dependencies.filter((d) => d.parent === r.name || d.child === r.name)
    if (links.length) {
      throw new MccsError(
        'MCCS_ERR_DEP_GROUP',
        `cannot move to group "${a.group}" while linked (${links.map(fmtDep).join(', ')}); a dependency links resources of one group: unlink first`,
        {
          field: 'group',
          subject: r.name,
          data: { dependencies: links },
        },
      )
    }
    refuseActiveGroup(a.group, `move ${r.name} into`, ctx)
    r.group = a.group
  }
  if (a.critical !== undefined) r.critical = a.critical
  if (a.monitored !== undefined) r.monitored = a.monitored
  if (a.attrs) Object.assign(r.attrs, a.attrs)
  if (a.nodeAttrs) {
    checkNodeAttrNodes(a.nodeAttrs, ctx)
    for (const [n, kv] of Object.entries(a.nodeAttrs)) r.nodeAttrs[n] = { ...(r.nodeAttrs[n] ?? {}), ...kv }
  }
  if (a.policy) Object.assign(r.policy, a.policy)
  for (const u of a.unsetAttrs ?? []) {
    const i = u.indexOf(':')
    if (i < 0) {
      if (!Object.hasOwn(r.attrs, u))
        throw new MccsError('MCCS_ERR_NOT_FOUND', `no attribute "${u}" to remove`, { field: `attrs.${u}`, subject: r.name })
      delete r.attrs[u]
    } else {
      const [n, k] = [u.slice(0, i), u.slice(i + 1)]
      const own = r.nodeAttrs[n]
      if (!own || !Object.hasOwn(own, k))
        throw new MccsError('MCCS_ERR_NOT_FOUND', `no attribute "${k}" for node ${n} to remove`, {
          field: `nodeAttrs.${n}.${k}`,
          subject: r.name,
        })
      delete own[k]
      if (!Object.keys(own).length) delete r.nodeAttrs[n]
    }
  }
  for (const k of a.unsetPolicy ?? []) {
    if (!(k in r.policy))
      throw new MccsError('MCCS_ERR_NOT_FOUND', `no policy override "${k}" to remove`, { field: `policy.${k}`, subject: r.name })
    delete (r.policy as Record<string, unknown>)[k]
  }
  if (JSON.stringify(r) === before) throw new MccsError('MCCS_ERR_INVALID', 'nothing to change', { field: 'args', subject: r.name })
  refuseActiveResource(r.name, 'edit', ctx)
  return { next: cfg, target: r.name, summary: `resource ${r.name} changed` }
}

export function resourceDelete(cfg: MainConfig, a: ResourceDeleteArgs, ctx: OpsContext = {}): OpResult {
  findResource(cfg, a.resource)
  const dependents = cfg.dependencies.filter((d) => d.child === a.resource)
  if (dependents.length && !a.force) {
    throw new MccsError(
      'MCCS_ERR_CONFLICT',
      `${dependents.map((d) => d.parent).join(', ')} depend${dependents.length === 1 ? 's' : ''} on it; unlink first, or use --force to remove those links with it`,
      {
        field: 'resource',
        subject: a.resource,
        data: { dependents: dependents.map((d) => d.parent) },
      },
    )
  }
  refuseActiveResource(a.resource, 'delete', ctx)
  const deps = cfg.dependencies.filter((d) => d.parent === a.resource || d.child === a.resource)
  cfg.resources = cfg.resources.filter((r) => r.name !== a.resource)
  cfg.dependencies = cfg.dependencies.filter((d) => d.parent !== a.resource && d.child !== a.resource)
  return {
    next: cfg,
    target: a.resource,
    summary: `resource ${a.resource} deleted${deps.length ? ` with its links ${deps.map(fmtDep).join(', ')}` : ''}`,
    ...(deps.length ? { removed: { dependencies: deps } } : {}),
  }
}

// --- dependencies ---

export function link(cfg: MainConfig, a: LinkArgs, ctx: OpsContext = {}): OpResult {
  const p = findResource(cfg, a.parent, 'parent')
  const c = findResource(cfg, a.child, 'child')
  if (a.parent === a.child)
    throw new MccsError('MCCS_ERR_DEP_CYCLE', `resource "${a.parent}" cannot depend on itself`, {
      field: 'child',
      subject: a.parent,
      data: { cycle: [a.parent, a.parent] },
    })
  if (p.group !== c.group) {
    throw new MccsError(
      'MCCS_ERR_DEP_GROUP',
      `"${a.parent}" (group ${p.group}) and "${a.child}" (group ${c.group}) are in different groups; a dependency links resources of one group`,
      {
        field: 'child',
        subject: a.parent,
      },
    )
  }
  if (cfg.dependencies.some((d) => d.parent === a.parent && d.child === a.child)) {
    throw new MccsError('MCCS_ERR_CONFIG_DUPLICATE', `"${a.parent}" already depends on "${a.child}"`, { field: 'child', subject: a.parent })
  }
  const edges = [...cfg.dependencies, { parent: a.parent, child: a.child }]
  const cycle = findCycle(
    cfg.resources.map((r) => r.name),
    edges,
  )
  if (cycle) {
    throw new MccsError('MCCS_ERR_DEP_CYCLE', `linking would make a cycle: ${cycle.join(' -> ')} (each depends on the next)`, {
      field: 'child',
      subject: a.parent,
      data: { cycle },
    })
  }
  // Children come online first: a running parent may not gain a child that is not running with it.
  const pRun = ctx.resourceActivity?.(a.parent) ?? null
  if (pRun && !(ctx.resourceActivity?.(a.child) ?? null)) {
    throw new MccsError(
      'MCCS_ERR_CONFLICT',
      `"${a.parent}" is ${pRun} but "${a.child}" is not: a parent must not run without its child; take "${a.parent}" offline first`,
      {
        field: 'parent',
        subject: a.parent,
      },
    )
  }
  cfg.dependencies.push({ parent: a.parent, child: a.child })
  return { next: cfg, target: a.parent, summary: `${a.parent} now depends on ${a.child}` }
}

export function unlink(cfg: MainConfig, a: LinkArgs): OpResult {
  findResource(cfg, a.parent, 'parent')
  findResource(cfg, a.child, 'child')
  const i = cfg.dependencies.findIndex((d) => d.parent === a.parent && d.child === a.child)
  if (i < 0)
    throw new MccsError('MCCS_ERR_NOT_FOUND', `"${a.parent}" does not depend on "${a.child}"`, { field: 'child', subject: a.parent })
  cfg.dependencies.splice(i, 1)
  return { next: cfg, target: a.parent, summary: `${a.parent} no longer depends on ${a.child}` }
}

// --- checks ---

function findGroup(cfg: MainConfig, name: string, field = 'group'): GroupConfig {
  const g = cfg.groups.find((x) => x.name === name)
  if (!g)
    throw new MccsError('MCCS_ERR_NOT_FOUND', `no group named "${name}"${hint(cfg.groups.map((x) => x.name))}`, { field, subject: name })
  return g
}

function findResource(cfg: MainConfig, name: string, field = 'resource'): ResourceConfig {
  const r = cfg.resources.find((x) => x.name === name)
  if (!r)
    throw new MccsError('MCCS_ERR_NOT_FOUND', `no resource named "${name}"${hint(cfg.resources.map((x) => x.name))}`, {
      field,
      subject: name,
    })
  return r
}

const hint = (names: string[]): string =>
  names.length ? ` (there are: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''})` : ' (there are none)'

function checkResourceName(cfg: MainConfig, name: string, ctx: OpsContext): void {
  const lower = name.toLowerCase()
  if (RESERVED_NAMES.includes(lower) || (ctx.types ?? []).some((t) => t.toLowerCase() === lower)) {
    throw new MccsError('MCCS_ERR_INVALID', `"${name}" is a reserved keyword (a resource type name) and cannot name a resource`, {
      field: 'resource',
      subject: name,
    })
  }
  if (cfg.resources.some((r) => r.name === name)) {
    const other = cfg.resources.find((r) => r.name === name)!
    throw new MccsError('MCCS_ERR_CONFIG_DUPLICATE', `the name is already used by a resource of group ${other.group}`, {
      field: 'resource',
      subject: name,
    })
  }
}

function checkType(type: string, ctx: OpsContext): void {
  if (ctx.types && !ctx.types.includes(type)) {
    throw new MccsError('MCCS_ERR_CONFIG_REF', `unknown resource type "${type}" (loaded types: ${ctx.types.join(', ') || 'none'})`, {
      field: 'type',
      subject: type,
    })
  }
}

function checkGroupNodes(nodes: string[], ctx: OpsContext): void {
  if (!nodes.length) throw new MccsError('MCCS_ERR_INVALID', 'must name at least one node (the failover order)', { field: 'nodes' })
  const seen = new Set<string>()
  nodes.forEach((n, i) => {
    if (seen.has(n)) throw new MccsError('MCCS_ERR_CONFIG_DUPLICATE', `node "${n}" is listed twice`, { field: `nodes[${i}]` })
    seen.add(n)
    if (ctx.nodes && !ctx.nodes.includes(n))
      throw new MccsError('MCCS_ERR_CONFIG_REF', `no node named "${n}" in the cluster (nodes: ${ctx.nodes.join(', ')})`, {
        field: `nodes[${i}]`,
        subject: n,
      })
  })
}

function checkNodeAttrNodes(nodeAttrs: Record<string, unknown>, ctx: OpsContext): void {
  for (const n of Object.keys(nodeAttrs)) {
    if (ctx.nodes && !ctx.nodes.includes(n)) {
      throw new MccsError(
        'MCCS_ERR_CONFIG_REF',
        `per-node attributes for "${n}", which is not a node of the cluster (nodes: ${ctx.nodes.join(', ')})`,
        { field: `nodeAttrs.${n}`, subject: n },
      )
    }
  }
}

function refuseActiveGroup(group: string, what: string, ctx: OpsContext): void {
  const why = ctx.groupActivity?.(group) ?? null
  if (why)
    throw new MccsError(
      'MCCS_ERR_CONFLICT',
      `cannot ${what} group ${group}: it is ${why}; take it offline first (mccs group offline ${group} --wait)`,
      { field: 'group', subject: group },
    )
}

function refuseActiveResource(resource: string, what: string, ctx: OpsContext): void {
  const why = ctx.resourceActivity?.(resource) ?? null
  if (why)
    throw new MccsError(
      'MCCS_ERR_CONFLICT',
      `cannot ${what} resource ${resource}: it is ${why}; take it offline first (mccs resource offline ${resource} --wait)`,
      { field: 'resource', subject: resource },
    )
}

const fmtDep = (d: DependencyConfig): string => `${d.parent} -> ${d.child}`
const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i])

// --- argument shapes (the control socket is an edge: everything is checked, nothing trusted) ---

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

function needName(a: Obj, k: string): string {
  const v = a[k]
  if (typeof v !== 'string' || !v) throw new MccsError('MCCS_ERR_INVALID', 'is missing (a name is required)', { field: `args.${k}` })
  if (!NAME_RE.test(v))
    throw new MccsError('MCCS_ERR_INVALID', `"${v}" is not a valid name (a letter, then up to 63 letters, digits, '_', '.' or '-')`, {
      field: `args.${k}`,
    })
  return v
}

function optBool(a: Obj, k: string): boolean | undefined {
  const v = a[k]
  if (v === undefined) return undefined
  if (typeof v !== 'boolean') throw new MccsError('MCCS_ERR_INVALID', 'must be true or false', { field: `args.${k}` })
  return v
}

function optNames(a: Obj, k: string): string[] | undefined {
  const v = a[k]
  if (v === undefined) return undefined
  if (!Array.isArray(v)) throw new MccsError('MCCS_ERR_INVALID', 'must be a list of names', { field: `args.${k}` })
  return v.map((x, i) => {
    if (typeof x !== 'string' || !NAME_RE.test(x))
      throw new MccsError('MCCS_ERR_INVALID', `${JSON.stringify(x)} is not a valid name`, { field: `args.${k}[${i}]` })
    return x
  })
}

function optStrings(a: Obj, k: string): string[] | undefined {
  const v = a[k]
  if (v === undefined) return undefined
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x))
    throw new MccsError('MCCS_ERR_INVALID', 'must be a list of names', { field: `args.${k}` })
  return v as string[]
}

function optObj(a: Obj, k: string): Obj | undefined {
  const v = a[k]
  if (v === undefined) return undefined
  if (!isObj(v)) throw new MccsError('MCCS_ERR_INVALID', 'must be an object', { field: `args.${k}` })
  return v
}

function optNodeAttrs(a: Obj): Record<string, Record<string, unknown>> | undefined {
  const v = optObj(a, 'nodeAttrs')
  if (!v) return undefined
  for (const [n, kv] of Object.entries(v)) {
    if (!NAME_RE.test(n)) throw new MccsError('MCCS_ERR_INVALID', `"${n}" is not a valid node name`, { field: `args.nodeAttrs.${n}` })
    if (!isObj(kv)) throw new MccsError('MCCS_ERR_INVALID', 'must be an object of attributes', { field: `args.nodeAttrs.${n}` })
  }
  return v as Record<string, Record<string, unknown>>
}

function optPolicy(a: Obj): Partial<TypeDefaults> | undefined {
  const v = optObj(a, 'policy')
  if (!v) return undefined
  for (const [k, x] of Object.entries(v)) {
    if (!(POLICY_KEYS as string[]).includes(k))
      throw new MccsError('MCCS_ERR_INVALID', `unknown policy field (one of ${POLICY_KEYS.join(', ')})`, { field: `policy.${k}` })
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new MccsError('MCCS_ERR_INVALID', 'must be a number', { field: `policy.${k}` })
  }
  return v as Partial<TypeDefaults>
}

function optUnsetPolicy(a: Obj): string[] | undefined {
  const v = optStrings(a, 'unsetPolicy')
  for (const k of v ?? []) {
    if (!(POLICY_KEYS as string[]).includes(k))
      throw new MccsError('MCCS_ERR_INVALID', `unknown policy field (one of ${POLICY_KEYS.join(', ')})`, { field: `policy.${k}` })
  }
  return v
}

function parseGroupArgs(a: Obj, adding: boolean): GroupEditArgs {
  const out: GroupEditArgs = { group: needName(a, 'group') }
  const nodes = optNames(a, 'nodes')
  if (adding && !nodes)
    throw new MccsError('MCCS_ERR_INVALID', 'is missing: a group needs its nodes in failover order (--nodes n1,n2)', { field: 'nodes' })
  if (nodes) out.nodes = nodes
  for (const k of ['failoverOnFailure', 'autoStart', 'autoFailback'] as const) {
    const v = optBool(a, k)
    if (v !== undefined) out[k] = v
  }
  return out
}

function parseResourceAdd(a: Obj): ResourceAddArgs {
  const out: ResourceAddArgs = { resource: needName(a, 'resource'), type: needName(a, 'type'), group: needName(a, 'group') }
  return { ...out, ...parseResourceFields(a) }
}

function parseResourceEdit(a: Obj): ResourceEditArgs {
  const out: ResourceEditArgs = { resource: needName(a, 'resource'), ...parseResourceFields(a) }
  if (a['type'] !== undefined) out.type = needName(a, 'type')
  if (a['group'] !== undefined) out.group = needName(a, 'group')
  const unsetAttrs = optStrings(a, 'unsetAttrs')
  if (unsetAttrs) out.unsetAttrs = unsetAttrs
  const unsetPolicy = optUnsetPolicy(a)
  if (unsetPolicy) out.unsetPolicy = unsetPolicy
  return out
}

function parseResourceFields(a: Obj): Omit<ResourceEditArgs, 'resource'> {
  const out: Omit<ResourceEditArgs, 'resource'> = {}
  const critical = optBool(a, 'critical')
  if (critical !== undefined) out.critical = critical
  const monitored = optBool(a, 'monitored')
  if (monitored !== undefined) out.monitored = monitored
  const attrs = optObj(a, 'attrs')
  if (attrs) out.attrs = attrs
  const nodeAttrs = optNodeAttrs(a)
  if (nodeAttrs) out.nodeAttrs = nodeAttrs
  const policy = optPolicy(a)
  if (policy) out.policy = policy
  return out
}
