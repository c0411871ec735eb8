// mccs explain <group> [--since 30m|ISO] [--json]: why a group is where it is, why it moved, why it
// will not start — told from the event timeline (core/log/timeline.ts): the inputs (a node lost, a view
// change, an operator command, a result) and the decisions with the rule that made them, in order.
import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { loadBootstrap, type Bootstrap } from '../config/bootstrap.js'
import { TIMELINE_FILE, type TimelineEntry } from '../log/timeline.js'
import { readTimeline, entriesFor, parseSince, mergeTimelines } from '../log/timeline-read.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'

export const EXPLAIN_USAGE = 'usage: mccs explain <group> [--since 30m|2h|<ISO time>] [--json]'

interface GroupCfg { name: string; nodes: string[] }
const BLOCKERS = new Set(['groupFaulted', 'noFailoverTarget', 'commandRejected', 'resourceFaulted', 'lockedNoAction', 'actionFailed', 'fenceFailed', 'onlineRetry', 'concurrencyViolation', 'needsFence'])

export async function explainCommand(argv: string[], io: CliIO, b?: Bootstrap, more: TimelineEntry[][] = []): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { since: { type: 'string' }, json: { type: 'boolean' } } })
  } catch (e) {
    io.err(`mccs explain: ${(e as Error).message}\n${EXPLAIN_USAGE}`)
    return EXIT.USAGE
  }
  const { values: v, positionals } = parsed
  if (positionals.length !== 1) { io.err(EXPLAIN_USAGE); return EXIT.USAGE }
  const group = positionals[0]!
  const since = v.since === undefined ? null : parseSince(v.since)
  if (v.since !== undefined && !since) { io.err(`mccs explain: --since: '${v.since}' is neither an age (30m, 2h, 1d) nor an ISO time`); return EXIT.USAGE }
  const bb = b ?? await loadBootstrap()
  const main = JSON.parse(await readFile(path.join(bb.configDir, 'main.json'), 'utf8').catch(() => '{}')) as { groups?: GroupCfg[]; resources?: Array<{ name: string; group: string }> }
  const cfg = main.groups?.find((g) => g.name === group)
  if (!cfg) { io.err(`mccs explain: group: no group named '${group}' in the configuration`); return EXIT.REJECTED }
  const all = mergeTimelines([await readTimeline(path.join(bb.logDir, TIMELINE_FILE)), ...more])
  const resources = (main.resources ?? []).filter((r) => r.group === group).map((r) => r.name)
  const story = entriesFor(group, all, resources).filter((e) => !since || e.wall >= since)
  if (v.json) { io.out(JSON.stringify({ group, since, entries: story, summary: summarize(group, cfg, story) }, null, 2)); return EXIT.OK }
  if (!story.length) { io.out(`${group}: nothing in the timeline${since ? ` since ${since}` : ''} (${path.join(bb.logDir, TIMELINE_FILE)})`); return EXIT.OK }
  io.out(`${group} — the timeline${since ? ` since ${since}` : ''} (nodes ${cfg.nodes.join(', ')} in order of preference):`)
  for (const e of story) io.out(`  ${e.wall.slice(11, 23)} [${e.node}] ${e.kind.padEnd(8)} ${line(e, cfg)}`)
  io.out('')
  for (const l of summarize(group, cfg, story)) io.out(l)
  return EXIT.OK
}

/** The rule of a placement: a failover goes to the first usable node of the group's order. */
function line(e: TimelineEntry, cfg: GroupCfg): string {
  if (e.kind === 'notice' && e.what === 'groupFailover' && e.target) {
    const from = /from (?:lost node )?(\S+)/.exec(e.text)?.[1]
    return `${e.text} → placement rule: the first usable node of ${cfg.name}'s order (${cfg.nodes.join(', ')})${from ? ` other than ${from}` : ''} is ${e.target}`
  }
  return e.text
}

function summarize(group: string, cfg: GroupCfg, story: TimelineEntry[]): string[] {
  const out: string[] = []
  const ok = (e: TimelineEntry) => (e.data as { status?: string; answer?: string } | undefined)?.status === 'done' && (e.data as { answer?: string }).answer === 'ok'
  // Where: the last online that succeeded, unless an offline of that node succeeded after it.
  let where: TimelineEntry | null = null
  for (const e of story) {
    if (e.group !== group) continue
    if (e.what === 'onlineResult' && ok(e)) where = e
    if (e.what === 'offlineResult' && ok(e) && where && e.target === where.target) where = null
  }
  out.push(where ? `Why is it here: ${group} was brought online on ${where.target} at ${where.wall} (${where.text}).` : `Why is it here: no successful online of ${group} in this timeline.`)
  const move = [...story].reverse().find((e) => e.kind === 'notice' && e.what === 'groupFailover' && e.group === group)
  if (move) {
    const from = /from (?:lost node )?(\S+)/.exec(move.text)?.[1]
    const before = story.filter((e) => e.seq <= move.seq || e.wall <= move.wall)
    const members = (e: TimelineEntry) => (e.data as { members?: Record<string, string> } | undefined)?.members
    const lost = from ? [...before].reverse().find((e) => (e.what === 'nodeChange' && e.target === from && (e.data as { membership?: string } | undefined)?.membership === 'down') ||
      (e.what === 'start' && members(e)?.[from] === 'down') || (e.what === 'view' && !((e.data as { partition?: string[] } | undefined)?.partition ?? [from]).includes(from))) : undefined
    const fence = from ? [...before].reverse().find((e) => e.what === 'fenceResult' && e.target === from) : undefined
    out.push(`Why did it move: ${move.text}.`)
    if (lost) out.push(`  ${from} was lost: ${lost.text} (${lost.wall}, seen by ${lost.node}).`)
    if (fence) out.push(`  ${from} was fenced before the group moved: ${fence.text} (${fence.wall}).`)
    out.push(`  placement rule: the first usable node of ${group}'s order (${cfg.nodes.join(', ')})${from ? ` other than ${from}` : ''}: ${move.target}.`)
  }
  const lastOk = where ? story.indexOf(where) : -1
  const blockers = story.slice(lastOk + 1).filter((e) => e.kind === 'notice' && BLOCKERS.has(e.what) && (e.group === group || e.group === undefined))
  if (blockers.length) {
    out.push(`Why won't it start${where ? ' elsewhere / again' : ''}:`)
    for (const e of blockers.slice(-5)) out.push(`  ${e.wall} [${e.node}] ${e.what}: ${e.text}`)
  }
  return out
}
