// Issue 18, What 8 / acceptance 3: the locale files agree. A key in one locale only, a parameter set that
// differs between locales, a key the code uses that no locale has, or a catalogue code without its text
// each fail here, naming the key and the locale.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { dictionary, LOCALES } from '../../core/i18n/messages.js'
import { CATALOGUE } from '../../core/errors.js'
import { packageRoot } from '../../core/paths.js'
import { dictProblems, missingKeys, sourceFiles, keysUsed, type Dicts } from './check.js'

const dicts: Dicts = Object.fromEntries(LOCALES.map((l) => [l, { ...dictionary(l) }]))

t.test('every key is in every locale, with the same parameters', async (t) => {
  t.same(dictProblems(dicts), [])
})

t.test('every key the code looks up is in every locale', async (t) => {
  const files = sourceFiles(packageRoot())
  const used = files.flatMap((f) => keysUsed(readFileSync(f, 'utf8')))
  t.ok(used.length > 100, `the scan finds the code's keys (${used.length})`)
  t.same(missingKeys(dicts, files), {})
})

t.test('every catalogue code has its message in every locale', async (t) => {
  for (const l of LOCALES) {
    const missing = Object.keys(CATALOGUE).filter((c) => !Object.hasOwn(dicts[l]!, `err.${c}`))
    t.same(missing, [], `${l}: codes without err.<code>`)
  }
})

t.test('the checks fail on a broken copy (they are not vacuous)', async (t) => {
  const broken: Dicts = { en: { ...dicts.en, 'ui.only.en': 'x {a}' }, ko: { ...dicts.ko } }
  broken.ko!['ui.only.ko'] = '가'
  broken.ko!['err.MCCS_ERR_INVALID'] = '{field} 입력값이 올바르지 않습니다'
  const p = dictProblems(broken)
  t.ok(p.includes('ui.only.en: missing in ko (present in en)'), 'a key in en only')
  t.ok(p.includes('ui.only.ko: missing in en (present in ko)'), 'a key in ko only')
  t.ok(
    p.some((x) => x.startsWith('err.MCCS_ERR_INVALID: parameters differ')),
    'a parameter only one locale has',
  )
  t.same(keysUsed("x = tr('ui.menu.file'); y = t(loc, 'cli.status.title', {n: 1}); z = { labelKey: 'ui.cmd.online' }"), [
    'ui.menu.file',
    'cli.status.title',
    'ui.cmd.online',
  ])
  t.same(
    keysUsed("w = { id: ready ? 'said.q.inView' : 'said.q.notAKey', params: {} }; v = msg('said.lic.none', {}, 'x')"),
    ['said.lic.none', 'said.q.inView', 'said.q.notAKey', 'said.lic.none'],
    "the agent's words: said.* keys wherever written",
  )
  t.same(missingKeysIn(dicts, "x = { id: 'said.q.notAKey' }"), ['said.q.notAKey'], 'a said key no locale has is found')
})

const missingKeysIn = (d: Dicts, text: string) => keysUsed(text).filter((k) => Object.values(d).some((x) => !Object.hasOwn(x, k)))

t.test('every built-in plugin and example with locale files loads (all keys in every declared locale)', async (t) => {
  const { loadPluginLocales } = await import('../../core/plugins/plugin-locales.js')
  const { validateManifest } = await import('../../core/plugins/manifest.js')
  const { readdirSync, existsSync } = await import('node:fs')
  const path = await import('node:path')
  const dirs = ['plugins', 'examples'].flatMap((top) =>
    readdirSync(path.join(packageRoot(), top)).map((d) => path.join(packageRoot(), top, d)),
  )
  let withLocales = 0
  for (const dir of dirs.filter((d) => existsSync(path.join(d, 'plugin.json')))) {
    const m = validateManifest(JSON.parse(readFileSync(path.join(dir, 'plugin.json'), 'utf8')), dir)
    const l = await loadPluginLocales(dir, m)
    if (Object.keys(l).length) withLocales++
  }
  t.ok(withLocales >= 6, `plugins with their own ko and en texts: ${withLocales}`)
})

t.test('every built-in type with a wizard speaks Korean: a title for each of its fields, its name and description', async (t) => {
  const { readdirSync, existsSync } = await import('node:fs')
  const path = await import('node:path')
  const root = path.join(packageRoot(), 'plugins')
  for (const d of readdirSync(root)) {
    const file = path.join(root, d, 'plugin.json')
    if (!existsSync(file)) continue
    const m = JSON.parse(readFileSync(file, 'utf8')) as {
      wizard?: { properties?: Record<string, unknown> }
      locales?: Record<string, string>
    }
    if (!m.wizard?.properties) continue
    const ko = m.locales?.ko ? (JSON.parse(readFileSync(path.join(root, d, m.locales.ko), 'utf8')) as Record<string, string>) : {}
    const missing = ['displayName', 'description', ...Object.keys(m.wizard.properties).map((k) => `wizard.${k}.title`)].filter(
      (k) => !ko[k],
    )
    t.same(missing, [], `${d}: Korean texts`)
  }
})
