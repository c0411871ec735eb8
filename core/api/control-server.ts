// The local control API: a Unix socket (mode 0600, owner only) speaking one JSON request per line,
// {id, method, params} -> {id, ok, result | error}. The CLI uses it; the HTTPS API will call the same
// agent methods.
import net from 'node:net'
import { chmod, unlink, mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { Agent } from '../agent/agent.js'
import { isOperatorCommand, type OperatorCommand } from '../engine/index.js'
import { MccsError, asMccsError } from '../errors.js'
import { readLines } from '../line-reader.js'
import { configEdit } from '../agent/config-edit.js'
import { mirrorControl } from '../mirror/control.js'

const MAX_LINE = 4 * 1024 * 1024

export async function startControlServer(agent: Agent, socketPath: string): Promise<net.Server> {
  await mkdir(path.dirname(socketPath), { recursive: true })
  await unlink(socketPath).catch(() => {})
  const server = net.createServer((sock) => {
    readLines(sock, MAX_LINE, (line) => {
      void handle(agent, line).then((reply) => {
        if (!sock.destroyed) sock.write(JSON.stringify(reply) + '\n')
      })
    })
    sock.on('error', () => {})
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => resolve())
  })
  await chmod(socketPath, 0o600)
  return server
}

async function handle(agent: Agent, line: string): Promise<unknown> {
  let req: { id?: unknown; method?: unknown; params?: unknown }
  try {
    req = JSON.parse(line) as typeof req
  } catch {
    return { id: null, ok: false, error: { code: 'MCCS_ERR_INVALID', message: 'request is not JSON' } }
  }
  const id = req.id ?? null
  try {
    return { id, ok: true, result: await call(agent, req.method, (req.params ?? {}) as Record<string, unknown>) }
  } catch (err) {
    // The catalogue's error shape, as the console answers it (the CLI prints `message`, checks `code`).
    return { id, ok: false, error: asMccsError(err).toJSON() }
  }
}

async function call(agent: Agent, method: unknown, p: Record<string, unknown>): Promise<unknown> {
  switch (method) {
    case 'status':
      return agent.statusAnywhere()
    case 'timeline':
      return agent.timelines(p.since ?? null)
    case 'license.check': // mccs license install: the new license in effect now, not at the next 5 s check
      await agent.licenses.watch.check()
      return agent.licenses.watch.current()
    case 'command': {
      const cmd = p.cmd as OperatorCommand
      if (!cmd || typeof cmd !== 'object' || typeof cmd.type !== 'string' || !isOperatorCommand(cmd)) {
        throw new MccsError('MCCS_ERR_INVALID', 'is not an operator command', { field: 'params.cmd.type' })
      }
      if (typeof cmd.user !== 'string' || !cmd.user)
        throw new MccsError('MCCS_ERR_INVALID', 'must name the user', { field: 'params.cmd.user' })
      for (const k of ['group', 'resource', 'node', 'to'] as const) {
        const v = (cmd as unknown as Record<string, unknown>)[k]
        if (v !== undefined && typeof v !== 'string')
          throw new MccsError('MCCS_ERR_INVALID', 'must be a string', { field: `params.cmd.${k}` })
      }
      // Only a graceful stop sets it (core/agent/node-mode.ts): an operator's offline is a hold.
      if ('leave' in cmd) throw new MccsError('MCCS_ERR_INVALID', 'is set only by a graceful stop of a node', { field: 'params.cmd.leave' })
      if (cmd.type === 'nodeMaintenance') {
        if (typeof cmd.node !== 'string' || !cmd.node)
          throw new MccsError('MCCS_ERR_INVALID', 'must be a node name', { field: 'params.cmd.node' })
        if (typeof cmd.on !== 'boolean')
          throw new MccsError('MCCS_ERR_INVALID', 'must be true (maintenance) or false (end it)', { field: 'params.cmd.on' })
      }
      const timeoutMs = typeof p.timeoutMs === 'number' && p.timeoutMs > 0 ? p.timeoutMs : undefined
      return agent.command(cmd, { wait: p.wait === true, ...(timeoutMs ? { timeoutMs } : {}) })
    }
    case 'node.mode': {
      // mccs node standby|unstandby <node> (core/agent/node-mode.ts)
      if (typeof p.node !== 'string' || !p.node) throw new MccsError('MCCS_ERR_INVALID', 'must be a node name', { field: 'params.node' })
      if (p.mode !== 'standby' && p.mode !== 'active')
        throw new MccsError('MCCS_ERR_INVALID', "must be 'standby' or 'active'", { field: 'params.mode' })
      if (typeof p.user !== 'string' || !p.user) throw new MccsError('MCCS_ERR_INVALID', 'must name the user', { field: 'params.user' })
      const timeoutMs = typeof p.timeoutMs === 'number' && p.timeoutMs > 0 ? Math.min(p.timeoutMs, 600_000) : undefined
      return agent.setNodeMode(p.node, p.mode, p.user, timeoutMs)
    }
    case 'config.export':
      return agent.store.current()
    case 'config.apply': {
      const gen = p.expectGeneration
      if (typeof gen !== 'number')
        throw new MccsError('MCCS_ERR_INVALID', 'must be the generation the change was made from', { field: 'params.expectGeneration' })
      await agent.applyConfig(p.main as never, gen)
      return { generation: agent.store.current().main.generation }
    }
    case 'config.reconcile':
      return agent.reconcileConfig()
    case 'config.import': {
      if (typeof p.file !== 'string')
        throw new MccsError('MCCS_ERR_INVALID', 'must be the path of an exported bundle', { field: 'params.file' })
      return agent.importConfig(p.file)
    }
    case 'config.edit': {
      // One operator configuration command (core/agent/config-ops.ts); a refusal is a result ({ ok: false, code, issues }).
      if (typeof p.op !== 'string') throw new MccsError('MCCS_ERR_INVALID', 'must name the operation', { field: 'params.op' })
      if (typeof p.user !== 'string' || !p.user) throw new MccsError('MCCS_ERR_INVALID', 'must name the user', { field: 'params.user' })
      const gen = p.expectGeneration
      if (gen !== undefined && (typeof gen !== 'number' || !Number.isSafeInteger(gen)))
        throw new MccsError('MCCS_ERR_INVALID', 'must be the generation the change was made from', { field: 'params.expectGeneration' })
      return configEdit(agent, { op: p.op, args: p.args ?? {}, user: p.user, ...(gen !== undefined ? { expectGeneration: gen } : {}) })
    }
    case 'hb.change': {
      // mccs hb ..., mccs node remove: a live hb.json change (core/agent/hb-change.ts validates the change)
      if (typeof p.user !== 'string' || !p.user) throw new MccsError('MCCS_ERR_INVALID', 'must name the user', { field: 'params.user' })
      return agent.hbChange(p.change, {
        user: p.user,
        ...(p.expectGeneration !== undefined ? { expectGeneration: p.expectGeneration } : {}),
      })
    }
    case 'resource.state': {
      const { resource, key, value } = p
      if (typeof resource !== 'string') throw new MccsError('MCCS_ERR_INVALID', 'must be a resource name', { field: 'params.resource' })
      if (typeof key !== 'string') throw new MccsError('MCCS_ERR_INVALID', 'must be a key', { field: 'params.key' })
      await agent.pluginState.set(resource, key, value)
      return { resource, key }
    }
    case 'log.level': {
      // mccs log-level [<level>]: this node's agent log level, shown or changed (core/agent/log-level.ts validates it)
      if (p.level === undefined) return agent.logLevel.info()
      if (typeof p.user !== 'string' || !p.user) throw new MccsError('MCCS_ERR_INVALID', 'must name the user', { field: 'params.user' })
      return agent.logLevel.set(p.level, p.user)
    }
    case 'mirror': // mccs mirror ... (core/mirror/control.ts validates the rest)
      return mirrorControl(agent.mirror, p)
    default:
      throw new MccsError('MCCS_ERR_INVALID', `unknown method ${JSON.stringify(method)}`, { field: 'method' })
  }
}
