// plugin.json as a careless or hostile author writes it: every rejection carries a code, the field
// (a JSON pointer) and names the plugin. Tests check codes and fields, never message text.
import t, { type Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { validateManifest, loadPluginDir } from '../../core/plugins/manifest.js'
import { PluginHost } from '../../core/plugins/host.js'
import { MccsError, isMccsError } from '../../core/errors.js'

const good = () => ({
  name: 'hello',
  displayName: 'Hello',
  version: '1.2.3',
  kind: 'resource',
  engines: { mccs: '^1.0.0' },
  main: 'dist/index.js',
  permissions: [
    'state',
    'exec:/usr/bin/true',
    'exec:scripts/*',
    'exec:attr:command',
    'proc',
    'net:read',
    'aws.ec2:DescribeRouteTables',
    'mirror',
  ],
  defaults: { monitorIntervalS: 10 },
  wizard: { type: 'object', properties: { port: { type: 'integer', 'x-mccs': { scope: 'node' } } } },
})
type Doc = Record<string, unknown>
const LABEL = 'at /somewhere/hello'

/** Runs fn, expects an MccsError, returns it. */
function refused(t: Test, fn: () => unknown, code: string, field: string, what: string): MccsError | undefined {
  try {
    fn()
  } catch (err) {
    t.ok(isMccsError(err), `${what}: an MccsError`)
    const e = err as MccsError
    t.equal(e.code, code, `${what}: code`)
    t.equal(e.field, field, `${what}: field`)
    return e
  }
  t.fail(`${what}: was accepted`)
  return undefined
}

async function refusedAsync(t: Test, p: Promise<unknown>, code: string, field: string, what: string): Promise<MccsError | undefined> {
  try {
    await p
  } catch (err) {
    t.ok(isMccsError(err), `${what}: an MccsError (${String(err)})`)
    const e = err as MccsError
    t.equal(e.code, code, `${what}: code`)
    t.equal(e.field, field, `${what}: field`)
    return e
  }
  t.fail(`${what}: was accepted`)
  return undefined
}

function tmpPlugin(
  t: Test,
  manifest: unknown,
  bundle:
    | string
    | null = 'var __mccsPlugin = { default: { online: async () => ({ answer: "ok" }), offline: async () => ({ answer: "ok" }), monitor: async () => ({ answer: "ok" }) } };',
): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-manifest-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.writeFileSync(path.join(dir, 'plugin.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest))
  if (bundle !== null) {
    fs.mkdirSync(path.join(dir, 'dist'))
    fs.writeFileSync(path.join(dir, 'dist/index.js'), bundle)
  }
  return dir
}

t.test('a good manifest is accepted as is', async (t) => {
  const m = validateManifest(good(), LABEL)
  t.equal(m.name, 'hello')
  t.same(m.permissions, good().permissions)
})

t.test('each required field, missing, is named by its JSON pointer', async (t) => {
  for (const f of ['name', 'displayName', 'version', 'kind', 'engines', 'main', 'permissions', 'wizard']) {
    const doc: Doc = good()
    delete doc[f]
    const e = refused(t, () => validateManifest(doc, LABEL), 'MCCS_ERR_MANIFEST', `/${f}`, `missing ${f}`)
    if (f === 'name') t.match(e?.message, LABEL, 'without a name, the label names the plugin')
    else t.match(e?.message, "plugin 'hello'", `missing ${f}: names the plugin`)
  }
  const doc = good() as Doc
  doc.engines = {}
  refused(t, () => validateManifest(doc, LABEL), 'MCCS_ERR_MANIFEST', '/engines/mccs', 'missing engines.mccs')
})

t.test('wrong types', async (t) => {
  const cases: Array<[string, unknown, string]> = [
    ['name', 42, '/name'],
    ['name', 'Hello World', '/name'],
    ['displayName', '', '/displayName'],
    ['version', 123, '/version'],
    ['kind', 'service', '/kind'],
    ['engines', '^1.0.0', '/engines'],
    ['main', ['dist/index.js'], '/main'],
    ['main', 'dist/index.ts', '/main'],
    ['permissions', 'state', '/permissions'],
    ['permissions', ['state', 'state'], '/permissions'],
    ['permissions', [7], '/permissions/0'],
    ['wizard', 'object', '/wizard'],
    ['wizard', { type: 'array', properties: {} }, '/wizard/type'],
    ['defaults', { monitorIntervalS: 'ten' }, '/defaults/monitorIntervalS'],
    ['defaults', { monitorIntervalS: -1 }, '/defaults/monitorIntervalS'],
    ['limits', { memoryMb: 4096 }, '/limits/memoryMb'],
  ]
  for (const [f, v, field] of cases) {
    const doc: Doc = { ...good(), [f]: v }
    refused(t, () => validateManifest(doc, LABEL), 'MCCS_ERR_MANIFEST', field, `${f} = ${JSON.stringify(v)}`)
  }
  refused(t, () => validateManifest('not an object', LABEL), 'MCCS_ERR_MANIFEST', '/', 'a string')
  refused(t, () => validateManifest(null, LABEL), 'MCCS_ERR_MANIFEST', '/', 'null')
})

t.test('an unknown field is refused, also inside engines and defaults', async (t) => {
  refused(t, () => validateManifest({ ...good(), permision: ['state'] }, LABEL), 'MCCS_ERR_MANIFEST', '/permision', 'typo at top level')
  refused(
    t,
    () => validateManifest({ ...good(), engines: { mccs: '^1.0.0', node: '>=20' } }, LABEL),
    'MCCS_ERR_MANIFEST',
    '/engines/node',
    'engines.node',
  )
  refused(
    t,
    () => validateManifest({ ...good(), defaults: { monitorInterval: 5 } }, LABEL),
    'MCCS_ERR_MANIFEST',
    '/defaults/monitorInterval',
    'defaults typo',
  )
})

t.test('an unknown permission string is quoted in the message', async (t) => {
  for (const p of [
    'fs:write',
    'exec:usr/bin/ip',
    'exec:/usr/bin/*',
    'exec:scripts/foo',
    'exec:attr:1x',
    'net:admin',
    'aws.ec2:*',
    'aws.s3:GetObject',
    'STATE',
    'exec:/usr/bin/ip -a',
  ]) {
    const doc = { ...good(), permissions: ['state', p] }
    const e = refused(t, () => validateManifest(doc, LABEL), 'MCCS_ERR_MANIFEST', '/permissions/1', p)
    t.ok(e?.message.includes(`'${p}'`), `message quotes '${p}': ${e?.message}`)
  }
})

t.test('main must stay inside the plugin folder', async (t) => {
  for (const main of ['../outside.js', 'dist/../../x.js', '/abs/index.js', '/etc/passwd.js', 'dist/..js']) {
    refused(t, () => validateManifest({ ...good(), main }, LABEL), 'MCCS_ERR_MANIFEST', '/main', main)
  }
  t.equal(validateManifest({ ...good(), main: 'build/plugin.min.js' }, LABEL).main, 'build/plugin.min.js')
})

t.test('version must be semver; engines.mccs a valid range', async (t) => {
  for (const version of ['1.0.0.0', 'v1.x.y', 'one.two.three', '01.2.3']) {
    refused(t, () => validateManifest({ ...good(), version }, LABEL), 'MCCS_ERR_MANIFEST', '/version', version)
  }
  t.ok(validateManifest({ ...good(), version: '1.0.0-beta.1+build.5' }, LABEL), 'prerelease and build metadata are semver')
  for (const mccs of ['not a range!', '^^1', '>=1.0.0 <']) {
    refused(t, () => validateManifest({ ...good(), engines: { mccs } }, LABEL), 'MCCS_ERR_MANIFEST', '/engines/mccs', mccs)
  }
})

t.test('engines.mccs is checked against the plugin API version', async (t) => {
  for (const mccs of ['^2.0.0', '>=2', '~0.9.0', '<1.0.0']) {
    const e = refused(
      t,
      () => validateManifest({ ...good(), engines: { mccs } }, LABEL),
      'MCCS_ERR_ENGINE_INCOMPATIBLE',
      '/engines/mccs',
      mccs,
    )
    t.match(e?.message, "plugin 'hello'")
  }
  for (const mccs of ['^1.0.0', '>=1.0.0 <2', '1.x', '*']) {
    t.equal(validateManifest({ ...good(), engines: { mccs } }, LABEL).engines.mccs, mccs, `${mccs} accepted`)
  }
})

t.test('the wizard must be a valid JSON Schema', async (t) => {
  const bad = [
    { type: 'object', properties: { port: { type: 'int' } } },
    { type: 'object', properties: { port: { minimum: 'zero' } } },
    { type: 'object', properties: {}, required: 'port' },
  ]
  for (const wizard of bad) {
    refused(t, () => validateManifest({ ...good(), wizard }, LABEL), 'MCCS_ERR_MANIFEST', '/wizard', JSON.stringify(wizard))
  }
  const hints = {
    type: 'object',
    properties: { nic: { type: 'string', 'x-mccs': { scope: 'node', discover: 'nics', widget: 'select', order: 1, group: 'Net' } } },
  }
  t.ok(validateManifest({ ...good(), wizard: hints }, LABEL), 'x-mccs hints are allowed')
})

t.test('loadPluginDir: unreadable, invalid JSON, missing bundle', async (t) => {
  const missing = path.join(os.tmpdir(), 'mccs-manifest-does-not-exist')
  await refusedAsync(t, loadPluginDir(missing), 'MCCS_ERR_PLUGIN_LOAD', 'plugin.json', 'no folder')
  const e1 = await refusedAsync(t, loadPluginDir(tmpPlugin(t, '{ "name": "hello", ')), 'MCCS_ERR_MANIFEST', '/', 'truncated JSON')
  t.match(e1?.message, 'plugin at ', 'names the folder')
  await refusedAsync(t, loadPluginDir(tmpPlugin(t, '// comment\n{}')), 'MCCS_ERR_MANIFEST', '/', 'JSON with a comment')
  const e2 = await refusedAsync(t, loadPluginDir(tmpPlugin(t, good(), null)), 'MCCS_ERR_PLUGIN_LOAD', '/main', 'no bundle')
  t.match(e2?.message, "plugin 'hello'")
  await refusedAsync(t, loadPluginDir(tmpPlugin(t, { ...good(), version: '1' })), 'MCCS_ERR_MANIFEST', '/version', 'bad manifest on disk')
  const ok = await loadPluginDir(tmpPlugin(t, good()))
  t.equal(ok.manifest.name, 'hello')
  t.match(ok.code, '__mccsPlugin')
})

t.test('PluginHost: duplicate type names, bundles that throw at load', async (t) => {
  const host = new PluginHost({
    providers: [],
    onCatastrophicError: (m) => {
      throw new Error(m)
    },
  })
  t.teardown(() => host.dispose())
  const a = tmpPlugin(t, good())
  const b = tmpPlugin(t, { ...good(), version: '2.0.0' })
  await host.load(a)
  const e = await refusedAsync(t, host.load(b), 'MCCS_ERR_PLUGIN_DUPLICATE', '/name', 'same name twice')
  t.match(e?.message, "plugin 'hello'")
  t.equal(host.get('hello')?.manifest.version, '1.2.3', 'the first one stays loaded')
  t.equal(host.list().length, 1)

  const thrower = tmpPlugin(t, { ...good(), name: 'thrower' }, 'throw new Error("boom at load")')
  const e3 = await refusedAsync(t, host.load(thrower), 'MCCS_ERR_PLUGIN_LOAD', '/main', 'bundle throws')
  t.match(e3?.message, "plugin 'thrower'")
  t.match(e3?.message, 'boom at load')
  const syntax = tmpPlugin(t, { ...good(), name: 'syntax' }, 'var __mccsPlugin = { default: {')
  await refusedAsync(t, host.load(syntax), 'MCCS_ERR_PLUGIN_LOAD', '/main', 'bundle does not parse')
  t.same(
    host.list().map((p) => p.manifest.name),
    ['hello'],
    'refused plugins are not registered',
  )

  const r = await host.call('thrower', 'monitor', { resource: 'r', node: 'n', attrs: {}, timeoutMs: 1000 })
  t.same([r.status, r.errorCode], ['notSupported', 'MCCS_ERR_NOT_FOUND'], 'a refused type is not callable')
})

t.test('loadAll collects refusals and loads the rest', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-manifest-root-'))
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }))
  const put = (dir: string, manifest: unknown, bundle?: string) => {
    fs.mkdirSync(path.join(root, dir, 'dist'), { recursive: true })
    fs.writeFileSync(path.join(root, dir, 'plugin.json'), JSON.stringify(manifest))
    fs.writeFileSync(path.join(root, dir, 'dist/index.js'), bundle ?? 'var __mccsPlugin = { default: {} };')
  }
  put('a-good', good())
  put('b-engine', { ...good(), name: 'future', engines: { mccs: '^2.0.0' } })
  put('c-throws', { ...good(), name: 'thrower' }, 'throw new Error("x")')
  fs.writeFileSync(path.join(root, 'README'), 'not a plugin')
  const host = new PluginHost({ providers: [] })
  t.teardown(() => host.dispose())
  const { loaded, errors } = await host.loadAll(root)
  t.same(
    loaded.map((p) => p.manifest.name),
    ['hello'],
  )
  t.same(
    errors.map((e) => [e.code, e.field]),
    [
      ['MCCS_ERR_ENGINE_INCOMPATIBLE', '/engines/mccs'],
      ['MCCS_ERR_PLUGIN_LOAD', '/main'],
    ],
  )
})
