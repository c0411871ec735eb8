// How a state looks: a colour AND an icon AND the word, so it reads at a glance and without colour.
import { h } from './dom.js'

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

export function badge(stateName: string | undefined, extra?: string): HTMLElement {
  const st = stateName ?? 'unknown'
  const look = LOOK[st] ?? { icon: '•', cls: 'st-unknown' }
  return h('span', { class: ['badge', look.cls], 'data-state': st, title: extra ? `${st}: ${extra}` : st },
    h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, look.icon), ` ${st}`)
}

/** One word for a group across its nodes: where it runs, else the worst state. */
export function groupSummary(nodes: Record<string, string>): { state: string; node: string | null } {
  const entries = Object.entries(nodes)
  for (const want of ['faulted', 'onlining', 'offlining', 'partial', 'online']) {
    const hit = entries.find(([, s]) => s === want)
    if (hit) return { state: want, node: hit[0] }
  }
  return { state: entries.length ? 'offline' : 'unknown', node: null }
}

export const isUp = (s: string | undefined): boolean => s === 'online' || s === 'partial' || s === 'onlining'
