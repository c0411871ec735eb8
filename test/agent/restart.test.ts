// Agent restart (issue 3 item 8, acceptance 4): services keep running across an agent restart and are
// re-attached, not started twice; persistent locks and faults survive it, temporary locks do not; a bad
// configuration stops the agent at start with every issue named, and a bad import into a running agent
// changes nothing.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeHome, until, sleep, jsonLines, NODE, type AgentHome } from './agent-home.js'
import { resourceState } from '../../core/engine/state.js'
import type { MainConfig, ResourceConfig } from '../../core/engine/model.js'
import type { AgentStatus } from '../../core/agent/status.js'

const res = (name: string, type: string, attrs: Record<string, unknown>, more: Partial<ResourceConfig> = {}): ResourceConfig => ({
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

const MAIN: Omit<MainConfig, 'generation'> = {
  types: {},
  groups: [{ name: 'g', nodes: [NODE], failoverOnFailure: true, autoStart: false, autoFailback: false }],
  resources: [
    res('base', 'dummy', {}),
    res(
      'svc',
      'process',
      { argv: ['/bin/sleep', '100000'], stopGraceS: 1 },
      { policy: { monitorIntervalS: 1, restartLimit: 1, confidenceIntervalS: 3600 } },
    ),
  ],
  dependencies: [{ parent: 'svc', child: 'base' }],
}

// Agents start and stop several times and the CLI runs often: more than the default 120 s may be needed.
t.setTimeout(300_000)

let h: AgentHome
t.before(async () => {
  h = await makeHome(MAIN)
  await h.start()
})
t.teardown(async () => {
  await h?.cleanup()
})

const agent = () => h.running!.agent
const groupState = () => agent().engineState().groups['g']?.nodes[NODE]
const rstate = (r: string) => resourceState(agent().engineState(), r, NODE)
const svcPid = async (): Promise<number | null> => (await agent().procs.status('svc', 'main')).pid
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
const status = async (): Promise<AgentStatus> => {
  const r = await h.cli('status', '--json')
  if (r.code !== 0) throw new Error(`mccs status: ${r.err}`)
  return JSON.parse(r.out) as AgentStatus
}
const restart = async () => {
  await h.stop()
  await h.start()
}
/** Log lines written since the last "agent started". */
const sinceStart = async () => {
  const lines = jsonLines<{ msg: string }>(await readFile(path.join(h.home, 'logs/mccs.log'), 'utf8'))
  let i = lines.length - 1
  while (i >= 0 && lines[i]!.msg !== 'agent started') i--
  return lines.slice(i + 1)
}

t.test('a running service is re-attached after an agent restart, not started twice', async (t) => {
  const on = await h.cli('group', 'online', 'g', '--wait', '--timeout', '60')
  t.equal(on.code, 0, on.err + on.out)
  const pid = await svcPid()
  t.ok(pid && alive(pid), `svc runs (pid ${pid})`)

  await h.stop()
  t.ok(alive(pid!), 'stopping the agent leaves the service running')
  await h.start()
  await until(() => groupState() === 'online', 20_000, 20, 'group online after the start probe').catch((e: Error) =>
    t.fail(`${e.message}; group is ${groupState()}, svc ${rstate('svc')?.state}, base ${rstate('base')?.state}`),
  )
  t.equal(groupState(), 'online', 'the group shows online after the start probe')
  t.equal(await svcPid(), pid, 'same pid: re-attached')
  await sleep(1500) // a few monitor rounds: nothing may restart it
  t.equal(await svcPid(), pid, 'still the same pid after monitors ran')
  const acts = (await sinceStart()).filter((l) => /^(online|offline|clean) (svc|base):/.test(l.msg)).map((l) => l.msg)
  t.same(acts, [], 'no online/offline/clean action after the restart')
  const st = await status()
  t.match(
    st.groups.find((g) => g.name === 'g'),
    { name: 'g', nodes: { [NODE]: 'online' } },
    'mccs status shows it online',
  )

  // Exit detection still works on the re-attached process: restartLimit 1 restarts it in place.
  process.kill(pid!, 'SIGKILL')
  const pid2 = await until(
    async () => {
      const p = await svcPid()
      return p && p !== pid && rstate('svc')?.state === 'online' ? p : null
    },
    20_000,
    20,
    'svc restarted after the kill',
  ).catch((e: Error) => {
    t.fail(`${e.message}; svc is ${rstate('svc')?.state}`)
    return null
  })
  t.ok(pid2, `restarted in place as pid ${pid2}`)
  t.equal(rstate('svc')?.restarts, 1, 'one restart counted')
  t.equal(groupState(), 'online')
})

t.test('a persistent lock survives a restart, a temporary one does not', async (t) => {
  let r = await h.cli('group', 'lock', 'g', '--persistent')
  t.equal(r.code, 0, r.err)
  await restart()
  t.equal(agent().engineState().groups['g']?.lock, 'persistent', 'persistent lock kept')
  t.equal((await status()).groups[0]?.lock, 'persistent')
  r = await h.cli('group', 'unlock', 'g')
  t.equal(r.code, 0, r.err)
  r = await h.cli('group', 'lock', 'g')
  t.equal(r.code, 0, r.err)
  t.equal(agent().engineState().groups['g']?.lock, 'temporary')
  await restart()
  t.equal(agent().engineState().groups['g']?.lock, 'none', 'temporary lock gone')
  await until(() => groupState() === 'online', 20_000, 20, 'group online again').catch((e: Error) => t.fail(e.message))
})

t.test('a fault survives a restart until mccs group clear', async (t) => {
  // restartLimit 1 and the restart above used it (confidence interval 1 h): the next kill faults the group.
  const pid = await svcPid()
  t.ok(pid, 'svc runs')
  if (rstate('svc')?.restarts !== 1) {
    // The restart counter did not survive the agent restart: use it up first.
    process.kill(pid!, 'SIGKILL')
    await until(
      async () => {
        const p = await svcPid()
        return p && p !== pid && rstate('svc')?.state === 'online'
      },
      20_000,
      20,
      'restart in place',
    )
  }
  process.kill((await svcPid())!, 'SIGKILL')
  await until(() => groupState() === 'faulted', 20_000, 20, 'group faulted').catch((e: Error) =>
    t.fail(`${e.message}; group ${groupState()}, svc ${rstate('svc')?.state}`),
  )
  await until(() => Object.keys(agent().engineState().groups['g']?.pending ?? {}).length === 0, 20_000, 20, 'nothing in flight')
  const fault = rstate('svc')?.lastFault
  t.ok(fault, `svc faulted: ${fault}`)

  await restart()
  await sleep(1500) // probes and monitors run
  t.equal(groupState(), 'faulted', 'still faulted after the restart')
  t.equal(rstate('svc')?.state, 'faulted')
  t.equal(rstate('svc')?.lastFault, fault, 'with the same reason')
  t.match((await h.cli('status')).out, new RegExp(`${NODE}:faulted`))

  const clear = await h.cli('group', 'clear', 'g', '--wait', '--timeout', '30')
  t.equal(clear.code, 0, clear.err + clear.out)
  await until(() => groupState() !== 'faulted', 10_000, 20, 'fault cleared').catch((e: Error) => t.fail(e.message))
  const on = await h.cli('group', 'online', 'g', '--wait', '--timeout', '60')
  t.equal(on.code, 0, on.err + on.out)
})

t.test('a bad mccs config import into a running agent is refused and changes nothing', async (t) => {
  const before = await status()
  const exp = await h.cli('config', 'export')
  t.equal(exp.code, 0, exp.err)
  const bundle = JSON.parse(exp.out) as { main: MainConfig; hb: unknown }
  const cases: Array<[string, string, RegExp]> = [
    ['syntax', '{ "main": { "generation": 1, }', /MCCS_ERR_CONFIG_SYNTAX/],
    [
      'unknown type',
      JSON.stringify({ ...bundle, main: { ...bundle.main, resources: [...bundle.main.resources, res('x', 'nosuch', {})] } }),
      /\/main\/resources\/2\/type: unknown resource type "nosuch"/,
    ],
    [
      'missing attribute',
      JSON.stringify({ ...bundle, main: { ...bundle.main, resources: [res('svc', 'process', {})] } }),
      /\/main\/resources\/0\/attrs\/argv: required attribute 'argv' is missing/,
    ],
    [
      'cycle',
      JSON.stringify({
        ...bundle,
        main: { ...bundle.main, dependencies: [...bundle.main.dependencies, { parent: 'base', child: 'svc' }] },
      }),
      /MCCS_ERR_DEP_CYCLE/,
    ],
  ]
  for (const [name, text, expect] of cases) {
    const file = path.join(h.home, `bad-${name.replace(/ /g, '-')}.json`)
    await writeFile(file, text)
    const r = await h.cli('config', 'import', file)
    t.equal(r.code, 6, `${name}: exit 6`)
    t.match(r.err, expect, `${name}: the issue is named`)
  }
  const after = await status()
  t.equal(after.generation, before.generation, 'same generation')
  t.same(
    after.groups.map((g) => [g.name, g.nodes, g.resources.map((r) => r.name)]),
    before.groups.map((g) => [g.name, g.nodes, g.resources.map((r) => r.name)]),
    'same groups and states',
  )
  t.equal(groupState(), 'online', 'the group still runs')
  const main = JSON.parse(await readFile(path.join(h.b.configDir, 'main.json'), 'utf8')) as MainConfig
  t.equal(main.generation, before.generation, 'main.json on disk unchanged')
})

// --- (d) bad configuration files at agent start ---

const BAD: Array<{ name: string; main: (m: MainConfig) => string; expect: Array<[string, RegExp]> }> = [
  {
    name: 'syntax error',
    main: (m) => JSON.stringify(m, null, 2).replace('"groups": [', '"groups": [,'),
    expect: [['/', /MCCS_ERR_CONFIG_SYNTAX/]],
  },
  {
    name: 'unknown type',
    main: (m) => JSON.stringify({ ...m, resources: [m.resources[0], { ...m.resources[1], type: 'nosuch' }] }),
    expect: [['/resources/1/type', /unknown resource type "nosuch"/]],
  },
  {
    name: 'missing required attribute',
    main: (m) => JSON.stringify({ ...m, resources: [m.resources[0], { ...m.resources[1], attrs: { stopGraceS: 1 } }] }),
    expect: [['/resources/1/attrs/argv', /required attribute 'argv' is missing/]],
  },
  {
    name: 'cycle',
    main: (m) => JSON.stringify({ ...m, dependencies: [...m.dependencies, { parent: 'base', child: 'svc' }] }),
    expect: [['/dependencies/', /cycle: (svc -> base -> svc|base -> svc -> base)/]],
  },
  {
    name: 'per-node value for an unknown node',
    main: (m) => JSON.stringify({ ...m, resources: [{ ...m.resources[0], nodeAttrs: { n9: { note: 'x' } } }, m.resources[1]] }),
    expect: [['/resources/0/nodeAttrs/n9', /not a node in hb\.json/]],
  },
]

t.test('bad configuration files stop the agent at start with file, JSON path and reason', async (t) => {
  for (const bad of BAD) {
    await t.test(bad.name, async (t) => {
      const home = await makeHome(MAIN)
      t.teardown(() => home.cleanup())
      const mainFile = path.join(home.b.configDir, 'main.json')
      const good = JSON.parse(await readFile(mainFile, 'utf8')) as MainConfig
      await writeFile(mainFile, bad.main(good))
      const r = await home.tryStart()
      t.equal(r.code, 6, 'runAgent returns 6')
      t.notOk(r.running, 'no agent runs')
      for (const [ptr, reason] of bad.expect) {
        const line = r.err.split('\n').find((l) => l.startsWith(`${mainFile}: ${ptr}`))
        t.ok(line, `an issue line for ${ptr} in:\n${r.err}`)
        t.match(line ?? '', reason)
      }
      const v = await home.cli('config', 'validate', home.b.configDir)
      t.equal(v.code, 6, 'mccs config validate exits 6')
      const issues = v.err.trim().split('\n').filter(Boolean)
      t.ok(issues.length > 0)
      for (const l of issues) t.ok(r.err.includes(l), `the agent reported the same issue: ${l}`)
      const agentIssues = r.err.split('\n').filter((l) => l.startsWith(mainFile) || l.startsWith(path.join(home.b.configDir, 'hb.json')))
      t.equal(agentIssues.length, issues.length, 'and the same number of issues')
    })
  }
})
