// mccs explain <group> [--since 30m|ISO] [--json]: why a group is where it is, why it moved, why it
// will not start — told from the event timeline (core/log/timeline.ts): the inputs (a node lost, a view
// change, an operator command, a result) and the decisions with the rule that made them, in order.
import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { loadBootstrap, type Bootstrap } from '../config/bootstrap.js'
import { TIMELINE_FILE, type TimelineEntry } from '../log/timeline.js'
import { readTimeline, entriesFor, parseSince, mergeTimelines } from '../log/timeline-read.js'
import type { GatheredTimelines } from '../agent/timeline-peers.js'
import { rpc } from './control-client.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'

export const EXPLAIN_USAGE = 'usage: mccs explain <group> [--since 30m|2h|<ISO time>] [--json]'

interface GroupCfg {
  name: string
  nodes: string[]
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

/** Every node's timeline through the local agent (it asks the others over the peer channel); null when
 *  the agent does not answer (then this node's file is read directly). */
type Gather = (b: Bootstrap, since: string | null) => Promise<GatheredTimelines | null>
const viaAgent: Gather = (b, since) => rpc<GatheredTimelines>(b.controlSocket, 'timeline', { since }, 20_000).catch(() => null)

export async function explainCommand(argv: string[], io: CliIO, b?: Bootstrap, gather: Gather = viaAgent): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { since: { type: 'string' }, json: { type: 'boolean' } },
    })
  } catch (e) {
    io.err(`mccs explain: ${(e as Error).message}\n${EXPLAIN_USAGE}`)
    return EXIT.USAGE
  }
  const { values: v, positionals } = parsed
  if (positionals.length !== 1) {
    io.err(EXPLAIN_USAGE)
    return EXIT.USAGE
  }
  const group = positionals[0]!
  const since = v.since === undefined ? null : parseSince(v.since)
  if (v.since !== undefined && !since) {
    io.err(`mccs explain: --since: '${v.since}' is neither an age (30m, 2h, 1d) nor an ISO time`)
    return EXIT.USAGE
  }
  const bb = b ?? (await loadBootstrap())
  const main = JSON.parse(await readFile(path.join(bb.configDir, 'main.json'), 'utf8').catch(() => '{}')) as {
    groups?: GroupCfg[]
    resources?: Array<{ name: string; group: string }>
  }
  const cfg = main.groups?.find((g) => g.name === group)
  if (!cfg) {
    io.err(`mccs explain: group: no group named '${group}' in the configuration`)
    return EXIT.REJECTED
  }
  const got = await gather(bb, since)
  const all = mergeTimelines(got ? got.lists : [await readTimeline(path.join(bb.logDir, TIMELINE_FILE))])
  const scope = got
    ? `${got.missing.length ? `nodes that answered; not: ${got.missing.map((m) => `${m.node} (${m.reason})`).join(', ')}` : 'every node'}`
    : `this node only: the agent did not answer, ${path.join(bb.logDir, TIMELINE_FILE)} read`
  const resources = (main.resources ?? []).filter((r) => r.group === group).map((r) => r.name)
  const story = entriesFor(group, all, resources).filter((e) => !since || e.wall >= since)
  const told = tell(cfg, story)
  if (v.json) {
    io.out(
      JSON.stringify({ group, since, scope, entries: story, placements: Object.fromEntries(told.rules), summary: told.summary }, null, 2),
    )
    return EXIT.OK
  }
  if (!story.length) {
    io.out(`${group}: nothing in the timeline${since ? ` since ${since}` : ''} (${path.join(bb.logDir, TIMELINE_FILE)})`)
    return EXIT.OK
  }
  io.out(
    `${group} — the timeline${since ? ` since ${since}` : ''} (${scope}; ${group}'s nodes in order of preference: ${cfg.nodes.join(', ')}):`,
  )
  for (const e of story) {
    const rule = told.rules.get(e)
    io.out(`  ${e.wall.slice(11, 23)} [${e.node}] ${e.kind.padEnd(8)} ${e.text}${rule ? ` → ${rule}` : ''}`)
  }
  io.out('')
  for (const l of told.summary) io.out(l)
  return EXIT.OK
}

const dataOf = (e: TimelineEntry) =>
  (e.data ?? {}) as { status?: string; answer?: string; membership?: string; members?: Record<string, string>; partition?: string[] }
const succeeded = (e: TimelineEntry) => dataOf(e).status === 'done' && dataOf(e).answer === 'ok'

/** Walks the story keeping which nodes are lost or fenced, and names the rule of each placement: a
 *  failover notice, or the first online of the group on a node (the first usable node of its order). */
function tell(cfg: GroupCfg, story: TimelineEntry[]): { rules: Map<TimelineEntry, string>; summary: string[] } {
  const group = cfg.name
  const rules = new Map<TimelineEntry, string>()
  const lost = new Map<string, TimelineEntry>() // node -> the entry that showed it lost
  const fenced = new Map<string, TimelineEntry>() // node -> its fence result (or notice)
  let placedOn: string | null = null
  let lastCommand: TimelineEntry | null = null
  let where: TimelineEntry | null = null
  let move: { to: string; from: string[]; rule: string; at: TimelineEntry } | null = null
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
      const rule = `placement rule: the first usable node of ${group}'s order (${order})${from ? ` other than ${from}` : ''} is ${e.target}`
      rules.set(e, rule)
      move = { to: e.target, from: from ? [from] : [], rule, at: e }
      placedOn = e.target
    }
    if (e.kind === 'decision' && e.what === 'online' && e.group === group && e.target && e.target !== placedOn) {
      placedOn = e.target
      const gone = cfg.nodes.filter((n) => lost.has(n) || fenced.has(n))
      const first = cfg.nodes.find((n) => !gone.includes(n))
      const byCommand = lastCommand && lastCommand.target === e.target ? lastCommand : null
      const rule = byCommand
        ? `placed on ${e.target} by the operator's command (${byCommand.text})`
        : first === e.target
          ? `placement rule: the first usable node of ${group}'s order (${order})${gone.length ? `, ${gone.map((n) => `${n} ${fenced.has(n) ? 'fenced' : 'lost'}`).join(', ')},` : ''} is ${e.target}`
          : `placed on ${e.target} (the first node of ${group}'s order not lost or fenced here is ${first ?? 'none'}: it was not usable for the group — a fault, standby or limited mode)`
      rules.set(e, rule)
      const from = gone.filter((n) => cfg.nodes.indexOf(n) < cfg.nodes.indexOf(e.target!))
      if (!byCommand && from.length) move = { to: e.target, from, rule, at: e }
    }
    if (e.what === 'onlineResult' && e.group === group && succeeded(e)) where = e
    if (e.what === 'offlineResult' && e.group === group && succeeded(e) && where && e.target === where.target) where = null
  }

  const summary: string[] = []
  summary.push(
    where
      ? `Why is it here: ${group} was brought online on ${where.target} at ${where.wall} (${where.text}).`
      : `Why is it here: no successful online of ${group} in this timeline.`,
  )
  if (move) {
    summary.push(`Why did it move: ${move.at.kind === 'notice' ? move.at.text : `to ${move.to}, away from ${move.from.join(', ')}`}.`)
    for (const n of move.from) {
      const l = lost.get(n)
      const f = fenced.get(n)
      if (l) summary.push(`  ${n} was lost: ${l.text} (${l.wall}, seen by ${l.node}).`)
      if (f) summary.push(`  ${n} was fenced before the group moved: ${f.text} (${f.wall}).`)
    }
    summary.push(`  ${move.rule}.`)
  }
  const lastOk = where ? story.indexOf(where) : -1
  const blockers = story
    .slice(lastOk + 1)
    .filter((e) => e.kind === 'notice' && BLOCKERS.has(e.what) && (e.group === group || e.group === undefined))
  if (blockers.length) {
    summary.push(`Why won't it start${where ? ' elsewhere / again' : ''}:`)
    for (const e of blockers.slice(-5)) summary.push(`  ${e.wall} [${e.node}] ${e.what}: ${e.text}`)
  }
  return { rules, summary }
}
