// The REST client: same-origin fetch with the session cookie, the CSRF token on every change, and
// one error shape ({error: {code, message, field?}, issues?}) turned into ApiError for the views.
import type { AgentStatus } from '../../agent/status.js'
import type { TimelineReply } from '../routes/timeline.js'
import type { AwsCheckResult, AwsNodeView, AwsSettingsInput } from '../../agent/aws-node.js'
import { lang, tr } from './i18n.js'
import type { Locale, Said } from '../../i18n/messages.js'

export type { TimelineReply, AwsCheckResult, AwsNodeView, AwsSettingsInput }

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly issues: Array<{ field: string; message: string }> = [],
  ) {
    super(message)
  }
}

export interface UserEntry {
  user: string
  role: 'admin' | 'operator'
  changedAt: string | null
  self: boolean
}

export interface Session {
  user: string
  /** Whether File → Users (add and delete accounts) is offered. */
  admin?: boolean
  mustChangePassword: boolean
  /** 'initial' (the shipped default) or 'expired' (older than 90 days). */
  passwordChangeReason: 'initial' | 'expired' | null
  /** "Change next time" is offered (an expired password, not postponed yet). */
  canPostpone: boolean
  csrfToken: string
  expiresAt: string
  /** The user's console language (their Preferences, else the product's), and the product's. */
  lang: Locale
  productLang: Locale
}

let csrf = ''
let onUnauthorized: () => void = () => {}
export function setCsrf(token: string): void {
  csrf = token
}
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f
}

export async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  // Errors come back in the language the console shows (the server prefers the user's saved choice).
  const headers: Record<string, string> = { accept: 'application/json', 'accept-language': lang() }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (method !== 'GET') headers['x-csrf-token'] = csrf
  let res: Response
  try {
    res = await fetch(url, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  } catch (err) {
    throw new ApiError(0, 'MCCS_ERR_NETWORK', tr('ui.api.network', { message: (err as Error).message }))
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let data: unknown = undefined
  try {
    data = text ? JSON.parse(text) : undefined
  } catch {
    /* not JSON: reported below */
  }
  if (!res.ok) {
    const e = data as
      { error?: { code?: string; message?: string; field?: string }; issues?: Array<{ field: string; message: string }> } | undefined
    const err = new ApiError(
      res.status,
      e?.error?.code ?? `HTTP_${res.status}`,
      e?.error?.message ?? (res.status === 404 ? tr('ui.api.noRoute', { method, url }) : `${res.status} ${res.statusText}`),
      e?.error?.field,
      e?.issues ?? [],
    )
    if (res.status === 401 && !url.endsWith('/api/login')) onUnauthorized()
    throw err
  }
  if (data === undefined && text) throw new ApiError(res.status, 'MCCS_ERR_BAD_REPLY', tr('ui.api.notJson', { url }))
  return data as T
}

const enc = encodeURIComponent
export const api = {
  session: () => call<Session>('GET', '/api/session'),
  login: (user: string, password: string) => call<Session>('POST', '/api/login', { user, password }),
  logout: () => call<void>('POST', '/api/logout', {}),
  setLanguage: (l: Locale) => call<Session>('PUT', '/api/preferences', { lang: l }),
  changePassword: (current: string, next: string) => call<void>('POST', '/api/password', { current, next }),
  postponePasswordChange: () => call<void>('POST', '/api/password/postpone'),
  logoutEverywhere: () => call<void>('POST', '/api/logout/everywhere', {}),
  users: () => call<{ users: UserEntry[] }>('GET', '/api/users'),
  addUser: (user: string, password: string, role: 'admin' | 'operator') => call<unknown>('POST', '/api/users', { user, password, role }),
  deleteUser: (user: string) => call<void>('DELETE', `/api/users/${enc(user)}`),
  status: () => call<AgentStatus>('GET', '/api/status'),
  types: () => call<TypeSummary[]>('GET', '/api/types'),
  type: (t: string) => call<TypeDetail>('GET', `/api/types/${enc(t)}`),
  config: () => call<{ generation: number; text: string; hb?: unknown }>('GET', '/api/config'),
  oplog: (limit = 200) => call<OpEntry[]>('GET', `/api/oplog?limit=${limit}`),
  oplogAll: (limit = 200) =>
    call<{ entries: OpEntry[]; nodes: string[]; missing: Array<{ node: string; reason: string }> }>('GET', `/api/oplog/all?limit=${limit}`),
  logLevel: () => call<{ node: string; level: string; levels: string[] }>('GET', '/api/log-level'),
  setLogLevel: (level: string) => call<{ node: string; level: string; levels: string[] }>('PUT', '/api/log-level', { level }),
  logs: (lines = 200, before?: number) =>
    call<LogPage>('GET', `/api/logs?lines=${lines}${before !== undefined ? `&before=${before}` : ''}`),
  groupAction: (g: string, verb: string, body: Record<string, unknown> = {}) =>
    call<ActionReply>('POST', `/api/groups/${enc(g)}/actions/${verb}`, body),
  resourceAction: (r: string, verb: string, body: Record<string, unknown> = {}) =>
    call<ActionReply>('POST', `/api/resources/${enc(r)}/actions/${verb}`, body),
  monitorAll: () => call<unknown>('POST', '/api/monitor-all', {}),
  /** standby | unstandby | maintenance | unmaintenance (as `mccs node <verb> <node>`). */
  nodeAction: (n: string, verb: string, body: Record<string, unknown> = {}) =>
    call<ActionReply>('POST', `/api/nodes/${enc(n)}/actions/${verb}`, body),
  addGroup: (g: Record<string, unknown>) => call<ConfigChange>('POST', '/api/groups', g),
  editGroup: (g: string, p: Record<string, unknown>) => call<ConfigChange>('PATCH', `/api/groups/${enc(g)}`, p),
  /** force: with its resources (and their links). */
  deleteGroup: (g: string, force = false) => call<ConfigChange>('DELETE', `/api/groups/${enc(g)}${force ? '?force=true' : ''}`),
  addResource: (r: Record<string, unknown>) => call<ConfigChange>('POST', '/api/resources', r),
  editResource: (r: string, p: Record<string, unknown>) => call<ConfigChange>('PATCH', `/api/resources/${enc(r)}`, p),
  /** force: with the dependency links that name it. */
  deleteResource: (r: string, force = false) => call<ConfigChange>('DELETE', `/api/resources/${enc(r)}${force ? '?force=true' : ''}`),
  link: (parent: string, child: string) => call<ConfigChange>('POST', '/api/dependencies', { parent, child }),
  unlink: (parent: string, child: string) => call<ConfigChange>('DELETE', `/api/dependencies/${enc(parent)}/${enc(child)}`),
  discover: (t: string, body: { field: string; node?: string; attrs: Record<string, unknown> }) =>
    call<{ options: Array<{ value: string; label?: string }>; answer?: string; message?: string; schema?: JsonSchema }>(
      'POST',
      `/api/types/${enc(t)}/discover`,
      body,
    ),
  validate: (t: string, perNode: Record<string, Record<string, unknown>>) =>
    call<{ ok: boolean; diagnostics: Array<{ field: string; message: string; hint?: string }> }>('POST', `/api/types/${enc(t)}/validate`, {
      perNode,
    }),
  renameNode: (n: string, name: string) => call<unknown>('POST', `/api/nodes/${enc(n)}/rename`, { name }),
  supportList: () => call<SupportBundle[]>('GET', '/api/support'),
  supportCollect: (nodes: 'all' | string[]) => call<SupportBundle>('POST', '/api/support', { nodes }),
  licenses: () => call<License[]>('GET', '/api/licenses'),
  aws: () => call<{ nodes: Array<AwsNodeView | { node: string; error: { code: string; message: string } }> }>('GET', '/api/aws'),
  setAws: (node: string, s: AwsSettingsInput) => call<AwsNodeView>('PUT', `/api/aws/nodes/${encodeURIComponent(node)}/settings`, s),
  addAwsProfile: (node: string, p: Record<string, string>) =>
    call<AwsNodeView>('POST', `/api/aws/nodes/${encodeURIComponent(node)}/profiles`, p),
  checkAws: (node: string, settings?: AwsSettingsInput, over: { profile?: string; region?: string } = {}) =>
    call<AwsCheckResult>('POST', `/api/aws/nodes/${encodeURIComponent(node)}/check`, { ...(settings ? { settings } : {}), ...over }),
  addLicense: (node: string, text: string) => call<License>('POST', '/api/licenses', { node, text }),
  timeline: (q: { group: string | null; since?: string; limit?: number }) =>
    call<TimelineReply>(
      'GET',
      `/api/timeline?${new URLSearchParams({
        ...(q.group ? { group: q.group } : {}),
        ...(q.since ? { since: q.since } : {}),
        ...(q.limit ? { limit: String(q.limit) } : {}),
      }).toString()}`,
    ),
  consoleGuide: (lang: string) =>
    call<{ name: string; lang: string; markdown: string }>('GET', `/api/help/console-guide?lang=${encodeURIComponent(lang)}`),
  openapi: () => call<{ info?: { title?: string; version?: string } }>('GET', '/api/openapi.json'),
}

export interface TypeSummary {
  name: string
  displayName: string
  version: string
  kind: string
  description?: string
  permissions: string[]
}
export interface TypeDetail extends TypeSummary {
  wizard: JsonSchema
  defaults?: Record<string, number>
}
export type JsonSchema = Record<string, unknown>
/** A configuration change's answer (routes/config-edit.ts). */
export interface ConfigChange {
  generation: number
  summary: string
  removed?: { resources?: string[]; dependencies?: Array<{ parent: string; child: string }> }
  /** Every configuration warning in force after the change; [] when none. */
  warnings: ConfigWarning[]
}
export interface ConfigWarning {
  resource: string
  /** main.json#/resources/<index> */
  field: string
  message: string
  /** The dependency that answers it (offered as a button), when the group leaves no choice. */
  link?: { parent: string; child: string }
}
export interface ActionReply {
  accepted: boolean
  /** The engine's answer; a refusal's reason is in words of the locale files too (`said`). */
  outcome?: string | { status: string; code?: string; reason?: string; said?: Said }
  message?: string
}
export interface OpEntry {
  at: string
  user: string
  node?: string
  /** The node the command was given on, when another node's engine decided it. */
  via?: string
  op?: string
  command?: string
  target?: string | null
  args?: Record<string, unknown>
  result: string
  reason?: string
  said?: Said
  final?: { result: string; at: string; reason?: string; said?: Said }
}
/** A page of this node's log: `from` is the `before` of the older page (0: the log's start). */
export interface LogPage {
  lines: string[]
  from: number
  to: number
  size: number
}
export interface SupportBundle {
  id: string
  createdAt: string
  nodes: string[]
  size: number
}
export interface License {
  node: string
  type: string
  expires: string | null
  hostId: string
  valid: boolean
  reason?: string
  said?: Said
  mode?: string
  daysLeft?: number | null
  warning?: string
  warningSaid?: Said
}
