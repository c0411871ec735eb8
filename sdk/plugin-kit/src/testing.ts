// A test host for plugin authors: runs a plugin in the real sandbox (same isolate, same permission
// checks, same contract checks as the agent) with fake capabilities you control.
//
//   const t = await createTestHost({ pluginDir: new URL('..', import.meta.url).pathname })
//   const r = await t.call('online', { attrs: { port: 80 } })   // r.status === 'done', r.answer === 'ok'
import path from 'node:path'
import type { ExecRequest, ExecResult, HookName, HookResult, ProcSpec, ProcStatus } from '@mccs/sdk'
import { buildPlugin } from './build.js'
import { PluginHost } from '../../../core/plugins/host.js'
import { simpleMethod, type CallInfo, type CapabilityProvider } from '../../../core/plugins/capabilities.js'
import { execAuthorize, checkExecRequest } from '../../../core/plugins/caps/exec.js'

export interface FakeCapabilities {
  /** Answers exec.run (after the real permission check). Default: exit 0, empty output. */
  exec?: (req: ExecRequest, call: CallInfo) => Promise<Partial<ExecResult>> | Partial<ExecResult>
  proc?: {
    start?(spec: ProcSpec, call: CallInfo): Promise<ProcStatus> | ProcStatus
    stop?(name: string, opts: unknown, call: CallInfo): Promise<ProcStatus> | ProcStatus
    status?(name: string, call: CallInfo): Promise<ProcStatus> | ProcStatus
  }
  /** Extra or replacement providers (e.g. a fake `net` or `aws.ec2`). */
  providers?: CapabilityProvider[]
}

export interface TestHostOptions {
  pluginDir: string
  /** Build the bundle first (default true). */
  build?: boolean
  fakes?: FakeCapabilities
  node?: string
  nodes?: string[]
  paths?: { home: string; scripts: string }
  contextMode?: 'shared' | 'perResource'
}

export interface LogLine {
  level: string
  msg: string
  data?: Record<string, unknown>
}

export interface TestHost {
  host: PluginHost
  type: string
  /** The in-memory state store, by resource. */
  state: Map<string, Record<string, unknown>>
  logs: LogLine[]
  call(
    hook: HookName,
    req?: { resource?: string; attrs?: Record<string, unknown>; timeoutMs?: number; args?: unknown[]; node?: string; signal?: AbortSignal },
  ): Promise<HookResult>
  dispose(): void
}

const stopped = (name: string): ProcStatus => ({
  name,
  running: false,
  pid: null,
  startedAt: null,
  exitCode: null,
  exitSignal: null,
  exitedAt: null,
  logFile: null,
})

export async function createTestHost(opts: TestHostOptions): Promise<TestHost> {
  const dir = path.resolve(opts.pluginDir)
  if (opts.build !== false) await buildPlugin(dir)
  const state = new Map<string, Record<string, unknown>>()
  const logs: LogLine[] = []
  const bag = (r: string) => state.get(r) ?? (state.set(r, {}), state.get(r)!)
  const fakes = opts.fakes ?? {}
  const providers: CapabilityProvider[] = [
    {
      name: 'exec',
      methods: {
        run: {
          authorize: execAuthorize,
          run: async ([req], call) => {
            const r = checkExecRequest(req)
            const out = fakes.exec ? await fakes.exec(r, call) : {}
            return { code: 0, signal: null, stdout: '', stderr: '', timedOut: false, truncated: false, durationMs: 0, ...out }
          },
        },
      },
    },
    {
      name: 'proc',
      methods: {
        start: simpleMethod('proc', async ([spec], c) =>
          fakes.proc?.start ? fakes.proc.start(spec as ProcSpec, c) : stopped((spec as ProcSpec).name),
        ),
        stop: simpleMethod('proc', async ([name, o], c) =>
          fakes.proc?.stop ? fakes.proc.stop(name as string, o, c) : stopped(name as string),
        ),
        status: simpleMethod('proc', async ([name], c) =>
          fakes.proc?.status ? fakes.proc.status(name as string, c) : stopped(name as string),
        ),
      },
    },
    {
      name: 'state',
      methods: {
        get: simpleMethod('state', async ([k], c) => bag(c.resource)[k as string]),
        set: simpleMethod('state', async ([k, v], c) => {
          bag(c.resource)[k as string] = v
        }),
        delete: simpleMethod('state', async ([k], c) => {
          delete bag(c.resource)[k as string]
        }),
        all: simpleMethod('state', async (_a, c) => ({ ...bag(c.resource) })),
      },
      // As the agent's store does: reads are served in the isolate from a snapshot taken per call.
      preload: (c) => structuredClone(bag(c.resource)),
    },
  ]
  for (const p of fakes.providers ?? []) {
    const i = providers.findIndex((x) => x.name === p.name)
    if (i >= 0) providers[i] = p
    else providers.push(p)
  }
  const host = new PluginHost({
    providers,
    paths: opts.paths ?? { home: '/opt/MCCS', scripts: '/opt/MCCS/script' },
    contextMode: opts.contextMode ?? 'shared',
    logger: {
      log: (level, msg, data) => {
        logs.push({ level, msg, ...(data ? { data } : {}) })
      },
    },
  })
  const loaded = await host.load(dir)
  const node = opts.node ?? 'node1'
  return {
    host,
    type: loaded.manifest.name,
    state,
    logs,
    call: (hook, req = {}) =>
      host.call(loaded.manifest.name, hook, {
        resource: req.resource ?? 'r1',
        node: req.node ?? node,
        nodes: opts.nodes ?? [node],
        attrs: req.attrs ?? {},
        timeoutMs: req.timeoutMs ?? 5000,
        args: req.args ?? [],
        ...(req.signal ? { signal: req.signal } : {}),
      }),
    dispose: () => host.dispose(),
  }
}
