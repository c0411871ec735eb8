// The capability bridge's host side. A provider offers named methods; each method first says which
// permission a call needs (deny by default), then runs on the host with the call's abort signal and
// deadline. New capabilities (net, aws.ec2, mirror) are new providers: the mechanism does not change.
import type { Logger } from '../../sdk/src/types.js'
import type { PermissionSet } from './permissions.js'

export interface CallInfo {
  plugin: string
  resource: string
  node: string
  hook: string
  attrs: Record<string, unknown>
  permissions: PermissionSet
  /** Aborted when the hook times out, is cancelled (flush) or its isolate dies. */
  signal: AbortSignal
  deadline: number
  log: Logger
  paths: { home: string; scripts: string }
}

export interface CapabilityMethod {
  /** null when allowed; otherwise the permission string that is missing. */
  authorize(args: unknown[], call: CallInfo): string | null
  run(args: unknown[], call: CallInfo): Promise<unknown>
}

export interface CapabilityProvider {
  /** Dotted name as seen in the hook context: `exec`, `proc`, `aws.ec2`. */
  name: string
  methods: Record<string, CapabilityMethod>
  /** Data shipped into the isolate with each call (when `get` is authorised), so reads need no host
   *  round trip. Only `state` uses it: its reads are served in-isolate, its writes go to the host. */
  preload?(call: CallInfo): Promise<unknown> | unknown
}

/** A method that needs one fixed permission. */
export function simpleMethod(permission: string, run: CapabilityMethod['run']): CapabilityMethod {
  return { authorize: (_a, call) => (call.permissions.has(permission) ? null : permission), run }
}
