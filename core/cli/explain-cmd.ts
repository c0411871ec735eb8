// mccs explain <group> [--since 30m|ISO] [--json]: why a group is where it is, why it moved, why it
// will not start — told from the event timeline (core/log/timeline.ts): the inputs (a node lost, a view
// change, an operator command, a result) and the decisions with the rule that made them, in order. The
// explanation itself is core/log/timeline-explain.ts (the console's timeline view says the same).
import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { loadBootstrap, type Bootstrap } from '../config/bootstrap.js'
import { TIMELINE_FILE, type EntryKind } from '../log/timeline.js'
import { readTimeline, parseSince, mergeTimelines } from '../log/timeline-read.js'
import { explainGroup, type ExplainGroupConfig } from '../log/timeline-explain.js'
import type { GatheredTimelines } from '../agent/timeline-peers.js'
import { rpc } from './control-client.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t, say, type Locale, type MessageKey } from '../i18n/messages.js'
import { cliLocale } from './lang.js'

/** The usage text in English; the command prints it in the caller's language. */
export const EXPLAIN_USAGE = t('en', 'cli.explain.usage')

/** Every node's timeline through the local agent (it asks the others over the peer channel); null when
 *  the agent does not answer (then this node's file is read directly). */
type Gather = (b: Bootstrap, since: string | null) => Promise<GatheredTimelines | null>
const viaAgent: Gather = (b, since) => rpc<GatheredTimelines>(b.controlSocket, 'timeline', { since }, 20_000).catch(() => null)

const KINDS = {
  input: 'cli.explain.kind.input',
  decision: 'cli.explain.kind.decision',
  notice: 'cli.explain.kind.notice',
  view: 'cli.explain.kind.view',
} as const satisfies Record<EntryKind, MessageKey>

/** An entry's kind in a column as wide as the widest in that language (Hangul takes two columns). */
function kindText(l: Locale, kind: EntryKind): string {
  const cols = (x: string) => [...x].reduce((n, c) => n + (/[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]/.test(c) ? 2 : 1), 0)
  const width = Math.max(...Object.values(KINDS).map((k) => cols(t(l, k))))
  const text = KINDS[kind] ? t(l, KINDS[kind]) : kind
  return text + ' '.repeat(Math.max(0, width - cols(text)))
}

export async function explainCommand(argv: string[], io: CliIO, b?: Bootstrap, gather: Gather = viaAgent): Promise<number> {
  // Before the arguments are known to be good: --lang if it is one, else MCCS_LANG or the product's.
  const langOf = (flag: unknown) => cliLocale(flag, async () => (b ?? (await loadBootstrap())).configDir).catch(() => 'en' as const)
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { since: { type: 'string' }, json: { type: 'boolean' }, lang: { type: 'string' } },
    })
  } catch (e) {
    io.err(`mccs explain: ${(e as Error).message}\n${t(await langOf(undefined), 'cli.explain.usage')}`)
    return EXIT.USAGE
  }
  const { values: v, positionals } = parsed
  if (positionals.length !== 1) {
    io.err(t(await langOf(v.lang), 'cli.explain.usage'))
    return EXIT.USAGE
  }
  const group = positionals[0]!
  const since = v.since === undefined ? null : parseSince(v.since)
  if (v.since !== undefined && !since) {
    io.err(t(await langOf(v.lang), 'cli.explain.since', { since: v.since }))
    return EXIT.USAGE
  }
  const bb = b ?? (await loadBootstrap())
  const l = await cliLocale(v.lang, async () => bb.configDir)
  // --json is the same in every language: its texts (scope, placements, summary) are English.
  const jl = v.json ? 'en' : l
  const main = JSON.parse(await readFile(path.join(bb.configDir, 'main.json'), 'utf8').catch(() => '{}')) as {
    groups?: ExplainGroupConfig[]
    resources?: Array<{ name: string; group: string }>
  }
  const cfg = main.groups?.find((g) => g.name === group)
  if (!cfg) {
    io.err(t(l, 'cli.explain.noGroup', { group }))
    return EXIT.REJECTED
  }
  const got = await gather(bb, since)
  const all = mergeTimelines(got ? got.lists : [await readTimeline(path.join(bb.logDir, TIMELINE_FILE))])
  const scope = got
    ? got.missing.length
      ? t(jl, 'cli.explain.scopeSome', { missing: got.missing.map((m) => `${m.node} (${m.reason})`).join(', ') })
      : t(jl, 'cli.explain.scopeAll')
    : t(jl, 'cli.explain.scopeHere', { file: path.join(bb.logDir, TIMELINE_FILE) })
  const resources = (main.resources ?? []).filter((r) => r.group === group).map((r) => r.name)
  const told = explainGroup(cfg, resources, all, since, jl)
  const story = told.story
  if (v.json) {
    io.out(
      JSON.stringify({ group, since, scope, entries: story, placements: Object.fromEntries(told.rules), summary: told.summary }, null, 2),
    )
    return EXIT.OK
  }
  if (!story.length) {
    io.out(
      t(l, 'cli.explain.nothing', {
        group,
        since: since ? t(l, 'cli.explain.sinceText', { since }) : '',
        file: path.join(bb.logDir, TIMELINE_FILE),
      }),
    )
    return EXIT.OK
  }
  io.out(
    t(l, 'cli.explain.head', {
      group,
      since: since ? t(l, 'cli.explain.sinceText', { since }) : '',
      scope,
      nodes: cfg.nodes.join(', '),
    }),
  )
  for (const e of story) {
    const rule = told.rules.get(e)
    // What an entry says: its words in the reader's language, else the agent's English record (an older agent).
    io.out(`  ${e.wall.slice(11, 23)} [${e.node}] ${kindText(l, e.kind)} ${say(l, e.said, e.text)}${rule ? ` → ${rule}` : ''}`)
  }
  io.out('')
  for (const l of told.summary) io.out(l)
  return EXIT.OK
}
