import { mkdir, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadBootstrap } from '../../core/config/bootstrap.js'
import { tempDir } from './fixture.js'

/** A folder standing in for /etc/mccs, so the host's own settings never leak into a test. */
async function project(t: { teardown(fn: () => unknown): void }): Promise<string> {
  return await tempDir(t)
}
const load = (root: string, opts: Parameters<typeof loadBootstrap>[0] = {}) => loadBootstrap({ cwd: root, systemDir: root, ...opts })

t.test('defaults: everything under /opt/MCCS', async (t) => {
  const b = await load(await project(t), { env: {} })
  t.match(b, {
    home: '/opt/MCCS',
    configDir: '/opt/MCCS/config',
    stateDir: '/opt/MCCS/state',
    logDir: '/opt/MCCS/logs',
    scriptDir: '/opt/MCCS/script',
    controlSocket: '/opt/MCCS/state/mccs.sock',
    consolePort: 11080,
    heartbeatPort: 14321,
    source: { file: null, env: [] },
  })
  t.equal(b.pluginDirs[0], '/opt/MCCS/plugins')
  t.equal(b.builtinPluginDir, join(process.cwd(), 'plugins'), 'the built-in plugins of this source tree')
  t.equal(b.pluginDirs.at(-1), b.builtinPluginDir)
  t.equal(b.nodeName, hostname().split('.')[0])
})

t.test('MCCS_HOME moves every derived path', async (t) => {
  const cwd = await project(t)
  const b = await load(cwd, { env: { MCCS_HOME: 'run' } })
  const home = join(cwd, 'run')
  t.match(b, {
    home,
    configDir: join(home, 'config'),
    stateDir: join(home, 'state'),
    logDir: join(home, 'logs'),
    scriptDir: join(home, 'script'),
    controlSocket: join(home, 'state', 'mccs.sock'),
  })
  t.equal(b.pluginDirs[0], join(home, 'plugins'))
})

for (const [name, content] of [
  ['mccs.config.json', '{"home": "h", "consolePort": 18080}'],
  ['mccs.config.yaml', 'home: h\nconsolePort: 18080\n'],
  ['mccs.config.yml', 'home: h\nconsolePort: 18080\n'],
] as const) {
  t.test(`reads ${name} in /etc/mccs or the home's config folder; relative paths are relative to the file`, async (t) => {
    const root = await project(t)
    await writeFile(join(root, name), content)
    const b = await load(root, { cwd: '/', env: {} })
    t.equal(b.source.file, join(root, name))
    t.equal(b.home, join(root, 'h'))
    t.equal(b.stateDir, join(root, 'h', 'state'))
    t.equal(b.consolePort, 18080)
    const home = await tempDir(t)
    await mkdir(join(home, 'config'))
    await writeFile(join(home, 'config', name), content)
    const h = await loadBootstrap({ cwd: '/', env: { MCCS_HOME: home }, systemDir: await tempDir(t) })
    t.equal(h.source.file, join(home, 'config', name))
    t.equal(h.consolePort, 18080)
    const c = await loadBootstrap({ cwd: '/', env: { MCCS_CONFIG_DIR: join(home, 'config') }, systemDir: await tempDir(t) })
    t.equal(c.source.file, join(home, 'config', name), 'MCCS_CONFIG_DIR moves the config folder looked in')
  })
}

t.test('settings files are not looked for where cosmiconfig looked: the working directory and above', async (t) => {
  for (const [name, content] of [
    ['mccs.config.json', '{"consolePort": 18080}'],
    ['.mccsrc', 'consolePort: 18080\n'],
    ['.mccsrc.yaml', 'consolePort: 18080\n'],
    ['package.json', '{"name": "x", "mccs": {"consolePort": 18080}}'],
  ] as const) {
    const root = await project(t)
    const cwd = join(root, 'a', 'b')
    await mkdir(cwd, { recursive: true })
    await writeFile(join(root, name), content)
    const b = await loadBootstrap({ cwd, env: { MCCS_HOME: cwd }, systemDir: cwd })
    t.equal(b.consolePort, 11080, name)
    t.equal(b.source.file, null)
  }
})

t.test('precedence: defaults < file < environment; explicit paths beat derived ones', async (t) => {
  const root = await project(t)
  await writeFile(
    join(root, 'mccs.config.json'),
    JSON.stringify({
      home: '/srv/mccs',
      stateDir: '/var/lib/mccs',
      nodeName: 'alpha',
      heartbeatPort: 15000,
      pluginDirs: ['p1', '/abs/p2'],
      builtinPluginDir: null,
    }),
  )
  const b = await load(root, { env: { MCCS_NODE_NAME: 'beta', MCCS_CONSOLE_PORT: '12000', MCCS_LOG_DIR: '/tmp/l' } })
  t.match(b, {
    home: '/srv/mccs',
    configDir: '/srv/mccs/config',
    stateDir: '/var/lib/mccs',
    logDir: '/tmp/l',
    controlSocket: '/var/lib/mccs/mccs.sock',
    nodeName: 'beta',
    consolePort: 12000,
    heartbeatPort: 15000,
    builtinPluginDir: null,
  })
  t.same(b.pluginDirs, [join(root, 'p1'), '/abs/p2'], 'built-in disabled')
  t.same(b.source.env.sort(), ['MCCS_CONSOLE_PORT', 'MCCS_LOG_DIR', 'MCCS_NODE_NAME'])
  const e = await load(root, { env: { MCCS_PLUGIN_DIRS: '/x:/y', MCCS_HOME: '/h', MCCS_BUILTIN_PLUGIN_DIR: '/b' } })
  t.same(e.pluginDirs, ['/x', '/y', '/b'])
  t.equal(e.stateDir, '/var/lib/mccs', 'the file set stateDir explicitly')
})

t.test('an explicit file (option, MCCS_CONFIG or its earlier name MCCS_BOOTSTRAP) skips the other places', async (t) => {
  const root = await project(t)
  await writeFile(join(root, 'mccs.config.json'), '{"consolePort": 1}')
  await writeFile(join(root, 'other.yaml'), 'consolePort: 2\n')
  await writeFile(join(root, 'third.json'), '{"consolePort": 3}')
  t.equal((await load(root, { env: {} })).consolePort, 1)
  t.equal((await load(root, { file: 'other.yaml', env: {} })).consolePort, 2)
  t.equal((await load(root, { env: { MCCS_CONFIG: join(root, 'other.yaml') } })).consolePort, 2)
  t.equal((await load(root, { env: { MCCS_BOOTSTRAP: join(root, 'other.yaml') } })).consolePort, 2)
  t.equal(
    (await load(root, { env: { MCCS_CONFIG: join(root, 'third.json'), MCCS_BOOTSTRAP: join(root, 'other.yaml') } })).consolePort,
    3,
    'MCCS_CONFIG first',
  )
  await writeFile(join(root, 'empty.yaml'), '')
  t.equal((await load(root, { file: 'empty.yaml', env: {} })).consolePort, 11080, 'an empty file sets nothing')
})

t.test('bad settings are refused naming the source, the field and the reason', async (t) => {
  const root = await project(t)
  await writeFile(join(root, 'mccs.config.json'), '{"consolePort": 0, "hom": "/x"}')
  const err = await load(root, { env: {} }).catch((e: unknown) => e)
  t.match(err, { code: 'MCCS_ERR_BOOTSTRAP', subject: join(root, 'mccs.config.json') })
  t.match((err as { data: { issues: unknown } }).data.issues, [
    { path: '/hom', reason: /unknown property 'hom'/ },
    { path: '/consolePort', reason: /must be >= 1/ },
  ])
  const root2 = await project(t)
  await t.rejects(load(root2, { env: { MCCS_HEARTBEAT_PORT: 'udp' } }), {
    code: 'MCCS_ERR_BOOTSTRAP',
    subject: 'environment',
    field: '/heartbeatPort',
    message: /MCCS_HEARTBEAT_PORT: must be integer/,
  })
  await t.rejects(load(root2, { env: { MCCS_NODE_NAME: 'bad name' } }), { code: 'MCCS_ERR_BOOTSTRAP', field: '/nodeName' })
  await t.rejects(load(root2, { env: { MCCS_STATE_DIR: '/' + 'x'.repeat(120) } }), { code: 'MCCS_ERR_BOOTSTRAP', field: '/controlSocket' })
  await writeFile(join(root2, 'mccs.config.json'), '{"home": ')
  await t.rejects(load(root2, { env: {} }), {
    code: 'MCCS_ERR_BOOTSTRAP',
    subject: join(root2, 'mccs.config.json'),
    message: /cannot parse/,
  })
  await writeFile(join(root2, 'mccs.config.json'), '{}')
  await writeFile(join(root2, 'list.yaml'), '- a\n- b\n')
  await t.rejects(load(root2, { file: 'list.yaml', env: {} }), {
    code: 'MCCS_ERR_BOOTSTRAP',
    subject: join(root2, 'list.yaml'),
    message: /must be object/,
  })
  await writeFile(join(root2, 'big.json'), JSON.stringify({ nodeName: 'a', pad: 'x'.repeat(70_000) }))
  await t.rejects(load(root2, { file: 'big.json', env: {} }), { code: 'MCCS_ERR_BOOTSTRAP', message: /larger than 65536 bytes/ })
  await t.rejects(load(root2, { file: 'missing.json', env: {} }), { code: 'MCCS_ERR_BOOTSTRAP' })
})
