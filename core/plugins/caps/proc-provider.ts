// Capability `proc` for the plugin host: ctx.proc.start / stop / status, bound to the calling
// resource (a plugin can never reach another resource's processes), permission "proc"; start only as
// a user the plugin's manifest declares in procUsers (proc-users.ts).
//   new PluginHost({ providers: [execProvider, procProvider(procManager), ...] })
import { MccsError, isMccsError } from '../../errors.js'
import type { CapabilityProvider } from '../capabilities.js'
import type { ProcManager, ProcStatusEx } from './proc.js'

/** Margin kept between a stop's SIGKILL and the hook's deadline. */
const DEADLINE_MARGIN_MS = 1000

/** What a plugin gets back: the ProcStatus fields plus the host-side extras (plain JSON). */
const toPlugin = (s: ProcStatusEx): Record<string, unknown> => {
  const { resource: _r, ...rest } = s
  return rest
}

export function procProvider(pm: ProcManager): CapabilityProvider {
  const need = (_args: unknown[], call: { permissions: { has(p: string): boolean } }): string | null =>
    call.permissions.has('proc') ? null : 'proc'
  return {
    name: 'proc',
    methods: {
      start: {
        authorize: need,
        // The users are checked after they are resolved (a uid, a name with uid 0, a group): in run.
        run: async ([spec], call) => {
          try {
            return toPlugin(await pm.start(call.resource, spec as never, { users: call.permissions.procUsers, plugin: call.plugin }))
          } catch (err) {
            if (isMccsError(err, 'MCCS_ERR_PERMISSION_DENIED')) call.log.warn(`proc.start refused: ${err.message}`)
            throw err
          }
        },
      },
      stop: {
        authorize: need,
        run: async ([name, opts], call) => {
          if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) {
            throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', 'must be an object { graceMs, signal }', { field: 'proc.stop: opts' })
          }
          const o = (opts ?? {}) as { graceMs?: unknown; signal?: unknown }
          // The grace time is bounded by the hook's deadline, so SIGKILL comes before the host gives up.
          const room = Math.max(0, call.deadline - Date.now() - DEADLINE_MARGIN_MS)
          const graceMs = typeof o.graceMs === 'number' ? Math.min(o.graceMs, room) : Math.min(10_000, room)
          if (typeof o.graceMs === 'number' && o.graceMs > room) {
            call.log.warn(`proc.stop: grace ${o.graceMs} ms cut to ${room} ms by the hook's deadline`)
          }
          return toPlugin(
            await pm.stop(call.resource, name as string, { graceMs, ...(o.signal !== undefined ? { signal: o.signal as string } : {}) }),
          )
        },
      },
      status: {
        authorize: need,
        run: async ([name], call) => toPlugin(await pm.status(call.resource, name as string)),
      },
    },
  }
}
