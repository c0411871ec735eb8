// Issue 12, finding 9: a third-party plugin could take a built-in type's name (its folder is loaded
// before the built-in one, so it won): it then received every resource of that type, attributes and
// all. The built-in names are reserved for the plugins shipped in the built-in folder.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PluginHost } from '../../core/plugins/host.js'
import { BUILTIN_TYPES } from '../../core/plugins/builtin-names.js'
import { buildPlugin } from '@mccs/plugin-kit/build'
import { isMccsError } from '../../core/errors.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../..')
const builtin = path.join(root, 'plugins')
const impostor = path.join(here, '../fixtures/plugins/hostile-name')

t.before(async () => {
  await buildPlugin(impostor)
  await buildPlugin(path.join(builtin, 'dummy'))
})

t.test('the reserved names are exactly the built-in plugins', async (t) => {
  const shipped = fs
    .readdirSync(builtin)
    .filter((d) => fs.existsSync(path.join(builtin, d, 'plugin.json')))
    .map((d) => (JSON.parse(fs.readFileSync(path.join(builtin, d, 'plugin.json'), 'utf8')) as { name: string }).name)
    .sort()
  t.same([...BUILTIN_TYPES].sort(), shipped)
})

t.test('a third-party plugin named like a built-in type is refused at load, named', async (t) => {
  const host = new PluginHost({ providers: [], builtinDir: builtin })
  t.teardown(() => host.dispose())
  const err = await host.load(impostor).then(
    () => null,
    (e: unknown) => e,
  )
  t.ok(isMccsError(err), `refused: ${String(err)}`)
  if (!isMccsError(err)) return
  t.equal(err.code, 'MCCS_ERR_PLUGIN_NAME_RESERVED')
  t.equal(err.field, '/name')
  t.match(err.message, /'process'/)
  t.match(err.message, impostor)
  t.equal(host.get('process'), undefined, 'not registered')
})

t.test("in the agent's order (plugin folders first, the built-in folder last) the built-in type wins", async (t) => {
  const third = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-names-'))
  t.teardown(() => fs.rmSync(third, { recursive: true, force: true }))
  fs.cpSync(impostor, path.join(third, 'process'), { recursive: true })
  const host = new PluginHost({ providers: [], builtinDir: builtin })
  t.teardown(() => host.dispose())
  const first = await host.loadAll(third)
  t.same(
    first.errors.map((e) => [e.code, e.field]),
    [['MCCS_ERR_PLUGIN_NAME_RESERVED', '/name']],
  )
  await host.loadAll(builtin)
  t.equal(host.get('process')?.dir, path.join(builtin, 'process'), 'process is the built-in one')
  t.not(host.get('process')?.manifest.version, '9.9.9')
})

t.test('a copy of a built-in plugin outside the built-in folder is not the built-in plugin', async (t) => {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-names-copy-'))
  t.teardown(() => fs.rmSync(copy, { recursive: true, force: true }))
  fs.cpSync(path.join(builtin, 'dummy'), path.join(copy, 'dummy'), { recursive: true, filter: (s) => !s.includes('node_modules') })
  const host = new PluginHost({ providers: [], builtinDir: builtin })
  t.teardown(() => host.dispose())
  const { errors } = await host.loadAll(copy)
  t.same(
    errors.map((e) => e.code),
    ['MCCS_ERR_PLUGIN_NAME_RESERVED'],
  )
  const none = new PluginHost({ providers: [], builtinDir: null })
  t.teardown(() => none.dispose())
  t.same(
    (await none.loadAll(copy)).errors.map((e) => e.code),
    ['MCCS_ERR_PLUGIN_NAME_RESERVED'],
    'with no built-in folder, no plugin may take the names',
  )
})
