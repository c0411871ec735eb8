// @mccs/sdk is the plugin contract alone (issue 13, point 2): nothing in it imports core/, the plugin
// kit (test host, build, mccs-plugin CLI), a package or a Node module: a plugin bundle carries the
// contract into the sandbox. The AWS answer helpers are not in the barrel: `@mccs/sdk/aws-answers`.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { contractViolations } from './imports.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const sdkDir = path.join(root, 'sdk')
const kitDir = path.join(sdkDir, 'plugin-kit')
const coreDir = path.join(root, 'core')

t.test('no file of the contract package imports core/, the kit, a package or a Node module', async (t) => {
  t.same(contractViolations(sdkDir, coreDir, kitDir), [])
})

t.test('the kit is a workspace package of its own, the contract package has no bin and no dependencies', async (t) => {
  const sdk = JSON.parse(fs.readFileSync(path.join(sdkDir, 'package.json'), 'utf8')) as Record<string, unknown>
  const kit = JSON.parse(fs.readFileSync(path.join(kitDir, 'package.json'), 'utf8')) as Record<string, unknown>
  t.equal(sdk.name, '@mccs/sdk')
  t.equal(kit.name, '@mccs/plugin-kit')
  t.notOk(sdk.bin, 'mccs-plugin is not in the contract package')
  t.notOk(sdk.dependencies, 'the contract needs no package')
  t.match(kit.bin, { 'mccs-plugin': String })
  const ws = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces
  t.ok(ws.includes('sdk') && ws.includes('sdk/plugin-kit'), `workspaces ${ws.join(', ')}`)
  // Installed as a workspace: the name resolves to this folder.
  t.equal(fs.realpathSync(path.join(root, 'node_modules/@mccs/plugin-kit')), kitDir)
})

t.test('the barrel re-exports the contract, not the AWS answer helpers; those have their own entry', async (t) => {
  const barrel = (await import('@mccs/sdk')) as Record<string, unknown>
  for (const name of [
    'definePlugin',
    'defineFencePlugin',
    'ok',
    'notRunning',
    'degraded',
    'failed',
    'unknown',
    'invalid',
    'diag',
    'attributes',
    'checkPermissions',
    'parseIpCidr',
  ]) {
    t.type(barrel[name], 'function', `@mccs/sdk exports ${name}`)
  }
  t.type(barrel.field, 'object', '@mccs/sdk exports the wizard field helpers')
  const helpers = ['ec2Fault', 'permissionDiagnostics', 'discoverCommon', 'discoverFault']
  for (const name of helpers) t.notOk(name in barrel, `@mccs/sdk does not export ${name}`)
  // A variable keeps tsc from resolving the entry at compile time: the first run of this test, before
  // the entry existed, had to fail here rather than fail to typecheck.
  const entry = '@mccs/sdk/aws-answers'
  const aws = (await import(entry)) as Record<string, unknown>
  for (const name of helpers) t.type(aws[name], 'function', `@mccs/sdk/aws-answers exports ${name}`)
})

t.test('the check finds each kind of forbidden import (it can fail)', async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-sdk-lint-'))
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }))
  const sdk = path.join(base, 'sdk')
  const kit = path.join(sdk, 'plugin-kit')
  const core = path.join(base, 'core')
  for (const d of [path.join(sdk, 'src'), path.join(sdk, 'bin'), path.join(kit, 'src'), core]) fs.mkdirSync(d, { recursive: true })
  fs.writeFileSync(path.join(sdk, 'src/types.ts'), 'export interface A { a: number }\n')
  fs.writeFileSync(path.join(sdk, 'src/index.ts'), "export * from './types.js'\n// import { x } from '../../core/x.js'\n")
  fs.writeFileSync(
    path.join(kit, 'src/build.ts'),
    "import { PluginHost } from '../../../core/plugins/host.js'\nimport * as esbuild from 'esbuild'\n",
  )
  t.same(contractViolations(sdk, core, kit), [], 'clean contract (a comment and the kit do not count)')

  fs.writeFileSync(
    path.join(sdk, 'src/bad.ts'),
    [
      "import type { MccsError } from '../../core/errors.js'",
      "export { buildPlugin } from '../plugin-kit/src/build.js'",
      "import * as esbuild from 'esbuild'",
      "import { readFile } from 'node:fs/promises'",
      "const later = () => import('../../core/x.js')",
    ].join('\n'),
  )
  fs.writeFileSync(path.join(sdk, 'bin/tool'), "const { main } = require('../../core/cli.js')\n")
  const found = contractViolations(sdk, core, kit)
  t.match(found, [
    /bin\/tool: imports '\.\.\/\.\.\/core\/cli\.js': .*nothing from core/,
    /src\/bad\.ts: imports '\.\.\/\.\.\/core\/errors\.js' \(type\): .*nothing from core/,
    /src\/bad\.ts: imports '\.\.\/plugin-kit\/src\/build\.js': .*nothing from the plugin kit/,
    /src\/bad\.ts: imports 'esbuild': .*no package/,
    /src\/bad\.ts: imports 'node:fs\/promises': .*no Node module/,
    /src\/bad\.ts: imports '\.\.\/\.\.\/core\/x\.js': .*nothing from core/,
  ])
  t.equal(found.length, 6)
})
