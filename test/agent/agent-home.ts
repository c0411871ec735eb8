// A temp agent home that outlives one agent: start an agent on it, stop it (services keep running),
// start another on the same home; drive it through the real CLI. Cleanup takes every group offline,
// stops the agent and, as a safety net, stops any managed process still recorded in the home.
import { mkdtemp, rm, writeFile, chmod, mkdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { loadBootstrap, type Bootstrap } from '../../core/config/bootstrap.js'
import { createInitial, ConfigStore } from '../../core/config/store.js'
import type { MainConfig } from '../../core/engine/model.js'
import { runAgent, type RunningAgent } from '../../core/cli/agent-cmd.js'
import { ProcManager } from '../../core/plugins/caps/proc.js'
import { packageRoot } from '../../core/paths.js'
import { writeDevLicense } from '../../core/license/dev-license.js'

export interface CliResult {
  code: number
  out: string
  err: string
}

export interface AgentHome {
  home: string
  env: NodeJS.ProcessEnv
  b: Bootstrap
  /** The agent running on this home now, if any. */
  running: RunningAgent | undefined
  /** Starts an agent on the home; returns it, or the exit code runAgent returned (with what it printed). */
  start(): Promise<RunningAgent>
  tryStart(): Promise<{ running?: RunningAgent; code?: number; err: string }>
  /** Stops the agent (its services keep running, as after `systemctl stop mccs_agent`). */
  stop(): Promise<void>
  cli(...args: string[]): Promise<CliResult>
  cleanup(): Promise<void>
}

export const NODE = 'n1'

export async function makeHome(
  main?: Omit<MainConfig, 'generation'>,
  opts: { scripts?: Record<string, string>; nodes?: string[] } = {},
): Promise<AgentHome> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-agent-'))
  const env: NodeJS.ProcessEnv = { ...process.env, MCCS_HOME: home, MCCS_NODE_NAME: NODE }
  delete env.MCCS_BOOTSTRAP
  delete env.MCCS_CONFIG
  // The CLI runs as an operator runs it: without the test runner's loaders.
  delete env.NODE_OPTIONS
  const b = await loadBootstrap({ cwd: home, env })
  await mkdir(b.scriptDir, { recursive: true })
  for (const [name, text] of Object.entries(opts.scripts ?? {})) {
    await writeFile(path.join(b.scriptDir, name), text)
    await chmod(path.join(b.scriptDir, name), 0o755)
  }
  const nodes = opts.nodes ?? [NODE]
  await createInitial(b.configDir, { cluster: 'test', nodes: nodes.map((n, i) => ({ name: n, address: `127.0.0.${i + 1}` })) })
  await writeDevLicense(b.configDir, NODE) // unlicensed: limited mode, no auto-start
  if (main) {
    const store = new ConfigStore(b.configDir)
    await store.load()
    await store.commit({ generation: 1, ...main }, { expectGeneration: 1 })
  }
  const bin = path.join(packageRoot(), 'bin/mccs')
  const h: AgentHome = {
    home,
    env,
    b,
    running: undefined,
    async tryStart() {
      if (h.running) throw new Error('an agent already runs on this home')
      const lines: string[] = []
      const io = {
        out: (s: string) => {
          lines.push(s)
        },
        err: (s: string) => {
          lines.push(s)
        },
      }
      const r = await runAgent(b, io, { quiet: true })
      if (typeof r === 'number') return { code: r, err: lines.join('\n') }
      h.running = r
      return { running: r, err: lines.join('\n') }
    },
    async start() {
      const r = await h.tryStart()
      if (!r.running) throw new Error(`agent did not start: exit ${r.code}\n${r.err}`)
      return r.running
    },
    async stop() {
      const r = h.running
      h.running = undefined
      if (r) await r.stop()
    },
    cli: (...args) =>
      new Promise((resolve) => {
        execFile(bin, args, { env, timeout: 120_000 }, (err, out, errOut) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut })
        })
      }),
    async cleanup() {
      const r = h.running
      if (r) {
        for (const g of r.agent.store.current().main.groups) {
          await r.agent.command({ type: 'groupUnlock', group: g.name, user: 'test' }).catch(() => {})
          await r.agent.command({ type: 'groupOffline', group: g.name, user: 'test' }, { wait: true, timeoutMs: 20_000 }).catch(() => {})
        }
        await h.stop().catch(() => {})
      }
      // Safety net: whatever managed process is still recorded here was started by this test.
      const pm = new ProcManager({ stateDir: path.join(b.stateDir, 'proc') })
      try {
        for (const s of await pm.reattach()) if (s.running) await pm.stop(s.resource, s.name, { graceMs: 500 }).catch(() => {})
      } finally {
        pm.close()
      }
      await rm(home, { recursive: true, force: true })
    },
  }
  return h
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function until<T>(
  f: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 10_000,
  stepMs = 10,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`)
    await sleep(stepMs)
  }
}

/** Lines of a JSON-lines log file. */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T)
}
