// How a state looks: a colour AND an icon AND the word, so it reads at a glance and without colour.
// And what a group's state truly is (issue 18): where it runs and where it left faults are two facts;
// a node that is lost and not yet fenced makes its part "unknown / fencing…", never "offline".
import { h } from './dom.js'
import type { AgentStatus } from '../../agent/status.js'
import { tr, trOr } from './i18n.js'

const LOOK: Record<string, { icon: string; cls: string }> = {
  online: { icon: '●', cls: 'st-online' },
  partial: { icon: '◑', cls: 'st-partial' },
  degraded: { icon: '◑', cls: 'st-partial' },
  onlining: { icon: '▲', cls: 'st-busy' },
  offlining: { icon: '▼', cls: 'st-busy' },
  offline: { icon: '○', cls: 'st-offline' },
  faulted: { icon: '✖', cls: 'st-faulted' },
  unknown: { icon: '?', cls: 'st-unknown' },
  up: { icon: '●', cls: 'st-online' },
  member: { icon: '●', cls: 'st-online' },
  down: { icon: '✖', cls: 'st-faulted' },
  lost: { icon: '✖', cls: 'st-faulted' },
  fenced: { icon: '⊘', cls: 'st-faulted' },
}

/** A state badge; `text` replaces the word shown (e.g. "unknown / fencing…"), data-state keeps the state. */
export function badge(stateName: string | undefined, extra?: string, text?: string): HTMLElement {
  const st = stateName ?? 'unknown'
  const look = LOOK[st] ?? { icon: '•', cls: 'st-unknown' }
  return h(
    'span',
    { class: ['badge', look.cls], 'data-state': st, title: extra ? `${stateWord(text ?? st)}: ${extra}` : stateWord(text ?? st) },
    h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, look.icon),
    ` ${stateWord(text ?? st)}`,
  )
}

/** A state's word in the console's language (a text that is not a state word is shown as it is). */
export const stateWord = (word: string): string => trOr(`ui.state.${word.replace(/ /g, '-')}`, word)

const RUNNING = ['online', 'partial', 'onlining', 'offlining']

/** One word for a group across its nodes: where it runs (even with a fault left elsewhere), else the worst state. */
export function groupSummary(nodes: Record<string, string>): { state: string; node: string | null } {
  const entries = Object.entries(nodes)
  for (const want of [...RUNNING, 'faulted']) {
    const hit = entries.find(([, s]) => s === want)
    if (hit) return { state: want, node: hit[0] }
  }
  return { state: entries.length ? 'offline' : 'unknown', node: null }
}

export const isUp = (s: string | undefined): boolean => s === 'online' || s === 'partial' || s === 'onlining'

type GroupStatus = AgentStatus['groups'][number]
export type Role = 'running' | 'stopping' | 'starting' | 'faulted' | 'lost' | 'fencing' | 'standby'
export interface NodePart {
  state: string
  text: string
  role: Role
  why?: string
}
export interface GroupView {
  /** Where it runs, else unknown (a lost node), else faulted, else offline. */
  state: string
  text: string
  node: string | null
  /** Nodes where a fault is left (a faulted group or resource): cleared by "Remove fault indication". */
  faults: string[]
  /** Lost nodes not yet fenced on which the group may still run. */
  fencing: string[]
  perNode: Record<string, NodePart>
}

/** A node is lost when the engine says so, or when this node's heartbeat no longer hears it: without
 *  quorum the engine decides nothing and its membership is the last one it knew. */
export function nodeLost(st: AgentStatus, n: string): { lost: boolean; needsFence: boolean } {
  const x = st.nodes.find((y) => y.name === n)
  const m = x?.membership ?? 'unknown'
  const unheard = n !== st.node && st.membership?.peers.find((p) => p.node === n)?.up === false
  return { lost: m === 'down' || m === 'lost' || m === 'unknown' || unheard, needsFence: x?.needsFence ?? false }
}

/** The word for a node's membership in the tree and the banner: up, lost, or what the engine says. */
export function nodeState(st: AgentStatus, n: string): string {
  const m = st.nodes.find((y) => y.name === n)?.membership ?? 'unknown'
  if (m === 'up' || m === 'member') return nodeLost(st, n).lost ? 'lost' : 'up'
  // A status that is not the cluster's (no coordinator answered: AgentStatus.stale) says 'unknown' for every
  // node; what this node itself knows still holds: it runs, and a peer its heartbeat does not hear is lost.
  if (m === 'unknown' && st.stale) {
    if (n === st.node) return 'up'
    if (st.membership?.peers.find((p) => p.node === n)?.up === false) return 'lost'
  }
  return m === 'down' ? 'lost' : m
}

/** The truthful view of one group from the status: per node, and at a glance. */
export function groupView(st: AgentStatus, g: GroupStatus): GroupView {
  const perNode: Record<string, NodePart> = {}
  const faults: string[] = []
  const fencing: string[] = []
  for (const [n, raw] of Object.entries(g.nodes)) {
    const res = g.resources.map((r) => r.nodes[n]).filter((x) => x !== undefined)
    const fault = raw === 'faulted' || res.some((x) => x.state === 'faulted')
    if (fault) faults.push(n)
    const { lost, needsFence } = nodeLost(st, n)
    // A lost node's part is unknown until it is fenced: its resources may still run there.
    const mayRun = g.activeNode === n || res.some((x) => x.state === 'unknown' || x.needsFence) || RUNNING.includes(raw)
    if (lost && mayRun) {
      const f = needsFence || res.some((x) => x.needsFence)
      if (f) fencing.push(n)
      perNode[n] = {
        state: 'unknown',
        text: f ? tr('ui.state.unknownFencing') : 'unknown',
        role: f ? 'fencing' : 'lost',
        why: tr(f ? 'ui.state.whyLostNotFenced' : 'ui.state.whyLost', { node: n }),
      }
      continue
    }
    const role: Role =
      raw === 'offlining'
        ? 'stopping'
        : raw === 'onlining'
          ? 'starting'
          : isUp(raw)
            ? 'running'
            : fault
              ? 'faulted'
              : lost
                ? 'lost'
                : 'standby'
    perNode[n] = { state: raw, text: raw, role }
  }
  const parts = Object.entries(perNode)
  const run = RUNNING.map((s) => parts.find(([, p]) => p.state === s)).find((x) => x)
  if (run) return { state: run[1].state, text: run[1].state, node: run[0], faults, fencing, perNode }
  const unk = parts.find(([, p]) => p.state === 'unknown')
  if (unk) return { state: 'unknown', text: unk[1].text, node: unk[0], faults, fencing, perNode }
  if (faults.length) return { state: 'faulted', text: 'faulted', node: null, faults, fencing, perNode }
  return { state: parts.length ? 'offline' : 'unknown', text: parts.length ? 'offline' : 'unknown', node: null, faults, fencing, perNode }
}

/** A node's live role for a group, in the console's language. */
export const roleLabel = (r: Role): string => tr(`ui.role.${r}`)
