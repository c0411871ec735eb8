// The one error catalogue of MCCS. Every error the product raises on purpose has a code here;
// tests check codes, never message text. An error names the field (a JSON path, a manifest field,
// a permission) and the reason, so an operator can fix the input without reading code.

export const CODES = {
  // --- generic input validation ---
  MCCS_ERR_INVALID: 'invalid input',
  MCCS_ERR_NOT_FOUND: 'not found',
  MCCS_ERR_CONFLICT: 'conflicts with the current state',
  MCCS_ERR_INTERNAL: 'internal error',

  // --- plugins: manifest, load, sandbox, capabilities ---
  MCCS_ERR_MANIFEST: 'plugin manifest is invalid',
  MCCS_ERR_ENGINE_INCOMPATIBLE: 'plugin needs another MCCS plugin API version',
  MCCS_ERR_PLUGIN_LOAD: 'plugin could not be loaded',
  MCCS_ERR_PLUGIN_DUPLICATE: 'a plugin with this type name is already loaded',
  MCCS_ERR_PLUGIN_CONTRACT: 'plugin returned a value that breaks the hook contract',
  MCCS_ERR_PERMISSION_DENIED: 'plugin lacks the permission for this capability',
  MCCS_ERR_CAPABILITY_ARGS: 'capability called with invalid arguments',
  MCCS_ERR_CAPABILITY_FAILED: 'capability call failed',
  MCCS_ERR_HOOK_UNKNOWN: 'no such hook',
  MCCS_ERR_CANCELLED: 'cancelled',
  MCCS_ERR_PLUGIN_NAME_RESERVED: 'a built-in type\'s name; only the plugin shipped in the built-in folder may use it',
  MCCS_ERR_PLUGIN_LIMIT: 'plugin went past a host-side limit (concurrent calls, log, answer or argument size, CPU)',
  // --- aws.ec2 capability (core/plugins/caps/aws-*.ts); `field` holds EC2's own error code ---
  MCCS_ERR_AWS_CONFIG: 'AWS settings (config/aws.json, profile, region) are missing or invalid',
  MCCS_ERR_AWS_API: 'the EC2 API refused the call',
  MCCS_ERR_AWS_THROTTLED: 'the EC2 API was still throttling when the deadline came',
  MCCS_ERR_AWS_UNREACHABLE: 'the EC2 endpoint could not be reached in time',

  // --- engine / model ---
  MCCS_ERR_DEP_CYCLE: 'dependencies form a cycle',
  MCCS_ERR_GROUP_LOCKED: 'group is locked',
  MCCS_ERR_GROUP_BUSY: 'group has actions in progress',
  MCCS_ERR_GROUP_OFFLINE: 'group is not online',
  MCCS_ERR_GROUP_ONLINE_ELSEWHERE: 'group is online on another node',
  MCCS_ERR_GROUP_FAULTED: 'group or resource is faulted on that node',
  MCCS_ERR_NODE_UNAVAILABLE: 'node cannot take the group now',
  MCCS_ERR_FENCE_PENDING: 'a node that may still run the group is not fenced yet',
  MCCS_ERR_DEP_GROUP: 'dependency links resources of different groups',

  // --- configuration ---
  MCCS_ERR_CONFIG_SYNTAX: 'configuration file is not valid JSON',
  MCCS_ERR_CONFIG_SCHEMA: 'configuration does not match its schema',
  MCCS_ERR_CONFIG_REF: 'configuration refers to something that does not exist',
  MCCS_ERR_CONFIG_GENERATION: 'configuration generation conflict',
  MCCS_ERR_NO_QUORUM: "this node's partition has no quorum",
  MCCS_ERR_CONFIG_DIVERGED: "this node's configuration differs from the cluster's at the same generation",
  MCCS_ERR_CONFIG_DUPLICATE: 'a name or key is defined twice in the configuration',
  MCCS_ERR_CONFIG_DEPENDENCY: 'dependency links resources that cannot depend on each other',
  MCCS_ERR_CONFIG_ATTRS: "resource attributes do not match the type's attribute schema",
  MCCS_ERR_CONFIG_MISSING: 'configuration file is missing',
  MCCS_ERR_CONFIG_INVALID: 'configuration is invalid (see data.issues)',
  MCCS_ERR_BOOTSTRAP: 'agent bootstrap settings are invalid',
  MCCS_ERR_BOOTSTRAP_UNSAFE: 'settings file refused: it or a folder above can be changed by a user other than root or the caller',
  MCCS_ERR_STATE_CORRUPT: 'a state file could not be used; it was kept aside and the agent went on from a fresh state',
  MCCS_ERR_STATE_DIR: 'a folder the agent must write (state, logs) is missing or not writable',

  // --- proc: managed processes (core/plugins/caps/proc.ts) ---
  MCCS_ERR_PROC_UNSUPPORTED: 'managed processes need sh, env (coreutils) and setsid (util-linux) on this host',
  MCCS_ERR_PROC_START_FAILED: 'managed process could not be started',
  MCCS_ERR_PROC_STOP_FAILED: 'managed process did not stop',

  // --- quorum / fencing (core/cluster/quorum-*.ts, core/cluster/tls.ts, plugins/fence-script) ---
  MCCS_ERR_TLS_OPENSSL: 'the openssl command is missing or failed while making TLS material',
  MCCS_ERR_TLS_MATERIAL: 'TLS certificate or key is missing, unreadable or invalid',
  MCCS_ERR_QUORUM_AUTH: 'quorum server refused the client (unknown cluster or wrong cluster key)',
  MCCS_ERR_QUORUM_PROTOCOL: 'quorum protocol message is invalid',
  MCCS_ERR_QUORUM_TLS: 'TLS handshake with the quorum server failed (certificate not trusted or wrong host)',
  MCCS_ERR_QUORUM_UNREACHABLE: 'quorum server cannot be reached',
  MCCS_ERR_QUORUM_SERVER_DOWN: 'quorum server is not running (no control socket)',

  // --- cluster: heartbeat packets and links, cluster key, membership (core/cluster/) ---
  MCCS_ERR_HB_PACKET: 'heartbeat packet is malformed',
  MCCS_ERR_HB_VERSION: 'heartbeat packet has an unsupported protocol version',
  MCCS_ERR_HB_FOREIGN: 'heartbeat packet belongs to another cluster',
  MCCS_ERR_HB_AUTH: 'heartbeat packet failed authentication (wrong cluster key or altered)',
  MCCS_ERR_HB_REPLAY: 'heartbeat packet is a replay or comes from an older incarnation of its sender',
  MCCS_ERR_HB_MISDIRECTED: 'heartbeat packet names an unknown sender, another receiver or another link',
  MCCS_ERR_HB_PAYLOAD: 'heartbeat payload is invalid or larger than 1 KiB',
  MCCS_ERR_HB_CONFIG: 'heartbeat configuration cannot be used on this node',
  MCCS_ERR_CLUSTER_KEY_MISSING: 'cluster key file is missing',
  MCCS_ERR_CLUSTER_KEY_INVALID: 'cluster key file is not a 256-bit key',
  MCCS_ERR_CLUSTER_KEY_MODE: 'cluster key file is readable by group or others (needs mode 0600)',
  MCCS_ERR_CLUSTER_KEY_EXISTS: 'cluster key file already exists',

  // --- agent-to-agent channel (core/cluster/peer-channel.ts) ---
  MCCS_ERR_PEER_UNREACHABLE: 'another node cannot be reached on any link',
  MCCS_ERR_PEER_TIMEOUT: 'another node did not answer in time',
  MCCS_ERR_PEER_PROTOCOL: 'another node answered with something this node cannot use',
  MCCS_ERR_NOT_COORDINATOR: 'the sender is not this node\'s coordinator',

  // --- web console and REST API (core/console/) ---
  MCCS_ERR_UNAUTHENTICATED: 'no valid session (log in first)',
  MCCS_ERR_LOGIN_FAILED: 'wrong user name or password',
  MCCS_ERR_RATE_LIMITED: 'too many failed logins; wait before trying again',
  MCCS_ERR_CSRF: 'the request lacks the session\'s CSRF token',
  MCCS_ERR_PASSWORD_RULE: 'the new password does not follow the password rules',
  MCCS_ERR_PASSWORD_REUSED: 'the new password was used before',
  MCCS_ERR_PASSWORD_CHANGE_REQUIRED: 'the password must be changed first',
  MCCS_ERR_NOT_IMPLEMENTED: 'not implemented yet',
  MCCS_ERR_CONSOLE: 'the web console could not start',
  MCCS_ERR_TOO_LARGE: 'the request body is larger than this route takes',
  MCCS_ERR_BUSY: 'the console is busy checking other logins; try again in a moment',
  MCCS_ERR_ACCOUNT_LOCKED: 'the account is locked for a while after many failed logins',

  // --- licenses (core/license/, manual 5.4) ---
  MCCS_ERR_LICENSE_FORMAT: 'license text is malformed',
  MCCS_ERR_LICENSE_TYPE: 'unknown license type',
  MCCS_ERR_LICENSE_SIGNATURE: 'license signature is invalid or made by an untrusted key',
  MCCS_ERR_LICENSE_EXPIRED: 'license has expired',
  MCCS_ERR_LICENSE_HOST: 'license host id is not a MAC address of this node',
  MCCS_ERR_LICENSE_NODE: 'license is for another node',
  MCCS_ERR_LICENSE_MISSING: 'no license is installed (limited mode)',
  MCCS_ERR_LICENSE_UNSUPPORTED: 'license kind is not supported by this build',
  MCCS_ERR_LICENSE_KEY: 'license signing key is missing or invalid',

  // --- logs (core/log/) ---
  MCCS_ERR_LOG_WRITE: 'a log could not be written (disk full or not writable): lines were dropped or held, and counted',
  // --- mirror disk (core/mirror/, issue 15) ---
  MCCS_ERR_MIRROR_ENGINE: 'the mirror data plane (qemu-storage-daemon, nbdfuse, losetup) failed',
  MCCS_ERR_MIRROR_OUTDATED: 'this node\'s mirror data is not known to be up to date; it will not become primary unless forced',
  MCCS_ERR_MIRROR_ROLE: 'the mirror volume is not in the role this action needs',
  // --- licenses, continued (issue 17: limited mode enforced, the 7-day rule, floating licenses) ---
  MCCS_ERR_LICENSE_LIMITED: 'node is in limited mode: no automatic failover or auto-start',
  MCCS_ERR_LICENSE_STALE: 'full license not verified within the last 7 days (restricted mode after a restart)',
  MCCS_ERR_LICENSE_SERVER: 'the floating license server cannot be reached or refused the request',
  MCCS_ERR_LICENSE_SEATS: 'every seat of the floating license is taken',
} as const

export type ErrorCode = keyof typeof CODES

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
  readonly field?: string
  readonly subject?: string
  readonly data?: Record<string, unknown>

  constructor(code: ErrorCode, reason: string, detail: ErrorDetail = {}) {
    const where = [detail.subject, detail.field].filter(Boolean).join(' ')
    super(`${code}: ${where ? where + ': ' : ''}${reason}`, detail.cause ? { cause: detail.cause } : undefined)
    this.name = 'MccsError'
    this.code = code
    if (detail.field !== undefined) this.field = detail.field
    if (detail.subject !== undefined) this.subject = detail.subject
    if (detail.data !== undefined) this.data = detail.data
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, field: this.field, subject: this.subject, data: this.data }
  }
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
  const code = typeof w.code === 'string' && w.code in CODES ? (w.code as ErrorCode) : 'MCCS_ERR_INTERNAL'
  const detail: ErrorDetail = {}
  if (typeof w.field === 'string') detail.field = w.field
  if (typeof w.subject === 'string') detail.subject = w.subject
  if (w.data && typeof w.data === 'object' && !Array.isArray(w.data)) detail.data = w.data as Record<string, unknown>
  const e = new MccsError(code, '', detail)
  e.message = typeof w.message === 'string' ? w.message : `${code}: error from a peer`
  return e
}
