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
       mccs hb set-quorum [--fence-delay-ms N|default] [--mode server|two-node|majority]
                          [--server <host> [--server-port P] [--servername S] --ca-file F --key-file F]
                          (each node reads the CA and key files from its config folder: put them there first;
                           a new server must answer every member, or nothing changes)
       mccs hb set-port / set-cluster: refused: the heartbeat port and the cluster name never change live
       mccs hb link add <name> --priority P --address <node>=<ip> ... (every node's address on the new link)
       mccs hb link remove <name>
       mccs hb node add <name> --address <link>=<ip> ... [--fencing-like <node>]
       mccs hb node remove <name>          (the node must be stopped first; also: mccs node remove <name>)
       mccs hb node rename <name> <new>    (the node must be stopped first; also: mccs node rename <name> <new>)
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
      mode: { type: 'string' },
      server: { type: 'string' },
      'server-port': { type: 'string' },
      servername: { type: 'string' },
      'ca-file': { type: 'string' },
      'key-file': { type: 'string' },
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
  if (a === 'set-quorum' && b === undefined) return quorumChange(values, base)
  // Sent as asked: the agent refuses them with the reason (hb-change.ts fixedField), in the operation log.
  if (a === 'set-port' && b !== undefined && name === undefined) return { change: { op: 'setPort', port: num(b) ?? b }, ...base }
  if (a === 'set-cluster' && b !== undefined && name === undefined) return { change: { op: 'setCluster', cluster: b }, ...base }
  // The new name is sent as given: the agent checks it (hb-change.ts), naming newName.
  if (a === 'node' && b === 'rename' && name && extra.length <= 1)
    return { change: { op: 'renameNode', name, newName: extra[0] ?? null }, ...base }
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

/** `set-quorum`'s flags as a setQuorum change (checked field by field by the agent, hb-change.ts). */
function quorumChange(
  values: Record<string, string | boolean | string[] | undefined>,
  base: { json: boolean; expect?: number },
): { change: Record<string, unknown>; expect?: number; json: boolean } | string {
  const change: Record<string, unknown> = { op: 'setQuorum' }
  const v = values['fence-delay-ms']
  if (typeof v === 'string') change.fenceDelayMs = v === 'default' ? null : (num(v) ?? v)
  const mode = values.mode
  const host = values.server
  const serverFlags = ['server-port', 'servername', 'ca-file', 'key-file'].filter((f) => values[f] !== undefined)
  if (mode !== undefined && !['server', 'two-node', 'majority'].includes(mode as string))
    return `--mode: must be server, two-node or majority (got '${String(mode)}')`
  if (typeof host === 'string') {
    if (mode !== undefined && mode !== 'server') return `--server: a quorum server is --mode server, not ${String(mode)}`
    const port = values['server-port']
    change.server = {
      host,
      ...(typeof port === 'string' ? { port: num(port) ?? port } : {}),
      ...(typeof values.servername === 'string' ? { servername: values.servername } : {}),
      caFile: values['ca-file'] ?? null,
      keyFile: values['key-file'] ?? null,
    }
  } else if (mode === 'server') return '--mode server: needs --server <host> --ca-file F --key-file F'
  else if (serverFlags.length) return `--${serverFlags[0]}: only with --server <host>`
  if (mode === 'two-node') Object.assign(change, { server: null, twoNode: true })
  if (mode === 'majority') Object.assign(change, { server: null, twoNode: false })
  if (Object.keys(change).length === 1) return `set-quorum: give --fence-delay-ms, --mode or --server\n${HB_USAGE}`
  return { change, ...base }
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
    // The renamed host still calls itself by the old name: the one command that brings it back (docs/setup.md).
    if (!req.json && req.change.op === 'renameNode')
      io.out(t(l, 'cli.hb.renamed', { from: String(req.change.name), to: String(req.change.newName) }))
    return EXIT.OK
  } catch (err) {
    const e = err as Error & { code?: string }
    io.err(`mccs hb: ${e.message}`) // the catalogue's message names the field and the reason
    if (e.code === 'MCCS_ERR_AGENT_DOWN') return EXIT.AGENT_DOWN
    return e.code === 'MCCS_ERR_INVALID' ? EXIT.USAGE : exitOf(e.code, EXIT.REJECTED)
  }
}
