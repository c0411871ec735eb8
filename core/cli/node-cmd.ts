// mccs node standby|unstandby [<node>]: planned work on a node (Pacemaker's standby). Standby moves the
// node's groups to their next node (or stops those no other node can take) and starts nothing there until
// unstandby; the node stays a member (it votes). Kept across an agent restart. Without <node>: this node.
// mccs node maintenance|unmaintenance [<node>] (Pacemaker's node maintenance mode): what runs on the node is
// left as it is — not monitored, not started, stopped or moved, nothing new placed there — an operator
// command through the coordinator's engine, kept in the replicated operator intent; unmaintenance probes it.
import type { MoveReport } from '../agent/node-mode.js'
import { currentUser } from './user.js'
import { rpc } from './control-client.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t, say, type Locale, type Said } from '../i18n/messages.js'

export async function nodeCommand(
  args: string[],
  o: { socket: string; nodeName: string; json: boolean; timeoutS?: number; locale?: Locale },
  io: CliIO,
): Promise<number> {
  const l = o.locale ?? 'en'
  const [verb, node = o.nodeName, ...extra] = args
  if (verb === 'add') return (await import('./setup-cmd.js')).nodeAddCommand(args.slice(1), o, io) // issue 16: joining a new host
  if (verb === 'rename') return (await import('./hb-cmd.js')).hbCommand(['node', 'rename', ...args.slice(1)], o, io) // live, hb.json + main.json
  if (verb === 'remove') return (await import('./hb-cmd.js')).hbCommand(['node', 'remove', ...args.slice(1)], o, io) // live hb.json change
  if ((verb === 'maintenance' || verb === 'unmaintenance') && !extra.length) return maintenance(verb === 'maintenance', node, o, io)
  if ((verb !== 'standby' && verb !== 'unstandby') || extra.length) {
    io.err(t(l, 'cli.node.usage'))
    return EXIT.USAGE
  }
  if (o.timeoutS !== undefined && !(Number.isFinite(o.timeoutS) && o.timeoutS > 0)) {
    io.err(t(l, 'cli.node.timeout'))
    return EXIT.USAGE
  }
  const timeoutMs = (o.timeoutS ?? 120) * 1000
  let r: { node: string; mode: string; report: MoveReport | null }
  try {
    r = await rpc(
      o.socket,
      'node.mode',
      { node, mode: verb === 'standby' ? 'standby' : 'active', user: currentUser(), timeoutMs },
      timeoutMs + 30_000,
    )
  } catch (err) {
    const e = err as Error & { code?: string }
    if (e.code === 'MCCS_ERR_AGENT_DOWN' || e.code === 'MCCS_ERR_INTERNAL' || !e.code?.startsWith('MCCS_ERR_')) throw err
    io.err(t(l, 'cli.ops.rejected', { reason: e.message, code: e.code }))
    return EXIT.REJECTED
  }
  if (o.json) {
    io.out(JSON.stringify(r, null, 2))
  } else if (verb === 'unstandby') {
    io.out(t(l, 'cli.node.unstandby', { node: r.node }))
  } else {
    const moves = Object.entries(r.report?.moved ?? {}).map(([g, to]) =>
      to === 'stopped' ? t(l, 'cli.node.stopped', { group: g }) : t(l, 'cli.node.moved', { group: g, node: to }),
    )
    io.out(
      t(l, r.report?.failed.length ? 'cli.node.notStandby' : 'cli.node.standby', {
        node: r.node,
        moves: moves.length ? moves.join(', ') : t(l, 'cli.node.noGroup'),
      }),
    )
    if (r.report?.left.length) io.err(t(l, 'cli.node.left', { node: r.node, groups: r.report.left.join(', ') }))
    if (r.report?.failed.length) io.err(t(l, 'cli.node.failed', { node: r.node, groups: r.report.failed.join(', ') }))
  }
  return r.report?.failed.length ? EXIT.FAILED : r.report?.left.length ? EXIT.TIMEOUT : EXIT.OK
}

async function maintenance(on: boolean, node: string, o: { socket: string; json: boolean; locale?: Locale }, io: CliIO): Promise<number> {
  const l = o.locale ?? 'en'
  let r: { outcome: { status: string; code?: string; reason?: string; said?: Said } }
  try {
    r = await rpc(o.socket, 'command', { cmd: { type: 'nodeMaintenance', node, on, user: currentUser() } }, 60_000)
  } catch (err) {
    const e = err as Error & { code?: string }
    if (e.code === 'MCCS_ERR_AGENT_DOWN' || e.code === 'MCCS_ERR_INTERNAL' || !e.code?.startsWith('MCCS_ERR_')) throw err
    io.err(t(l, 'cli.ops.rejected', { reason: e.message, code: e.code }))
    return EXIT.REJECTED
  }
  if (o.json) io.out(JSON.stringify({ node, maintenance: on, outcome: r.outcome }, null, 2))
  if (r.outcome.status !== 'accepted') {
    if (!o.json) io.err(t(l, 'cli.ops.rejected', { reason: say(l, r.outcome.said, r.outcome.reason ?? ''), code: r.outcome.code ?? '' }))
    return EXIT.REJECTED
  }
  if (!o.json) io.out(t(l, on ? 'cli.node.maintenanceOn' : 'cli.node.maintenanceOff', { node }))
  return EXIT.OK
}
