import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { ConfigStore, createInitial, PENDING_FILE } from '../../core/config/store.js'
import { formatIssue, issuesOf } from '../../core/config/issue.js'
import { isMccsError } from '../../core/errors.js'
import type { MainConfig } from '../../core/engine/model.js'
import { BAD_MAIN } from './bad-cases.js'
import { TYPES, tempDir, validPair } from './fixture.js'

const { mainText } = await validPair()

async function loaded(t: { teardown(fn: () => unknown): void }): Promise<ConfigStore> {
  const store = new ConfigStore(await tempDir(t, true), { types: TYPES })
  await store.load()
  return store
}

t.test('load applies defaults and freezes the config in force', async (t) => {
  const store = await loaded(t)
  const { main, hb } = store.current()
  t.equal(main.generation, 7)
  t.equal(hb.generation, 4)
  t.equal(main.resources[0]?.critical, true)
  t.ok(Object.isFrozen(main.resources[0]?.attrs))
})

t.test('commit increments the generation and keeps the previous file', async (t) => {
  const store = await loaded(t)
  const next = structuredClone(store.current().main) as MainConfig
  next.groups[0]!.autoFailback = true
  const committed = await store.commit(next, { expectGeneration: 7 })
  t.equal(committed.generation, 8)
  t.equal(store.current().main.generation, 8)
  const onDisk = JSON.parse(await readFile(store.mainPath, 'utf8'))
  t.equal(onDisk.generation, 8)
  t.equal(onDisk.groups[0].autoFailback, true)
  t.equal(JSON.parse(await readFile(`${store.mainPath}.prev`, 'utf8')).generation, 7)
  const again = new ConfigStore(store.dir, { types: TYPES })
  t.equal((await again.load()).main.generation, 8, 'a fresh load sees the commit')
})

t.test('a stale generation is refused and changes nothing', async (t) => {
  const store = await loaded(t)
  const before = await readFile(store.mainPath, 'utf8')
  const next = structuredClone(store.current().main) as MainConfig
  await store.commit(next, { expectGeneration: 7 })
  await t.rejects(store.commit(next, { expectGeneration: 7 }), { code: 'MCCS_ERR_CONFIG_GENERATION', data: { expected: 7, current: 8 } })
  t.equal(store.current().main.generation, 8)
  t.not(await readFile(store.mainPath, 'utf8'), before)
  t.equal(JSON.parse(await readFile(store.mainPath, 'utf8')).generation, 8)
})

t.test('concurrent commits on the same generation: exactly one wins', async (t) => {
  const store = await loaded(t)
  const base = structuredClone(store.current().main) as MainConfig
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => store.commit(base, { expectGeneration: 7 })))
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  t.equal(store.current().main.generation, 8)
})

t.test('concurrent commits chained on generations all land in order', async (t) => {
  const store = await loaded(t)
  const base = structuredClone(store.current().main) as MainConfig
  const all = await Promise.all(Array.from({ length: 20 }, (_, k) => store.commit(base, { expectGeneration: 7 + k })))
  t.same(
    all.map((m) => m.generation),
    Array.from({ length: 20 }, (_, k) => 8 + k),
  )
  t.equal(JSON.parse(await readFile(store.mainPath, 'utf8')).generation, 27)
  t.same((await readdir(store.dir)).sort(), ['hb.json', 'main.json', 'main.json.prev'], 'no temp files left')
})

for (const c of BAD_MAIN) {
  t.test(`bad config is refused, file and config in force unchanged: ${c.name}`, async (t) => {
    const store = await loaded(t)
    const fileBefore = await readFile(store.mainPath, 'utf8')
    const inForce = structuredClone(store.current())
    const check = (e: unknown) => {
      t.ok(isMccsError(e, 'MCCS_ERR_CONFIG_INVALID'), String(e))
      const issues = issuesOf(e) ?? []
      const hit = issues.find((i) => i.path === c.path && i.code === c.code)
      t.ok(hit, `issue at ${c.path}; got\n${issues.map(formatIssue).join('\n')}`)
      t.equal(hit?.file, store.mainPath, 'names the file')
      t.match(hit?.reason, c.reason)
    }
    const text = c.edit(mainText)
    if (c.code !== 'MCCS_ERR_CONFIG_SYNTAX') {
      // Through the API: a commit.
      await store.commit(JSON.parse(text), { expectGeneration: 7 }).then(() => t.fail('accepted'), check)
      t.equal(await readFile(store.mainPath, 'utf8'), fileBefore, 'file on disk unchanged')
      t.same(store.current(), inForce, 'config in force unchanged')
    }
    // By hand: an operator edits main.json and the agent reloads.
    await writeFile(store.mainPath, text)
    await store.load().then(() => t.fail('accepted'), check)
    t.same(store.current(), inForce, 'config in force unchanged after a bad reload')
  })
}

t.test('commitHb refuses an hb.json that would orphan main.json', async (t) => {
  const store = await loaded(t)
  const hb = structuredClone(store.current().hb)
  hb.nodes.pop()
  const err = await store.commitHb(hb, { expectGeneration: 4 }).catch((e: unknown) => e)
  t.match(issuesOf(err), [{ file: store.mainPath, path: '/groups/0/nodes/1', code: 'MCCS_ERR_CONFIG_REF' }])
  t.equal(store.current().hb.nodes.length, 2)
  const ok = structuredClone(store.current().hb)
  ok.timing = { intervalMs: 100, deadMs: 500 }
  t.equal((await store.commitHb(ok, { expectGeneration: 4 })).generation, 5)
  t.equal(JSON.parse(await readFile(`${store.hbPath}.prev`, 'utf8')).generation, 4)
})

t.test('export / import round trip', async (t) => {
  const src = await loaded(t)
  const bundle = JSON.parse(JSON.stringify(src.export()))
  t.same(Object.keys(bundle).sort(), ['hb', 'main'])
  const dst = new ConfigStore(await tempDir(t), { types: TYPES })
  await createInitial(dst.dir, { cluster: 'other', nodes: [{ name: 'node1', address: '10.0.0.1' }] })
  await dst.load()
  const imported = await dst.import(bundle, { file: 'bundle.json' })
  t.equal(imported.main.generation, 2, 'generations continue from the target, never go back')
  t.equal(imported.hb.generation, 2)
  const strip = (x: { generation: number }) => ({ ...x, generation: 0 })
  t.same(strip(imported.main), strip(bundle.main))
  t.same(strip(imported.hb), strip(bundle.hb))
  const reread = new ConfigStore(dst.dir, { types: TYPES })
  t.same(await reread.load(), imported)
  t.same(JSON.parse(JSON.stringify(reread.export())), JSON.parse(JSON.stringify(imported)))
})

t.test('import of a bad bundle names the bundle, the path and changes nothing', async (t) => {
  const store = await loaded(t)
  const bundle = store.export() as { main: MainConfig; hb: unknown }
  const bad = structuredClone(bundle)
  bad.main.resources[1]!.type = 'nope'
  const before = await readFile(store.mainPath, 'utf8')
  const err = await store.import(bad, { file: 'b.json' }).catch((e: unknown) => e)
  t.match(issuesOf(err), [{ file: 'b.json', path: '/main/resources/1/type', code: 'MCCS_ERR_CONFIG_REF' }])
  t.equal(await readFile(store.mainPath, 'utf8'), before)
  t.match(issuesOf(await store.import({ main: {} }).catch((e: unknown) => e)), [{ path: '', code: 'MCCS_ERR_CONFIG_SCHEMA' }])
  await t.rejects(store.import(bundle, { expectGeneration: { main: 3 } }), { code: 'MCCS_ERR_CONFIG_GENERATION' })
})

t.test('import recovers a directory whose files are broken', async (t) => {
  const store = await loaded(t)
  const bundle = store.export()
  await writeFile(store.mainPath, '{"generation": 9, "groups": [')
  const fresh = new ConfigStore(store.dir, { types: TYPES })
  await t.rejects(fresh.load(), { code: 'MCCS_ERR_CONFIG_INVALID' })
  t.equal((await fresh.import(bundle)).main.generation, 10, 'past the generation of the broken file')
  t.equal(await readFile(`${store.mainPath}.prev`, 'utf8'), '{"generation": 9, "groups": [', 'the broken file is kept as .prev')
})

t.test('an import interrupted between its two renames is finished at the next load', async (t) => {
  const store = await loaded(t)
  const next = structuredClone(store.export())
  next.main.generation = 8
  next.hb.generation = 5
  next.hb.timing.intervalMs = 300
  next.main.groups[0]!.autoStart = false
  // The crash happened after the journal and the hb.json rename, before main.json was replaced.
  await writeFile(join(store.dir, PENDING_FILE), JSON.stringify(next))
  const hbText = JSON.stringify({ schemaVersion: 2, ...next.hb }) // as the store writes it
  await writeFile(store.hbPath, hbText)
  const after = await new ConfigStore(store.dir, { types: TYPES }).load()
  t.equal(after.main.generation, 8)
  t.equal(after.main.groups[0]?.autoStart, false)
  t.equal(after.hb.timing.intervalMs, 300)
  t.notOk((await readdir(store.dir)).includes(PENDING_FILE))
  t.equal(await readFile(store.hbPath, 'utf8'), hbText, 'hb.json was not rewritten: already at its target')
  t.equal(JSON.parse(await readFile(`${store.mainPath}.prev`, 'utf8')).generation, 7)
})

t.test('load removes temp files of dead writers only', async (t) => {
  const dir = await tempDir(t, true)
  const dead = `.main.json.999999999.1.tmp` // no such pid
  const mine = `.main.json.${process.pid}.zz.tmp`
  await writeFile(join(dir, dead), '{"gener')
  await writeFile(join(dir, mine), '{"gener')
  await new ConfigStore(dir).load()
  const names = await readdir(dir)
  t.notOk(names.includes(dead))
  t.ok(names.includes(mine), 'a live writer keeps its temp file')
})

t.test('missing files are reported as such', async (t) => {
  const dir = await tempDir(t)
  const err = await new ConfigStore(dir).load().catch((e: unknown) => e)
  t.same(
    issuesOf(err)?.map((i) => [i.file, i.code]),
    [
      [join(dir, 'hb.json'), 'MCCS_ERR_CONFIG_MISSING'],
      [join(dir, 'main.json'), 'MCCS_ERR_CONFIG_MISSING'],
    ],
  )
  t.throws(() => new ConfigStore(dir).current(), { code: 'MCCS_ERR_CONFIG_MISSING' })
})

t.test('createInitial writes a minimal valid pair and will not overwrite one', async (t) => {
  const dir = join(await tempDir(t), 'config')
  const pair = await createInitial(dir, {
    cluster: 'c1',
    nodes: [
      { name: 'a', address: '10.0.0.1' },
      { name: 'b', address: '10.0.0.2' },
    ],
  })
  t.equal(pair.main.generation, 1)
  t.same(pair.main.groups, [])
  t.same(pair.hb.links, [{ name: 'link1', priority: 0 }])
  t.same(await new ConfigStore(dir).load(), pair)
  await t.rejects(createInitial(dir, { cluster: 'c1', nodes: [{ name: 'a', address: '10.0.0.1' }] }), { code: 'MCCS_ERR_CONFLICT' })
  await t.rejects(createInitial(join(dir, 'x'), { cluster: 'c1', nodes: [] }), { code: 'MCCS_ERR_CONFIG_INVALID' })
})
