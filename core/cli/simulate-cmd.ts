// mccs simulate <scenario.json>: the plans the engine would make for a list of events (the operator's
// dry run). The file format is that of test/scenarios/*/scenario.json (test/scenarios/README.md).
import { readFile } from 'node:fs/promises'
import { runScenario, type ScenarioFile } from '../engine/index.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t, type Locale } from '../i18n/messages.js'

export async function simulateCommand(args: string[], o: { json: boolean; locale?: Locale }, io: CliIO): Promise<number> {
  const l = o.locale ?? 'en'
  const file = args[0]
  if (!file) {
    io.err(t(l, 'cli.simulate.usage'))
    return EXIT.USAGE
  }
  let doc: ScenarioFile
  try {
    doc = JSON.parse(await readFile(file, 'utf8')) as ScenarioFile
    if (!Array.isArray(doc.nodes) || !doc.config || !Array.isArray(doc.events)) throw new Error('needs "nodes", "config" and "events"')
  } catch (err) {
    io.err(`mccs simulate: ${file}: ${(err as Error).message}`)
    return EXIT.INVALID
  }
  const r = runScenario(doc)
  if (o.json) {
    io.out(JSON.stringify({ steps: r.steps, running: r.running, quiescent: r.quiescent, inFlight: r.inFlight }, null, 2))
    return EXIT.OK
  }
  const label = new Map<string, string>()
  for (const s of r.steps) for (const a of s.plan.actions) label.set(a.id, `${a.kind} ${a.resource ?? ''}@${a.node}`)
  for (const s of r.steps) {
    const ev = s.event as unknown as Record<string, unknown>
    const what = [ev.group, ev.resource, ev.node, ev.answer].filter((x) => typeof x === 'string').join(' ')
    io.out(
      `@${s.now}ms ${s.event.type}${what ? ' ' + what : ''}${s.outcome?.status === 'rejected' ? `  REJECTED: ${s.outcome.reason} (${s.outcome.code})` : ''}`,
    )
    for (const a of s.plan.actions) {
      const after = a.after.map((id) => label.get(id) ?? id)
      io.out(
        `  ${a.id.padEnd(5)} ${a.kind === 'cancel' ? `cancel ${label.get(a.target ?? '') ?? a.target}` : label.get(a.id)}${after.length ? `   after ${after.join(', ')}` : ''}`,
      )
    }
    for (const n of s.plan.notices) io.out(`  ! ${n.kind}: ${n.reason}`)
  }
  io.out(
    t(l, 'cli.simulate.end', {
      state: t(l, r.quiescent ? 'cli.simulate.quiescent' : 'cli.simulate.notQuiescent'),
      running: r.running.join(', ') || t(l, 'cli.simulate.nothing'),
    }),
  )
  return EXIT.OK
}
