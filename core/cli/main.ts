// mccs: one CLI for the agent and its operators. Human tables by default, --json for machines.
import { parseArgs } from 'node:util'
import { stdio, type CliIO } from './io.js'
import { pluginCommand } from './plugin-cmd.js'
import { EXIT } from './exit-codes.js'

const USAGE = `usage: mccs <command> [options]
  agent                              run this node's agent (foreground)
  demo                               a local one-node demo cluster (what npm start runs)
  status                             groups, resources per node, faults, locks
  group <verb> <group>               online|offline|switch|lock|unlock|clear|flush|probe|failover
  resource <verb> <resource>         online|offline|probe|activate|deactivate
  monitor-all                        monitor every resource now
  config validate [dir|file]|export|import <file>
  simulate <scenario.json>           the plan the engine would run (dry run)
  plugin list | plugin info <type>   loaded resource types
options: --json  --wait [--timeout S]  --node N  --persistent (lock)  --off (failover)  --plugins <dir>
exit codes: 0 ok, 1 target not reached, 2 usage, 3 rejected, 4 agent not running, 5 timeout, 6 invalid config`

export async function main(argv: string[], io: CliIO = stdio): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: false,
    options: {
      json: { type: 'boolean' }, wait: { type: 'boolean' }, timeout: { type: 'string' }, node: { type: 'string' },
      persistent: { type: 'boolean' }, off: { type: 'boolean' }, plugins: { type: 'string', multiple: true },
      dir: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  })
  const [cmd, ...rest] = positionals
  const json = values.json === true
  const pluginDirs = (values.plugins as string[] | undefined) ?? []
  if (values.help || !cmd) {
    io.out(USAGE)
    return cmd || values.help ? EXIT.OK : EXIT.USAGE
  }
  try {
    switch (cmd) {
      case 'plugin':
        return await pluginCommand(rest, { json, pluginDirs }, io)
      case 'agent':
        return await (await import('./agent-cmd.js')).agentCommand(io)
      case 'demo':
        return await (await import('./demo.js')).demoCommand(io, {
          ...(typeof values.dir === 'string' ? { dir: values.dir } : {}), ...(typeof values.port === 'string' ? { port: Number(values.port) } : {}),
        })
      case 'status': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        const s = await (await import('./control-client.js')).rpc<import('../agent/status.js').AgentStatus>(b.controlSocket, 'status')
        io.out(json ? JSON.stringify(s, null, 2) : (await import('./status-cmd.js')).renderStatus(s))
        return EXIT.OK
      }
      case 'group': case 'resource': case 'monitor-all': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (await import('./ops-cmd.js')).opsCommand(cmd, rest, {
          socket: b.controlSocket, json, wait: values.wait === true,
          ...(typeof values.timeout === 'string' ? { timeoutS: Number(values.timeout) } : {}),
          ...(typeof values.node === 'string' ? { node: values.node } : {}),
          persistent: values.persistent === true, off: values.off === true,
        }, io)
      }
      case 'config': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (await import('./config-cmd.js')).configCommand(rest, { ...b, pluginDirs: [...b.pluginDirs, ...pluginDirs] }, { json }, io)
      }
      case 'simulate':
        return await (await import('./simulate-cmd.js')).simulateCommand(rest, { json }, io)
      default:
        io.err(USAGE)
        return EXIT.USAGE
    }
  } catch (err) {
    const e = err as Error & { code?: string }
    io.err(`mccs ${cmd}: ${e.message}`)
    return e.code === 'MCCS_ERR_AGENT_DOWN' ? EXIT.AGENT_DOWN : EXIT.FAILED
  }
}

// Run when this is the entry point (dist/mccs.js via bin/mccs), not when a test imports it.
const entry = process.argv[1] ?? ''
if (/(?:^|\/)(?:mccs(?:\.js)?|main\.ts)$/.test(entry)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err: unknown) => {
    process.stderr.write(`mccs: ${(err as Error)?.stack ?? String(err)}\n`)
    process.exitCode = 1
  })
}
