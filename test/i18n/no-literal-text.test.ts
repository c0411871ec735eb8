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
/** A state's code given to badge() (states.ts LOOK): shown through its ui.state.* word, not as written. */
const STATE_CODES = new Set([
  'online',
  'partial',
  'degraded',
  'onlining',
  'offlining',
  'offline',
  'faulted',
  'unknown',
  'up',
  'member',
  'down',
  'lost',
  'fenced',
])
/** Where a choice between texts hides English: a detail row's value ([tr('ui.d.x'), …]) and a state badge's
 *  words (badge(state, detail, text)) — `up ? 'connected' : 'not connected'` was English in the Quorum tab. */
const CHOICES: Array<[string, RegExp]> = [
  ['detail value', /\[\s*tr\('[^']+'\)\s*,([^\]\n]*)/g],
  ['badge words', /\bbadge\(([^;\n]*)/g],
]
/** A quoted text and what stands right before it: a key (tr('…')), an element (h('td')), a join, a
 *  comparison or a property ({ class: 'x' }: a label or a title is checked by POSITIONS) is code, not text. */
const LITERAL =
  /(?<pre>\b(?:tr|trOr|trSaid|h|join|includes|startsWith|endsWith)\(\s*|[=!]==?\s*|\b[\w-]+:\s*)?(?<lit>(?<q>['`])(?:(?!\k<q>)[^\\\n]|\\.)*\k<q>)/g

function choicesIn(code: string): string[] {
  const out: string[] = []
  for (const [what, re] of CHOICES)
    for (const m of code.matchAll(re))
      for (const l of m[1]!.matchAll(LITERAL)) {
        if (l.groups!.pre) continue
        let own = l.groups!.lit!
        for (let prev = ''; prev !== own;) [prev, own] = [own, own.replace(/\$\{[^{}]*\}/g, '')]
        if (!/[A-Za-z]{3}/.test(own.replace(/\bMCCS\b/g, '')) || own.includes('${')) continue
        if (STATE_CODES.has(own.slice(1, -1)) || /^['`](?:ui|cli|err|said|time)\.[\w.-]+['`]$/.test(own)) continue // a code, a key
        const line = code.slice(0, m.index).split('\n').length
        out.push(`${line}: ${what}: ${m[0].replace(/\s+/g, ' ').slice(0, 90)}`)
        break
      }
  return out
}

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
      if (what === 'badge words' && STATE_CODES.has(own.slice(1, -1))) continue
      const line = code.slice(0, m.index).split('\n').length
      out.push(`${line}: ${what}: ${m[0].replace(/\s+/g, ' ').slice(0, 90)}`)
    }
  }
  return [...out, ...choicesIn(code)]
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
  t.equal(englishIn(`[tr('ui.d.holder'), q.holder?.length ? q.holder.join(', ') : 'no partition holds the vote'],`).length, 1)
  t.equal(englishIn(`[tr('ui.d.quorum-server'), cfg ? x : 'configured'],`).length, 1)
  t.equal(englishIn(`badge(up ? 'up' : 'down', undefined, up ? 'connected' : 'not connected')`).length, 1)
  t.equal(englishIn(`badge(m.quorate ? 'up' : 'down', m.quorate ? 'quorate' : 'no quorum')`).length, 1)
  t.equal(englishIn(`badge(x.up ? 'up' : 'down')`).length, 0, 'state codes are not text')
  t.equal(englishIn(`[tr('ui.d.holder'), q.holder?.length ? q.holder.join(', ') : tr('ui.d.noHolder')],`).length, 0)
})
