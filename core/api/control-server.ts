// The local control API: a Unix socket (mode 0600, owner only) speaking one JSON request per line,
// {id, method, params} -> {id, ok, result | error}. The CLI uses it; the HTTPS API will call the same
// agent methods.
// One method answers in plain frames instead: `cli` (issue 19, What 2), a thin command (`mccs status`, the
// group/resource operator commands) run here for a client with no Node start of its own (bin/mccs-fast.pl,
// which has no JSON parser). Its reply is one of
//   n\n                     not a command for this path: nothing ran, the client runs its own entry
//   a <seconds>\n            accepted (the most it may take), then any number of
//   o <bytes>\n<bytes>       a piece of the command's stdout      e <bytes>\n<bytes>   of its stderr
//   x <exit code>\n          the end (the connection closes)
// or the usual JSON error line when the request is malformed. The CLI layer supplies what runs (ThinCli):
// the same code the thin entry runs, so nothing here can do more than the socket's other methods.
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

/** A `cli` request, as validated at the edge. */
export interface ThinCliRequest {
  /** The words after `mccs`. */
  argv: string[]
  /** The client's MCCS_LANG, when set. */
  lang?: string
  /** Who runs the command (as the operator commands record it). */
  user: string
  /** The config folder the client found (its product language is read there). */
  configDir: string
}
export interface ThinCliIO {
  out(s: string): void
  err(s: string): void
}
/** Runs a thin command for a client, or answers null: not one for this path (nothing ran). */
export interface ThinCli {
  start(req: ThinCliRequest): { timeoutS: number; run(io: ThinCliIO): Promise<number> } | null
}

export async function startControlServer(agent: Agent, socketPath: string, opts: { cli?: ThinCli } = {}): Promise<net.Server> {
  await mkdir(path.dirname(socketPath), { recursive: true })
  await unlink(socketPath).catch(() => {})
  const server = net.createServer((sock) => {
    const reader = readLines(sock, MAX_LINE, (line) => {
      const req = parseRequest(line)
      if (opts.cli && 'method' in req && req.method === 'cli') {
        reader.set(() => {}) // the connection is the command's until it ends
        void serveCli(opts.cli, sock, req)
        return
      }
      void handle(agent, req).then((reply) => {
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

type Request = { id?: unknown; method?: unknown; params?: unknown }
const NOT_JSON = { id: null, ok: false, error: { code: 'MCCS_ERR_INVALID', message: 'request is not JSON' } }

function parseRequest(line: string): Request | { invalid: true } {
  try {
    const req = JSON.parse(line) as unknown
    // A line that parses to no object (null, 3) is a request without a method (reading its id threw before).
    return typeof req === 'object' && req !== null ? (req as Request) : {}
  } catch {
    return { invalid: true }
  }
}

const MAX_ARGS = 64
const MAX_ARG = 4096

/** The `cli` request's params, or MCCS_ERR_INVALID naming the field. */
function cliRequest(params: unknown): ThinCliRequest {
  const bad = (field: string, why: string) => new MccsError('MCCS_ERR_INVALID', why, { field: `params.${field}` })
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    throw new MccsError('MCCS_ERR_INVALID', 'must be an object', { field: 'params' })
  const p = params as Record<string, unknown>
  for (const k of Object.keys(p)) if (!['argv', 'lang', 'user', 'configDir'].includes(k)) throw bad(k, 'is not a parameter of cli')
  const { argv, lang, user, configDir } = p
  if (!Array.isArray(argv) || argv.length < 1 || argv.length > MAX_ARGS)
    throw bad('argv', `must be the command's words, 1 to ${MAX_ARGS} strings`)
  argv.forEach((a: unknown, i) => {
    if (typeof a !== 'string' || a.length > MAX_ARG) throw bad(`argv[${i}]`, `must be a string of at most ${MAX_ARG} characters`)
  })
  if (lang !== undefined && (typeof lang !== 'string' || lang.length > 64)) throw bad('lang', 'must be a string of at most 64 characters')
  if (typeof user !== 'string' || !user || user.length > 256) throw bad('user', 'must name the user (1 to 256 characters)')
  if (typeof configDir !== 'string' || !path.isAbsolute(configDir) || configDir.length > MAX_ARG)
    throw bad('configDir', `must be an absolute path of at most ${MAX_ARG} characters`)
  return { argv: argv as string[], ...(lang !== undefined ? { lang } : {}), user, configDir }
}

/** One `cli` request: the frames described at the top of this file. */
async function serveCli(cli: ThinCli, sock: net.Socket, req: Request): Promise<void> {
  let started: ReturnType<ThinCli['start']>
  try {
    started = cli.start(cliRequest(req.params))
  } catch (err) {
    sock.end(JSON.stringify({ id: req.id ?? null, ok: false, error: asMccsError(err).toJSON() }) + '\n')
    return
  }
  if (!started) {
    sock.end('n\n')
    return
  }
  const send = (s: string | Buffer) => {
    if (!sock.destroyed && sock.writable) sock.write(s)
  }
  const frame = (kind: 'o' | 'e', s: string) => {
    const bytes = Buffer.from(s + '\n', 'utf8')
    send(`${kind} ${bytes.length}\n`)
    send(bytes)
  }
  send(`a ${Math.ceil(started.timeoutS)}\n`)
  let code: number
  try {
    code = await started.run({ out: (s) => frame('o', s), err: (s) => frame('e', s) })
  } catch (err) {
    // The command prints its own failures; this is only a bug's way out (as an uncaught error ends mccs).
    frame('e', `mccs: ${(err as Error).message}`)
    code = 1
  }
  if (!sock.destroyed && sock.writable) sock.end(`x ${code}\n`)
}

async function handle(agent: Agent, req: Request | { invalid: true }): Promise<unknown> {
  if ('invalid' in req) return NOT_JSON
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
      // How long a --wait may hold its answer (and wait out a busy group): at most a day, as `mccs node add`.
      const timeoutMs = p.timeoutMs
      if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && (timeoutMs as number) > 0 && (timeoutMs as number) <= 86_400_000))
        throw new MccsError('MCCS_ERR_INVALID', 'must be a whole number of milliseconds, 1 to 86400000', { field: 'params.timeoutMs' })
      return agent.command(cmd, { wait: p.wait === true, ...(timeoutMs !== undefined ? { timeoutMs: timeoutMs as number } : {}) })
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
