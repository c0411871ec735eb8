// Schema versions of main.json and hb.json (issue 16, What 4): a file without `schemaVersion` (version 1,
// the format before the field) is migrated on load with its original kept as <file>.v1; a file of a newer
// version than this agent reads is refused with MCCS_ERR_CONFIG_VERSION and nothing on disk changes.
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ConfigStore } from '../../core/config/store.js'
import { configExport, configImport, configValidate } from '../../core/config/commands.js'
import { migrate, SCHEMA_VERSION, versionedFile } from '../../core/config/schema-version.js'
import { validateMain } from '../../core/config/validate.js'
import { isMccsError, MccsError } from '../../core/errors.js'
import type { MainConfig } from '../../core/engine/model.js'
import { TYPES, VALID_DIR } from './fixture.js'

const V1_DIR = fileURLToPath(new URL('./fixtures/v1/', import.meta.url))

type Line = { level: string; msg: string; data?: Record<string, unknown> }
function logger(): { lines: Line[]; log: (level: Line['level'], msg: string, data?: Record<string, unknown>) => void } {
  const lines: Line[] = []
  return { lines, log: (level, msg, data) => lines.push({ level, msg, ...(data ? { data } : {}) }) }
}

async function dirWith(t: { teardown(fn: () => unknown): void }, from: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mccs-schema-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await cp(from, dir, { recursive: true })
  return dir
}

/** Every file of a directory and its bytes. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const f of (await readdir(dir)).sort()) out[f] = await readFile(join(dir, f), 'utf8')
  return out
}

t.test('this agent reads and writes version 2 of both files', async (t) => {
  t.same(SCHEMA_VERSION, { main: 2, hb: 2 })
})

t.test('a version 1 directory is migrated on load: originals kept as .v1, files rewritten at version 2', async (t) => {
  const dir = await dirWith(t, V1_DIR)
  const before = await snapshot(dir)
  t.notOk(/schemaVersion/.test(before['main.json']!), 'the fixture is version 1 (no field)')
  const { lines, log } = logger()
  const store = new ConfigStore(dir, { types: TYPES, log: { log } })
  const { main, hb } = await store.load()
  t.equal(main.generation, 7, 'generation unchanged: the same configuration')
  t.equal(hb.generation, 4)
  t.notOk('schemaVersion' in main, 'the configuration in memory has no version field')

  const after = await snapshot(dir)
  t.same(Object.keys(after), ['hb.json', 'hb.json.v1', 'main.json', 'main.json.v1'])
  t.equal(after['main.json.v1'], before['main.json'], 'main.json.v1 is the original, byte for byte')
  t.equal(after['hb.json.v1'], before['hb.json'], 'hb.json.v1 is the original, byte for byte')
  for (const f of ['main.json', 'hb.json']) {
    const doc = JSON.parse(after[f]!) as Record<string, unknown>
    t.equal(Object.keys(doc)[0], 'schemaVersion', `${f}: the version comes first`)
    t.equal(doc.schemaVersion, 2, `${f} is at version 2`)
    const { schemaVersion: _v, ...rest } = doc
    t.same(rest, JSON.parse(before[f]!), `${f}: otherwise the operator's file as written (no defaults added)`)
  }
  t.equal(lines.length, 2, 'one line per migrated file')
  t.match(lines[1], { level: 'info', msg: /^main\.json migrated from schema version 1 to 2; the original is kept in .*main\.json\.v1$/ })

  // A second load (the agent restarting) finds version 2: nothing is rewritten, nothing logged.
  const again = logger()
  const reloaded = await new ConfigStore(dir, { types: TYPES, log: { log: again.log } }).load()
  t.same(reloaded, store.current(), 'the same configuration')
  t.same(await snapshot(dir), after, 'a second load changes no file')
  t.same(again.lines, [], 'and logs no migration')
})

t.test('an earlier backup of the same version is never overwritten', async (t) => {
  const dir = await dirWith(t, V1_DIR)
  await new ConfigStore(dir, { types: TYPES }).load()
  const firstBackup = await readFile(join(dir, 'main.json.v1'), 'utf8')
  // An operator puts a version 1 main.json back (edited by hand, or restored) and the agent starts again.
  const v1 = JSON.parse(firstBackup) as { groups: Array<{ autoFailback?: boolean }> }
  v1.groups[0]!.autoFailback = true
  const handEdited = JSON.stringify(v1, null, 2)
  await writeFile(join(dir, 'main.json'), handEdited)
  const { lines, log } = logger()
  const { main } = await new ConfigStore(dir, { types: TYPES, log: { log } }).load()
  t.equal(main.groups[0]?.autoFailback, true, 'the hand-edited file is the configuration in force')
  t.equal(await readFile(join(dir, 'main.json.v1'), 'utf8'), firstBackup, 'main.json.v1 still holds the first original')
  t.equal(JSON.parse(await readFile(join(dir, 'main.json'), 'utf8')).schemaVersion, 2, 'migrated all the same')
  t.match(lines, [{ msg: /^main\.json migrated from schema version 1 to 2; the original is not kept again \(an earlier copy is\)/ }])
})

for (const file of ['main.json', 'hb.json'] as const) {
  t.test(`a ${file} of a newer schema version is refused and nothing changes`, async (t) => {
    const dir = await dirWith(t, V1_DIR) // the other file is version 1: it must not be migrated either
    const doc = JSON.parse(await readFile(join(dir, file), 'utf8')) as Record<string, unknown>
    await writeFile(join(dir, file), JSON.stringify({ schemaVersion: 3, ...doc, fieldOfVersion3: { x: 1 } }, null, 2))
    const before = await snapshot(dir)
    const store = new ConfigStore(dir, { types: TYPES })
    const err = await store.load().then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(isMccsError(err, 'MCCS_ERR_CONFIG_VERSION'), `refused with MCCS_ERR_CONFIG_VERSION (${String(err)})`)
    const e = err as MccsError
    t.equal(e.subject, join(dir, file), 'names the file')
    t.equal(e.field, '/schemaVersion', 'names the field')
    t.match(e.data, { version: 3, supported: 2 }, 'the version found and the highest this agent reads')
    t.match(e.reason, /^is 3, but this agent reads .* up to version 2: it was written by a newer MCCS/)
    t.equal(e.data?.['issues'] && (e.data['issues'] as unknown[]).length, 1, 'its new fields are not reported as errors of this format')
    t.same(await snapshot(dir), before, 'no file written, rewritten or backed up')
    t.throws(() => store.current(), { code: 'MCCS_ERR_CONFIG_MISSING' }, 'no configuration in force')
  })
}

t.test('a version 1 file with a byte order mark is migrated too', async (t) => {
  const dir = await dirWith(t, V1_DIR)
  const text = '\ufeff' + (await readFile(join(dir, 'main.json'), 'utf8'))
  await writeFile(join(dir, 'main.json'), text)
  await new ConfigStore(dir, { types: TYPES }).load()
  t.equal(await readFile(join(dir, 'main.json.v1'), 'utf8'), text, 'the original as it was')
  t.equal(JSON.parse(await readFile(join(dir, 'main.json'), 'utf8')).schemaVersion, 2)
})

t.test('a schemaVersion that is not a version is a schema error', async (t) => {
  for (const bad of ['2', 0, -1, 1.5, null]) {
    const r = validateMain(JSON.stringify({ schemaVersion: bad, generation: 1 }), { file: 'main.json' })
    t.match(r, { ok: false, errors: [{ path: '/schemaVersion', code: 'MCCS_ERR_CONFIG_SCHEMA' }] }, JSON.stringify(bad))
  }
})

t.test('the migration steps are pure: the input is left as it was', async (t) => {
  const v1 = Object.freeze({ generation: 3, groups: Object.freeze([]) })
  const out = migrate('main', v1, 1)
  t.not(out, v1)
  t.same(v1, { generation: 3, groups: [] })
  t.same(versionedFile('main', out), { schemaVersion: 2, generation: 3, groups: [] })
})

t.test('a store that must not write (export) migrates in memory; its next change keeps the original', async (t) => {
  const dir = await dirWith(t, V1_DIR)
  const before = await snapshot(dir)
  const r = await configExport(dir, { types: TYPES })
  t.equal(r.ok, true, 'exported')
  t.same(await snapshot(dir), before, 'an export rewrites nothing')

  const store = new ConfigStore(dir, { types: TYPES, migrateOnLoad: false })
  await store.load()
  t.same(await snapshot(dir), before, 'loaded without migrating the files')
  const next = structuredClone(store.current().main) as MainConfig
  next.groups[0]!.autoFailback = true
  await store.commit(next, { expectGeneration: 7 })
  t.equal(await readFile(join(dir, 'main.json.v1'), 'utf8'), before['main.json'], 'the version 1 original is kept before the change')
  t.equal(JSON.parse(await readFile(join(dir, 'main.json'), 'utf8')).schemaVersion, 2, 'the change is written at version 2')
  t.notOk((await readdir(dir)).includes('hb.json.v1'), 'hb.json, not changed, is not touched')
})

t.test('mccs config validate reads both versions and names a newer one', async (t) => {
  t.equal((await configValidate(V1_DIR, { types: TYPES })).ok, true, 'version 1')
  t.equal((await configValidate(VALID_DIR, { types: TYPES })).ok, true, 'version 2')
  const dir = await dirWith(t, VALID_DIR)
  const main = JSON.parse(await readFile(join(dir, 'main.json'), 'utf8')) as Record<string, unknown>
  await writeFile(join(dir, 'main.json'), JSON.stringify({ ...main, schemaVersion: 9 }))
  const r = await configValidate(dir, { types: TYPES })
  t.equal(r.ok, false)
  t.match(r.text, `${join(dir, 'main.json')}: /schemaVersion: is 9, but this agent reads main.json up to version 2`)
  t.match(r.text, '(MCCS_ERR_CONFIG_VERSION)')
})

t.test('an import bundle of a newer version is refused; one of version 1 is taken', async (t) => {
  const dir = await dirWith(t, VALID_DIR)
  const store = new ConfigStore(dir, { types: TYPES })
  await store.load()
  const before = await snapshot(dir)
  const bundle = store.export()
  const newer = join(dir, '..', `${Date.now()}-newer.json`)
  t.teardown(() => rm(newer, { force: true }))
  await writeFile(newer, JSON.stringify({ main: bundle.main, hb: { ...bundle.hb, schemaVersion: 3 } }))
  const r = await configImport(store, newer, { types: TYPES })
  t.equal(r.ok, false)
  t.match(r.issues, [{ path: '/schemaVersion', code: 'MCCS_ERR_CONFIG_VERSION' }])
  t.same(await snapshot(dir), before, 'nothing changed')
  await writeFile(newer, JSON.stringify(bundle)) // as an agent from before the field exported it
  const ok = await configImport(store, newer, { types: TYPES })
  t.equal(ok.ok, true, ok.text)
  t.equal(JSON.parse(await readFile(join(dir, 'hb.json'), 'utf8')).schemaVersion, 2)
})

t.test('a peer document of a newer version is refused by adoptMain; the configuration in force stays', async (t) => {
  const dir = await dirWith(t, VALID_DIR)
  const store = new ConfigStore(dir, { types: TYPES })
  const cur = (await store.load()).main
  const before = await snapshot(dir)
  await t.rejects(store.adoptMain({ ...cur, generation: 8, schemaVersion: 3 }), {
    code: 'MCCS_ERR_CONFIG_VERSION',
    field: '/schemaVersion',
    data: { version: 3, supported: 2 },
  })
  t.equal(store.current().main.generation, 7)
  t.same(await snapshot(dir), before)
  // A peer from before the field sends main without it: version 1, taken.
  t.equal((await store.adoptMain({ ...cur, generation: 8 })).generation, 8)
})
