// The scenario file format (test/scenarios/README.md) shared by the scenario tests and `mccs simulate`:
// a compact MainConfig (defaults filled in, dependencies as "parent>child"), events, scripted results.

import type { MainConfig, ResourceConfig, GroupConfig, DependencyConfig, TypeDefaults } from './model.js'
import { simulate, type SimEvent, type SimulateOptions, type SimulateResult } from './simulate.js'
import type { Membership } from './state.js'
import type { OperatorIntent } from './intent.js'

export interface ScenarioFile {
  description: string
  nodes: string[]
  config: {
    groups: (Partial<GroupConfig> & { name: string })[]
    resources: (Partial<ResourceConfig> & { name: string; group: string })[]
    dependencies?: (DependencyConfig | string)[]
    types?: Record<string, Partial<TypeDefaults>>
    generation?: number
  }
  types?: Record<string, Partial<TypeDefaults>>
  membership?: Record<string, Membership>
  /** Nodes in limited mode (no valid license) and why; a `{type: 'license', node, limited}` event changes it. */
  limited?: Record<string, string>
  /** The operator's intent a new coordinator starts from (core/engine/intent.ts). */
  intent?: OperatorIntent
  running?: string[]
  results?: SimulateOptions['results']
  autoComplete?: boolean
  events: Record<string, unknown>[]
  /** What the scenario tests check (see test/engine/scenario-lib.ts); ignored by `mccs simulate`. */
  expect?: Record<string, unknown>
}

export function buildConfig(c: ScenarioFile['config']): MainConfig {
  return {
    generation: c.generation ?? 1,
    groups: c.groups.map((g) => ({
      nodes: [],
      failoverOnFailure: true,
      autoStart: false,
      autoFailback: false,
      ...g,
    })),
    resources: c.resources.map((r) => ({
      type: 'dummy',
      critical: true,
      attrs: {},
      nodeAttrs: {},
      policy: {},
      monitored: true,
      ...r,
    })),
    dependencies: (c.dependencies ?? []).map((d) => {
      if (typeof d !== 'string') return d
      const [parent, child] = d.split('>').map((x) => x.trim())
      return { parent: parent!, child: child! }
    }),
    types: c.types ?? {},
  }
}

export function runScenario(f: ScenarioFile): SimulateResult {
  const events = f.events.map((e) =>
    'type' in e && isCommand(String(e['type'])) && !('user' in e) ? { ...e, user: 'scenario' } : e,
  ) as unknown as SimEvent[]
  const opts: SimulateOptions = {}
  if (f.membership) opts.membership = f.membership
  if (f.limited) opts.limited = f.limited
  if (f.intent) opts.intent = f.intent
  if (f.running) opts.running = f.running
  if (f.results) opts.results = f.results
  if (f.autoComplete !== undefined) opts.autoComplete = f.autoComplete
  return simulate(buildConfig(f.config), f.types ?? {}, f.nodes, events, opts)
}

function isCommand(t: string): boolean {
  return t.startsWith('group') || t.startsWith('resource') || t === 'monitorAll' || t === 'nodeMaintenance'
}
