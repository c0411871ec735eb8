// mccs simulate <file.json>: the plans the engine would make for a list of events (operator dry run).
import { readFile } from 'node:fs/promises'
import { simulate, type SimEvent, type SimulateOptions } from '../engine/simulate.js'
import type { MainConfig, TypeDefaults } from '../engine/model.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'

interface SimFile { nodes: string[]; config: MainConfig; types?: Record<string, Partial<TypeDefaults>>; events: SimEvent[]; options?: SimulateOptions }

export async function simulateCommand(args: string[], o: { json: boolean }, io: CliIO): Promise<number> {
  const file = args[0]
  if (!file) {
    io.err('usage: mccs simulate <file.json>   ({ nodes, config, types?, events, options? })')
    return EXIT.USAGE
  }
  const doc = JSON.parse(await readFile(file, 'utf8')) as SimFile
  const r = simulate(doc.config, doc.types ?? {}, doc.nodes, doc.events, doc.options ?? {})
  if (o.json) {
    io.out(JSON.stringify(r, null, 2))
    return EXIT.OK
  }
  for (const s of r.steps) {
    io.out(`@${s.now}ms ${s.event.type}${'group' in s.event ? ' ' + String(s.event.group) : ''}${'resource' in s.event ? ' ' + String(s.event.resource) : ''}${s.outcome?.status === 'rejected' ? `  REJECTED: ${s.outcome.reason}` : ''}`)
    for (const a of s.plan.actions) io.out(`  ${a.id} ${a.kind} ${a.resource ?? a.target ?? ''}@${a.node}${a.after.length ? `  after ${a.after.join(',')}` : ''}`)
    for (const n of s.plan.notices) io.out(`  ! ${n.kind}: ${n.reason}`)
  }
  io.out(`${r.quiescent ? 'quiescent' : 'NOT quiescent'}; running at the end: ${r.running.join(', ') || 'nothing'}`)
  return EXIT.OK
}
