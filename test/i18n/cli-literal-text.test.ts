// Issue 18, What 8 / acceptance 3, for the command line: no English text written in core/cli's code where the
// user reads it — io.out/io.err, a prompt written to the terminal, a usage constant — outside the locale files
// (t(locale, key)). A heuristic over the source, as test/i18n/no-literal-text.test.ts is for the console: a
// command line (`mccs setup --join`), a flag or a ${value} is not text. Any spot fails.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'

const WORDY = String.raw`(?<lit>(?<q>['\`])(?=[^'\`]*[A-Za-z]{3})(?:(?!\k<q>)[^\\\n]|\\.)*\k<q>)`
const POSITIONS: Array<[string, RegExp]> = [
  ['output', new RegExp(String.raw`\bio\.(?:out|err)\(\s*` + WORDY, 'g')],
  ['prompt', new RegExp(String.raw`process\.std(?:out|err)\.write\(\s*` + WORDY, 'g')],
  ['usage', new RegExp(String.raw`export const [A-Z_]*USAGE\s*=\s*` + WORDY, 'g')],
]

/** The English text in a CLI source file, one line per spot (line: kind: the code). */
export function cliEnglishIn(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  const out: string[] = []
  for (const [what, re] of POSITIONS) {
    for (const m of code.matchAll(re)) {
      let own = m.groups!.lit!
      for (let prev = ''; prev !== own;) [prev, own] = [own, own.replace(/\$\{[^{}]*\}/g, '')]
      // A command line and its flags are the same in every language.
      own = own.replace(/\bmccs(?: [a-z][a-z0-9-]*)?/g, '').replace(/--[a-z][a-z-]*/g, '')
      if (!/[A-Za-z]{3}/.test(own) || own.includes('${')) continue
      const line = code.slice(0, m.index).split('\n').length
      out.push(`${line}: ${what}: ${m[0].replace(/\s+/g, ' ').slice(0, 90)}`)
    }
  }
  return out
}

/** Still English (docs/i18n.md, "Still English"): at most this many spots per file. None left: every command's
 *  own text is in the locale files (what the agent answers, a summary or a reason, stays the agent's). */
const STILL_ENGLISH: Record<string, number> = {}

t.test('the CLI files print no English text of their own, beyond the commands still listed as English', async (t) => {
  const dir = path.join(packageRoot(), 'core/cli')
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'))
  t.ok(files.length > 30, `${files.length} files`)
  const over: Record<string, string[]> = {}
  for (const f of files) {
    const hits = cliEnglishIn(readFileSync(path.join(dir, f), 'utf8'))
    if (hits.length > (STILL_ENGLISH[f] ?? 0)) over[f] = hits
  }
  t.same(over, {}, 'a file here prints English the locale files should hold (core/i18n/en.json and ko.json)')
})

t.test('the check finds English where it is, and not in a command line or a translated text', async (t) => {
  t.equal(cliEnglishIn("io.err('nothing written')").length, 1)
  t.equal(cliEnglishIn('io.out(`joined cluster ${c} as ${n}`)').length, 1)
  t.equal(cliEnglishIn("process.stdout.write('Cluster name: ')").length, 1)
  t.equal(cliEnglishIn("export const X_USAGE = 'usage: mccs x <file>'").length, 1)
  t.equal(cliEnglishIn("io.out(t(l, 'cli.setup.next'))").length, 0)
  t.equal(cliEnglishIn('io.out(`  mccs setup --join ${a} --token-file -`)').length, 0)
  t.equal(cliEnglishIn('io.err(`mccs setup: ${e.message}`)').length, 0)
  t.equal(cliEnglishIn('io.err(`mccs ec2-sim: ${e.message}`)').length, 0, 'a command name with a digit')
})
