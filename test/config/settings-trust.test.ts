// Issue 12, finding 3: root running any `mccs` command must not read (let alone run) a settings file that
// another user could have planted or changed. Settings come only from explicit places, as data, from
// files and folders no other user can write.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadBootstrap } from '../../core/config/bootstrap.js'
import { packageRoot } from '../../core/paths.js'

const MAIN = join(packageRoot(), 'core/cli/main.ts')
const TSX = join(packageRoot(), 'node_modules/tsx/dist/loader.mjs')

async function dir(t: { teardown(fn: () => unknown): void }, mode = 0o700): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mccs-trust-'))
  await chmod(d, mode)
  t.teardown(() => rm(d, { recursive: true, force: true }))
  return d
}

/** A folder as another user finds /tmp: anyone may drop files in it. Every executable settings name that
 *  cosmiconfig knows, plus its meta config (.config/config.cjs, read from the process's working directory
 *  whenever an explorer is made), each writing a marker when run. */
async function plantedDir(t: { teardown(fn: () => unknown): void }): Promise<{ dir: string; markers: () => string[] }> {
  const d = await dir(t, 0o1777)
  const names = ['.mccsrc.cjs', '.mccsrc.js', 'mccs.config.js', 'mccs.config.cjs', '.config/config.cjs', '.config/mccsrc.cjs']
  await mkdir(join(d, '.config'))
  for (const n of names) {
    await writeFile(
      join(d, n),
      `require('node:fs').writeFileSync(${JSON.stringify(join(d, 'MARKER-' + n.replace('/', '_')))}, 'ran as ' + process.getuid()); module.exports = { consolePort: 1 }\n`,
    )
  }
  const markers = () => names.map((n) => 'MARKER-' + n.replace('/', '_')).filter((m) => existsSync(join(d, m)))
  return { dir: d, markers }
}

function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--no-node-snapshot', '--import', TSX, MAIN, ...args], { cwd, env, timeout: 120_000 }, (err, out, errOut) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut }),
    )
  })
}

function cleanEnv(more: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...more }
  delete env.NODE_OPTIONS
  delete env.MCCS_BOOTSTRAP
  if (!('MCCS_CONFIG' in more)) delete env.MCCS_CONFIG
  return env
}

t.test('a settings file planted in the working directory is neither run nor read', async (t) => {
  const { dir: planted, markers } = await plantedDir(t)
  const home = await dir(t)
  const b = await loadBootstrap({ cwd: planted, env: { MCCS_HOME: home }, systemDir: await dir(t) })
  t.same(markers(), [], 'no planted file ran')
  t.equal(b.consolePort, 11080, 'nothing from the working directory was used')
  t.equal(b.source.file, null)

  for (const [name, text] of [
    ['mccs.config.json', '{"consolePort": 2}'],
    ['.mccsrc', 'consolePort: 3\n'],
    ['package.json', '{"name": "planted", "mccs": {"consolePort": 4}}'],
  ] as const) {
    const d = await dir(t, 0o1777)
    await writeFile(join(d, name), text)
    const sub = join(d, 'below')
    await mkdir(sub)
    const b = await loadBootstrap({ cwd: sub, env: { MCCS_HOME: home }, systemDir: await dir(t) })
    t.equal(b.consolePort, 11080, `a data file (${name}) above the working directory is not read either`)
  }
})

t.test('the real CLI (status, config validate) run by root below a planted folder runs nothing of it', async (t) => {
  const { dir: planted, markers } = await plantedDir(t)
  const home = await dir(t)
  const env = cleanEnv({ MCCS_HOME: home, MCCS_NODE_NAME: 'n1' })
  const status = await cli(['status'], planted, env)
  t.equal(status.code, 4, `status says the agent is not running: ${status.err}`)
  const validate = await cli(['config', 'validate'], planted, env)
  t.not(validate.code, 0, 'no configuration in the empty home')
  t.same(markers(), [], 'no planted file ran')
})

t.test("settings come from /etc/mccs, then the home's config folder; MCCS_CONFIG names one file", async (t) => {
  const etc = await dir(t)
  const home = await dir(t)
  await mkdir(join(home, 'config'), { mode: 0o755 })
  await writeFile(join(home, 'config', 'mccs.config.yaml'), 'consolePort: 12001\nscriptDir: ../scripts\n', { mode: 0o644 })
  const fromHome = await loadBootstrap({ env: { MCCS_HOME: home }, systemDir: etc })
  t.equal(fromHome.source.file, join(home, 'config', 'mccs.config.yaml'))
  t.equal(fromHome.consolePort, 12001)
  t.equal(fromHome.scriptDir, join(home, 'scripts'), 'relative paths are relative to the file')

  await writeFile(join(etc, 'mccs.config.json'), '{"consolePort": 12002}', { mode: 0o600 })
  const fromEtc = await loadBootstrap({ env: { MCCS_HOME: home }, systemDir: etc })
  t.equal(fromEtc.source.file, join(etc, 'mccs.config.json'), '/etc/mccs overrides the shipped file in the home')
  t.equal(fromEtc.consolePort, 12002)

  const other = await dir(t)
  await writeFile(join(other, 'n1.yml'), 'consolePort: 12003\n', { mode: 0o644 })
  const named = await loadBootstrap({ env: { MCCS_HOME: home, MCCS_CONFIG: join(other, 'n1.yml') }, systemDir: etc })
  t.equal(named.source.file, join(other, 'n1.yml'))
  t.equal(named.consolePort, 12003)
  await t.rejects(
    loadBootstrap({ env: { MCCS_CONFIG: join(other, 'missing.json') }, systemDir: etc }),
    { code: 'MCCS_ERR_BOOTSTRAP', subject: join(other, 'missing.json') },
    'a named file must exist',
  )
})

t.test('only data formats: a named .cjs/.js file is refused and not run', async (t) => {
  const d = await dir(t)
  for (const name of ['s.cjs', 's.js', 's.mjs', 's.ts', 'mccsrc']) {
    const marker = join(d, `ran-${name}`)
    await writeFile(join(d, name), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x')\nmodule.exports = {}\n`, {
      mode: 0o644,
    })
    await t.rejects(
      loadBootstrap({ env: { MCCS_CONFIG: join(d, name) }, systemDir: d }),
      { code: 'MCCS_ERR_BOOTSTRAP', subject: join(d, name), field: 'MCCS_CONFIG' },
      name,
    )
    t.notOk(existsSync(marker), `${name} did not run`)
  }
})

t.test('a settings file another user can change is refused, naming the path and the reason', async (t) => {
  const etc = await dir(t, 0o755)
  const file = join(etc, 'mccs.config.json')
  await writeFile(file, '{"consolePort": 12004}')

  for (const [mode, why] of [
    [0o664, /writable by its group/],
    [0o646, /writable by others/],
  ] as const) {
    await chmod(file, mode)
    const err = await loadBootstrap({ env: {}, systemDir: etc }).catch((e: unknown) => e)
    t.match(err, { code: 'MCCS_ERR_BOOTSTRAP_UNSAFE', subject: file, field: file, message: why }, `file mode ${mode.toString(8)}`)
  }
  await chmod(file, 0o644)
  t.equal((await loadBootstrap({ env: {}, systemDir: etc })).consolePort, 12004, 'mode 0644, owned by root: used')

  await chmod(etc, 0o775)
  t.match(
    await loadBootstrap({ env: {}, systemDir: etc }).catch((e: unknown) => e),
    { code: 'MCCS_ERR_BOOTSTRAP_UNSAFE', subject: file, field: etc, message: /writable by its group/ },
    'its folder group-writable',
  )
  await chmod(etc, 0o1777)
  t.match(
    await loadBootstrap({ env: {}, systemDir: etc }).catch((e: unknown) => e),
    { code: 'MCCS_ERR_BOOTSTRAP_UNSAFE', field: etc, message: /writable by others/ },
    'its folder like /tmp (sticky does not help)',
  )
  await chmod(etc, 0o755)

  if (process.getuid?.() === 0) {
    await chown(file, 65534, 65534)
    t.match(
      await loadBootstrap({ env: {}, systemDir: etc }).catch((e: unknown) => e),
      { code: 'MCCS_ERR_BOOTSTRAP_UNSAFE', field: file, message: /owned by uid 65534/ },
      'owned by another user',
    )
    await chown(file, 0, 0)
    const parent = await dir(t, 0o755)
    const nested = join(parent, 'etc')
    await mkdir(nested, { mode: 0o755 })
    await writeFile(join(nested, 'mccs.config.json'), '{}', { mode: 0o644 })
    await chown(parent, 65534, 65534)
    t.match(
      await loadBootstrap({ env: {}, systemDir: nested }).catch((e: unknown) => e),
      { code: 'MCCS_ERR_BOOTSTRAP_UNSAFE', field: parent, message: /owned by uid 65534/ },
      'a folder above owned by another user (it could swap the folder)',
    )
  }

  // A link in a safe place to a file in an unsafe one: the file that would be read is judged.
  const unsafe = await dir(t, 0o777)
  await writeFile(join(unsafe, 'evil.json'), '{"consolePort": 12005}', { mode: 0o644 })
  const safe = await dir(t, 0o755)
  await symlink(join(unsafe, 'evil.json'), join(safe, 'mccs.config.json'))
  t.match(
    await loadBootstrap({ env: {}, systemDir: safe }).catch((e: unknown) => e),
    { code: 'MCCS_ERR_BOOTSTRAP_UNSAFE', field: unsafe },
    'a symbolic link does not launder an unsafe file',
  )

  // The CLI says why and changes nothing.
  await chmod(file, 0o666)
  const r = await cli(['status'], etc, cleanEnv({ MCCS_CONFIG: file, MCCS_HOME: etc }))
  t.equal(r.code, 1)
  t.match(r.err, /MCCS_ERR_BOOTSTRAP_UNSAFE.*mccs\.config\.json.*writable by/)
})
