// Issue 12, acceptance 3: a hostile plugin, loaded by a real agent next to a sibling resource, attacks
// it all at once — LD_PRELOAD through exec, 1,000 concurrent exec calls, 100 MiB logs, answers, errors
// and arguments, CPU after an await and left behind after answering, and a plugin folder that takes the
// built-in `process` type's name. The agent must stay responsive (its event loop is measured: the
// agent runs in this process), the sibling resource online and healthy, and none of it may work.
// The same plugin against a two-node lab at the shipped heartbeat timing: hostile-lab.test.ts.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { buildPlugin } from '@mccs/plugin-kit/build'
import { startTestAgent, res, until, sleep, type TestAgent } from '../agent/helpers.js'
import { rpc } from '../../core/cli/control-client.js'
import { ATTACKS, buildPreloadLibrary, watchLoop } from './hostile-setup.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = (n: string) => path.join(here, '../fixtures/plugins', n)
const ATTACK_S = 12
// tap ends a test process that goes 30 s (its default) without finishing a test: this file's teardown (the
// agent's stop while the hostile plugin's isolates are still being torn down) ran that long in two full runs
// (ci3, ci5) after every assertion had passed. The bound is the process's, not a figure under test.
t.setTimeout(180_000)

let a: TestAgent
let lib: { so: string; marker: string; dir: string }
t.before(async () => {
  await buildPlugin(fixture('hostile'))
  await buildPlugin(fixture('hostile-name'))
  lib = buildPreloadLibrary()
  a = await startTestAgent(
    {
      types: {},
      groups: [
        { name: 'good', nodes: ['n1'], failoverOnFailure: false, autoStart: true, autoFailback: false },
        { name: 'bad', nodes: ['n1'], failoverOnFailure: false, autoStart: true, autoFailback: false },
      ],
      resources: [
        res('sib', 'dummy', {}, { group: 'good' }),
        ...ATTACKS.map((attack) =>
          res(
            `evil-${attack}`,
            'hostile',
            { attack, mib: 100, preload: lib.so },
            {
              group: 'bad',
              critical: false,
              policy: { monitorIntervalS: 1, offlineMonitorIntervalS: 60, toleranceLimit: 1000, monitorTimeoutLimit: 1000 },
            },
          ),
        ),
      ],
      dependencies: [],
    },
    {
      prepare: async (home) => {
        fs.cpSync(fixture('hostile'), path.join(home, 'plugins/hostile'), { recursive: true })
        fs.cpSync(fixture('hostile-name'), path.join(home, 'plugins/impostor'), { recursive: true })
      },
    },
  )
})
t.teardown(async () => {
  // The hostile group's offline never completes (its hooks attack): 20 s of waiting for it held every full run.
  await a?.cleanup({ offlineWaitMs: 3000 })
  await a?.agent.host.whenGone() // its isolates may still be stopping: the process must not exit before
  if (lib) fs.rmSync(lib.dir, { recursive: true, force: true })
  // In three full runs (ci3, ci5, ci7) the process stayed alive ~30 s after this teardown, with every
  // assertion passed, until tap's timeout ended it with SIGALRM: something of the hostile run still holds the
  // event loop (not found yet). Once the isolates are gone the process may end; the results are already out.
  setTimeout(() => process.exit(), 5000).unref()
})

t.test('a hostile plugin attacking all at once leaves the agent and a sibling resource healthy', async (t) => {
  // Both groups start with the agent; the hostile resources' first monitor (the start's probe) attacks.
  const sibOf = () => a.agent.status().groups.find((g) => g.name === 'good')!.resources[0]!.nodes.n1!
  const badOf = () => a.agent.status().groups.find((g) => g.name === 'bad')!
  await until(() => sibOf().state === 'online' && badOf().nodes.n1 !== 'offline', 30_000)
  const delay = monitorEventLoopDelay({ resolution: 10 })
  const loop = watchLoop()
  delay.enable()
  const t0 = Date.now()
  const sib: Array<{ state: string; fault: string | null; misses: number }> = []
  let rpcWorst = 0
  const socket = path.join(a.home, 'state/mccs.sock')
  while (Date.now() - t0 < ATTACK_S * 1000) {
    const s = a.agent.status().groups.find((g) => g.name === 'good')!.resources[0]!.nodes.n1!
    sib.push({ state: s.state, fault: s.fault, misses: s.misses })
    // The control socket, as `mccs status` asks it (answered on the agent's event loop).
    const r0 = performance.now()
    await rpc(socket, 'status', {}, 5000)
    rpcWorst = Math.max(rpcWorst, performance.now() - r0)
    await sleep(250)
  }
  const st = await a.cli('status', '--json')
  const lf = loop.stop()
  delay.disable()
  const ms = (ns: number) => Math.round(ns / 1e6)
  const figures = {
    ...lf,
    p50Ms: ms(delay.percentile(50)),
    p99Ms: ms(delay.percentile(99)),
    maxMs: ms(delay.max),
    statusRpcWorstMs: Math.round(rpcWorst),
  }
  t.comment(`event-loop delay during ${ATTACK_S} s of attacks: ${JSON.stringify(figures)}`)

  t.ok(
    figures.heldMaxMs + figures.blockedMaxMs < 250,
    `the agent's thread was never held by work or blocked (longest stretches ${figures.heldMaxMs} / ${figures.blockedMaxMs} ms)`,
  )
  t.ok(figures.maxGapMs < 600, `the agent's event loop never waited a dead time, 600 ms (longest gap ${figures.maxGapMs} ms)`)
  t.equal(st.code, 0, 'the agent answers its CLI')
  t.ok(
    sib.length > 20 && sib.every((s) => s.state === 'online' && s.fault === null && s.misses === 0),
    `the sibling resource stayed online with no fault and no missed monitor (${sib.length} samples)`,
  )

  const log = fs.readFileSync(path.join(a.home, 'logs/mccs.log'), 'utf8')
  t.notOk(fs.existsSync(lib.marker), 'the LD_PRELOAD library never loaded')
  t.match(log, /env\.LD_PRELOAD/, 'the LD_PRELOAD attempt is logged, named')
  t.match(log, /MCCS_ERR_PLUGIN_NAME_RESERVED/, 'the impostor of the built-in process type was refused at load')
  t.not(a.agent.status().types.find((x) => x.name === 'process')?.version, '9.9.9', 'process is the built-in one')
  // Which limit each attack meets first varies with timing (the type is stopped for its CPU share
  // now and then, a shared isolate may hit its memory limit): limits.test.ts checks each one alone.
  const limitLines = log.split('\n').filter((l) => /MCCS_ERR_PLUGIN_LIMIT|went past a limit|CPU share/.test(l) && /hostile/.test(l))
  t.ok(limitLines.length > 0, `the plugin is named in ${limitLines.length} log lines about its limits`)
  t.comment(
    `limit kinds logged: ${[...new Set(limitLines.map((l) => (/CPU share|CPU budget|concurrent capability calls|answer is|arguments are|log entries|truncated/.exec(l) ?? ['other'])[0]))].join(', ')}`,
  )
  const longest = log.split('\n').reduce((n, l) => Math.max(n, l.length), 0)
  t.ok(longest < 64 * 1024, `no log line carries the plugin's bulk (longest ${longest} characters)`)
  // Operator commands still work while the plugin keeps attacking (its own resources stay unknown: their
  // probes fail, so the agent keeps asking).
  const off = await a.cli('group', 'offline', 'good', '--wait', '--timeout', '30')
  t.equal(off.code, 0, `the sibling group goes offline on command: ${off.err.slice(0, 300)}`)
  t.equal(sibOf().state, 'offline')
})
