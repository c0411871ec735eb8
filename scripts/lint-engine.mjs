// Lint: core/engine is pure. It may import only other engine files, ../errors.js and type-only
// imports from the SDK; no Node builtins, no packages, and no clock, randomness or timers.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'

const dir = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../core/engine')
const files = []
const walk = (d) => { for (const f of readdirSync(d)) { const p = path.join(d, f); statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && files.push(p) } }
walk(dir)
const problems = []
const importRe = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]/gm
const banned = [
  [/\bDate\.now\s*\(|\bnew Date\s*\(/, 'reads the clock (time is an input: `now`)'],
  [/\bMath\.random\s*\(/, 'uses randomness (plans must be deterministic)'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'uses timers'],
  [/\bprocess\./, 'touches process'],
  [/\bconsole\./, 'writes to the console'],
  [/\bperformance\.now\s*\(/, 'reads the clock'],
]
for (const f of files) {
  const src = readFileSync(f, 'utf8')
  const rel = path.relative(process.cwd(), f)
  const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1')
  for (const m of code.matchAll(importRe)) {
    const spec = m[3] ?? m[4] ?? m[5] ?? m[6]
    const typeOnly = !!m[2]
    const resolved = spec.startsWith('.') ? path.resolve(path.dirname(f), spec) : null
    const ok = resolved && (resolved.startsWith(dir + path.sep) || resolved === path.resolve(dir, '../errors.js') ||
      (typeOnly && resolved.includes(`${path.sep}sdk${path.sep}src${path.sep}`)))
    if (!ok) problems.push(`${rel}: imports '${spec}'${typeOnly ? ' (type)' : ''}: the engine may import only engine files, ../errors.js and SDK types`)
  }
  code.split('\n').forEach((line, i) => {
    for (const [re, why] of banned) if (re.test(line)) problems.push(`${rel}:${i + 1}: ${why}`)
  })
}
if (problems.length) {
  console.error(`core/engine must stay pure (ARCHITECTURE.md "Rule of the house"):\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(`lint: core/engine is pure (${files.length} files checked)`)
