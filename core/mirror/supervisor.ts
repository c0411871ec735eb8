// What a mirror volume needs to run its daemons (qemu-storage-daemon, nbdfuse) as supervised children
// that outlive an agent restart. The agent passes its ProcManager (core/plugins/caps/proc.ts); naming
// only these three calls here keeps the mirror below the plugin layer that exposes it to plugins.
import type { ProcSpec, ProcStatus } from '../../sdk/src/types.js'

export interface ProcSupervisor {
  start(resource: string, spec: ProcSpec): Promise<ProcStatus>
  status(resource: string, name: string): Promise<ProcStatus>
  stop(resource: string, name: string, opts?: { graceMs?: number; signal?: string }): Promise<ProcStatus>
}
