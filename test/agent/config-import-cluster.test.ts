// `mccs config import` on a node of a running cluster: main.json goes through the coordinator (the commit
// function), an hb.json that differs is refused before anything is written.
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { importIntoCluster } from '../../core/agent/config-import-cluster.js'
import { ConfigStore, createInitial } from '../../core/config/store.js'
import { MccsError } from '../../core/errors.js'

t.test('import in a cluster', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-import-cluster-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await createInitial(dir, {
    cluster: 'c',
    nodes: [
      { name: 'n1', address: '10.0.0.1' },
      { name: 'n2', address: '10.0.0.2' },
    ],
  })
  const store = new ConfigStore(dir)
  await store.load()
  const bundle = store.export()
  const file = path.join(dir, 'bundle.json')
  const commits: Array<{ gen: number; groups: number }> = []
  const commit = async (main: { groups: unknown[] }, gen: number) => {
    commits.push({ gen, groups: main.groups.length })
  }

  await writeFile(file, JSON.stringify({ ...bundle, main: { ...bundle.main, groups: [{ name: 'g', nodes: ['n1', 'n2'] }] } }))
  const ok = await importIntoCluster(file, store, commit as never)
  t.equal(ok.ok, true)
  t.same(commits, [{ gen: 1, groups: 1 }], 'main.json sent through the coordinator, based on generation 1')

  await writeFile(file, JSON.stringify({ ...bundle, hb: { ...bundle.hb, timing: { intervalMs: 200, deadMs: 1000 } } }))
  const hb = await importIntoCluster(file, store, commit as never)
  t.equal(hb.ok, false)
  t.match(hb.issues, [{ path: '/hb', code: 'MCCS_ERR_CONFLICT' }], 'an hb.json change is refused')
  t.equal(commits.length, 1, 'nothing sent')

  await writeFile(file, '{"main": ')
  t.match((await importIntoCluster(file, store, commit as never)).issues, [{ code: 'MCCS_ERR_CONFIG_SYNTAX' }])
  await writeFile(file, '{"hb": {}}')
  t.match((await importIntoCluster(file, store, commit as never)).issues, [{ path: '/main', code: 'MCCS_ERR_CONFIG_SCHEMA' }])
  t.match((await importIntoCluster(path.join(dir, 'missing.json'), store, commit as never)).issues, [{ code: 'MCCS_ERR_NOT_FOUND' }])

  const refuse = async () => {
    throw new MccsError('MCCS_ERR_NO_QUORUM', 'no quorum')
  }
  await writeFile(file, JSON.stringify(bundle))
  t.match(
    (await importIntoCluster(file, store, refuse)).issues,
    [{ code: 'MCCS_ERR_NO_QUORUM' }],
    "the coordinator's refusal is the result",
  )
})
