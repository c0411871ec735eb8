// The one error catalogue of MCCS. Every error the product raises on purpose has a code here;
// tests check codes, never message text. An error names the field (a JSON path, a manifest field,
// a permission) and the reason, so an operator can fix the input without reading code.
//
// Each entry is its code's whole truth, in the shape of fastify's createError(code, message, status):
// the catalogue message, the HTTP status every API answers with it (core/console/http-errors.ts takes it
// from here; no other file maps codes to statuses: test/errors/catalogue.test.ts checks), and, where the
// CLI maps the code, the name of its exit code (core/cli/exit-codes.ts). Append with e(status[, exit]), and
// put the message under err.<code> in every locale file of core/i18n (en.json, ko.json).
import { t, type Locale, type MessageKey } from './i18n/messages.js'

/** The CLI exit codes an entry may name (their numbers are in core/cli/exit-codes.ts, above this file). */
export type ExitName = 'FAILED' | 'REJECTED' | 'AGENT_DOWN' | 'INVALID' | 'STATE_DIR'

export interface CatalogueEntry {
  readonly message: string
  /** The HTTP status an API answers this code with (4xx: the caller's request or the state it meets; 5xx: this side). */
  readonly status: number
  /** The CLI's exit code for a command refused with this code; absent: the command decides. */
  readonly exit?: ExitName
}

function e(status: number, exit?: ExitName): Omit<CatalogueEntry, 'message'> {
  return exit ? { status, exit } : { status }
}

const ENTRIES = {
  // --- generic input validation ---
  MCCS_ERR_INVALID: e(400),
  MCCS_ERR_NOT_FOUND: e(404, 'REJECTED'),
  MCCS_ERR_CONFLICT: e(409, 'REJECTED'),
  MCCS_ERR_INTERNAL: e(500),

  // --- plugins: manifest, load, sandbox, capabilities ---
  MCCS_ERR_MANIFEST: e(500),
  MCCS_ERR_ENGINE_INCOMPATIBLE: e(500),
  MCCS_ERR_PLUGIN_LOAD: e(500),
  MCCS_ERR_PLUGIN_DUPLICATE: e(500),
  MCCS_ERR_PLUGIN_CONTRACT: e(502),
  MCCS_ERR_PERMISSION_DENIED: e(500),
  MCCS_ERR_CAPABILITY_ARGS: e(500),
  MCCS_ERR_CAPABILITY_FAILED: e(502),
  MCCS_ERR_HOOK_UNKNOWN: e(500),
  MCCS_ERR_CANCELLED: e(409),
  MCCS_ERR_PLUGIN_NAME_RESERVED: e(500),
  MCCS_ERR_PLUGIN_LIMIT: e(500),
  // --- aws.ec2 capability (core/plugins/caps/aws-*.ts); `field` holds EC2's own error code ---
  MCCS_ERR_AWS_CONFIG: e(500),
  MCCS_ERR_AWS_API: e(502),
  MCCS_ERR_AWS_THROTTLED: e(503),
  MCCS_ERR_AWS_UNREACHABLE: e(504),

  // --- engine / model ---
  MCCS_ERR_DEP_CYCLE: e(400, 'INVALID'),
  MCCS_ERR_GROUP_LOCKED: e(409, 'REJECTED'),
  MCCS_ERR_GROUP_BUSY: e(409, 'REJECTED'),
  MCCS_ERR_GROUP_OFFLINE: e(409, 'REJECTED'),
  MCCS_ERR_GROUP_ONLINE_ELSEWHERE: e(409, 'REJECTED'),
  MCCS_ERR_GROUP_FAULTED: e(409, 'REJECTED'),
  MCCS_ERR_NODE_UNAVAILABLE: e(409, 'REJECTED'),
  MCCS_ERR_FENCE_PENDING: e(409, 'REJECTED'),
  MCCS_ERR_DEP_GROUP: e(400, 'INVALID'),

  // --- configuration ---
  MCCS_ERR_CONFIG_SYNTAX: e(400, 'INVALID'),
  MCCS_ERR_CONFIG_SCHEMA: e(400, 'INVALID'),
  MCCS_ERR_CONFIG_REF: e(400, 'INVALID'),
  MCCS_ERR_CONFIG_GENERATION: e(409, 'REJECTED'),
  MCCS_ERR_NO_QUORUM: e(503, 'REJECTED'),
  MCCS_ERR_CONFIG_DIVERGED: e(409, 'REJECTED'),
  MCCS_ERR_CONFIG_DUPLICATE: e(400, 'INVALID'),
  MCCS_ERR_CONFIG_DEPENDENCY: e(400, 'INVALID'),
  MCCS_ERR_CONFIG_ATTRS: e(400, 'INVALID'),
  MCCS_ERR_CONFIG_MISSING: e(500),
  MCCS_ERR_CONFIG_INVALID: e(400, 'INVALID'),
  MCCS_ERR_CONFIG_VERSION: e(400, 'INVALID'),
  MCCS_ERR_BOOTSTRAP: e(500),
  MCCS_ERR_BOOTSTRAP_UNSAFE: e(500),
  MCCS_ERR_STATE_CORRUPT: e(500),
  MCCS_ERR_STATE_DIR: e(500, 'STATE_DIR'),

  // --- proc: managed processes (core/plugins/caps/proc.ts) ---
  MCCS_ERR_PROC_UNSUPPORTED: e(500),
  MCCS_ERR_PROC_START_FAILED: e(500),
  MCCS_ERR_PROC_STOP_FAILED: e(500),

  // --- quorum / fencing (core/cluster/quorum-*.ts, core/cluster/tls.ts, plugins/fence-script) ---
  MCCS_ERR_TLS_OPENSSL: e(500),
  MCCS_ERR_TLS_MATERIAL: e(500),
  MCCS_ERR_QUORUM_AUTH: e(502),
  MCCS_ERR_QUORUM_PROTOCOL: e(502),
  MCCS_ERR_QUORUM_TLS: e(502),
  MCCS_ERR_QUORUM_UNREACHABLE: e(503),
  MCCS_ERR_QUORUM_SERVER_DOWN: e(503, 'AGENT_DOWN'),

  // --- cluster: heartbeat packets and links, cluster key, membership (core/cluster/) ---
  MCCS_ERR_HB_PACKET: e(400),
  MCCS_ERR_HB_VERSION: e(400),
  MCCS_ERR_HB_FOREIGN: e(400),
  MCCS_ERR_HB_AUTH: e(400),
  MCCS_ERR_HB_REPLAY: e(400),
  MCCS_ERR_HB_MISDIRECTED: e(400),
  MCCS_ERR_HB_PAYLOAD: e(400),
  MCCS_ERR_HB_CONFIG: e(500),
  MCCS_ERR_CLUSTER_KEY_MISSING: e(500),
  MCCS_ERR_CLUSTER_KEY_INVALID: e(500),
  MCCS_ERR_CLUSTER_KEY_MODE: e(500),
  MCCS_ERR_CLUSTER_KEY_EXISTS: e(409),

  // --- agent-to-agent channel (core/cluster/peer-channel.ts) ---
  MCCS_ERR_PEER_UNREACHABLE: e(503),
  MCCS_ERR_PEER_TIMEOUT: e(504),
  MCCS_ERR_PEER_PROTOCOL: e(502),
  MCCS_ERR_PEER_VERSION: e(502),
  MCCS_ERR_NOT_COORDINATOR: e(503, 'REJECTED'),

  // --- web console and REST API (core/console/) ---
  MCCS_ERR_UNAUTHENTICATED: e(401),
  MCCS_ERR_LOGIN_FAILED: e(401),
  MCCS_ERR_RATE_LIMITED: e(429),
  MCCS_ERR_CSRF: e(403),
  MCCS_ERR_PASSWORD_RULE: e(400),
  MCCS_ERR_PASSWORD_REUSED: e(400),
  MCCS_ERR_PASSWORD_CHANGE_REQUIRED: e(403),
  MCCS_ERR_NOT_IMPLEMENTED: e(501),
  MCCS_ERR_CONSOLE: e(500),
  MCCS_ERR_TOO_LARGE: e(413),
  MCCS_ERR_BUSY: e(503),
  MCCS_ERR_ACCOUNT_LOCKED: e(429),
  MCCS_ERR_FORBIDDEN: e(403),

  // --- licenses (core/license/, manual 5.4) ---
  MCCS_ERR_LICENSE_FORMAT: e(400, 'INVALID'),
  MCCS_ERR_LICENSE_TYPE: e(400, 'INVALID'),
  MCCS_ERR_LICENSE_SIGNATURE: e(400, 'INVALID'),
  MCCS_ERR_LICENSE_EXPIRED: e(400, 'INVALID'),
  MCCS_ERR_LICENSE_HOST: e(400, 'INVALID'),
  MCCS_ERR_LICENSE_NODE: e(400, 'INVALID'),
  MCCS_ERR_LICENSE_MISSING: e(409, 'INVALID'),
  MCCS_ERR_LICENSE_UNSUPPORTED: e(400, 'INVALID'),
  MCCS_ERR_LICENSE_KEY: e(500, 'INVALID'),

  // --- logs (core/log/) ---
  MCCS_ERR_LOG_WRITE: e(500),
  // --- mirror disk (core/mirror/, issue 15) ---
  MCCS_ERR_MIRROR_ENGINE: e(500),
  MCCS_ERR_MIRROR_OUTDATED: e(409),
  MCCS_ERR_MIRROR_ROLE: e(409),
  // --- licenses, continued (issue 17: limited mode enforced, the 7-day rule, floating licenses) ---
  MCCS_ERR_LICENSE_LIMITED: e(409, 'INVALID'),
  MCCS_ERR_LICENSE_STALE: e(409, 'INVALID'),
  MCCS_ERR_LICENSE_SERVER: e(502, 'INVALID'),
  MCCS_ERR_LICENSE_SEATS: e(409, 'INVALID'),
  // --- front ends, raised on the client side (core/cli/control-client.ts, core/console/ui/api.ts) ---
  MCCS_ERR_AGENT_DOWN: e(503, 'AGENT_DOWN'),
  MCCS_ERR_NETWORK: e(503),
  MCCS_ERR_BAD_REPLY: e(502),
} as const satisfies Record<`MCCS_ERR_${string}`, Omit<CatalogueEntry, 'message'>>

/** Each entry with its English message, from core/i18n/en.json (key err.<code>): one text per code and locale. */
export const CATALOGUE = Object.fromEntries(
  Object.entries(ENTRIES).map(([code, x]) => [code, { message: t('en', `err.${code}` as MessageKey), ...x }]),
) as { readonly [C in keyof typeof ENTRIES]: CatalogueEntry }

export type ErrorCode = keyof typeof ENTRIES

/** The catalogue message of a code in a locale (the API answers in the caller's, the CLI in the product's). */
export function messageOf(code: ErrorCode, locale: Locale): string {
  return t(locale, `err.${code}` as MessageKey)
}

/** Code -> catalogue message (English). */
export const CODES = Object.fromEntries(Object.entries(CATALOGUE).map(([c, x]) => [c, x.message])) as { readonly [C in ErrorCode]: string }

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(CATALOGUE, code)
}

/** The HTTP status of a code; anything not in the catalogue is an internal error (500). */
export function statusOf(code: string | undefined): number {
  return isErrorCode(code) ? CATALOGUE[code].status : 500
}

export interface ErrorDetail {
  /** What the error is about: a JSON path (`/resources/2/attrs/port`), a manifest field, a permission. */
  field?: string
  /** The plugin, file, resource or group concerned. */
  subject?: string
  /** Anything else worth showing (machine-readable). */
  data?: Record<string, unknown>
  cause?: unknown
}

export class MccsError extends Error {
  readonly code: ErrorCode
  /** Why, in words, without the code, subject and field the message starts with. */
  readonly reason: string
  readonly field?: string
  readonly subject?: string
  readonly data?: Record<string, unknown>

  constructor(code: ErrorCode, reason: string, detail: ErrorDetail = {}) {
    super(`${code}: ${where(detail)}${reason}`, detail.cause ? { cause: detail.cause } : undefined)
    this.name = 'MccsError'
    this.code = code
    this.reason = reason
    if (detail.field !== undefined) this.field = detail.field
    if (detail.subject !== undefined) this.subject = detail.subject
    if (detail.data !== undefined) this.data = detail.data
  }

  /** Its HTTP status from the catalogue, where fastify looks for it (as on a createError error). */
  get statusCode(): number {
    return CATALOGUE[this.code].status
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, field: this.field, subject: this.subject, data: this.data }
  }
}

/** "subject field: ", the part of the message between the code and the reason. */
function where(d: { subject?: string | undefined; field?: string | undefined }): string {
  const w = [d.subject, d.field].filter(Boolean).join(' ')
  return w ? w + ': ' : ''
}

export function mccsError(code: ErrorCode, reason: string, detail?: ErrorDetail): MccsError {
  return new MccsError(code, reason, detail)
}

export function isMccsError(e: unknown, code?: ErrorCode): e is MccsError {
  return e instanceof MccsError && (code === undefined || e.code === code)
}

/** An MccsError as another process sent it (peer channel): the same code, field, subject and data, and
 *  its message as it was (not prefixed again). An unknown code becomes MCCS_ERR_INTERNAL. */
export function mccsErrorFromWire(w: { code?: unknown; message?: unknown; field?: unknown; subject?: unknown; data?: unknown }): MccsError {
  const code = isErrorCode(w.code) ? w.code : 'MCCS_ERR_INTERNAL'
  const detail: ErrorDetail = {}
  if (typeof w.field === 'string') detail.field = w.field
  if (typeof w.subject === 'string') detail.subject = w.subject
  if (w.data && typeof w.data === 'object' && !Array.isArray(w.data)) detail.data = w.data as Record<string, unknown>
  const message = typeof w.message === 'string' ? w.message : `${code}: error from a peer`
  // The wire carries the message only (its shape is fixed); the reason is what follows the prefix.
  const prefix = `${w.code}: ${where(detail)}`
  const err = new MccsError(code, message.startsWith(prefix) ? message.slice(prefix.length) : message, detail)
  err.message = message
  return err
}

/** Any thrown value as an MccsError: itself, or MCCS_ERR_INTERNAL with its message. */
export function asMccsError(err: unknown): MccsError {
  return isMccsError(err) ? err : new MccsError('MCCS_ERR_INTERNAL', String((err as Error)?.message ?? err))
}
