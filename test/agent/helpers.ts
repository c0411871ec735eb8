// A real agent in a temp home, for tests: its own config, plugins from the repo, control socket.
import { mkdtemp, rm, writeFile, chmod, mkdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { loadBootstrap } from '../../core/config/bootstrap.js'
import { createInitial, ConfigStore } from '../../core/config/store.js'
import type { MainConfig, ResourceConfig } from '../../core/engine/model.js'
import { runAgent, type RunningAgent } from '../../core/cli/agent-cmd.js'
import { packageRoot } from '../../core/paths.js'
import { writeDevLicense } from '../../core/license/dev-license.js'

export interface TestAgent extends RunningAgent {
  home: string
  env: NodeJS.ProcessEnv
  cli(...args: string[]): Promise<{ code: number; out: string; err: string }>
  /** Groups offline (each waited for up to `offlineWaitMs`, default 20 s), the agent stopped, the home removed. */
  cleanup(o?: { offlineWaitMs?: number }): Promise<void>
}

export const res = (name: string, type: string, attrs: Record<string, unknown>, more: Partial<ResourceConfig> = {}): ResourceConfig => ({
  name,
  type,
  group: 'g',
  critical: true,
  attrs,
  nodeAttrs: {},
  policy: { monitorIntervalS: 1, offlineMonitorIntervalS: 60 },
  monitored: true,
  ...more,
})

export async function startTestAgent(
  main: Omit<MainConfig, 'generation'>,
  opts: { scripts?: Record<string, string>; prepare?: (home: string) => Promise<void>; license?: boolean } = {},
): Promise<TestAgent> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-agent-'))
  const env: NodeJS.ProcessEnv = { ...process.env, MCCS_HOME: home, MCCS_NODE_NAME: 'n1' }
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
  await opts.prepare?.(home)
  await createInitial(b.configDir, { cluster: 'test', nodes: [{ name: 'n1', address: '127.0.0.1' }] })
  if (opts.license !== false) await writeDevLicense(b.configDir, 'n1') // unlicensed: limited mode, no auto-start
  const store = new ConfigStore(b.configDir)
  await store.load()
  await store.commit({ generation: 1, ...main }, { expectGeneration: 1 })
  const quiet = { out: () => {}, err: () => {} }
  const running = await runAgent(b, quiet, { quiet: true })
  if (typeof running === 'number') throw new Error(`agent did not start: exit ${running}`)
  const bin = path.join(packageRoot(), 'bin/mccs')
  return {
    ...running,
    home,
    env,
    cli: (...args) =>
      new Promise((resolve) => {
        execFile(bin, args, { env, timeout: 120_000 }, (err, out, errOut) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut })
        })
      }),
    cleanup: async (o) => {
      // Stop what the test started: take groups offline, then the agent, then remove the home.
      for (const g of main.groups)
        await running.agent
          .command({ type: 'groupOffline', group: g.name, user: 'test' }, { wait: true, timeoutMs: o?.offlineWaitMs ?? 20_000 })
          .catch(() => {})
      await running.stop()
      // A record written after the stop (the operation log's line for a command that finished during it is
      // written by design) can land in logs/ while the folder is being removed: rmdir then fails ENOTEMPTY
      // (ci16: api-routes, ci20: api-oplog-all, after every assertion passed). rm retries those.
      await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 })
    },
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function until<T>(
  f: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 10_000,
  stepMs = 10,
): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > end) throw new Error('condition not met in time')
    await sleep(stepMs)
  }
}
