// The thin entry of mccs (dist/mccs-thin.js, which bin/mccs.cjs tries first): `mccs status` and the group,
// resource and monitor-all operator commands only talk to the running agent over its control socket, so
// they load the socket client and what prints the answer, not the agent-sized bundle (issue 19, What 2).
// thinMain() answers null for anything else, and for settings only the full loader can judge; the caller
// then runs the full entry (main.ts), which gives the same commands through socketCommand() below.
import { EDIT_SUBCOMMANDS, parseCli, type CliValues } from './args.js'
import { stdio, type CliIO } from './io.js'
import type { ConfigDir } from './lang.js'

export type SocketCommand = 'status' | 'group' | 'resource' | 'monitor-all'
const SOCKET_COMMANDS: readonly string[] = ['status', 'group', 'resource', 'monitor-all'] satisfies SocketCommand[]

/** The command in argv when it is one of this path's, else null. */
export function thinCommand(argv: string[]): ThinCommand | null {
  const { values, positionals } = parseCli(argv)
  const [cmd, ...rest] = positionals
  if (!cmd || !SOCKET_COMMANDS.includes(cmd) || values.help || values.version) return null
  if ((cmd === 'group' || cmd === 'resource') && EDIT_SUBCOMMANDS.includes(rest[0] ?? '')) return null
  return { cmd: cmd as SocketCommand, rest, values }
}
export interface ThinCommand {
  cmd: SocketCommand
  rest: string[]
  values: CliValues
}

/** The exit code of a command run here, or null: not one of these, run the full entry. */
export async function thinMain(argv: string[], io: CliIO = stdio): Promise<number | null> {
  const picked = thinCommand(argv)
  if (!picked) return null
  const paths = await (await import('./thin-bootstrap.js')).controlPaths().catch(() => null)
  if (!paths) return null
  return await runThin(picked, paths.controlSocket, async () => paths.configDir, io)
}

/** A thin command run to its end, its failure printed: the thin entry's path, and the agent's for a client
 *  that has no Node of its own (thin-server.ts; `env` is then that client's MCCS_LANG, not the agent's). */
export async function runThin(
  { cmd, rest, values }: ThinCommand,
  socket: string,
  configDir: ConfigDir,
  io: CliIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  try {
    return await socketCommand(cmd, rest, values, socket, configDir, io, env)
  } catch (err) {
    return await (await import('./error-line.js')).failed(cmd, err, values.lang, configDir, io, env)
  }
}

/** One command to the agent on `socket` and its answer printed (human or --json); throws on failure. */
export async function socketCommand(
  cmd: SocketCommand,
  rest: string[],
  values: CliValues,
  socket: string,
  configDir: ConfigDir,
  io: CliIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const json = values.json === true
  const cliLocale = async (flag: unknown) => (await import('./lang.js')).cliLocale(flag, configDir, env)
  if (cmd === 'status') {
    const s = await (await import('./control-client.js')).rpc<import('../agent/status.js').AgentStatus>(socket, 'status')
    io.out(json ? JSON.stringify(s, null, 2) : (await import('./status-cmd.js')).renderStatus(s, await cliLocale(values.lang)))
    return (await import('./exit-codes.js')).EXIT.OK
  }
  return await (
    await import('./ops-cmd.js')
  ).opsCommand(
    cmd,
    rest,
    {
      socket,
      json,
      wait: values.wait === true,
      ...(typeof values.timeout === 'string' ? { timeoutS: Number(values.timeout) } : {}),
      ...(typeof values.node === 'string' ? { node: values.node } : {}),
      persistent: values.persistent === true,
      off: values.off === true,
      locale: await cliLocale(values.lang),
    },
    io,
  )
}
