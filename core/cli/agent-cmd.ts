// mccs agent: runs this node's agent in the foreground (systemd runs it as the mccs_agent service).
// SIGTERM or SIGINT (systemctl stop mccs_agent) is a planned stop: the node's groups move to their next
// node (or stop when none can take them), the leave is announced so that no peer fences this node, then
// the agent exits. A second signal during the leave stops at once (services keep running, and the peers
// will fence this node). To restart the agent with its services left running, use maintenance (not yet).
import { exitWithoutTeardown } from './isolate-exit.js'
import { loadBootstrap, type Bootstrap } from '../config/bootstrap.js'
import { issuesOf, formatIssues } from '../config/issue.js'
import { Agent } from '../agent/agent.js'
import { checkWritableDirs } from '../agent/state-dir-check.js'
import { startControlServer } from '../api/control-server.js'
import { thinCli } from './thin-server.js'
import { EXIT } from './exit-codes.js'
import { isMccsError } from '../errors.js'
import type { CliIO } from './io.js'
import { t } from '../i18n/messages.js'
import { cliLocale } from './lang.js'
import type net from 'node:net'

/** How long a planned stop may take to move the groups away (systemd waits 90 s by default). */
const LEAVE_TIMEOUT_MS = 60_000

export interface RunningAgent {
  agent: Agent
  server: net.Server
  stop(): Promise<void>
}

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
    io.err(
      issues
        ? `mccs agent: the configuration in ${b.configDir} ${isMccsError(err, 'MCCS_ERR_CONFIG_VERSION') ? 'was written by a newer MCCS' : 'is invalid'}:\n${formatIssues(issues)}`
        : `mccs agent: ${(err as Error).message}`,
    )
    await agent.stop().catch(() => {})
    return issues ? EXIT.INVALID : EXIT.FAILED
  }
  const server = await startControlServer(agent, b.controlSocket, { cli: thinCli(b) })
  // The web console (HTTPS 11080); loaded only when asked for, so tests of the agent alone skip fastify.
  const web = consoleModule ? await consoleModule.startAgentConsole(agent, b) : null
  if (!opts.quiet)
    io.err(
      `mccs agent: node ${b.nodeName} running; control socket ${b.controlSocket}; log ${b.logDir}/mccs.log${web ? `; console ${web.url}` : ''}`,
    )
  return {
    agent,
    server,
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
  // The stop signal is caught from here on (nothing awaited before: a SIGTERM in between would kill the agent
  // without its leave); the product's language (setup) is for what the journal shows of the stop.
  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'))
    process.once('SIGINT', () => resolve('SIGINT'))
  })
  const l = await cliLocale(undefined, async () => b.configDir).catch(() => 'en' as const)
  const sig = await stopSignal
  io.err(t(l, 'cli.agent.leaving', { sig }))
  const now = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'))
    process.once('SIGINT', () => resolve('SIGINT'))
  })
  const done = await Promise.race([
    running.agent.leave(LEAVE_TIMEOUT_MS).then(
      () => null,
      (err: Error) => {
        io.err(t(l, 'cli.agent.leaveFailed', { reason: err.message }))
        return null
      },
    ),
    now,
  ])
  if (done) io.err(t(l, 'cli.agent.stopNow', { sig: done }))
  await running.stop()
  // Everything is written and the sandbox disposed: leave without Node's environment teardown, whose
  // finalisers of isolated-vm handles can abort the process (core/cli/isolate-exit.ts) — a stop that has
  // done all its work would then report SIGABRT instead of 0 (ci17: stop-start saw exit code null once).
  exitWithoutTeardown()
  return EXIT.OK
}
