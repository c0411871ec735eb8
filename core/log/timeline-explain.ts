// "Why is it here, why did it move, why won't it start" in plain words, from the merged event timeline
// (issue 20, What 1). Below both front ends: `mccs explain` prints it, the console's GET /api/timeline
// answers it; the words are the same because the code is.
import type { TimelineEntry } from './timeline.js'
import { entriesFor } from './timeline-read.js'
import { t, say, type Locale } from '../i18n/messages.js'

export interface ExplainGroupConfig {
  name: string
  nodes: string[]
}

export interface Explanation {
  /** The entries that concern the group (its own, its resources', what happens to nodes), in order. */
  story: TimelineEntry[]
  /** The placement rule named for the entries that placed the group. */
  rules: Map<TimelineEntry, string>
  /** The answers: "Why is it here: …", "Why did it move: …", "Why won't it start: …" (indented lines detail the one before). */
  summary: string[]
}

const BLOCKERS = new Set([
  'groupFaulted',
  'noFailoverTarget',
  'commandRejected',
  'resourceFaulted',
  'lockedNoAction',
  'actionFailed',
  'fenceFailed',
  'onlineRetry',
  'concurrencyViolation',
  'needsFence',
])

/** The group's story out of every node's merged entries (`since`: ISO time, or null for all) and its explanation. */
export function explainGroup(
  cfg: ExplainGroupConfig,
  resources: string[],
  merged: TimelineEntry[],
  since: string | null = null,
  locale: Locale = 'en',
): Explanation {
  const story = entriesFor(cfg.name, merged, resources).filter((e) => !since || e.wall >= since)
  return { story, ...tell(cfg, story, locale) }
}

const dataOf = (e: TimelineEntry) =>
  (e.data ?? {}) as { status?: string; answer?: string; membership?: string; members?: Record<string, string>; partition?: string[] }
const succeeded = (e: TimelineEntry) => dataOf(e).status === 'done' && dataOf(e).answer === 'ok'

/** Walks the story keeping which nodes are lost or fenced, and names the rule of each placement: a
 *  failover notice, or the first online of the group on a node (the first usable node of its order). */
function tell(cfg: ExplainGroupConfig, story: TimelineEntry[], l: Locale): { rules: Map<TimelineEntry, string>; summary: string[] } {
  const group = cfg.name
  const rules = new Map<TimelineEntry, string>()
  const lost = new Map<string, TimelineEntry>() // node -> the entry that showed it lost
  const fenced = new Map<string, TimelineEntry>() // node -> its fence result (or notice)
  const faulted = new Map<string, TimelineEntry>() // 'node|resource' -> its last fault there, until it starts or is cleaned there
  let placedOn: string | null = null
  let lastCommand: TimelineEntry | null = null
  let where: TimelineEntry | null = null
  // faults: what the group's resources said when they failed on the nodes it left (known when it moved).
  let move: { to: string; from: string[]; rule: string; at: TimelineEntry; faults: Map<string, TimelineEntry> } | null = null
  const order = cfg.nodes.join(', ')
  for (const e of story) {
    const d = dataOf(e)
    if (e.what === 'view' && d.partition) {
      for (const n of cfg.nodes)
        if (!d.partition.includes(n)) {
          if (!lost.has(n)) lost.set(n, e)
        } else if (!fenced.has(n)) lost.delete(n)
    }
    if (e.what === 'start' && d.members) for (const [n, m] of Object.entries(d.members)) if (m === 'down') lost.set(n, e)
    if (e.what === 'nodeChange' && e.target) {
      if (d.membership === 'down') lost.set(e.target, e)
      if (d.membership === 'up') {
        lost.delete(e.target)
        fenced.delete(e.target)
      }
    }
    if (e.what === 'fenceResult' && succeeded(e) && e.target) fenced.set(e.target, e)
    if (e.kind === 'notice' && e.what === 'resourceFaulted' && e.group === group && e.target) faulted.set(`${e.target}|${e.resource}`, e)
    if ((e.what === 'onlineResult' || e.what === 'cleanResult') && e.group === group && succeeded(e) && e.target)
      faulted.delete(`${e.target}|${e.resource}`)
    if (
      e.kind === 'input' &&
      e.group === group &&
      e.what !== 'onlineResult' &&
      e.what !== 'offlineResult' &&
      e.what !== 'probeResult' &&
      e.what !== 'monitorResult' &&
      e.what !== 'cleanResult'
    )
      lastCommand = e
    if (e.kind === 'notice' && e.what === 'groupFailover' && e.group === group && e.target) {
      const from = /from (?:lost node )?(\S+)/.exec(e.text)?.[1]
      const rule = from
        ? t(l, 'cli.explain.ruleFailoverFrom', { group, order, from, node: e.target })
        : t(l, 'cli.explain.ruleFailover', { group, order, node: e.target })
      rules.set(e, rule)
      move = { to: e.target, from: from ? [from] : [], rule, at: e, faults: new Map(faulted) }
      placedOn = e.target
    }
    if (e.kind === 'decision' && e.what === 'online' && e.group === group && e.target && e.target !== placedOn) {
      placedOn = e.target
      const gone = cfg.nodes.filter((n) => lost.has(n) || fenced.has(n))
      const first = cfg.nodes.find((n) => !gone.includes(n))
      const byCommand = lastCommand && lastCommand.target === e.target ? lastCommand : null
      const goneText = gone.map((n) => t(l, fenced.has(n) ? 'cli.explain.goneFenced' : 'cli.explain.goneLost', { node: n })).join(', ')
      const rule = byCommand
        ? t(l, 'cli.explain.ruleCommand', { node: e.target, command: say(l, byCommand.said, byCommand.text) })
        : first === e.target
          ? gone.length
            ? t(l, 'cli.explain.ruleFirstGone', { group, order, gone: goneText, node: e.target })
            : t(l, 'cli.explain.ruleFailover', { group, order, node: e.target })
          : t(l, 'cli.explain.ruleUnusable', { node: e.target, group, first: first ?? t(l, 'cli.explain.none') })
      rules.set(e, rule)
      const from = gone.filter((n) => cfg.nodes.indexOf(n) < cfg.nodes.indexOf(e.target!))
      if (!byCommand && from.length) move = { to: e.target, from, rule, at: e, faults: new Map(faulted) }
    }
    if (e.what === 'onlineResult' && e.group === group && succeeded(e)) where = e
    if (e.what === 'offlineResult' && e.group === group && succeeded(e) && where && e.target === where.target) where = null
  }

  const summary: string[] = []
  /** An entry in the reader's language (its stored English when it has no words). */
  const said = (e: TimelineEntry) => say(l, e.said, e.text)
  summary.push(
    where
      ? t(l, 'cli.explain.here', { group, node: where.target ?? '', time: where.wall, text: said(where) })
      : t(l, 'cli.explain.hereNone', { group }),
  )
  if (move) {
    const why = move.at.kind === 'notice' ? said(move.at) : t(l, 'cli.explain.movedTo', { to: move.to, from: move.from.join(', ') })
    summary.push(t(l, 'cli.explain.moved', { why }))
    for (const n of move.from) {
      const lo = lost.get(n)
      const f = fenced.get(n)
      if (lo) summary.push(t(l, 'cli.explain.lost', { node: n, text: said(lo), time: lo.wall, by: lo.node }))
      if (f) summary.push(t(l, 'cli.explain.fenced', { node: n, text: said(f), time: f.wall }))
      for (const x of move.faults.values())
        if (x.target === n)
          summary.push(
            t(l, 'cli.explain.faulted', {
              resource: x.resource ?? t(l, 'cli.explain.aResource'),
              node: n,
              text: said(x),
              time: x.wall,
              by: x.node,
            }),
          )
    }
    summary.push(`  ${move.rule}.`)
  }
  const lastOk = where ? story.indexOf(where) : -1
  const blockers = story
    .slice(lastOk + 1)
    .filter((e) => e.kind === 'notice' && BLOCKERS.has(e.what) && (e.group === group || e.group === undefined))
  if (blockers.length) {
    summary.push(t(l, where ? 'cli.explain.blockedAgain' : 'cli.explain.blocked'))
    for (const e of blockers.slice(-5)) summary.push(`  ${e.wall} [${e.node}] ${e.what}: ${said(e)}`)
  }
  return { rules, summary }
}
