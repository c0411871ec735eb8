// Issue 18, acceptance 3: no English text written in the console's code. In every file of core/console/ui a
// text child of h(), a label, title, aria-label or placeholder, a notice, a dialog title, a button caption or
// a textContent must come from tr() (the locale files). A heuristic over the source: it reads the positions
// where a user reads text; docs/i18n.md lists what is still English elsewhere.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'

/** Quoted text with an English word of three letters or more (a code word such as an id or a class is not
 *  text: those are skipped by the positions below, which are where the user reads). */
const WORDY = String.raw`(?<lit>(?<q>['\`])(?=[^'\`]*[A-Za-z]{3})(?:(?!\k<q>)[^\\\n]|\\.)*\k<q>)`
const POSITIONS: Array<[string, RegExp]> = [
  ['text child of h()', new RegExp(String.raw`\bh\(\s*'[a-z0-9]+'\s*,\s*(?:null|\{[^{}]*\})\s*,\s*` + WORDY, 'g')],
  ['attribute', new RegExp(String.raw`(?:\blabel|\btitle|'aria-label'|\bplaceholder)\s*:\s*` + WORDY, 'g')],
  ['notice', new RegExp(String.raw`\bnotify\(\s*` + WORDY, 'g')],
  ['dialog or button', new RegExp(String.raw`\b(?:dialog|button|confirm|message)\(\s*` + WORDY, 'g')],
  ['textContent', new RegExp(String.raw`\.textContent\s*=\s*` + WORDY, 'g')],
]

export function englishIn(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  const out: string[] = []
  for (const [what, re] of POSITIONS) {
    for (const m of code.matchAll(re)) {
      // Only the text outside ${…} counts: `${s.user}` or ` (${code})` shows no words of its own.
      let own = m.groups!.lit!
      for (let prev = ''; prev !== own;) [prev, own] = [own, own.replace(/\$\{[^{}]*\}/g, '')]
      // (A template nested inside ${…} ends the match early; what is left of it is not the text's own.)
      if (!/[A-Za-z]{3}/.test(own.replace(/\bMCCS\b/g, '')) || own.includes('${')) continue // (the product's name stays)
      const line = code.slice(0, m.index).split('\n').length
      out.push(`${line}: ${what}: ${m[0].replace(/\s+/g, ' ').slice(0, 90)}`)
    }
  }
  return out
}

t.test('the console files show no English text of their own', async (t) => {
  const ui = path.join(packageRoot(), 'core/console/ui')
  const found: Record<string, string[]> = {}
  const files = readdirSync(ui).filter((f) => f.endsWith('.ts'))
  t.ok(files.length > 20, `${files.length} files`)
  for (const f of files) {
    const hits = englishIn(readFileSync(path.join(ui, f), 'utf8'))
    if (hits.length) found[f] = hits
  }
  t.same(found, {})
})

t.test('the check finds English where it is', async (t) => {
  t.equal(englishIn(`h('h3', null, 'Recent notices')`).length, 1)
  t.equal(englishIn(`notify(\`license registered on \${n}\`, 'ok')`).length, 1)
  t.equal(englishIn(`{ label: 'Online', id: 'x' }`).length, 1)
  t.equal(englishIn(`button('Register license', f)`).length, 1)
  t.equal(englishIn(`h('h3', null, tr('ui.lic.title'))`).length, 0)
  t.equal(englishIn(`h('span', { class: 'badge' }, '✔')`).length, 0)
})
