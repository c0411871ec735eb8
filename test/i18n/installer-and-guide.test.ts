// Issue 18, What 8 / acceptance 3, beyond core/: the words a user reads that are not in core/i18n's locale
// files keep both languages too. install.sh runs before any Node does, so its texts are a table in the
// script (msg()): every line it prints goes through say()/die() with a key that has a Korean and an English
// text with the same %s count, and nothing is printed outside that table. The console guide (Help → Help)
// is two files, docs/console-guide.md and docs/console-guide.ko.md: the Korean one keeps the English one's
// shape (sections, tables, lists, code, pictures and links), so a section added to one only fails here.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'
import { parseMarkdown } from '../../core/console/ui/markdown.js'

const root = packageRoot()
const script = readFileSync(path.join(root, 'scripts/install.sh'), 'utf8')

/** The texts of msg(): key -> language -> text. */
function table(script: string): Map<string, Map<string, string>> {
  const body = /^msg\(\) \{\n {2}case "\$L:\$1" in\n([\s\S]*?)\n {4}\*\)/m.exec(script)?.[1] ?? ''
  const out = new Map<string, Map<string, string>>()
  for (const line of body.split('\n')) {
    const m = /^ {4}(ko|en):(\w+)\) printf '%s' (['"])(.*)\3 ;;$/.exec(line)
    if (!m) throw new Error(`not a text of msg(): ${line}`)
    const [, l, key, , text] = m
    if (!out.has(key!)) out.set(key!, new Map())
    out.get(key!)!.set(l!, text!)
  }
  return out
}

t.test('lint: every word install.sh says is in its table, in Korean and in English', async (t) => {
  const texts = table(script)
  t.ok(texts.size >= 10, `${texts.size} texts`)
  for (const [key, by] of texts) {
    t.same([...by.keys()].sort(), ['en', 'ko'], `${key}: both languages`)
    const n = (s: string | undefined) => (s ?? '').split('%s').length
    t.equal(n(by.get('ko')), n(by.get('en')), `${key}: the same %s count`)
    if (key !== 'ask') t.match(by.get('ko'), /[가-힣]/, `${key}: Korean in Korean`)
  }
  const outside = script.slice(script.indexOf('\nsay() {'))
  const used = [...outside.matchAll(/\b(?:say|die) (\w+)/g)].map((m) => m[1]!)
  t.ok(used.length >= 10, `${used.length} uses`)
  t.same(
    used.filter((k) => !texts.has(k)),
    [],
    'every key said is in the table',
  )
  t.same(
    [...texts.keys()].filter((k) => k !== 'ask' && !used.includes(k)),
    [],
    'no text left unused',
  )
  // Nothing printed by hand outside msg(): echo only inside lang_of (a language code), printf only the prompt,
  // say's own format and die's prefix.
  const free = outside
    .split('\n')
    .filter((l) => /\becho\b|\bprintf\b/.test(l))
    .filter((l) => !/^lang_of\(\)|^say\(\) \{|^die\(\) \{|printf '%s' "\$\(msg ask\)"|printf '%s' "\$1" \| tr/.test(l.trim()))
  t.same(free, [], 'no line printed outside say()')
})

t.test("lint: the Debian package's maintainer scripts say their lines in Korean and in English", async (t) => {
  const { DEB_SCRIPTS } = await import('../../scripts/package.js')
  for (const [name, text] of Object.entries(DEB_SCRIPTS)) {
    // Nothing printed outside the table (echo of a fixed text, a printf of its own).
    const free = text
      .split('\n')
      .filter((l) => /\becho\b|\bprintf\b/.test(l))
      .filter((l) => !/^\s+(?:ko|en):\w+\) printf '%s' |^\s+\*\) printf '%s' "\$1" ;;$|^say\(\) \{|^case "\$\(printf '%s' /.test(l))
    t.same(free, [], `${name}: no line printed outside say()`)
    if (!text.includes('say ')) continue
    const texts = table(text)
    const used = [...text.slice(text.indexOf('\nsay() {')).matchAll(/\bsay (\w+)/g)].map((m) => m[1]!)
    t.ok(used.length > 0, `${name} says ${used.join(', ')}`)
    for (const k of used) {
      t.same([...(texts.get(k)?.keys() ?? [])].sort(), ['en', 'ko'], `${name}: ${k} in both languages`)
      t.match(texts.get(k)?.get('ko'), /[가-힣]/, `${name}: ${k} in Korean`)
    }
  }
})

t.test("the Korean guide keeps the English one's shape: sections, tables, code, pictures and links", async (t) => {
  const read = (f: string) => readFile(path.join(packageRoot(), 'docs', f), 'utf8')
  const [en, ko] = [parseMarkdown(await read('console-guide.md')), parseMarkdown(await read('console-guide.ko.md'))]
  const shape = (bs: ReturnType<typeof parseMarkdown>) =>
    bs.map((b) =>
      b.t === 'heading' ? `h${b.level}` : b.t === 'table' ? `table${b.rows.length}` : b.t === 'list' ? `list${b.items.length}` : b.t,
    )
  t.same(shape(ko), shape(en), 'the same blocks in the same order')
  const code = (bs: ReturnType<typeof parseMarkdown>) =>
    bs.filter((b) => b.t === 'code').map((b) => (b as { text: string }).text.split('#')[0]!.trim())
  t.same(
    code(ko).map((x) => x.replace('<노드>', '<node>')),
    code(en),
    'the same commands',
  )
  const targets = (md: string) => [...md.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!.replace(/-ko\.png$/, '.png')).sort()
  t.same(
    targets(await read('console-guide.ko.md')),
    targets(await read('console-guide.md')),
    'the same pictures and links (Korean screenshots where they exist)',
  )
  for (const m of (await read('console-guide.ko.md')).matchAll(/\]\((screenshots\/[^)]+)\)/g))
    t.ok(
      await readFile(path.join(packageRoot(), 'docs', m[1]!)).then(
        () => true,
        () => false,
      ),
      `${m[1]} exists`,
    )
})
