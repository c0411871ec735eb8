// mccs-plugin, the plugin author's tool, run as an author runs it: a child process of the real bin.
// Then the example plugin, built by the CLI, loaded into a real PluginHost with the real exec
// capability, doing real work in a temp dir.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { PluginHost } from '../../core/plugins/host.js'
import { execProvider } from '../../core/plugins/caps/exec.js'
import { StateStore, stateProvider } from '../../core/plugins/caps/state.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = path.join(root, 'sdk/plugin-kit/bin/mccs-plugin')
const example = path.join(root, 'examples/hello-file')

interface Run {
  code: number
  stdout: string
  stderr: string
}
/** Runs `mccs-plugin <args>`. Through env(1) without NODE_OPTIONS: tap's coverage tracker puts its own
 *  --import there for every child, and its require hook cannot load the extensionless ESM bin. */
function cli(args: string[], cwd = root): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/env',
      ['-u', 'NODE_OPTIONS', process.execPath, '--no-node-snapshot', BIN, ...args],
      { cwd, timeout: 60000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

const editJson = (file: string, f: (doc: Record<string, unknown>) => void) => {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>
  f(doc)
  fs.writeFileSync(file, JSON.stringify(doc, null, 2))
}

// One plugin made by `init` and `build` at the start; tests that break it work on copies.
let ws = ''
let template = ''
let initRun: Run
let buildRun: Run
t.before(async () => {
  ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-cli-')))
  fs.mkdirSync(path.join(ws, 'node_modules/@mccs'), { recursive: true })
  fs.symlinkSync(path.join(root, 'sdk'), path.join(ws, 'node_modules/@mccs/sdk'))
  fs.symlinkSync(path.join(root, 'sdk/plugin-kit'), path.join(ws, 'node_modules/@mccs/plugin-kit'))
  template = path.join(ws, 'my-type')
  initRun = await cli(['init', template])
  buildRun = await cli(['build', template])
})
t.teardown(() => {
  if (ws) fs.rmSync(ws, { recursive: true, force: true })
})

/** A copy of the built template plugin, under another folder name (the plugin keeps its name). */
function copy(name: string): string {
  const dir = path.join(ws, name)
  fs.cpSync(template, dir, { recursive: true })
  return dir
}

t.test('init, then build, then validate: a working plugin', async (t) => {
  const dir = template
  t.equal(initRun.code, 0, initRun.stderr)
  t.match(initRun.stdout, "created plugin 'my-type'")
  for (const f of ['plugin.json', 'package.json', 'src/index.ts']) t.ok(fs.existsSync(path.join(dir, f)), `${f} created`)
  t.ok(fs.statSync(path.join(dir, 'test')).isDirectory(), 'test/ created')
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'plugin.json'), 'utf8'))
  t.match(manifest, { name: 'my-type', kind: 'resource', engines: { mccs: '^1.0.0' }, main: 'dist/index.js' })
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  t.match(pkg, { private: true, devDependencies: { '@mccs/sdk': /^\^1\./, '@mccs/plugin-kit': /^\^1\./ } })

  t.equal(buildRun.code, 0, buildRun.stderr)
  t.match(buildRun.stdout, /built my-type 0\.1\.0 -> .*dist\/index\.js/)
  t.ok(fs.existsSync(path.join(dir, 'dist/index.js')))

  const validate = await cli(['validate', dir])
  t.equal(validate.code, 0, validate.stderr)
  t.match(validate.stdout, "plugin 'my-type'")
  t.match(validate.stdout, 'permissions: state')
})

t.test('init --name --kind fence gives a fence plugin that builds and validates', async (t) => {
  const dir = path.join(ws, 'Some Folder')
  t.equal((await cli(['init', dir, '--name', 'my-fence', '--kind', 'fence'])).code, 0)
  t.match(JSON.parse(fs.readFileSync(path.join(dir, 'plugin.json'), 'utf8')), { name: 'my-fence', kind: 'fence' })
  const build = await cli(['build', dir])
  t.equal(build.code, 0, build.stderr)
  const validate = await cli(['validate', dir])
  t.equal(validate.code, 0, validate.stderr)
})

t.test('init refuses to overwrite an existing plugin', async (t) => {
  const dir = copy('mine')
  fs.writeFileSync(path.join(dir, 'src/index.ts'), '// my work\n')
  const before = fs.readFileSync(path.join(dir, 'plugin.json'), 'utf8')
  const again = await cli(['init', dir])
  t.not(again.code, 0)
  t.match(again.stderr, /plugin\.json exists already/)
  t.equal(fs.readFileSync(path.join(dir, 'plugin.json'), 'utf8'), before, 'plugin.json untouched')
  t.equal(fs.readFileSync(path.join(dir, 'src/index.ts'), 'utf8'), '// my work\n', 'the source untouched')
})

t.test('validate names the field and the reason of a broken manifest', async (t) => {
  const dir = copy('broken')
  const cases: Array<[string, (d: Record<string, unknown>) => void, RegExp[]]> = [
    [
      'bad version',
      (d) => {
        d.version = '1.0'
      },
      [/MCCS_ERR_MANIFEST/, /\/version/, /semver|semantic|characters/],
    ],
    [
      'unknown permission',
      (d) => {
        d.permissions = ['state', 'fs:write']
      },
      [/MCCS_ERR_MANIFEST/, /\/permissions\/1/, /'fs:write'/],
    ],
    [
      'future engine',
      (d) => {
        d.engines = { mccs: '^2.0.0' }
      },
      [/MCCS_ERR_ENGINE_INCOMPATIBLE/, /\/engines\/mccs/],
    ],
  ]
  const file = path.join(dir, 'plugin.json')
  const good = fs.readFileSync(file, 'utf8')
  for (const [what, edit, want] of cases) {
    fs.writeFileSync(file, good)
    editJson(file, edit)
    const r = await cli(['validate', dir])
    t.not(r.code, 0, `${what}: non-zero exit`)
    for (const re of want) t.match(r.stderr, re, `${what}: stderr says ${re}`)
    t.match(r.stderr, "plugin 'my-type'", `${what}: names the plugin`)
  }
  fs.writeFileSync(file, '{ "name": "broken", ')
  const json = await cli(['validate', dir])
  t.not(json.code, 0)
  t.match(json.stderr, /not valid JSON/)
})

t.test('validate reports a missing bundle and missing required hooks', async (t) => {
  const dir = copy('partial')
  fs.rmSync(path.join(dir, 'dist'), { recursive: true })
  const r0 = await cli(['validate', dir])
  t.not(r0.code, 0, 'not built')
  t.match(r0.stderr, /MCCS_ERR_PLUGIN_LOAD/)
  t.match(r0.stderr, /\/main/)
  fs.writeFileSync(
    path.join(dir, 'src/index.ts'),
    "import { definePlugin, ok } from '@mccs/sdk'\nexport default { online: async () => ok(), offline: async () => ok() } as unknown as ReturnType<typeof definePlugin>\n",
  )
  t.equal((await cli(['build', dir])).code, 0)
  const r = await cli(['validate', dir])
  t.equal(r.code, 1)
  t.match(r.stderr, /required hooks missing: monitor/)
})

t.test('build refuses Node modules with a clear message', async (t) => {
  const dir = copy('sneaky')
  for (const mod of ['node:fs', 'child_process']) {
    fs.writeFileSync(
      path.join(dir, 'src/index.ts'),
      `import * as m from '${mod}'\nimport { definePlugin, ok } from '@mccs/sdk'\nexport default definePlugin({ online: async () => { void m; return ok() }, offline: async () => ok(), monitor: async () => ok() })\n`,
    )
    fs.rmSync(path.join(dir, 'dist'), { recursive: true, force: true })
    const r = await cli(['build', dir])
    t.not(r.code, 0, `${mod}: non-zero exit`)
    t.match(r.stderr, `'${mod}' is a Node module`, `${mod}: names the module`)
    t.match(r.stderr, /sandboxed/, `${mod}: says why`)
    t.match(r.stderr, /src\/index\.ts/, `${mod}: names the file`)
    t.notOk(fs.existsSync(path.join(dir, 'dist/index.js')), `${mod}: no bundle written`)
  }
})

t.test("build resolves the SDK's entries from the kit, and names an import that is not one", async (t) => {
  const dir = copy('aws-helpers')
  // @mccs/sdk/aws-answers (the AWS answer helpers, out of the barrel) bundles with the plugin.
  fs.writeFileSync(
    path.join(dir, 'src/index.ts'),
    "import { definePlugin, ok } from '@mccs/sdk'\nimport { discoverFault } from '@mccs/sdk/aws-answers'\nexport default definePlugin({ online: async () => ok(), offline: async () => ok(), monitor: async () => discoverFault(new Error('x')) })\n",
  )
  const built = await cli(['build', dir])
  t.equal(built.code, 0, built.stderr)
  t.match(fs.readFileSync(path.join(dir, 'dist/index.js'), 'utf8'), /discoverFault/)
  // The test host is the kit's, not an entry of the contract: refused, naming the import and the file.
  fs.writeFileSync(
    path.join(dir, 'src/index.ts'),
    "import { createTestHost } from '@mccs/sdk/testing'\nimport { definePlugin, ok } from '@mccs/sdk'\nexport default definePlugin({ online: async () => { void createTestHost; return ok() }, offline: async () => ok(), monitor: async () => ok() })\n",
  )
  fs.rmSync(path.join(dir, 'dist'), { recursive: true, force: true })
  const refused = await cli(['build', dir])
  t.not(refused.code, 0)
  t.match(refused.stderr, "'@mccs/sdk/testing' is not an entry of @mccs/sdk")
  t.match(refused.stderr, /src\/index\.ts/)
  t.notOk(fs.existsSync(path.join(dir, 'dist/index.js')), 'no bundle written')
})

t.test('usage errors', async (t) => {
  const none = await cli(['publish', 'x'])
  t.equal(none.code, 2)
  t.match(none.stderr, /usage: mccs-plugin/)
})

t.test('examples/hello-file builds with the CLI and does real work in a real PluginHost', async (t) => {
  const build = await cli(['build', 'examples/hello-file'])
  t.equal(build.code, 0, build.stderr)
  t.match(build.stdout, /built hello-file/)
  const validate = await cli(['validate', 'examples/hello-file'])
  t.equal(validate.code, 0, validate.stderr)
  t.match(validate.stdout, 'exec:/usr/bin/touch, exec:/usr/bin/rm, exec:/usr/bin/test')

  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-hello-')))
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }))
  const data = path.join(base, 'data')
  fs.mkdirSync(data)
  const host = new PluginHost({
    providers: [execProvider, stateProvider(new StateStore(path.join(base, 'state')))],
    paths: { home: base, scripts: path.join(base, 'script') },
    onCatastrophicError: (m) => {
      throw new Error(m)
    },
  })
  t.teardown(() => host.dispose())
  const loaded = await host.load(example)
  t.equal(loaded.manifest.name, 'hello-file')
  const attrs = { dir: data, fileName: 'svc.marker' }
  const marker = path.join(data, 'svc.marker')
  const call = (hook: 'online' | 'offline' | 'monitor' | 'validate', args: unknown[] = []) =>
    host.call('hello-file', hook, { resource: 'hello1', node: 'node1', attrs, timeoutMs: 5000, args })

  t.equal((await call('validate', [{ perNode: { node1: attrs, node2: { dir: '../x' } } }])).diagnostics?.[0]?.path, '/nodes/node2/dir')
  t.equal((await call('monitor')).answer, 'notRunning', 'no marker yet')
  const on = await call('online')
  t.same([on.status, on.answer], ['done', 'ok'], on.error ?? on.reason ?? '')
  t.ok(fs.existsSync(marker), 'online created the marker file')
  t.equal((await call('online')).answer, 'ok', 'online again (idempotent)')
  t.equal((await call('monitor')).answer, 'ok')
  const off = await call('offline')
  t.same([off.status, off.answer], ['done', 'ok'], off.error ?? off.reason ?? '')
  t.notOk(fs.existsSync(marker), 'offline removed it')
  t.equal((await call('offline')).answer, 'ok', 'offline again (idempotent)')
  t.equal((await call('monitor')).answer, 'notRunning')
  fs.writeFileSync(marker, '')
  t.equal((await call('monitor')).answer, 'ok', 'monitor sees a marker made behind its back')

  fs.chmodSync(data, 0o500)
  t.teardown(() => fs.chmodSync(data, 0o700))
  fs.rmSync(marker)
  if (process.getuid?.() !== 0) {
    const denied = await call('online')
    t.equal(denied.answer, 'failed', 'a real touch failure is a failed online')
    t.match(denied.reason, /touch/)
  }
})
