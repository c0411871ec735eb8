// The checks the consistency test runs on the locale files and the sources; a function of its inputs so the
// test can also show each check failing on a broken copy.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { paramsOf } from '../../core/i18n/messages.js'

export type Dicts = Record<string, Record<string, string>>

/** Keys in one locale only, parameter sets that differ, empty texts. */
export function dictProblems(d: Dicts): string[] {
  const out: string[] = []
  const locales = Object.keys(d)
  const all = new Set(locales.flatMap((l) => Object.keys(d[l]!)))
  for (const k of [...all].sort()) {
    const have = locales.filter((l) => Object.hasOwn(d[l]!, k))
    for (const l of locales) if (!have.includes(l)) out.push(`${k}: missing in ${l} (present in ${have.join(', ')})`)
    const sets = have.map((l) => [l, paramsOf(d[l]![k]!).join(',')] as const)
    if (new Set(sets.map((s) => s[1])).size > 1) out.push(`${k}: parameters differ: ${sets.map(([l, p]) => `${l} {${p}}`).join(' vs ')}`)
    for (const l of have) if (!d[l]![k]!.trim()) out.push(`${k}: empty in ${l}`)
  }
  return out
}

/** Literal keys the code looks up: t(locale, 'key' …), tr('key' …), and `…Key: 'key'` fields. */
export function keysUsed(text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(/\b(?:t\(\s*[\w.()[\]!?]+\s*,|tr\(|trKey\(|msg\()\s*'([a-z][\w-]*(?:\.[\w-]+)+)'/g)) out.push(m[1]!)
  for (const m of text.matchAll(/\b\w*[kK]ey:\s*'((?:ui|cli|err|time)\.[\w.-]+)'/g)) out.push(m[1]!)
  // What the agent says in words (core/engine/said.ts, the cluster's and the licence's reasons): a said.* key
  // written anywhere as a literal ({ id: 'said.q.minority' }, msg('said.lic.none', …), a ternary of two).
  for (const m of text.matchAll(/'(said\.[A-Za-z][\w-]*(?:\.[\w-]+)*)'/g)) out.push(m[1]!)
  return out
}

/** file → keys used there that no locale has. */
export function missingKeys(d: Dicts, files: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const f of files) {
    const miss = keysUsed(readFileSync(f, 'utf8')).filter((k) => Object.values(d).some((x) => !Object.hasOwn(x, k)))
    if (miss.length) out[f] = [...new Set(miss)]
  }
  return out
}

export function sourceFiles(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      if (f === 'node_modules' || f === 'dist') continue
      const p = path.join(dir, f)
      if (statSync(p).isDirectory()) walk(p)
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p)
    }
  }
  walk(path.join(root, 'core'))
  walk(path.join(root, 'sdk/plugin-kit/src'))
  return out
}
