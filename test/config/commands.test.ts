import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { configExport, configImport, configValidate } from '../../core/config/commands.js'
import { ConfigStore } from '../../core/config/store.js'
import { TYPES, VALID_DIR, tempDir } from './fixture.js'

t.test('validate a directory', async (t) => {
  const ok = await configValidate(VALID_DIR, { types: TYPES })
  t.equal(ok.ok, true)
  t.match(
    ok.text,
    /^valid: main.json generation 7: 2 groups, 4 resources, 2 dependencies\n\s+hb.json generation 4: cluster demo, 2 nodes, 2 links$/,
  )
  t.same(ok.files, [join(VALID_DIR, 'hb.json'), join(VALID_DIR, 'main.json')])

  const dir = await tempDir(t, true)
  const main = JSON.parse(await readFile(join(dir, 'main.json'), 'utf8'))
  main.resources[1].nodeAttrs.node9 = { nic: 'x' }
  main.resources[0].type = 'nicc'
  await writeFile(join(dir, 'main.json'), JSON.stringify(main))
  const bad = await configValidate(dir, { types: TYPES })
  t.equal(bad.ok, false)
  t.equal(bad.text.split('\n').length, 2, 'one line per issue')
  t.match(
    bad.text,
    `${join(dir, 'main.json')}: /resources/0/type: unknown resource type "nicc" (no loaded plugin provides it) (MCCS_ERR_CONFIG_REF)`,
  )
  t.match(
    bad.text,
    `${join(dir, 'main.json')}: /resources/1/nodeAttrs/node9: per-node attributes for "node9", which is not a node in hb.json (MCCS_ERR_CONFIG_REF)`,
  )
})

t.test('validate single files: main.json checks against the hb.json beside it, hb.json by name, a bundle by content', async (t) => {
  const dir = await tempDir(t, true)
  const main = JSON.parse(await readFile(join(dir, 'main.json'), 'utf8'))
  main.groups[0].nodes.push('node7')
  await writeFile(join(dir, 'edited.json'), JSON.stringify(main))
  const r = await configValidate(join(dir, 'edited.json'))
  t.match(r.issues, [{ file: join(dir, 'edited.json'), path: '/groups/0/nodes/2', code: 'MCCS_ERR_CONFIG_REF' }])

  t.equal((await configValidate(join(dir, 'hb.json'))).ok, true)
  await writeFile(join(dir, 'hb-new.json'), '{"generation": 1, "cluster": "c", "nodes": [], "links": []}')
  t.match((await configValidate(join(dir, 'hb-new.json'))).issues, [{ path: '/nodes', code: 'MCCS_ERR_CONFIG_SCHEMA' }, { path: '/links' }])

  const exported = await configExport(dir, { types: TYPES })
  await writeFile(join(dir, 'bundle.json'), exported.text)
  t.match(await configValidate(join(dir, 'bundle.json'), { types: TYPES }), { ok: true, text: /^valid: main.json generation 7/ })

  const lone = await tempDir(t)
  await writeFile(join(lone, 'main.json'), '{"generation": 1,\n "groups": [}')
  t.match(await configValidate(join(lone, 'main.json')), {
    ok: false,
    text: `${join(lone, 'main.json')}: /: line 2, column 13: unexpected character "}" (MCCS_ERR_CONFIG_SYNTAX)`,
  })
  t.match((await configValidate(join(lone, 'nope.json'))).issues, [{ code: 'MCCS_ERR_CONFIG_MISSING' }])
  t.match((await configValidate(join(lone, 'empty-dir-does-not-exist'))).issues, [{ code: 'MCCS_ERR_CONFIG_MISSING' }])
})

t.test('export then import into another directory', async (t) => {
  const out = await tempDir(t)
  const exported = await configExport(VALID_DIR, { types: TYPES })
  t.equal(exported.ok, true)
  const file = join(out, 'bundle.json')
  await writeFile(file, exported.text)
  const target = await tempDir(t)
  const imported = await configImport(target, file, { types: TYPES })
  t.equal(imported.ok, true, imported.text)
  t.match(imported.text, /main.json generation 1, hb.json generation 1$/)
  const store = new ConfigStore(target, { types: TYPES })
  const pair = await store.load()
  t.same(pair.main.resources, exported.bundle?.main.resources)
  t.same(pair.hb.nodes, exported.bundle?.hb.nodes)

  const again = await configImport(store, file, { expectGeneration: { main: 0 } })
  t.match(again, {
    ok: false,
    issues: [{ code: 'MCCS_ERR_CONFIG_GENERATION', path: '/generation', reason: /based on generation 0 but generation 1/ }],
  })
  t.match(
    again.text,
    /: \/generation: change is based on generation 0 but generation 1 is in force; reload and retry \(MCCS_ERR_CONFIG_GENERATION\)$/,
  )
})

t.test('import refuses bad bundles naming the bundle file and the path inside it', async (t) => {
  const dir = await tempDir(t, true)
  const file = join(dir, 'b.json')
  await writeFile(
    file,
    '{"main": {"generation": 1}, "hb": {"generation": 1, "cluster": "c", "nodes": [{"name": "n", "addresses": {"l": "10.0.0.1"}}], "links": [{"name": "l", "priority": 0}], "timing": {"intervalMs": "fast"}}}',
  )
  const r = await configImport(dir, file)
  t.match(r, { ok: false, issues: [{ file, path: '/hb/timing/intervalMs', code: 'MCCS_ERR_CONFIG_SCHEMA' }] })
  await writeFile(file, '{"main": ')
  t.match((await configImport(dir, file)).issues, [{ file, code: 'MCCS_ERR_CONFIG_SYNTAX', line: 1, column: 10 }])
  t.equal(JSON.parse(await readFile(join(dir, 'main.json'), 'utf8')).generation, 7, 'nothing changed')
  t.match((await configExport(join(dir, 'nowhere'))).issues, [{ code: 'MCCS_ERR_CONFIG_MISSING' }, { code: 'MCCS_ERR_CONFIG_MISSING' }])
})

t.test('validate warns (without refusing) when network dependencies contradict the manual order', async (t) => {
  const dir = await tempDir(t, true)
  const main = JSON.parse(await readFile(join(dir, 'main.json'), 'utf8'))
  main.resources[1].type = 'address' // the vip as the address type
  main.dependencies = [
    { parent: 'app', child: 'vip' },
    { parent: 'nic', child: 'vip' },
  ] // NIC above its address
  await writeFile(join(dir, 'main.json'), JSON.stringify(main))
  const r = await configValidate(dir)
  t.equal(r.ok, true, 'still valid')
  t.match(r.text, /warning: \/resources\/0 \(nic\): .*belongs at the bottom/)
  t.match(r.text, /warning: \/resources\/1 \(vip\): .*does not depend on a nic/)
})
