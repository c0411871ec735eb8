// mccs group … / mccs resource … / mccs monitor-all: operator commands sent to the local agent.
import type { CommandReply } from '../agent/agent.js'
import { currentUser } from './user.js'
import { buildCommand, type CommandKind, type CommandOptions } from '../agent/operator-commands.js'
import { rpc } from './control-client.js'
import { renderStatus } from './status-cmd.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t, say, type Locale } from '../i18n/messages.js'

export interface OpsOptions extends CommandOptions {
  socket: string
  json: boolean
  wait: boolean
  timeoutS?: number
  /** The language of the human lines (--json is the same in every language). */
  locale?: Locale
}

export async function opsCommand(kind: CommandKind, args: string[], o: OpsOptions, io: CliIO): Promise<number> {
  const cmd = buildCommand(kind, args[0], args[1], o, currentUser())
  if (typeof cmd === 'string') {
    io.err(t(o.locale ?? 'en', 'cli.ops.usage', { command: cmd }))
    return EXIT.USAGE
  }
  if (o.timeoutS !== undefined && !(Number.isFinite(o.timeoutS) && o.timeoutS > 0 && o.timeoutS <= 86400)) {
    io.err(t(o.locale ?? 'en', 'cli.ops.timeout'))
    return EXIT.USAGE
  }
  const timeoutMs = Math.round((o.timeoutS ?? 600) * 1000)
  const reply = await rpc<CommandReply>(o.socket, 'command', { cmd, wait: o.wait, timeoutMs }, timeoutMs + 30_000)
  if (o.json) io.out(JSON.stringify(reply, null, 2))
  if (reply.outcome.status === 'rejected') {
    const l = o.locale ?? 'en'
    if (!o.json) io.err(t(l, 'cli.ops.rejected', { reason: say(l, reply.outcome.said, reply.outcome.reason), code: reply.outcome.code }))
    return EXIT.REJECTED
  }
  if (!o.wait) {
    if (!o.json) io.out(t(o.locale ?? 'en', 'cli.ops.accepted', { command: cmd.type }))
    return EXIT.OK
  }
  if (!o.json && reply.status) io.out(renderStatus(reply.status, o.locale))
  if (reply.reached) return EXIT.OK
  const stillBusy = reply.status?.groups.some((g) => g.busy > 0)
  return stillBusy ? EXIT.TIMEOUT : EXIT.FAILED
}
