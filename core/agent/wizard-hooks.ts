// The Add Resource wizard's discover hook, run on this node: the console of any node asks the node a
// list is for (a NIC's adapters, an ENI) over the peer channel, and that node answers from here.
import type { PluginHost } from '../plugins/host.js'
import { MccsError } from '../errors.js'

export const WIZARD_HOOK_TIMEOUT_MS = 15_000
/** The name the wizard's hook calls run under (the plugin sees it as ctx.resource). */
export const WIZARD_RESOURCE = '_wizard'

export interface DiscoverRequest {
  type: string
  field: string
  attrs: Record<string, unknown>
}
/** `schema`: a JSON Schema the plugin made for a field whose form depends on the other fields (x-mccs
 *  `schemaFrom`, e.g. an OCF agent's parameters from its meta-data), carried in the answer's `data.schema`. */
export interface DiscoverAnswer {
  options: Array<{ value: string; label: string }>
  answer: string
  message?: string
  schema?: Record<string, unknown>
}

/** Checks a request that came over the wire (another node's console). */
export function checkDiscoverRequest(m: Record<string, unknown>): DiscoverRequest {
  if (typeof m.type !== 'string' || !m.type) throw new MccsError('MCCS_ERR_INVALID', 'must be a resource type name', { field: 'type' })
  if (typeof m.field !== 'string') throw new MccsError('MCCS_ERR_INVALID', 'must be the name of the list to fill', { field: 'field' })
  if (!m.attrs || typeof m.attrs !== 'object' || Array.isArray(m.attrs))
    throw new MccsError('MCCS_ERR_INVALID', 'must be an object of attributes', { field: 'attrs' })
  return { type: m.type, field: m.field, attrs: m.attrs as Record<string, unknown> }
}

/** Checks another node's answer before the console shows it. */
export function checkDiscoverAnswer(v: unknown, node: string): DiscoverAnswer {
  const a = v as Partial<DiscoverAnswer> | null
  const bad = (field: string, why: string) =>
    new MccsError('MCCS_ERR_PEER_PROTOCOL', `${node}'s discover answer: ${why}`, { field, subject: node })
  if (!a || typeof a !== 'object') throw bad('', 'is not an object')
  if (!Array.isArray(a.options)) throw bad('options', 'must be an array')
  for (const [i, o] of a.options.entries()) {
    if (typeof o?.value !== 'string' || typeof o.label !== 'string') throw bad(`options/${i}`, 'must be {value, label} strings')
  }
  if (typeof a.answer !== 'string') throw bad('answer', 'must be a string')
  if (a.message !== undefined && typeof a.message !== 'string') throw bad('message', 'must be a string')
  if (a.schema !== undefined && !isObject(a.schema)) throw bad('schema', 'must be a JSON Schema object')
  return {
    options: a.options,
    answer: a.answer,
    ...(a.message !== undefined ? { message: a.message } : {}),
    ...(a.schema ? { schema: a.schema } : {}),
  }
}

export async function discoverHere(host: PluginHost, node: string, nodes: string[], req: DiscoverRequest): Promise<DiscoverAnswer> {
  if (!host.get(req.type))
    throw new MccsError('MCCS_ERR_NOT_FOUND', `no resource type '${req.type}' is loaded on ${node}`, {
      field: '/params/type',
      subject: req.type,
    })
  const r = await host.call(req.type, 'discover', {
    resource: WIZARD_RESOURCE,
    node,
    nodes,
    attrs: req.attrs,
    timeoutMs: WIZARD_HOOK_TIMEOUT_MS,
    args: [req.field, req.attrs],
  })
  host.releaseResource(req.type, WIZARD_RESOURCE)
  const message = r.reason ?? r.error
  const schema = r.status === 'done' && isObject(r.data) && isObject(r.data.schema) ? r.data.schema : undefined
  return {
    options: (r.choices ?? []).map((c) => ({ value: c.value, label: c.label ?? c.value })),
    answer: r.status === 'done' ? r.answer : 'failed',
    ...(message ? { message } : {}),
    ...(schema ? { schema } : {}),
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
