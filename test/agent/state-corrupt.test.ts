// Issue 12, finding 9: "corrupt engine or plugin state is replaced silently". A corrupt state file is kept
// aside as evidence (<file>.corrupt-<time>), an error names the file and the reason, and the agent goes on
// from the safe start (the engine probes everything; the plugin sees an empty store), as Pacemaker goes on
// from its probes.
import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeHome, until, jsonLines, NODE } from './agent-home.js'
import { readSavedState, restore } from '../../core/agent/engine-state-file.js'
import { StateStore } from '../../core/plugins/caps/state.js'
import { initialState } from '../../core/engine/align.js'
import type { MainConfig, ResourceConfig } from '../../core/engine/model.js'
import { tempDir } from '../config/fixture.js'

type Line = { level: string; msg: string; data?: Record<string, unknown> }
const recorder = () => {
  const lines: Line[] = []
  return {
    lines,
    log: (level: string, msg: string, data?: Record<string, unknown>) => {
      lines.push({ level, msg, ...(data ? { data } : {}) })
    },
  }
}
const kept = async (dir: string, base: string) => (await readdir(dir)).filter((n) => n.startsWith(`${base}.corrupt-`))

t.test('engine state: unparsable or malformed engine.json is kept aside, named in an error, and not used', async (t) => {
  const dir = await tempDir(t)
  const file = path.join(dir, 'engine.json')
  t.equal(await readSavedState(file, recorder()), null, 'absent: a first start, nothing to say')

  for (const [what, text] of [
    ['not JSON', '{"groups": {"g": {"lock": "persis'],
    ['not an engine state', '[1, 2, 3]'],
    ['a group that is not an object', '{"groups": {"g": null}, "resourceGroup": {}}'],
    ['resources that are not objects', '{"groups": {"g": {"lock": "persistent", "resources": {"r": 5}}}, "resourceGroup": {"r": "g"}}'],
  ] as const) {
    await writeFile(file, text)
    const rec = recorder()
    const saved = await readSavedState(file, rec)
    t.equal(saved, null, `${what}: not used`)
    const copies = await kept(dir, 'engine.json')
    t.ok(copies.length >= 1, `${what}: a copy is kept aside`)
    t.equal(await readFile(path.join(dir, copies.at(-1)!), 'utf8'), text, `${what}: the copy holds the corrupt bytes`)
    t.notOk(existsSync(file), `${what}: the corrupt file no longer sits where the next save goes`)
    t.match(
      rec.lines,
      [{ level: 'error', data: { code: 'MCCS_ERR_STATE_CORRUPT', file, keptAs: path.join(dir, copies.at(-1)!) } }],
      `${what}: an error names the file`,
    )
    const input = {
      config: {
        generation: 1,
        types: {},
        groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
        resources: [],
        dependencies: [],
      },
      nodes: ['n1'],
      local: 'n1',
    }
    t.doesNotThrow(() => restore(initialState(input as never), saved), `${what}: the probe-everything start works`)
  }
  t.ok((await kept(dir, 'engine.json')).length <= 3, 'a few copies are kept, not one per start forever')
})

t.test(
  'plugin state: a corrupt store is kept aside and named; an unreadable one fails the call instead of being overwritten',
  async (t) => {
    const dir = await tempDir(t)
    await writeFile(path.join(dir, 'r1.json'), '{"running": tru')
    const rec = recorder()
    const store = new StateStore(dir, rec)
    t.same(await store.all('r1'), {}, 'the plugin starts from an empty store')
    const copies = await kept(dir, 'r1.json')
    t.equal(copies.length, 1, 'the corrupt copy is kept')
    t.equal(await readFile(path.join(dir, copies[0]!), 'utf8'), '{"running": tru')
    t.match(rec.lines, [{ level: 'error', data: { code: 'MCCS_ERR_STATE_CORRUPT', resource: 'r1', file: path.join(dir, 'r1.json') } }])
    await store.set('r1', 'running', true)
    t.same(JSON.parse(await readFile(path.join(dir, 'r1.json'), 'utf8')), { running: true }, 'new state is written')
    t.equal((await kept(dir, 'r1.json')).length, 1, 'and the evidence stays')

    await mkdir(path.join(dir, 'r2.json')) // read fails with EISDIR: not corrupt data, an unusable file
    await t.rejects(store.all('r2'), { code: 'MCCS_ERR_CAPABILITY_FAILED', subject: 'r2' }, 'the call fails, naming the resource')
    await t.rejects(store.set('r2', 'k', 1), { code: 'MCCS_ERR_CAPABILITY_FAILED' }, 'nothing is written over it')
  },
)

const res = (name: string, attrs: Record<string, unknown> = {}): ResourceConfig => ({
  name,
  type: 'dummy',
  group: 'g',
  critical: true,
  attrs,
  nodeAttrs: {},
  policy: { monitorIntervalS: 1, offlineMonitorIntervalS: 1 },
  monitored: true,
})
const MAIN: Omit<MainConfig, 'generation'> = {
  types: {},
  groups: [{ name: 'g', nodes: [NODE], failoverOnFailure: true, autoStart: false, autoFailback: false }],
  resources: [res('d')],
  dependencies: [],
}

t.test('an agent whose engine.json and plugin state are corrupt starts from probes, says so, and keeps both files', async (t) => {
  t.setTimeout(120_000)
  const h = await makeHome(MAIN)
  t.teardown(() => h.cleanup())
  await mkdir(path.join(h.b.stateDir, 'plugin-state'), { recursive: true })
  await writeFile(path.join(h.b.stateDir, 'engine.json'), '{"groups": {"g": null}, "resourceGroup": {}}')
  await writeFile(path.join(h.b.stateDir, 'plugin-state', 'd.json'), 'garbage')
  const r = await h.tryStart()
  t.ok(r.running, `the agent starts: ${r.err}`)
  const log = path.join(h.b.logDir, 'mccs.log')
  const errors = await until(
    async () => {
      const e = jsonLines<{ level: number; code?: string; file?: string; msg: string }>(await readFile(log, 'utf8').catch(() => '')).filter(
        (l) => l.code === 'MCCS_ERR_STATE_CORRUPT',
      )
      return e.length >= 2 ? e : null
    },
    20_000,
    50,
    'two MCCS_ERR_STATE_CORRUPT log lines',
  )
  t.same(errors.map((e) => path.basename(e.file ?? '')).sort(), ['d.json', 'engine.json'])
  t.ok(
    errors.every((e) => e.level === 50),
    'logged as errors',
  )
  t.equal((await kept(h.b.stateDir, 'engine.json')).length, 1)
  t.equal((await kept(path.join(h.b.stateDir, 'plugin-state'), 'd.json')).length, 1)
  const on = await h.cli('group', 'online', 'g', '--wait', '--timeout', '60')
  t.equal(on.code, 0, `the group still comes online: ${on.err}`)
})
