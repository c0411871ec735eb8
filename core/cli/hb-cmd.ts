// mccs hb ...: live heartbeat configuration (issue 16, What 3). Each change goes to this node's agent, which
// has the coordinator run it in two phases on every member (core/agent/hb-sync.ts); refused changes name
// the field and the reason and change nothing. `mccs node remove <n>` is `mccs hb node remove <n>`.
import { parseArgs } from 'node:util'
import { currentUser } from './user.js'
import type { HbChangeResult } from '../agent/hb-sync.js'
import type { HbConfig } from '../config/hb-model.js'
import { rpc } from './control-client.js'
import { EXIT, exitOf } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t, type Locale } from '../i18n/messages.js'

export const HB_USAGE = `usage: mccs hb show [--json]
       mccs hb set-timing --interval-ms N --dead-ms N
       mccs hb set-quorum --fence-delay-ms N|default
       mccs hb link add <name> --priority P --address <node>=<ip> ... (every node's address on the new link)
       mccs hb link remove <name>
       mccs hb node add <name> --address <link>=<ip> ... [--fencing-like <node>]
       mccs hb node remove <name>          (the node must be stopped first; also: mccs node remove <name>)
  options: --expect-generation G (refused unless hb.json is at G)  --json`

function pairs(list: string[] | undefined, flag: string): Record<string, string> | string {
  const out: Record<string, string> = {}
  for (const v of list ?? []) {
    const eq = v.indexOf('=')
    if (eq <= 0) return `${flag} takes <name>=<address> (got '${v}')`
    out[v.slice(0, eq)] = v.slice(eq + 1)
  }
  return out
}

const num = (v: unknown): number | undefined => (typeof v === 'string' && v.trim() !== '' ? Number(v) : undefined)

/** The change the arguments ask for, or a usage message. */
export function hbChangeOf(args: string[]): { change: Record<string, unknown>; expect?: number; json: boolean } | string {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      'interval-ms': { type: 'string' },
      'dead-ms': { type: 'string' },
      'fence-delay-ms': { type: 'string' },
      priority: { type: 'string' },
      address: { type: 'string', multiple: true },
      'fencing-like': { type: 'string' },
      'expect-generation': { type: 'string' },
      json: { type: 'boolean' },
      lang: { type: 'string' }, // read by main.ts (the language of the human output)
    },
  })
  const [a, b, name, ...extra] = positionals
  const json = values.json === true
  const expect = num(values['expect-generation'])
  const base = { json, ...(expect !== undefined ? { expect } : {}) }
  if (a === 'set-timing' && b === undefined)
    return { change: { op: 'setTiming', intervalMs: num(values['interval-ms']) ?? null, deadMs: num(values['dead-ms']) ?? null }, ...base }
  if (a === 'set-quorum' && b === undefined) {
    const v = values['fence-delay-ms']
    return { change: { op: 'setQuorum', fenceDelayMs: v === 'default' ? null : (num(v) ?? 'missing') }, ...base }
  }
  if ((a === 'link' || a === 'node') && name && !extra.length) {
    if (b === 'remove') return { change: { op: a === 'link' ? 'removeLink' : 'removeNode', name }, ...base }
    if (b === 'add') {
      const addresses = pairs(values.address as string[] | undefined, '--address')
      if (typeof addresses === 'string') return addresses
      if (a === 'link') return { change: { op: 'addLink', name, priority: num(values.priority) ?? 0, addresses }, ...base }
      const like = values['fencing-like']
      return { change: { op: 'addNode', name, addresses, ...(typeof like === 'string' ? { fencingLike: like } : {}) }, ...base }
    }
  }
  return HB_USAGE
}

export async function hbCommand(args: string[], o: { socket: string; locale?: Locale }, io: CliIO): Promise<number> {
  const l = o.locale ?? 'en'
  if (args[0] === 'show') {
    const json = args.includes('--json')
    try {
      const { hb } = await rpc<{ hb: HbConfig }>(o.socket, 'config.export', {}, 10_000)
      if (json) io.out(JSON.stringify(hb, null, 2))
      else {
        io.out(
          t(l, 'cli.hb.head', { generation: hb.generation, cluster: hb.cluster, interval: hb.timing.intervalMs, dead: hb.timing.deadMs }),
        )
        io.out(
          t(l, 'cli.hb.links', {
            links: hb.links.map((x) => t(l, 'cli.hb.link', { name: x.name, priority: x.priority })).join(', '),
          }),
        )
        for (const n of hb.nodes)
          io.out(
            `  ${n.name}: ${Object.entries(n.addresses)
              .map(([l, a]) => `${l}=${a}`)
              .join(' ')}`,
          )
        if (hb.quorum) io.out(t(l, 'cli.hb.quorum', { quorum: JSON.stringify(hb.quorum) }))
      }
      return EXIT.OK
    } catch (err) {
      const e = err as Error & { code?: string }
      io.err(`mccs hb: ${e.message}`)
      return exitOf(e.code, EXIT.FAILED)
    }
  }
  let req: ReturnType<typeof hbChangeOf>
  try {
    req = hbChangeOf(args)
  } catch (err) {
    req = `${(err as Error).message}\n${HB_USAGE}`
  }
  if (typeof req === 'string') {
    io.err(req)
    return EXIT.USAGE
  }
  try {
    const r = await rpc<HbChangeResult>(
      o.socket,
      'hb.change',
      { change: req.change, user: currentUser(), ...(req.expect !== undefined ? { expectGeneration: req.expect } : {}) },
      60_000,
    )
    if (req.json) io.out(JSON.stringify(r))
    else io.out(t(l, 'cli.hb.changed', { summary: r.summary, generation: r.generation, previous: r.previousGeneration }))
    return EXIT.OK
  } catch (err) {
    const e = err as Error & { code?: string }
    io.err(`mccs hb: ${e.message}`) // the catalogue's message names the field and the reason
    if (e.code === 'MCCS_ERR_AGENT_DOWN') return EXIT.AGENT_DOWN
    return e.code === 'MCCS_ERR_INVALID' ? EXIT.USAGE : exitOf(e.code, EXIT.REJECTED)
  }
}
