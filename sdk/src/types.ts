// The plugin contract of MCCS (plugin API 1.x). Everything a resource-type plugin sees is typed here.
// Plugins run inside an isolated-vm isolate: there is no require, process, fs or net; the world is
// reached only through the capabilities in the hook context, and only those the manifest declares.
import type { NetCapability } from './caps-net.js'
import type { AwsCapabilities } from './caps-aws.js'

export const PLUGIN_API_VERSION = '1.0.0'

export type HookName = 'validate' | 'discover' | 'online' | 'offline' | 'monitor' | 'clean' | 'fence' | 'status'

export const RESOURCE_HOOKS: readonly HookName[] = ['validate', 'discover', 'online', 'offline', 'monitor', 'clean']
export const FENCE_HOOKS: readonly HookName[] = ['validate', 'discover', 'fence', 'status']

/** Axis 1: could the host run the hook at all. */
export type ExecStatus = 'done' | 'timeout' | 'memoryExceeded' | 'crashed' | 'notSupported' | 'cancelled'

/** Axis 2: what the plugin says of the resource. `unknown` is for monitor when the truth cannot be
 *  known (a cloud API throttled or timed out): it must never be read as `notRunning`. */
export type Answer = 'ok' | 'notRunning' | 'invalid' | 'degraded' | 'failed' | 'unknown'

export interface Diagnostic {
  severity: 'error' | 'warning'
  summary: string
  detail?: string
  /** JSON pointer into the attributes, e.g. `/port` or `/nodes/node2/nic`. */
  path?: string
}

export interface Choice {
  value: string
  label?: string
}

/** What a hook returns (build it with the helpers in `@mccs/sdk`: ok(), notRunning(), ...). */
export interface HookAnswer {
  answer: Answer
  /** false when retrying or restarting in place cannot help (bad configuration, missing binary). */
  recoverable?: boolean
  reason?: string
  diagnostics?: Diagnostic[]
  /** discover: the choices for a wizard list. */
  choices?: Choice[]
  /** Small JSON data the hook wants to hand back (shown in `mccs resource info`). */
  data?: Record<string, unknown>
}

/** What the host reports for one hook call: both axes. */
export interface HookResult extends HookAnswer {
  status: ExecStatus
  recoverable: boolean
  durationMs: number
  /** The plugin's resource type and the hook, so a broken contract names the plugin. */
  plugin: string
  hook: HookName
  /** Host-side error text (timeout, crash, contract violation). */
  error?: string
  errorCode?: string
}

export type Attrs = Record<string, unknown>

export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void
  info(msg: string, data?: Record<string, unknown>): void
  warn(msg: string, data?: Record<string, unknown>): void
  error(msg: string, data?: Record<string, unknown>): void
}

// ---------- capabilities ----------

export interface ExecRequest {
  /** Absolute path of an allow-listed binary (the manifest's `exec:<path>` permissions). */
  file: string
  args?: string[]
  env?: Record<string, string>
  cwd?: string
  /** Killed (SIGTERM, then SIGKILL after 2 s) after this many ms; bounded by the hook's deadline. */
  timeoutMs?: number
  /** Bytes kept of stdout and of stderr each (default 64 KiB, at most 1 MiB). */
  maxOutputBytes?: number
  input?: string
}
export interface ExecResult {
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
  timedOut: boolean
  truncated: boolean
  durationMs: number
}
export interface ExecCapability {
  run(req: ExecRequest): Promise<ExecResult>
}

export interface ProcSpec {
  /** A name unique within the resource (a resource may manage several processes). */
  name: string
  argv: string[]
  env?: Record<string, string>
  cwd?: string
  user?: string
  group?: string
}
export interface ProcStatus {
  name: string
  running: boolean
  pid: number | null
  startedAt: string | null
  /** Set when the process has exited (while supervised). */
  exitCode: number | null
  exitSignal: string | null
  exitedAt: string | null
  /** Path of the process's stdout/stderr log. */
  logFile: string | null
}
export interface ProcCapability {
  /** Starts the process under a supervisor unless it already runs (idempotent). */
  start(spec: ProcSpec): Promise<ProcStatus>
  /** SIGTERM, then SIGKILL after graceMs; idempotent. */
  stop(name: string, opts?: { graceMs?: number; signal?: string }): Promise<ProcStatus>
  status(name: string): Promise<ProcStatus>
}

export interface StateCapability {
  get<T = unknown>(key: string): Promise<T | undefined>
  set(key: string, value: unknown): Promise<void>
  delete(key: string): Promise<void>
  all(): Promise<Record<string, unknown>>
}

/** The capabilities a hook may use. Each exists on every context; a call that the manifest did not
 *  permit fails with MCCS_ERR_PERMISSION_DENIED naming the missing permission. */
export interface Capabilities {
  exec: ExecCapability
  proc: ProcCapability
  state: StateCapability
  net: NetCapability
  aws: AwsCapabilities
  mirror: import('./caps-mirror.js').MirrorCapability
}

export interface HookContext<A extends Attrs = Attrs> extends Capabilities {
  /** Resource name (or the fence device name). */
  resource: string
  /** Resource type (the plugin's name). */
  type: string
  /** The node this hook runs on. */
  node: string
  /** All nodes of the cluster. */
  nodes: string[]
  /** Attributes resolved for this node (per-node values merged over global ones). */
  attrs: A
  hook: HookName
  /** Epoch ms after which the host abandons the call. */
  deadline: number
  /** Host-provided paths (install home, script folder). */
  paths: { home: string; scripts: string }
  log: Logger
  /** Sleep inside the sandbox (there are no timers otherwise). A sleep that would pass the deadline
   *  never wakes: the call ends as a timeout. */
  sleep(ms: number): Promise<void>
  /** Wall-clock time in ms (the sandbox has Date too; this is here for clarity). */
  now(): number
}

export interface ValidateInput<A extends Attrs = Attrs> {
  /** Attributes resolved for each node. */
  perNode: Record<string, A>
}

export interface ResourceHooks<A extends Attrs = Attrs> {
  validate?(ctx: HookContext<A>, input: ValidateInput<A>): Promise<HookAnswer> | HookAnswer
  discover?(ctx: HookContext<A>, field: string, partial: Partial<A>): Promise<HookAnswer> | HookAnswer
  online(ctx: HookContext<A>): Promise<HookAnswer> | HookAnswer
  offline(ctx: HookContext<A>): Promise<HookAnswer> | HookAnswer
  monitor(ctx: HookContext<A>): Promise<HookAnswer> | HookAnswer
  clean?(ctx: HookContext<A>): Promise<HookAnswer> | HookAnswer
}

export interface FenceHooks<A extends Attrs = Attrs> {
  validate?(ctx: HookContext<A>, input: ValidateInput<A>): Promise<HookAnswer> | HookAnswer
  discover?(ctx: HookContext<A>, field: string, partial: Partial<A>): Promise<HookAnswer> | HookAnswer
  fence(ctx: HookContext<A>, target: string): Promise<HookAnswer> | HookAnswer
  status(ctx: HookContext<A>, target: string): Promise<HookAnswer> | HookAnswer
}

export type PluginHooks<A extends Attrs = Attrs> = ResourceHooks<A> | FenceHooks<A>

// ---------- manifest ----------

/** Failure policy and timing of a resource type; resources may override each field. */
export interface TypeDefaults {
  monitorIntervalS: number
  monitorTimeoutS: number
  /** Offline resources are monitored less often (finds a resource started outside the cluster). */
  offlineMonitorIntervalS: number
  onlineTimeoutS: number
  offlineTimeoutS: number
  cleanTimeoutS: number
  /** Consecutive failed monitors tolerated before the resource is declared faulted. */
  toleranceLimit: number
  /** Consecutive monitor *timeouts* that make a fault. */
  monitorTimeoutLimit: number
  /** Restarts in place before the group fails over (or stays faulted). */
  restartLimit: number
  /** Retries of a failed online on the same node before it counts as a fault. */
  onlineRetryLimit: number
  /** After this long healthy, the miss/restart counters reset. */
  confidenceIntervalS: number
  /** A fault expires this long after it, once the resource is down (Pacemaker's failure-timeout):
   *  counters reset, the resource is probed and may run there again. 0: never (an operator clears it). */
  failureTimeoutS: number
}

export interface PluginManifest {
  name: string
  displayName: string
  version: string
  kind: 'resource' | 'fence'
  description?: string
  engines: { mccs: string }
  main: string
  permissions: string[]
  /** With the `proc` permission: the users proc.start may run as ("root", "*" = any other user, or
   *  names). Absent: none (docs/plugins.md, "The proc permission"). */
  procUsers?: string[]
  defaults?: Partial<TypeDefaults>
  limits?: { memoryMb?: number; hookCpuMs?: number }
  /** Fence types: how long after a fence call starts the target usually runs nothing; the two-node fence
   *  delay is built from it (docs/cluster.md, "Two-node clusters"). Default 2000. */
  fenceEffectMs?: number
  /** JSON Schema (2020-12) of the attributes, with `x-mccs` UI hints. */
  wizard: Record<string, unknown>
  /** The plugin's own locale files, per language MCCS offers (ko, en): flat JSON objects of strings with
   *  the display name, `wizard.<property>.title` and `.description`; every key in every declared locale. */
  locales?: Partial<Record<'ko' | 'en', string>>
}
