// mccs log-level [<level>]: this node's agent log level, shown, or changed at once and kept across restarts
// (the console's Level select in the log web console does the same; both are in the operation log).
import type { LogLevelInfo } from '../agent/log-level.js'
import { currentUser } from './user.js'
import { LEVELS } from '../log/logger.js'
import { rpc } from './control-client.js'
import { EXIT, exitOf } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t, type Locale } from '../i18n/messages.js'

/** The usage text in English; the command prints it in the caller's language. */
export const LOG_LEVEL_USAGE = t('en', 'cli.logLevel.usage', { levels: LEVELS.join('|') })

export async function logLevelCommand(args: string[], o: { socket: string; json: boolean; locale?: Locale }, io: CliIO): Promise<number> {
  const l = o.locale ?? 'en'
  if (args.length > 1) {
    io.err(t(l, 'cli.logLevel.usage', { levels: LEVELS.join('|') }))
    return EXIT.USAGE
  }
  const [level] = args
  let r: LogLevelInfo & { before?: string }
  try {
    r = await rpc<typeof r>(o.socket, 'log.level', level === undefined ? {} : { level, user: currentUser() }, 30_000)
  } catch (err) {
    const e = err as Error & { code?: string }
    io.err(`mccs log-level: ${e.message}`) // the catalogue's message names the field
    return e.code === 'MCCS_ERR_AGENT_DOWN' ? EXIT.AGENT_DOWN : e.code === 'MCCS_ERR_INVALID' ? EXIT.USAGE : exitOf(e.code, EXIT.FAILED)
  }
  if (o.json) io.out(JSON.stringify(r))
  else if (r.before === undefined) io.out(t(l, 'cli.logLevel.show', { node: r.node, level: r.level, levels: r.levels.join(', ') }))
  else io.out(t(l, 'cli.logLevel.changed', { node: r.node, level: r.level, before: r.before }))
  return EXIT.OK
}
