// The one error catalogue of MCCS. Every error the product raises on purpose has a code here;
// tests check codes, never message text. An error names the field (a JSON path, a manifest field,
// a permission) and the reason, so an operator can fix the input without reading code.
//
// Each entry is its code's whole truth, in the shape of fastify's createError(code, message, status):
// the catalogue message, the HTTP status every API answers with it (core/console/http-errors.ts takes it
// from here; no other file maps codes to statuses: test/errors/catalogue.test.ts checks), and, where the
// CLI maps the code, the name of its exit code (core/cli/exit-codes.ts). Append with e(message, status[, exit]).

/** The CLI exit codes an entry may name (their numbers are in core/cli/exit-codes.ts, above this file). */
export type ExitName = 'FAILED' | 'REJECTED' | 'AGENT_DOWN' | 'INVALID' | 'STATE_DIR'

export interface CatalogueEntry {
  readonly message: string
  /** The HTTP status an API answers this code with (4xx: the caller's request or the state it meets; 5xx: this side). */
  readonly status: number
  /** The CLI's exit code for a command refused with this code; absent: the command decides. */
  readonly exit?: ExitName
}

function e(message: string, status: number, exit?: ExitName): CatalogueEntry {
  return exit ? { message, status, exit } : { message, status }
}

export const CATALOGUE = {
  // --- generic input validation ---
  MCCS_ERR_INVALID: e('invalid input', 400),
  MCCS_ERR_NOT_FOUND: e('not found', 404, 'REJECTED'),
  MCCS_ERR_CONFLICT: e('conflicts with the current state', 409, 'REJECTED'),
  MCCS_ERR_INTERNAL: e('internal error', 500),

  // --- plugins: manifest, load, sandbox, capabilities ---
  MCCS_ERR_MANIFEST: e('plugin manifest is invalid', 500),
  MCCS_ERR_ENGINE_INCOMPATIBLE: e('plugin needs another MCCS plugin API version', 500),
  MCCS_ERR_PLUGIN_LOAD: e('plugin could not be loaded', 500),
  MCCS_ERR_PLUGIN_DUPLICATE: e('a plugin with this type name is already loaded', 500),
  MCCS_ERR_PLUGIN_CONTRACT: e('plugin returned a value that breaks the hook contract', 502),
  MCCS_ERR_PERMISSION_DENIED: e('plugin lacks the permission for this capability', 500),
  MCCS_ERR_CAPABILITY_ARGS: e('capability called with invalid arguments', 500),
  MCCS_ERR_CAPABILITY_FAILED: e('capability call failed', 502),
  MCCS_ERR_HOOK_UNKNOWN: e('no such hook', 500),
  MCCS_ERR_CANCELLED: e('cancelled', 409),
  MCCS_ERR_PLUGIN_NAME_RESERVED: e("a built-in type's name; only the plugin shipped in the built-in folder may use it", 500),
  MCCS_ERR_PLUGIN_LIMIT: e('plugin went past a host-side limit (concurrent calls, log, answer or argument size, CPU)', 500),
  // --- aws.ec2 capability (core/plugins/caps/aws-*.ts); `field` holds EC2's own error code ---
  MCCS_ERR_AWS_CONFIG: e('AWS settings (config/aws.json, profile, region) are missing or invalid', 500),
  MCCS_ERR_AWS_API: e('the EC2 API refused the call', 502),
  MCCS_ERR_AWS_THROTTLED: e('the EC2 API was still throttling when the deadline came', 503),
  MCCS_ERR_AWS_UNREACHABLE: e('the EC2 endpoint could not be reached in time', 504),

  // --- engine / model ---
  MCCS_ERR_DEP_CYCLE: e('dependencies form a cycle', 400, 'INVALID'),
  MCCS_ERR_GROUP_LOCKED: e('group is locked', 409, 'REJECTED'),
  MCCS_ERR_GROUP_BUSY: e('group has actions in progress', 409, 'REJECTED'),
  MCCS_ERR_GROUP_OFFLINE: e('group is not online', 409, 'REJECTED'),
  MCCS_ERR_GROUP_ONLINE_ELSEWHERE: e('group is online on another node', 409, 'REJECTED'),
  MCCS_ERR_GROUP_FAULTED: e('group or resource is faulted on that node', 409, 'REJECTED'),
  MCCS_ERR_NODE_UNAVAILABLE: e('node cannot take the group now', 409, 'REJECTED'),
  MCCS_ERR_FENCE_PENDING: e('a node that may still run the group is not fenced yet', 409, 'REJECTED'),
  MCCS_ERR_DEP_GROUP: e('dependency links resources of different groups', 400, 'INVALID'),

  // --- configuration ---
  MCCS_ERR_CONFIG_SYNTAX: e('configuration file is not valid JSON', 400, 'INVALID'),
  MCCS_ERR_CONFIG_SCHEMA: e('configuration does not match its schema', 400, 'INVALID'),
  MCCS_ERR_CONFIG_REF: e('configuration refers to something that does not exist', 400, 'INVALID'),
  MCCS_ERR_CONFIG_GENERATION: e('configuration generation conflict', 409, 'REJECTED'),
  MCCS_ERR_NO_QUORUM: e("this node's partition has no quorum", 503, 'REJECTED'),
  MCCS_ERR_CONFIG_DIVERGED: e("this node's configuration differs from the cluster's at the same generation", 409, 'REJECTED'),
  MCCS_ERR_CONFIG_DUPLICATE: e('a name or key is defined twice in the configuration', 400, 'INVALID'),
  MCCS_ERR_CONFIG_DEPENDENCY: e('dependency links resources that cannot depend on each other', 400, 'INVALID'),
  MCCS_ERR_CONFIG_ATTRS: e("resource attributes do not match the type's attribute schema", 400, 'INVALID'),
  MCCS_ERR_CONFIG_MISSING: e('configuration file is missing', 500),
  MCCS_ERR_CONFIG_INVALID: e('configuration is invalid (see data.issues)', 400, 'INVALID'),
  MCCS_ERR_CONFIG_VERSION: e('configuration has a newer schema version than this agent reads', 400, 'INVALID'),
  MCCS_ERR_BOOTSTRAP: e('agent bootstrap settings are invalid', 500),
  MCCS_ERR_BOOTSTRAP_UNSAFE: e('settings file refused: it or a folder above can be changed by a user other than root or the caller', 500),
  MCCS_ERR_STATE_CORRUPT: e('a state file could not be used; it was kept aside and the agent went on from a fresh state', 500),
  MCCS_ERR_STATE_DIR: e('a folder the agent must write (state, logs) is missing or not writable', 500, 'STATE_DIR'),

  // --- proc: managed processes (core/plugins/caps/proc.ts) ---
  MCCS_ERR_PROC_UNSUPPORTED: e('managed processes need sh, env (coreutils) and setsid (util-linux) on this host', 500),
  MCCS_ERR_PROC_START_FAILED: e('managed process could not be started', 500),
  MCCS_ERR_PROC_STOP_FAILED: e('managed process did not stop', 500),

  // --- quorum / fencing (core/cluster/quorum-*.ts, core/cluster/tls.ts, plugins/fence-script) ---
  MCCS_ERR_TLS_OPENSSL: e('the openssl command is missing or failed while making TLS material', 500),
  MCCS_ERR_TLS_MATERIAL: e('TLS certificate or key is missing, unreadable or invalid', 500),
  MCCS_ERR_QUORUM_AUTH: e('quorum server refused the client (unknown cluster or wrong cluster key)', 502),
  MCCS_ERR_QUORUM_PROTOCOL: e('quorum protocol message is invalid', 502),
  MCCS_ERR_QUORUM_TLS: e('TLS handshake with the quorum server failed (certificate not trusted or wrong host)', 502),
  MCCS_ERR_QUORUM_UNREACHABLE: e('quorum server cannot be reached', 503),
  MCCS_ERR_QUORUM_SERVER_DOWN: e('quorum server is not running (no control socket)', 503, 'AGENT_DOWN'),

  // --- cluster: heartbeat packets and links, cluster key, membership (core/cluster/) ---
  MCCS_ERR_HB_PACKET: e('heartbeat packet is malformed', 400),
  MCCS_ERR_HB_VERSION: e('heartbeat packet has an unsupported protocol version', 400),
  MCCS_ERR_HB_FOREIGN: e('heartbeat packet belongs to another cluster', 400),
  MCCS_ERR_HB_AUTH: e('heartbeat packet failed authentication (wrong cluster key or altered)', 400),
  MCCS_ERR_HB_REPLAY: e('heartbeat packet is a replay or comes from an older incarnation of its sender', 400),
  MCCS_ERR_HB_MISDIRECTED: e('heartbeat packet names an unknown sender, another receiver or another link', 400),
  MCCS_ERR_HB_PAYLOAD: e('heartbeat payload is invalid or larger than 1 KiB', 400),
  MCCS_ERR_HB_CONFIG: e('heartbeat configuration cannot be used on this node', 500),
  MCCS_ERR_CLUSTER_KEY_MISSING: e('cluster key file is missing', 500),
  MCCS_ERR_CLUSTER_KEY_INVALID: e('cluster key file is not a 256-bit key', 500),
  MCCS_ERR_CLUSTER_KEY_MODE: e('cluster key file is readable by group or others (needs mode 0600)', 500),
  MCCS_ERR_CLUSTER_KEY_EXISTS: e('cluster key file already exists', 409),

  // --- agent-to-agent channel (core/cluster/peer-channel.ts) ---
  MCCS_ERR_PEER_UNREACHABLE: e('another node cannot be reached on any link', 503),
  MCCS_ERR_PEER_TIMEOUT: e('another node did not answer in time', 504),
  MCCS_ERR_PEER_PROTOCOL: e('another node answered with something this node cannot use', 502),
  MCCS_ERR_NOT_COORDINATOR: e(
    "not the coordinator: the sender is not this node's, or this node is not the cluster's (membership is being decided)",
    503,
    'REJECTED',
  ),

  // --- web console and REST API (core/console/) ---
  MCCS_ERR_UNAUTHENTICATED: e('no valid session (log in first)', 401),
  MCCS_ERR_LOGIN_FAILED: e('wrong user name or password', 401),
  MCCS_ERR_RATE_LIMITED: e('too many failed logins; wait before trying again', 429),
  MCCS_ERR_CSRF: e("the request lacks the session's CSRF token", 403),
  MCCS_ERR_PASSWORD_RULE: e('the new password does not follow the password rules', 400),
  MCCS_ERR_PASSWORD_REUSED: e('the new password was used before', 400),
  MCCS_ERR_PASSWORD_CHANGE_REQUIRED: e('the password must be changed first', 403),
  MCCS_ERR_NOT_IMPLEMENTED: e('not implemented yet', 501),
  MCCS_ERR_CONSOLE: e('the web console could not start', 500),
  MCCS_ERR_TOO_LARGE: e('the request body is larger than this route takes', 413),
  MCCS_ERR_BUSY: e('the console is busy checking other logins; try again in a moment', 503),
  MCCS_ERR_ACCOUNT_LOCKED: e('the account is locked for a while after many failed logins', 429),

  // --- licenses (core/license/, manual 5.4) ---
  MCCS_ERR_LICENSE_FORMAT: e('license text is malformed', 400, 'INVALID'),
  MCCS_ERR_LICENSE_TYPE: e('unknown license type', 400, 'INVALID'),
  MCCS_ERR_LICENSE_SIGNATURE: e('license signature is invalid or made by an untrusted key', 400, 'INVALID'),
  MCCS_ERR_LICENSE_EXPIRED: e('license has expired', 400, 'INVALID'),
  MCCS_ERR_LICENSE_HOST: e('license host id is not a MAC address of this node', 400, 'INVALID'),
  MCCS_ERR_LICENSE_NODE: e('license is for another node', 400, 'INVALID'),
  MCCS_ERR_LICENSE_MISSING: e('no license is installed (limited mode)', 409, 'INVALID'),
  MCCS_ERR_LICENSE_UNSUPPORTED: e('license kind is not supported by this build', 400, 'INVALID'),
  MCCS_ERR_LICENSE_KEY: e('license signing key is missing or invalid', 500, 'INVALID'),

  // --- logs (core/log/) ---
  MCCS_ERR_LOG_WRITE: e('a log could not be written (disk full or not writable): lines were dropped or held, and counted', 500),
  // --- mirror disk (core/mirror/, issue 15) ---
  MCCS_ERR_MIRROR_ENGINE: e('the mirror data plane (qemu-storage-daemon, nbdfuse, losetup) failed', 500),
  MCCS_ERR_MIRROR_OUTDATED: e("this node's mirror data is not known to be up to date; it will not become primary unless forced", 409),
  MCCS_ERR_MIRROR_ROLE: e('the mirror volume is not in the role this action needs', 409),
  // --- licenses, continued (issue 17: limited mode enforced, the 7-day rule, floating licenses) ---
  MCCS_ERR_LICENSE_LIMITED: e('node is in limited mode: no automatic failover or auto-start', 409, 'INVALID'),
  MCCS_ERR_LICENSE_STALE: e('full license not verified within the last 7 days (restricted mode after a restart)', 409, 'INVALID'),
  MCCS_ERR_LICENSE_SERVER: e('the floating license server cannot be reached or refused the request', 502, 'INVALID'),
  MCCS_ERR_LICENSE_SEATS: e('every seat of the floating license is taken', 409, 'INVALID'),
  // --- front ends, raised on the client side (core/cli/control-client.ts, core/console/ui/api.ts) ---
  MCCS_ERR_AGENT_DOWN: e('no agent answers on the control socket (the agent is not running)', 503, 'AGENT_DOWN'),
  MCCS_ERR_NETWORK: e('the agent did not answer the browser (network error)', 503),
  MCCS_ERR_BAD_REPLY: e('the agent answered with something that is not JSON', 502),
} as const satisfies Record<`MCCS_ERR_${string}`, CatalogueEntry>

export type ErrorCode = keyof typeof CATALOGUE

/** Code -> catalogue message. */
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
