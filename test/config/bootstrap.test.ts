import { mkdir, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadBootstrap } from '../../core/config/bootstrap.js'
import { tempDir } from './fixture.js'

/** A project root (package.json without an "mccs" key) so the upward search stops inside the temp dir. */
async function project(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'package.json'), '{"name": "somewhere"}')
  return dir
}

t.test('defaults: everything under /opt/MCCS', async (t) => {
  const b = await loadBootstrap({ cwd: await project(t), env: {} })
  t.match(b, {
    home: '/opt/MCCS', configDir: '/opt/MCCS/config', stateDir: '/opt/MCCS/state', logDir: '/opt/MCCS/logs',
    scriptDir: '/opt/MCCS/script', controlSocket: '/opt/MCCS/state/mccs.sock', consolePort: 11080, heartbeatPort: 14321,
    source: { file: null, env: [] },
  })
  t.equal(b.pluginDirs[0], '/opt/MCCS/plugins')
  t.equal(b.builtinPluginDir, join(process.cwd(), 'plugins'), 'the built-in plugins of this source tree')
  t.equal(b.pluginDirs.at(-1), b.builtinPluginDir)
  t.equal(b.nodeName, hostname().split('.')[0])
})

t.test('MCCS_HOME moves every derived path', async (t) => {
  const cwd = await project(t)
  const b = await loadBootstrap({ cwd, env: { MCCS_HOME: 'run' } })
  const home = join(cwd, 'run')
  t.match(b, { home, configDir: join(home, 'config'), stateDir: join(home, 'state'), logDir: join(home, 'logs'),
    scriptDir: join(home, 'script'), controlSocket: join(home, 'state', 'mccs.sock') })
  t.equal(b.pluginDirs[0], join(home, 'plugins'))
})

for (const [name, content] of [
  ['mccs.config.json', '{"home": "h", "consolePort": 18080}'],
  ['.mccsrc', 'home: h\nconsolePort: 18080\n'],
  ['.mccsrc.yaml', 'home: h\nconsolePort: 18080\n'],
  ['mccs.config.yaml', 'home: h\nconsolePort: 18080\n'],
  ['mccs.config.mjs', 'export default { home: "h", consolePort: 18080 }\n'],
  ['mccs.config.cjs', 'module.exports = { home: "h", consolePort: 18080 }\n'],
  ['package.json', '{"name": "x", "mccs": {"home": "h", "consolePort": 18080}}'],
] as const) {
  t.test(`finds ${name} from a subdirectory; relative paths are relative to the file`, async (t) => {
    const root = await project(t)
    await writeFile(join(root, name), content)
    const sub = join(root, 'a', 'b')
    await mkdir(sub, { recursive: true })
    const b = await loadBootstrap({ cwd: sub, env: {} })
    t.equal(b.source.file, join(root, name))
    t.equal(b.home, join(root, 'h'))
    t.equal(b.stateDir, join(root, 'h', 'state'))
    t.equal(b.consolePort, 18080)
  })
}

t.test('precedence: defaults < file < environment; explicit paths beat derived ones', async (t) => {
  const root = await project(t)
  await writeFile(join(root, 'mccs.config.json'), JSON.stringify({
    home: '/srv/mccs', stateDir: '/var/lib/mccs', nodeName: 'alpha', heartbeatPort: 15000, pluginDirs: ['p1', '/abs/p2'], builtinPluginDir: null,
  }))
  const b = await loadBootstrap({ cwd: root, env: { MCCS_NODE_NAME: 'beta', MCCS_CONSOLE_PORT: '12000', MCCS_LOG_DIR: '/tmp/l' } })
  t.match(b, {
    home: '/srv/mccs', configDir: '/srv/mccs/config', stateDir: '/var/lib/mccs', logDir: '/tmp/l', controlSocket: '/var/lib/mccs/mccs.sock',
    nodeName: 'beta', consolePort: 12000, heartbeatPort: 15000, builtinPluginDir: null,
  })
  t.same(b.pluginDirs, [join(root, 'p1'), '/abs/p2'], 'built-in disabled')
  t.same(b.source.env.sort(), ['MCCS_CONSOLE_PORT', 'MCCS_LOG_DIR', 'MCCS_NODE_NAME'])
  const e = await loadBootstrap({ cwd: root, env: { MCCS_PLUGIN_DIRS: '/x:/y', MCCS_HOME: '/h', MCCS_BUILTIN_PLUGIN_DIR: '/b' } })
  t.same(e.pluginDirs, ['/x', '/y', '/b'])
  t.equal(e.stateDir, '/var/lib/mccs', 'the file set stateDir explicitly')
})

t.test('an explicit file (option or MCCS_BOOTSTRAP) skips the search', async (t) => {
  const root = await project(t)
  await writeFile(join(root, 'mccs.config.json'), '{"consolePort": 1}')
  await writeFile(join(root, 'other.yaml'), 'consolePort: 2\n')
  t.equal((await loadBootstrap({ cwd: root, file: 'other.yaml', env: {} })).consolePort, 2)
  t.equal((await loadBootstrap({ cwd: root, env: { MCCS_BOOTSTRAP: join(root, 'other.yaml') } })).consolePort, 2)
})

t.test('bad settings are refused naming the source, the field and the reason', async (t) => {
  const root = await project(t)
  await writeFile(join(root, 'mccs.config.json'), '{"consolePort": 0, "hom": "/x"}')
  const err = await loadBootstrap({ cwd: root, env: {} }).catch((e: unknown) => e)
  t.match(err, { code: 'MCCS_ERR_BOOTSTRAP', subject: join(root, 'mccs.config.json') })
  t.match((err as { data: { issues: unknown } }).data.issues, [
    { path: '/hom', reason: /unknown property 'hom'/ },
    { path: '/consolePort', reason: /must be >= 1/ },
  ])
  const root2 = await project(t)
  await t.rejects(loadBootstrap({ cwd: root2, env: { MCCS_HEARTBEAT_PORT: 'udp' } }), {
    code: 'MCCS_ERR_BOOTSTRAP', subject: 'environment', field: '/heartbeatPort', message: /MCCS_HEARTBEAT_PORT: must be integer/,
  })
  await t.rejects(loadBootstrap({ cwd: root2, env: { MCCS_NODE_NAME: 'bad name' } }), { code: 'MCCS_ERR_BOOTSTRAP', field: '/nodeName' })
  await t.rejects(loadBootstrap({ cwd: root2, env: { MCCS_STATE_DIR: '/' + 'x'.repeat(120) } }), { code: 'MCCS_ERR_BOOTSTRAP', field: '/controlSocket' })
  await writeFile(join(root2, '.mccsrc.json'), '{"home": ')
  await t.rejects(loadBootstrap({ cwd: root2, env: {} }), { code: 'MCCS_ERR_BOOTSTRAP', subject: join(root2, '.mccsrc.json') })
  await t.rejects(loadBootstrap({ cwd: root2, file: 'missing.json', env: {} }), { code: 'MCCS_ERR_BOOTSTRAP' })
})
