// `mccs agent` and configuration schema versions (issue 16, What 4 and Acceptance 5): a main.json or hb.json
// written by a newer MCCS stops the agent at start with the file, the field, the version and the highest
// this agent reads, and nothing in the config folder changes; version 1 files (no schemaVersion) start it,
// migrated, with the originals kept.
import t from 'tap'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeHome } from './agent-home.js'

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const f of (await readdir(dir)).sort()) out[f] = await readFile(path.join(dir, f), 'utf8')
  return out
}

for (const file of ['main.json', 'hb.json']) {
  t.test(`a newer ${file} stops the agent at start; nothing changes`, async (t) => {
    const home = await makeHome()
    t.teardown(() => home.cleanup())
    const full = path.join(home.b.configDir, file)
    const doc = JSON.parse(await readFile(full, 'utf8')) as Record<string, unknown>
    t.equal(doc.schemaVersion, 2, 'a new home is written at version 2')
    await writeFile(full, JSON.stringify({ ...doc, schemaVersion: 3 }, null, 2))
    const before = await snapshot(home.b.configDir)
    const r = await home.tryStart()
    t.equal(r.code, 6, 'exit 6 (invalid input)')
    t.notOk(r.running, 'no agent runs')
    t.match(r.err, `the configuration in ${home.b.configDir} was written by a newer MCCS:`)
    t.match(
      r.err,
      `${full}: /schemaVersion: is 3, but this agent reads ${file} up to version 2: it was written by a newer MCCS. Upgrade this agent (nothing was changed) (MCCS_ERR_CONFIG_VERSION)`,
    )
    t.same(await snapshot(home.b.configDir), before, 'the config folder is as it was, byte for byte')
    const v = await home.cli('config', 'validate', home.b.configDir)
    t.equal(v.code, 6, 'mccs config validate exits 6')
    t.match(v.err, `${full}: /schemaVersion: is 3`)
  })
}

t.test('version 1 files start the agent: migrated, originals kept, logged', async (t) => {
  const home = await makeHome()
  t.teardown(() => home.cleanup())
  const v1: Record<string, string> = {}
  for (const file of ['main.json', 'hb.json']) {
    const full = path.join(home.b.configDir, file)
    const { schemaVersion: _v, ...rest } = JSON.parse(await readFile(full, 'utf8')) as Record<string, unknown>
    v1[file] = JSON.stringify(rest, null, 2) // as an agent from before the field wrote it
    await writeFile(full, v1[file]!)
  }
  const agent = (await home.start()).agent
  t.equal(agent.store.current().main.generation, 1)
  for (const file of ['main.json', 'hb.json']) {
    t.equal(await readFile(path.join(home.b.configDir, `${file}.v1`), 'utf8'), v1[file], `${file}.v1 is the original`)
    t.equal(JSON.parse(await readFile(path.join(home.b.configDir, file), 'utf8')).schemaVersion, 2, `${file} now at version 2`)
  }
  const log = await readFile(path.join(home.b.logDir, 'mccs.log'), 'utf8')
  t.match(log, /hb\.json migrated from schema version 1 to 2; the original is kept in /)
  t.match(log, /main\.json migrated from schema version 1 to 2; the original is kept in /)
})
