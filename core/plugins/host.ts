// The plugin host: loads plugin types, runs their hooks in sandboxes with per-call deadlines,
// routes capability calls (permission-checked) and reports each result on two axes.
import { randomBytes } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import path from 'node:path'
import { readdir, realpath, stat } from 'node:fs/promises'
import { MccsError, isMccsError } from '../errors.js'
import type { ExecStatus, HookName, HookResult, Logger, PluginManifest } from '../../sdk/src/types.js'
import { RESOURCE_HOOKS, FENCE_HOOKS } from '../../sdk/src/types.js'
import type { CallInfo, CapabilityProvider } from './capabilities.js'
import { checkAnswer, defaultRecoverable } from './contract.js'
import { loadPluginDir, type LoadedManifest } from './manifest.js'
import type { PluginLocales } from './plugin-locales.js'
import { PermissionSet } from './permissions.js'
import { PluginSandbox, type ContextMode, type RawOutcome } from './sandbox.js'
import { LIMITS } from './limits.js'
import { sysProvider } from './caps/sys.js'
import { BUILTIN_TYPES } from './builtin-names.js'
import { builtinPluginsDir } from '../paths.js'
import type { HostLogger } from '../log/types.js'

export interface HostOptions {
  providers: CapabilityProvider[]
  logger?: HostLogger
  paths?: { home: string; scripts: string }
  contextMode?: ContextMode
  defaultMemoryMb?: number
  defaultHookCpuMs?: number
  /** Told (after the host has logged it) when isolated-vm lost control of a plugin's isolate. The
   *  sandbox abandons that isolate and the type goes on in a new one (disabled after
   *  LOST_ISOLATE_LIMIT losses); the agent keeps running. */
  onCatastrophicError?: (message: string) => void
  /** The folder of the plugins shipped with MCCS (the bootstrap's builtinPluginDir): only its
   *  `<name>/` sub-folders may load under a built-in type's name. Default: this package's plugins/;
   *  null: no folder is built-in, so no plugin may take those names. */
  builtinDir?: string | null
}

export interface CallRequest {
  resource: string
  node: string
  nodes?: string[]
  attrs: Record<string, unknown>
  timeoutMs: number
  args?: unknown[]
  /** Aborting it cancels the call: capability work is killed and the result says `cancelled`. */
  signal?: AbortSignal
}

export interface LoadedPlugin {
  manifest: PluginManifest
  dir: string
  permissions: PermissionSet
  sandbox: PluginSandbox
  /** The plugin's own texts per language it declares (manifest `locales`; checked at load). */
  locales?: PluginLocales
}

interface LiveCall {
  info: CallInfo
  plugin: string
  ended: boolean
  controller?: AbortController
  inflight: number
}

// Reasons are shared constants: building an error per call costs more than the call itself.
const FINISHED = new MccsError('MCCS_ERR_CANCELLED', 'the hook call has ended')
const CANCELLED = new MccsError('MCCS_ERR_CANCELLED', 'the hook call was cancelled')

const nullLogger: HostLogger = { log: () => {} }

function abortable(ended: boolean, outer: AbortSignal | undefined): AbortController {
  const c = new AbortController()
  // Each capability call in flight may listen (LIMITS.inflight of them): not a leak.
  setMaxListeners(LIMITS.inflight + 16, c.signal)
  if (ended) c.abort(FINISHED)
  else if (outer?.aborted) c.abort(CANCELLED)
  else outer?.addEventListener('abort', () => c.abort(CANCELLED), { once: true })
  return c
}

export class PluginHost {
  private readonly plugins = new Map<string, LoadedPlugin>()
  private readonly calls = new Map<string, LiveCall>()
  private readonly providers = new Map<string, CapabilityProvider>()
  private readonly logger: HostLogger
  private readonly capSpec: Array<[string, string[]]>
  private readonly preloaders: CapabilityProvider[]
  private readonly tokenPrefix = randomBytes(6).toString('hex') + '.'
  private seq = 0

  constructor(private readonly opts: HostOptions) {
    this.logger = opts.logger ?? nullLogger
    for (const p of [sysProvider, ...opts.providers]) this.providers.set(p.name, p)
    this.capSpec = [...this.providers.values()].filter((p) => p.name !== 'sys').map((p) => [p.name, Object.keys(p.methods)])
    this.preloaders = [...this.providers.values()].filter((p) => p.preload)
  }

  /** Loads one plugin folder (plugin.json + bundle). Errors name the plugin, the field and the reason. */
  async load(dir: string): Promise<LoadedPlugin> {
    return this.register(await loadPluginDir(path.resolve(dir)))
  }

  /** Loads every plugin folder under `root`; returns what loaded and what was refused (with why). */
  async loadAll(root: string): Promise<{ loaded: LoadedPlugin[]; errors: MccsError[] }> {
    const loaded: LoadedPlugin[] = []
    const errors: MccsError[] = []
    let names: string[] = []
    try {
      names = (await readdir(root)).sort()
    } catch {
      return { loaded, errors }
    }
    for (const n of names) {
      const dir = path.join(root, n)
      if (!(await stat(dir)).isDirectory()) continue
      try {
        loaded.push(await this.load(dir))
      } catch (err) {
        errors.push(isMccsError(err) ? err : new MccsError('MCCS_ERR_PLUGIN_LOAD', String(err), { subject: `plugin at ${dir}` }))
      }
    }
    return { loaded, errors }
  }

  async register(m: LoadedManifest): Promise<LoadedPlugin> {
    const { manifest } = m
    const builtin = BUILTIN_TYPES.has(manifest.name) && (await this.isBuiltinFolder(m.dir, manifest.name))
    if (BUILTIN_TYPES.has(manifest.name) && !builtin) {
      throw new MccsError(
        'MCCS_ERR_PLUGIN_NAME_RESERVED',
        `'${manifest.name}' is a built-in type; the plugin at ${m.dir} is not the one shipped in the built-in folder (${this.builtinDir() ?? 'none'}): rename it`,
        { subject: `plugin '${manifest.name}'`, field: '/name' },
      )
    }
    if (this.plugins.has(manifest.name)) {
      throw new MccsError(
        'MCCS_ERR_PLUGIN_DUPLICATE',
        `type '${manifest.name}' is already loaded from ${this.plugins.get(manifest.name)!.dir}`,
        { subject: `plugin '${manifest.name}'`, field: '/name' },
      )
    }
    const sandbox = new PluginSandbox({
      name: manifest.name,
      code: m.code,
      memoryMb: manifest.limits?.memoryMb ?? this.opts.defaultMemoryMb ?? 64,
      cpuMs: manifest.limits?.hookCpuMs ?? this.opts.defaultHookCpuMs ?? 5000,
      contextMode: this.opts.contextMode ?? 'shared',
      hostThread: builtin,
      capSpec: this.capSpec,
      bridge: (token, cap, method, argsJson) => this.bridge(manifest.name, token, cap, method, argsJson),
      log: (token, level, msg, dataJson) => this.pluginLog(manifest.name, token, level, msg, dataJson),
      onLimit: (message) => this.logger.log('error', `plugin '${manifest.name}' ${message}`, { plugin: manifest.name, limit: 'cpu' }),
      onCatastrophicError: (msg) => {
        this.logger.log('error', `plugin '${manifest.name}': isolated-vm lost control of an isolate`, { plugin: manifest.name, error: msg })
        this.opts.onCatastrophicError?.(msg)
      },
    })
    try {
      await sandbox.warm()
    } catch (err) {
      sandbox.dispose()
      throw new MccsError('MCCS_ERR_PLUGIN_LOAD', `bundle ${manifest.main} failed to evaluate: ${(err as Error).message}`, {
        subject: `plugin '${manifest.name}'`,
        field: '/main',
      })
    }
    const p: LoadedPlugin = {
      manifest,
      dir: m.dir,
      permissions: new PermissionSet(manifest.permissions, manifest.procUsers),
      sandbox,
      ...(m.locales ? { locales: m.locales } : {}),
    }
    this.plugins.set(manifest.name, p)
    this.logger.log('info', 'plugin loaded', { plugin: manifest.name, version: manifest.version, dir: m.dir })
    return p
  }

  private builtinDir(): string | null {
    if (this.opts.builtinDir !== undefined) return this.opts.builtinDir
    try {
      return builtinPluginsDir()
    } catch {
      return null // the SDK outside an MCCS install: nothing is built-in
    }
  }

  /** True when `dir` is the built-in folder's `<name>/` sub-folder (compared on real paths). */
  private async isBuiltinFolder(dir: string, name: string): Promise<boolean> {
    const root = this.builtinDir()
    if (!root) return false
    const real = async (p: string) => realpath(p).catch(() => null)
    const [a, b] = await Promise.all([real(dir), real(path.join(root, name))])
    return a !== null && a === b
  }

  /** A capability provider by name (the console's /metrics reads the AWS provider's counters). */
  provider(name: string): CapabilityProvider | undefined {
    return this.providers.get(name)
  }

  get(type: string): LoadedPlugin | undefined {
    return this.plugins.get(type)
  }

  list(): LoadedPlugin[] {
    return [...this.plugins.values()].sort((a, b) => a.manifest.name.localeCompare(b.manifest.name))
  }

  /** Runs one hook. Never throws: every outcome is a HookResult on two axes. */
  async call(type: string, hook: HookName, req: CallRequest): Promise<HookResult> {
    const started = performance.now()
    const plugin = this.plugins.get(type)
    const result = (status: ExecStatus, answer: HookResult['answer'], extra: Partial<HookResult> = {}): HookResult => ({
      status,
      answer,
      recoverable: extra.recoverable ?? defaultRecoverable(answer),
      plugin: type,
      hook,
      durationMs: performance.now() - started,
      ...extra,
    })
    if (!plugin)
      return result('notSupported', 'failed', {
        recoverable: false,
        error: `no resource type '${type}' is loaded`,
        errorCode: 'MCCS_ERR_NOT_FOUND',
      })
    const allowed = plugin.manifest.kind === 'fence' ? FENCE_HOOKS : RESOURCE_HOOKS
    if (!allowed.includes(hook)) {
      return result('notSupported', 'failed', {
        recoverable: false,
        error: `${plugin.manifest.kind} plugins have no '${hook}' hook`,
        errorCode: 'MCCS_ERR_HOOK_UNKNOWN',
      })
    }
    if (req.signal?.aborted) return result('cancelled', 'failed', { error: 'cancelled before start', errorCode: 'MCCS_ERR_CANCELLED' })

    const deadline = Date.now() + Math.max(1, req.timeoutMs)
    // Tokens only need to be unique: the bridge also checks that a token belongs to the calling plugin.
    const token = `${this.tokenPrefix}${++this.seq}`
    const paths = this.opts.paths ?? { home: '/opt/MCCS', scripts: '/opt/MCCS/script' }
    const log = this.loggerFor(type, req.resource, hook)
    const live: LiveCall = { plugin: type, ended: false, inflight: 0, info: undefined as unknown as CallInfo }
    // The abort signal is made only when a capability asks for it (most calls never do).
    const signalOf = (): AbortSignal => (live.controller ??= abortable(live.ended, req.signal)).signal
    live.info = {
      plugin: type,
      resource: req.resource,
      node: req.node,
      hook,
      attrs: req.attrs,
      permissions: plugin.permissions,
      get signal() {
        return signalOf()
      },
      deadline,
      log,
      paths,
    }
    const info = live.info
    this.calls.set(token, live)
    const preload: Record<string, unknown> = {}
    for (const p of this.preloaders) {
      if (p.methods.get?.authorize([], info)) continue
      try {
        preload[p.name] = await p.preload!(info)
      } catch (err) {
        log.warn(`cannot preload ${p.name}: ${(err as Error).message}`) // the plugin's reads then go to the host
      }
    }
    const base = JSON.stringify({
      resource: req.resource,
      type,
      node: req.node,
      nodes: req.nodes ?? [req.node],
      attrs: req.attrs,
      hook,
      deadline,
      paths,
      preload,
    })
    let outcome: RawOutcome | 'cancelled'
    try {
      const run = plugin.sandbox.invoke(hook, token, req.resource, base, JSON.stringify(req.args ?? []), deadline)
      const cancelled = new Promise<'cancelled'>((resolve) => {
        if (req.signal) req.signal.addEventListener('abort', () => resolve('cancelled'), { once: true })
      })
      outcome = await Promise.race([run, cancelled])
      if (outcome === 'cancelled') run.catch(() => {})
    } finally {
      live.ended = true
      live.controller?.abort(FINISHED)
      this.calls.delete(token)
    }
    const ctxErr = { plugin: type, resource: req.resource, hook }
    switch (outcome === 'cancelled' ? 'cancelled' : outcome.kind) {
      case 'cancelled':
        return result('cancelled', 'failed', { error: 'cancelled (flush)', errorCode: 'MCCS_ERR_CANCELLED' })
      case 'notSupported':
        return result('notSupported', 'failed', {
          recoverable: false,
          error: `plugin '${type}' does not implement '${hook}'`,
          errorCode: 'MCCS_ERR_HOOK_UNKNOWN',
        })
      case 'cpuLimit': {
        const o = outcome as Extract<RawOutcome, { kind: 'cpuLimit' }>
        const e = new MccsError(
          'MCCS_ERR_PLUGIN_LIMIT',
          `used more than its CPU budget of ${o.budgetMs} ms (${o.usedMs} ms, counted across the whole hook, awaits included): isolate recycled`,
          { subject: `plugin '${type}' ${hook}()`, field: 'limits.hookCpuMs' },
        )
        log.error(e.message, { limit: 'cpu' })
        return result('timeout', 'failed', { error: e.message, errorCode: e.code })
      }
      case 'cpuShare': {
        const o = outcome as Extract<RawOutcome, { kind: 'cpuShare' }>
        const e = new MccsError(
          'MCCS_ERR_PLUGIN_LIMIT',
          `the type was stopped: together its calls used more than its CPU share (${o.share} of a core on average, bursts up to ${o.burstMs} ms); it resumes in ${o.stoppedForMs} ms`,
          { subject: `plugin '${type}' ${hook}()`, field: 'limits.hookCpuMs' },
        )
        return result('crashed', 'failed', { error: e.message, errorCode: e.code })
      }
      case 'limit': {
        const o = outcome as Extract<RawOutcome, { kind: 'limit' }>
        const e = new MccsError('MCCS_ERR_PLUGIN_LIMIT', o.message, { subject: `plugin '${type}' ${hook}()`, field: o.field })
        log.error(e.message, { limit: o.field })
        return result('done', 'failed', { recoverable: false, error: e.message, errorCode: e.code })
      }
      case 'timeout': {
        const o = outcome as Extract<RawOutcome, { kind: 'timeout' }>
        log.warn(`hook timed out after ${req.timeoutMs} ms${o.spinning ? ' (busy in CPU: isolate recycled)' : ''}`)
        return result('timeout', 'failed', {
          error: `'${hook}' did not finish within ${req.timeoutMs} ms`,
          errorCode: 'MCCS_ERR_CANCELLED',
        })
      }
      case 'memoryExceeded':
        log.error('plugin exceeded its memory limit; isolate disposed and recreated')
        return result('memoryExceeded', 'failed', { error: `plugin '${type}' exceeded its memory limit` })
      case 'crashed': {
        const o = outcome as Extract<RawOutcome, { kind: 'crashed' }>
        return result('crashed', 'failed', { error: o.message })
      }
      case 'thrown': {
        const o = outcome as Extract<RawOutcome, { kind: 'thrown' }>
        log.warn(`hook threw: ${o.message}`, ctxErr)
        return result('crashed', 'failed', {
          error: `plugin '${type}' ${hook} threw: ${o.message}`,
          ...(o.code ? { errorCode: o.code } : {}),
        })
      }
      case 'value': {
        const checked = checkAnswer(hook, (outcome as Extract<RawOutcome, { kind: 'value' }>).value)
        if (!checked.ok) {
          const e = new MccsError('MCCS_ERR_PLUGIN_CONTRACT', checked.reason, {
            subject: `plugin '${type}' ${hook}()`,
            field: checked.field,
          })
          log.error(e.message)
          return result('done', 'failed', { recoverable: false, error: e.message, errorCode: e.code })
        }
        const v = checked.value
        return result('done', v.answer, { ...v, recoverable: v.recoverable ?? defaultRecoverable(v.answer) })
      }
    }
    return result('crashed', 'failed', { error: 'unreachable' })
  }

  /** Cancels every call in progress for a resource (flush). */
  cancelResource(resource: string): number {
    let n = 0
    for (const c of this.calls.values()) {
      if (c.info.resource === resource && !c.ended) {
        c.info.signal // makes the controller if no capability has yet
        c.controller!.abort(CANCELLED)
        n++
      }
    }
    return n
  }

  releaseResource(type: string, resource: string): void {
    this.plugins.get(type)?.sandbox.releaseContext(resource)
  }

  dispose(): void {
    for (const p of this.plugins.values()) {
      p.sandbox.dispose()
      this.disposed.push(p.sandbox)
    }
    this.plugins.clear()
  }

  /** Resolves once the isolates of every plugin, disposed ones included, have really stopped (or after
   *  `timeoutMs`): an isolate busy in something V8 cannot interrupt stops a while after its disposal,
   *  and isolated-vm can crash a process that exits meanwhile. Await it before exiting. */
  async whenGone(timeoutMs = 5000): Promise<void> {
    await Promise.all([...this.disposed, ...[...this.plugins.values()].map((p) => p.sandbox)].map((s) => s.whenGone(timeoutMs)))
  }
  private readonly disposed: PluginSandbox[] = []

  private async bridge(plugin: string, token: string, cap: string, method: string, argsJson: string): Promise<string> {
    const live = this.calls.get(token)
    const fail = (code: string, message: string, field?: string) => JSON.stringify({ error: { code, message, field } })
    if (!live || live.plugin !== plugin || live.ended || live.controller?.signal.aborted) {
      return fail('MCCS_ERR_CANCELLED', 'this hook call has ended or was cancelled')
    }
    const info = live.info
    const m = this.providers.get(cap)?.methods[method]
    if (!m) return fail('MCCS_ERR_CAPABILITY_ARGS', `no capability ${cap}.${method}`)
    let args: unknown[]
    try {
      args = JSON.parse(argsJson) as unknown[]
    } catch {
      return fail('MCCS_ERR_CAPABILITY_ARGS', `${cap}.${method}: arguments are not JSON`)
    }
    // The isolate refuses these first (isolate-bootstrap.ts); this is the host's own count.
    if (live.inflight >= LIMITS.inflight) {
      return fail(
        'MCCS_ERR_PLUGIN_LIMIT',
        `${cap}.${method}: more than ${LIMITS.inflight} concurrent capability calls in one hook call`,
        `${cap}.${method}`,
      )
    }
    const missing = cap === 'sys' ? null : m.authorize(args, info)
    if (missing) {
      const e = new MccsError(
        'MCCS_ERR_PERMISSION_DENIED',
        `${cap}.${method} needs permission '${missing}', which plugin.json does not declare`,
        { subject: `plugin '${info.plugin}'`, field: '/permissions' },
      )
      info.log.warn(e.message)
      return fail(e.code, e.message, missing)
    }
    live.inflight++
    try {
      const value = await m.run(args, info)
      return JSON.stringify({ value: value === undefined ? null : value })
    } catch (err) {
      if (isMccsError(err) && err.code === 'MCCS_ERR_PLUGIN_LIMIT')
        info.log.warn(`plugin '${info.plugin}' went past a limit: ${err.message}`, { limit: true })
      if (isMccsError(err)) return fail(err.code, err.message, err.field)
      return fail('MCCS_ERR_CAPABILITY_FAILED', `${cap}.${method}: ${(err as Error)?.message ?? String(err)}`)
    } finally {
      live.inflight--
    }
  }

  private pluginLog(plugin: string, token: string, level: string, msg: string, dataJson: string): void {
    const live = this.calls.get(token)
    if (!live || live.plugin !== plugin) return
    // Sizes are bounded in the isolate (LIMITS); these cuts are a second look that costs nothing.
    const text = msg.length > LIMITS.logMessage + 64 ? msg.slice(0, LIMITS.logMessage) + ' … [truncated]' : msg
    if (level === 'limit') {
      // The sandbox's own report of a limit this call went past (never the plugin's words).
      live.info.log.warn(`plugin '${plugin}' went past a limit: ${text}`, { limit: true })
      return
    }
    const lv = (['debug', 'info', 'warn', 'error'].includes(level) ? level : 'info') as 'info'
    let data: Record<string, unknown> | undefined
    if (dataJson.length <= LIMITS.logData + 64) {
      try {
        data = dataJson ? (JSON.parse(dataJson) as Record<string, unknown>) : undefined
      } catch {
        /* ignore */
      }
    } else {
      data = { truncated: true, characters: dataJson.length }
    }
    live.info.log[lv](text, data)
  }

  private loggerFor(plugin: string, resource: string, hook: string): Logger {
    const base = { plugin, resource, hook }
    const at = (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string, data?: Record<string, unknown>) =>
      this.logger.log(level, msg, { ...base, ...(data && typeof data === 'object' ? { data } : {}) })
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
  }
}
