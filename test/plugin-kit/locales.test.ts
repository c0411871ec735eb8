// Issue 18, What 8: a plugin manifest may carry its own locale files (wizard labels and help per language);
// mccs-plugin validate and build refuse a plugin whose declared locales do not have every key, naming the key
// and the locale, and accept it once they do. Run as an author runs the tool: the real bin, a child process.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { packageRoot } from '../../core/paths.js'
import { loadPluginDir } from '../../core/plugins/manifest.js'

const root = packageRoot()
const BIN = path.join(root, 'sdk/plugin-kit/bin/mccs-plugin')
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      '/usr/bin/env',
      ['-u', 'NODE_OPTIONS', process.execPath, '--no-node-snapshot', BIN, ...args],
      { cwd: root, timeout: 60000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0,
          stdout,
          stderr,
        }),
    ),
  )
}

t.test('declared locales must hold every key; the tool names the key and the locale', async (t) => {
  const ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-locales-')))
  t.teardown(() => fs.rmSync(ws, { recursive: true, force: true }))
  fs.mkdirSync(path.join(ws, 'node_modules/@mccs'), { recursive: true })
  fs.symlinkSync(path.join(root, 'sdk'), path.join(ws, 'node_modules/@mccs/sdk'))
  fs.symlinkSync(path.join(root, 'sdk/plugin-kit'), path.join(ws, 'node_modules/@mccs/plugin-kit'))
  const dir = path.join(ws, 'my-type')
  t.equal((await cli(['init', dir])).code, 0)
  t.equal((await cli(['build', dir])).code, 0)

  const manifestFile = path.join(dir, 'plugin.json')
  const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Record<string, unknown>
  // The wizard's one field, with a label and help to translate (and no description of the type itself).
  m.wizard = { type: 'object', properties: { path: { type: 'string', title: 'Path', description: 'Where the marker lives' } } }
  delete m.description
  m.locales = { en: 'locales/en.json', ko: 'locales/ko.json' }
  fs.writeFileSync(manifestFile, JSON.stringify(m, null, 2))
  fs.mkdirSync(path.join(dir, 'locales'))
  const en = { displayName: 'My type', 'wizard.path.title': 'Path', 'wizard.path.description': 'Where the marker lives ({example})' }
  const write = (l: string, d: Record<string, string>) => fs.writeFileSync(path.join(dir, `locales/${l}.json`), JSON.stringify(d))
  write('en', en)
  write('ko', { displayName: '내 타입', 'wizard.path.title': '경로' }) // the description is missing in ko

  const v = await cli(['validate', dir])
  t.equal(v.code, 1, 'validate refuses')
  t.match(v.stderr, /MCCS_ERR_MANIFEST: plugin 'my-type' \/locales\/ko: key 'wizard.path.description' is missing in locale 'ko'/)
  const b = await cli(['build', dir])
  t.equal(b.code, 1, 'build refuses too')
  t.match(b.stderr, /key 'wizard.path.description' is missing in locale 'ko'/)

  // A key only the Korean file has is missing in English.
  write('ko', {
    displayName: '내 타입',
    'wizard.path.title': '경로',
    'wizard.path.description': '표시 파일 위치 ({example})',
    extra: '추가',
  })
  t.match((await cli(['validate', dir])).stderr, /key 'extra' is missing in locale 'en'/)
  // A parameter only one locale has.
  write('ko', { displayName: '내 타입', 'wizard.path.title': '경로', 'wizard.path.description': '표시 파일 위치' })
  t.match((await cli(['validate', dir])).stderr, /key 'wizard.path.description' has different \{parameters\} in en and ko/)
  // A language MCCS does not offer.
  m.locales = { en: 'locales/en.json', fr: 'locales/fr.json' }
  fs.writeFileSync(manifestFile, JSON.stringify(m, null, 2))
  t.match((await cli(['validate', dir])).stderr, /\/locales\/fr: is not a manifest field/)

  // Complete: accepted, and the host's loader carries the texts.
  m.locales = { en: 'locales/en.json', ko: 'locales/ko.json' }
  fs.writeFileSync(manifestFile, JSON.stringify(m, null, 2))
  write('ko', { displayName: '내 타입', 'wizard.path.title': '경로', 'wizard.path.description': '표시 파일 위치 ({example})' })
  const ok = await cli(['validate', dir])
  t.equal(ok.code, 0, ok.stderr)
  const loaded = await loadPluginDir(dir)
  t.equal(loaded.locales?.ko?.['wizard.path.title'], '경로')

  // A heading the wizard groups fields under (x-mccs.group) is a text to translate too.
  m.wizard = {
    type: 'object',
    properties: { path: { type: 'string', title: 'Path', description: 'Where the marker lives', 'x-mccs': { group: 'Marker file' } } },
  }
  fs.writeFileSync(manifestFile, JSON.stringify(m, null, 2))
  const noHeading = await cli(['validate', dir])
  t.equal(noHeading.code, 1, 'a heading without its text is refused')
  t.match(noHeading.stderr, /key 'wizardGroup.Marker file' is missing in locale 'en'/)
  write('en', { ...en, 'wizardGroup.Marker file': 'Marker file' })
  write('ko', {
    displayName: '내 타입',
    'wizard.path.title': '경로',
    'wizard.path.description': '표시 파일 위치 ({example})',
    'wizardGroup.Marker file': '표시 파일',
  })
  const withHeading = await cli(['validate', dir])
  t.equal(withHeading.code, 0, withHeading.stderr)
  t.equal((await loadPluginDir(dir)).locales?.ko?.['wizardGroup.Marker file'], '표시 파일')
})
