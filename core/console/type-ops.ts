// Resource types for the console: the list, one type's manifest and wizard, and the wizard's two hook
// calls — discover (fill a list) and validate (check the attributes of every node) — through the
// agent's plugin host. The hooks run on this node; the attribute schema is checked here first.
import type { Agent } from '../agent/agent.js'
import { attributeAjv, explainErrors, type ValidateFunction } from '../config/ajv.js'
import { MccsError } from '../errors.js'

const HOOK_TIMEOUT_MS = 15_000
/** The name the wizard's hook calls run under (the plugin sees it as ctx.resource). */
const WIZARD_RESOURCE = '_wizard'

export function listTypes(agent: Agent) {
  return agent.host.list().map(({ manifest: m }) => ({
    name: m.name, displayName: m.displayName, version: m.version, kind: m.kind, description: m.description ?? '', permissions: m.permissions,
  }))
}

function loaded(agent: Agent, type: string) {
  const p = agent.host.get(type)
  if (!p) throw new MccsError('MCCS_ERR_NOT_FOUND', `no resource type '${type}' is loaded`, { field: '/params/type', subject: type })
  return p
}

export function typeInfo(agent: Agent, type: string) {
  const m = loaded(agent, type).manifest
  return { ...m, description: m.description ?? '' }
}

function checkNode(agent: Agent, node: string | undefined, field: string): string {
  const n = node ?? agent.node
  if (n !== agent.node) {
    // A hook runs where its capabilities reach; running it on another node needs the agent channel to carry it.
    throw new MccsError('MCCS_ERR_NOT_IMPLEMENTED', `wizard hooks run on the node that serves the console (${agent.node}) for now, not on ${n}`, { field })
  }
  return n
}

export async function discover(agent: Agent, type: string, req: { field: string; node?: string; attrs: Record<string, unknown> }) {
  loaded(agent, type)
  const node = checkNode(agent, req.node, '/node')
  const nodes = agent.store.current().hb.nodes.map((n) => n.name)
  const r = await agent.host.call(type, 'discover', { resource: WIZARD_RESOURCE, node, nodes, attrs: req.attrs, timeoutMs: HOOK_TIMEOUT_MS, args: [req.field, req.attrs] })
  agent.host.releaseResource(type, WIZARD_RESOURCE)
  return {
    options: (r.choices ?? []).map((c) => ({ value: c.value, label: c.label ?? c.value })),
    answer: r.status === 'done' ? r.answer : 'failed',
    ...(r.reason ?? r.error ? { message: (r.reason ?? r.error)! } : {}),
  }
}

const schemaCache = new WeakMap<object, ValidateFunction>()

export async function validateAttrs(agent: Agent, type: string, perNode: Record<string, Record<string, unknown>>) {
  const p = loaded(agent, type)
  const known = new Set(agent.store.current().hb.nodes.map((n) => n.name))
  const diagnostics: Array<{ field: string; message: string; hint?: string }> = []
  for (const node of Object.keys(perNode)) {
    if (!known.has(node)) diagnostics.push({ field: `/perNode/${node}`, message: `'${node}' is not a node of this cluster (${[...known].join(', ')})` })
  }
  let check = schemaCache.get(p.manifest.wizard)
  if (!check) { check = attributeAjv().compile(p.manifest.wizard); schemaCache.set(p.manifest.wizard, check) }
  for (const [node, attrs] of Object.entries(perNode)) {
    // ajv's useDefaults fills in defaults: check a copy.
    if (!check(structuredClone(attrs))) for (const e of explainErrors(check.errors)) diagnostics.push({ field: `/perNode/${node}${e.path}`, message: e.reason })
  }
  if (diagnostics.length === 0) {
    const r = await agent.host.call(type, 'validate', {
      resource: WIZARD_RESOURCE, node: agent.node, nodes: [...known], attrs: perNode[agent.node] ?? {}, timeoutMs: HOOK_TIMEOUT_MS, args: [{ perNode }],
    })
    agent.host.releaseResource(type, WIZARD_RESOURCE)
    if (r.status === 'done') {
      for (const d of r.diagnostics ?? []) {
        // Plugins point at /nodes/<node>/<attr>; the request calls that /perNode/<node>/<attr>.
        const field = (d.path ?? '').replace(/^\/nodes\//, '/perNode/') || '/perNode'
        diagnostics.push({ field, message: d.summary, ...(d.detail ? { hint: d.detail } : {}) })
      }
      if (r.answer !== 'ok' && !(r.diagnostics ?? []).length) diagnostics.push({ field: '/perNode', message: r.reason ?? `the type answered ${r.answer}` })
    } else if (r.status !== 'notSupported') {
      diagnostics.push({ field: '/perNode', message: `the type's validate hook did not answer (${r.status}: ${r.error ?? ''})` })
    }
  }
  return { ok: diagnostics.length === 0, diagnostics }
}
