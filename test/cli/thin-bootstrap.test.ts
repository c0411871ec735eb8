// The thin entry finds the control socket without the full settings loader (core/cli/thin-bootstrap.ts). It
// must give loadBootstrap()'s answer or none: on the same homes, files and environments, controlPaths() is
// either null (the full entry then decides) or exactly loadBootstrap()'s control socket and config folder,
// and it is null wherever loadBootstrap() refuses. Its copies of bootstrap.ts's constants, of setup's file
// name and of the agent's user name are held to the originals here.
import t from 'tap'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import * as full from '../../core/config/bootstrap.js'
import * as thin from '../../core/cli/thin-bootstrap.js'
import { SETUP_FILE as SETUP_FILE_SETUP } from '../../core/setup/node-files.js'
import { SETUP_FILE, setupLanguage } from '../../core/cli/lang.js'
import { currentUser as agentUser } from '../../core/agent/agent.js'
import { currentUser } from '../../core/cli/user.js'

t.test('the copied constants are bootstrap.ts’s, setup’s and the agent’s', async (t) => {
  t.equal(thin.DEFAULT_HOME, full.DEFAULT_HOME)
  t.same(thin.SETTINGS_FILES, full.SETTINGS_FILES)
  t.equal(thin.SYSTEM_DIR, full.SYSTEM_DIR)
  t.equal(thin.MAX_SETTINGS_BYTES, full.MAX_SETTINGS_BYTES)
  t.equal(thin.ENV_FILE, full.ENV_FILE)
  t.equal(thin.ENV_FILE_OLD, full.ENV_FILE_OLD)
  t.same(thin.ENV_VARS, full.ENV_VARS)
  t.equal(SETUP_FILE, SETUP_FILE_SETUP)
  t.equal(currentUser(), agentUser())
})

t.test('controlPaths() answers as loadBootstrap() does, or declines', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-thinboot-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const sys = path.join(dir, 'etc') // stands for /etc/mccs
  await mkdir(sys)
  let n = 0
  /** A fresh home with `files` (name under config/ -> text), compared under `env`. */
  async function check(name: string, files: Record<string, string>, env: NodeJS.ProcessEnv, expect: 'same' | 'declines') {
    const home = path.join(dir, `h${n++}`)
    await mkdir(path.join(home, 'config'), { recursive: true })
    for (const [f, text] of Object.entries(files)) await writeFile(path.join(home, f), text)
    const e = { MCCS_HOME: home, ...env }
    const opts = { cwd: home, env: e, systemDir: sys }
    const got = await thin.controlPaths(opts)
    const want = await full.loadBootstrap(opts).then(
      (b) => ({ controlSocket: b.controlSocket, configDir: b.configDir }),
      (err: Error & { code?: string }) => err.code ?? 'threw',
    )
    if (expect === 'same') t.same(got, want, `${name}: ${JSON.stringify(got)}`)
    else t.equal(got, null, `${name}: declines (loadBootstrap: ${typeof want === 'string' ? want : 'accepts'})`)
  }
  await check('no settings file', {}, {}, 'same')
  await check('MCCS_CONTROL_SOCKET', {}, { MCCS_CONTROL_SOCKET: 'run/x.sock' }, 'same')
  await check('MCCS_STATE_DIR', {}, { MCCS_STATE_DIR: '/var/tmp/st' }, 'same')
  await check('MCCS_CONFIG_DIR elsewhere', {}, { MCCS_CONFIG_DIR: '/nonexistent/cfg' }, 'same')
  await check(
    'the installed template plus a node name',
    { 'config/mccs.config.json': JSON.stringify({ home: '/opt/MCCS', consolePort: 11080, heartbeatPort: 14321, nodeName: 'n1' }) },
    {},
    'same',
  )
  await check('relative paths in the file', { 'config/mccs.config.json': '{"stateDir": "../st", "configDir": "."}' }, {}, 'same')
  await check(
    'file and environment',
    { 'config/mccs.config.json': '{"controlSocket": "/run/a.sock"}' },
    { MCCS_CONTROL_SOCKET: '/run/b.sock' },
    'same',
  )
  await check('an empty file', { 'config/mccs.config.json': '  \n' }, {}, 'same')
  await check('null', { 'config/mccs.config.json': 'null' }, {}, 'same')
  await check('MCCS_CONFIG names a JSON file', { 'named.json': '{"controlSocket": "/run/n.sock"}' }, { MCCS_CONFIG: 'named.json' }, 'same')
  await check('MCCS_BOOTSTRAP (the old name)', { 'old.json': '{"stateDir": "/run/old"}' }, { MCCS_BOOTSTRAP: 'old.json' }, 'same')
  await check('a YAML file', { 'config/mccs.config.yaml': 'stateDir: /run/y\n' }, {}, 'declines')
  await check('unparsable JSON', { 'config/mccs.config.json': '{"stateDir": ' }, {}, 'declines')
  await check('an unknown key', { 'config/mccs.config.json': '{"stateDirr": "/x"}' }, {}, 'declines')
  await check('a port as a string', { 'config/mccs.config.json': '{"consolePort": "80"}' }, {}, 'declines')
  await check('an array', { 'config/mccs.config.json': '[]' }, {}, 'declines')
  await check('a bad node name', {}, { MCCS_NODE_NAME: '1abc' }, 'declines')
  await check('a bad port in the environment', {}, { MCCS_CONSOLE_PORT: 'x' }, 'declines')
  await check('a port out of range', {}, { MCCS_HEARTBEAT_PORT: '70000' }, 'declines')
  await check('MCCS_CONFIG names what is not a settings file', { 'x.js': '{}' }, { MCCS_CONFIG: 'x.js' }, 'declines')
  await check('MCCS_CONFIG names a missing file', {}, { MCCS_CONFIG: 'missing.json' }, 'declines')
  await check('a socket path over 107 bytes', {}, { MCCS_CONTROL_SOCKET: '/' + 'x'.repeat(120) }, 'declines')
  await check('MCCS_CONFIG_DIR=/tmp, no settings file there', {}, { MCCS_CONFIG_DIR: '/tmp' }, 'same')
  // A file in the system place wins over the home's, as in loadBootstrap.
  await writeFile(path.join(sys, 'mccs.config.json'), '{"controlSocket": "/run/sys.sock"}')
  await check('the system settings file', { 'config/mccs.config.json': '{"controlSocket": "/run/home.sock"}' }, {}, 'same')
  await rm(path.join(sys, 'mccs.config.json'))
  await symlink('/nonexistent/target.json', path.join(sys, 'mccs.config.json'))
  await check('a dangling link in the system place', {}, {}, 'same')
})

t.test('setupLanguage reads the language setup recorded', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-thinlang-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  t.equal(await setupLanguage(dir), undefined, 'no setup record')
  await writeFile(path.join(dir, SETUP_FILE), JSON.stringify({ language: 'ko', mode: 'single' }))
  t.equal(await setupLanguage(dir), 'ko')
  await writeFile(path.join(dir, SETUP_FILE), 'null')
  t.equal(await setupLanguage(dir), undefined)
})
