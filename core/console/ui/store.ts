// The console's state: the session, the last AgentStatus pushed by the agent, the configuration
// (main.json, and hb.json when the agent exports it) and what is selected in the tree. Views
// subscribe and re-render on change; nothing else holds state.
import type { AgentStatus } from '../../agent/status.js'
import type { MainConfig } from '../../engine/index.js'
import type { HbConfig } from '../../config/hb-model.js'
import { api, type Session, type TypeSummary } from './api.js'

export type Selection =
  | { kind: 'cluster' }
  | { kind: 'group'; name: string }
  | { kind: 'node'; name: string }
  | { kind: 'resource'; name: string }
  | { kind: 'types' }
  | { kind: 'type'; name: string }

export interface AppState {
  session: Session | null
  status: AgentStatus | null
  /** When the last status arrived (ms, performance.now clock) — the bench reads it. */
  statusAt: number
  config: { main: MainConfig; hb: HbConfig | null; generation: number } | null
  types: TypeSummary[]
  selection: Selection
  connected: boolean
  /** Why the view may no longer be true (the agent stopped answering), or null while it is live. */
  stale: string | null
}

type Listener = (s: AppState) => void
const listeners = new Set<Listener>()
export const state: AppState = {
  session: null,
  status: null,
  statusAt: 0,
  config: null,
  types: [],
  selection: { kind: 'cluster' },
  connected: false,
  stale: null,
}

/** Calls f on every change; returns how to stop (a language switch builds the screen again). */
export function subscribe(f: Listener): () => void {
  listeners.add(f)
  return () => listeners.delete(f)
}
let scheduled = false
/** Coalesces changes into one render per animation frame. */
export function changed(): void {
  if (scheduled) return
  scheduled = true
  requestAnimationFrame(() => {
    scheduled = false
    for (const f of listeners) f(state)
  })
}

export function select(sel: Selection): void {
  state.selection = sel
  changed()
}

export function setStatus(s: AgentStatus): void {
  state.status = s
  state.statusAt = performance.now()
  // A new generation means the configuration changed (here or on another console): reload it.
  if (!state.config || state.config.generation !== s.generation) void loadConfig()
  changed()
}

let loading: Promise<void> | null = null
export function loadConfig(): Promise<void> {
  loading ??= (async () => {
    try {
      const c = await api.config()
      const parsed = JSON.parse(c.text) as Record<string, unknown>
      // `mccs config export` gives {main, hb}; a bare main.json is accepted too.
      const main = ('main' in parsed ? parsed.main : parsed) as MainConfig
      const hb = (c.hb ?? ('hb' in parsed ? parsed.hb : null)) as HbConfig | null
      state.config = { main, hb, generation: c.generation ?? main.generation }
      changed()
    } finally {
      loading = null
    }
  })()
  return loading
}

/** The resource's group: from the live status, else from the configuration (a resource just added is there
 * before the status event that shows it; the Add resource dialog reads the group of the selection at once). */
export const groupOf = (resource: string): string | undefined =>
  state.status?.groups.find((g) => g.resources.some((r) => r.name === resource))?.name ??
  state.config?.main.resources.find((r) => r.name === resource)?.group
export const groupStatus = (name: string) => state.status?.groups.find((g) => g.name === name)
export const resourceStatus = (name: string) => state.status?.groups.flatMap((g) => g.resources).find((r) => r.name === name)
export const groupConfig = (name: string) => state.config?.main.groups.find((g) => g.name === name)
export const resourceConfig = (name: string) => state.config?.main.resources.find((r) => r.name === name)
/** A group's nodes in failover order (configuration), else the nodes its status names. */
export function groupNodes(name: string): string[] {
  return groupConfig(name)?.nodes ?? Object.keys(groupStatus(name)?.nodes ?? {})
}
