// Resource types for the console: the list, one type's manifest and wizard, and the wizard's two hook
// calls — discover (fill a list) and validate (check the attributes of every node) — through the
// agent's plugin host. discover runs on the node the list is for (over the peer channel for another
// node); validate runs here, with every node's attributes, after the attribute schema is checked.
import type { Agent } from '../agent/agent.js'
import { attributeAjv, explainErrors, type ValidateFunction } from '../config/ajv.js'
import { MccsError } from '../errors.js'
import type { Locale } from '../i18n/messages.js'
import { discoverHere, WIZARD_HOOK_TIMEOUT_MS, WIZARD_RESOURCE } from '../agent/wizard-hooks.js'
import { groupKey, groupOf } from '../plugins/plugin-locales.js'

/** The type list in a language: a plugin's own locale file gives its display name and description. */
export function listTypes(agent: Agent, lang: Locale = 'en') {
  return agent.host.list().map((p) => {
    const m = p.manifest
    const own = p.locales?.[lang]
    return {
      name: m.name,
      displayName: own?.displayName ?? m.displayName,
      version: m.version,
      kind: m.kind,
      description: own?.description ?? m.description ?? '',
      permissions: m.permissions,
    }
  })
}

function loaded(agent: Agent, type: string) {
  const p = agent.host.get(type)
  if (!p) throw new MccsError('MCCS_ERR_NOT_FOUND', `no resource type '${type}' is loaded`, { field: '/params/type', subject: type })
  return p
}

/** A type's manifest; in a language its plugin declares, the display name, description and each wizard
 *  field's title and description from the plugin's locale file (the schema itself is unchanged). */
export function typeInfo(agent: Agent, type: string, lang: Locale = 'en') {
  const p = loaded(agent, type)
  const m = p.manifest
  const own = p.locales?.[lang]
  if (!own) return { ...m, description: m.description ?? '' }
  const props = (m.wizard.properties ?? {}) as Record<string, Record<string, unknown>>
  const localized = Object.fromEntries(
    Object.entries(props).map(([k, s]) => [
      k,
      {
        ...s,
        ...(typeof s.title === 'string' && own[`wizard.${k}.title`] ? { title: own[`wizard.${k}.title`] } : {}),
        ...(typeof s.description === 'string' && own[`wizard.${k}.description`] ? { description: own[`wizard.${k}.description`] } : {}),
        // The heading it is grouped under, in the plugin's words for this language.
        ...(groupOf(s) !== undefined && own[groupKey(groupOf(s)!)]
          ? { 'x-mccs': { ...(s['x-mccs'] as object), group: own[groupKey(groupOf(s)!)] } }
          : {}),
      },
    ]),
  )
  return {
    ...m,
    displayName: own.displayName ?? m.displayName,
    description: own.description ?? m.description ?? '',
    wizard: { ...m.wizard, properties: localized },
  }
}

export async function discover(agent: Agent, type: string, req: { field: string; node?: string; attrs: Record<string, unknown> }) {
  loaded(agent, type)
  const node = req.node ?? agent.node
  const nodes = agent.store.current().hb.nodes.map((n) => n.name)
  if (!nodes.includes(node))
    throw new MccsError('MCCS_ERR_NOT_FOUND', `'${node}' is not a node of this cluster (${nodes.join(', ')})`, {
      field: '/node',
      subject: node,
    })
  const ask = { type, field: req.field, attrs: req.attrs }
  // A list is filled where it applies: another node's adapters come from that node.
  return node === agent.node ? discoverHere(agent.host, node, nodes, ask) : agent.discoverOn(node, ask)
}

const schemaCache = new WeakMap<object, ValidateFunction>()

export async function validateAttrs(agent: Agent, type: string, perNode: Record<string, Record<string, unknown>>) {
  const p = loaded(agent, type)
  const known = new Set(agent.store.current().hb.nodes.map((n) => n.name))
  const diagnostics: Array<{ field: string; message: string; hint?: string; severity?: 'warning' }> = []
  for (const node of Object.keys(perNode)) {
    if (!known.has(node))
      diagnostics.push({ field: `/perNode/${node}`, message: `'${node}' is not a node of this cluster (${[...known].join(', ')})` })
  }
  let check = schemaCache.get(p.manifest.wizard)
  if (!check) {
    check = attributeAjv().compile(p.manifest.wizard)
    schemaCache.set(p.manifest.wizard, check)
  }
  for (const [node, attrs] of Object.entries(perNode)) {
    // ajv's useDefaults fills in defaults: check a copy.
    if (!check(structuredClone(attrs)))
      for (const e of explainErrors(check.errors)) diagnostics.push({ field: `/perNode/${node}${e.path}`, message: e.reason })
  }
  if (diagnostics.length === 0) {
    const r = await agent.host.call(type, 'validate', {
      resource: WIZARD_RESOURCE,
      node: agent.node,
      nodes: [...known],
      attrs: perNode[agent.node] ?? {},
      timeoutMs: WIZARD_HOOK_TIMEOUT_MS,
      args: [{ perNode }],
    })
    agent.host.releaseResource(type, WIZARD_RESOURCE)
    if (r.status === 'done') {
      for (const d of r.diagnostics ?? []) {
        // Plugins point at /nodes/<node>/<attr>; the request calls that /perNode/<node>/<attr>.
        const field = (d.path ?? '').replace(/^\/nodes\//, '/perNode/') || '/perNode'
        diagnostics.push({
          field,
          message: d.summary,
          ...(d.detail ? { hint: d.detail } : {}),
          ...(d.severity === 'warning' ? { severity: 'warning' as const } : {}),
        })
      }
      if (r.answer !== 'ok' && !(r.diagnostics ?? []).length)
        diagnostics.push({ field: '/perNode', message: r.reason ?? `the type answered ${r.answer}` })
    } else if (r.status !== 'notSupported') {
      diagnostics.push({ field: '/perNode', message: `the type's validate hook did not answer (${r.status}: ${r.error ?? ''})` })
    }
  }
  // A warning (an action EC2 cannot dry-run) is shown, but does not refuse the resource.
  return { ok: diagnostics.every((d) => d.severity === 'warning'), diagnostics }
}
