// mccs agent: runs this node's agent in the foreground (systemd runs it as the mccs_agent service).
import { loadBootstrap, type Bootstrap } from '../config/bootstrap.js'
import { issuesOf, formatIssues } from '../config/issue.js'
import { Agent } from '../agent/agent.js'
import { checkWritableDirs } from '../agent/state-dir-check.js'
import { startControlServer } from '../api/control-server.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import type net from 'node:net'

export interface RunningAgent { agent: Agent; server: net.Server; stop(): Promise<void> }

export async function runAgent(b: Bootstrap, io: CliIO, opts: { quiet?: boolean; console?: boolean } = {}): Promise<RunningAgent | number> {
  // First, before anything is loaded or started: a folder the agent cannot write fails now, named, not
  // after the engine acted on resources (issue 12, finding 9).
  try {
    await checkWritableDirs(b)
  } catch (err) {
    io.err(`mccs agent: ${(err as Error).message}`)
    return EXIT.STATE_DIR
  }
  // Loaded before the agent starts: evaluating fastify and its plugins blocks the event loop for a while,
  // which after the heartbeats started could make peers miss us for a dead time.
  const consoleModule = opts.console ? await import('../console/server.js') : null
  const agent = new Agent({ bootstrap: b })
  try {
    await agent.start()
  } catch (err) {
    const issues = issuesOf(err)
    io.err(issues ? `mccs agent: the configuration in ${b.configDir} is invalid:\n${formatIssues(issues)}` : `mccs agent: ${(err as Error).message}`)
    await agent.stop().catch(() => {})
    return issues ? EXIT.INVALID : EXIT.FAILED
  }
  const server = await startControlServer(agent, b.controlSocket)
  // The web console (HTTPS 11080); loaded only when asked for, so tests of the agent alone skip fastify.
  const web = consoleModule ? await consoleModule.startAgentConsole(agent, b) : null
  if (!opts.quiet) io.err(`mccs agent: node ${b.nodeName} running; control socket ${b.controlSocket}; log ${b.logDir}/mccs.log${web ? `; console ${web.url}` : ''}`)
  return {
    agent, server,
    stop: async () => {
      await web?.close()
      await new Promise<void>((r) => server.close(() => r()))
      await agent.stop()
    },
  }
}

export async function agentCommand(io: CliIO): Promise<number> {
  const b = await loadBootstrap()
  const running = await runAgent(b, io, { console: true })
  if (typeof running === 'number') return running
  await new Promise<void>((resolve) => {
    const bye = (sig: string) => { io.err(`mccs agent: ${sig}, stopping (services keep running)`); resolve() }
    process.once('SIGTERM', () => bye('SIGTERM'))
    process.once('SIGINT', () => bye('SIGINT'))
  })
  await running.stop()
  return EXIT.OK
}
