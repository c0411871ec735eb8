// Issue 12, finding 9: "a read-only state directory is noticed only after the engine ran". The agent now
// proves at start that it can write its state and log folders (write, fsync, rename, remove) and stops
// with MCCS_ERR_STATE_DIR and exit code 7 before it loads a plugin or starts the engine.
// The read-only folder is a small tmpfs remounted read-only (root ignores mode bits, so chmod would not
// stop its writes); every mount is undone in teardown, before the home is removed.
import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeHome, NODE, type AgentHome } from './agent-home.js'
import { EXIT } from '../../core/cli/exit-codes.js'
import { packageRoot } from '../../core/paths.js'
import type { MainConfig } from '../../core/engine/model.js'

const MAIN: Omit<MainConfig, 'generation'> = {
  types: {},
  groups: [{ name: 'g', nodes: [NODE], failoverOnFailure: true, autoStart: true, autoFailback: false }],
  resources: [
    { name: 'd', type: 'dummy', group: 'g', critical: true, attrs: {}, nodeAttrs: {}, policy: { monitorIntervalS: 1 }, monitored: true },
  ],
  dependencies: [],
}

const canMount = process.getuid?.() === 0

async function homeWithMount(
  t: { teardown(fn: () => unknown): void },
  sub: 'state' | 'logs',
): Promise<{ h: AgentHome; dir: string; ro(): void; rw(): void }> {
  const h = await makeHome(MAIN)
  const dir = path.join(h.home, sub)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', dir])
  let mounted = true
  t.teardown(async () => {
    await h.stop().catch(() => {})
    // Lazy: a stopped agent's log may still hold a descriptor on the logs mount (the log is never closed).
    if (mounted) execFileSync('umount', ['-l', dir])
    mounted = false
    await h.cleanup()
  })
  return {
    h,
    dir,
    ro: () => execFileSync('mount', ['-o', 'remount,ro', dir]),
    rw: () => execFileSync('mount', ['-o', 'remount,rw', dir]),
  }
}

const started = async (h: AgentHome) =>
  (await readFile(path.join(h.b.logDir, 'mccs.log'), 'utf8').catch(() => '')).includes('"agent started"')

for (const sub of ['state', 'logs'] as const) {
  t.test(
    `a read-only ${sub} folder stops the agent at start, named, before the engine runs`,
    { skip: !canMount && 'needs root to mount a tmpfs' },
    async (t) => {
      const { h, dir, ro, rw } = await homeWithMount(t, sub)
      ro()
      const r = await h.tryStart()
      t.notOk(r.running, 'the agent did not start')
      t.equal(r.code, EXIT.STATE_DIR, 'exit code 7')
      t.match(r.err, new RegExp(`MCCS_ERR_STATE_DIR: ${dir} ${sub === 'state' ? 'stateDir' : 'logDir'}: .*(read-only|EROFS)`), r.err)
      t.notOk(await started(h), 'no "agent started" in the log: the engine never ran')

      rw()
      const again = await h.tryStart()
      t.ok(again.running, `writable again: the agent starts (${again.err})`)
      t.same(
        (await readdir(dir)).filter((n) => n.includes('probe')),
        [],
        'the probe leaves nothing behind',
      )
    },
  )
}

t.test('a state folder that is a file is refused the same way', async (t) => {
  const h = await makeHome(MAIN)
  t.teardown(async () => {
    await rm(h.b.stateDir, { force: true })
    await h.cleanup()
  })
  await rm(h.b.stateDir, { recursive: true, force: true })
  await writeFile(h.b.stateDir, 'not a folder')
  const r = await h.tryStart()
  t.notOk(r.running)
  t.equal(r.code, EXIT.STATE_DIR)
  t.match(r.err, /MCCS_ERR_STATE_DIR: .*stateDir/)
})

t.test(
  'the real `mccs agent` exits 7 with the reason on a read-only state folder',
  { skip: !canMount && 'needs root to mount a tmpfs' },
  async (t) => {
    const { h, dir, ro } = await homeWithMount(t, 'state')
    ro()
    const tsx = path.join(packageRoot(), 'node_modules/tsx/dist/loader.mjs')
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--no-node-snapshot', '--import', tsx, path.join(packageRoot(), 'core/cli/main.ts'), 'agent'],
        { env: h.env, timeout: 30_000, killSignal: 'SIGTERM' },
        (err, _out, errOut) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, err: errOut }),
      )
    })
    t.equal(r.code, 7, `exit 7, not a running agent: ${r.err}`)
    t.match(r.err, new RegExp(`MCCS_ERR_STATE_DIR: ${dir}`))
    t.notOk(existsSync(path.join(dir, 'mccs.sock')), 'no control socket')
  },
)
