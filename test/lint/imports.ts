// What a source file imports: static and dynamic imports, re-exports, require(). Comments are
// dropped first so a commented-out import does not count; imports written inside string literals
// (the CLI's `init` templates) are not at the start of a line and do not match.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import path from 'node:path'

export interface ImportRef {
  file: string
  spec: string
  typeOnly: boolean
  resolved: string | null
}

const importRe =
  /^\s*(?:import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]/gm
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/

export function importsOf(file: string): ImportRef[] {
  const code = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1')
  const out: ImportRef[] = []
  for (const m of code.matchAll(importRe)) {
    const spec = (m[2] ?? m[3] ?? m[4] ?? m[5])!
    out.push({ file, spec, typeOnly: !!m[1], resolved: spec.startsWith('.') ? path.resolve(path.dirname(file), spec) : null })
  }
  return out
}

/** Source files under `dir` (bin scripts without an extension too), skipping node_modules and `skip`. */
export function sourceFiles(dir: string, skip: string[] = []): string[] {
  const files: string[] = []
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f)
      if (f === 'node_modules' || f === 'dist' || skip.includes(p)) continue
      if (statSync(p).isDirectory()) walk(p)
      else if (SOURCE.test(f) || (path.basename(d) === 'bin' && !f.includes('.'))) files.push(p)
    }
  }
  walk(dir)
  return files.sort()
}

/** The npm package an import names ('@a/b/c' -> '@a/b', 'x/y' -> 'x'); null for relative paths and Node builtins. */
export function packageOf(spec: string): string | null {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)) return null
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

const inside = (p: string, dir: string) => p === dir || p.startsWith(dir + path.sep)
const isTest = (f: string) => f.split(path.sep).includes('test')

/** The imports of the contract package (`sdkDir`, minus the kit inside it) that reach core/, the kit or
 *  anything outside the package; outside its tests, also any package or Node module. */
export function contractViolations(sdkDir: string, coreDir: string, kitDir: string): string[] {
  const problems: string[] = []
  for (const f of sourceFiles(sdkDir, [kitDir])) {
    for (const i of importsOf(f)) {
      const rel = `${path.relative(sdkDir, f)}: imports '${i.spec}'${i.typeOnly ? ' (type)' : ''}`
      if (i.resolved && inside(i.resolved, coreDir)) problems.push(`${rel}: the plugin contract imports nothing from core/`)
      else if (i.resolved && inside(i.resolved, kitDir)) problems.push(`${rel}: the plugin contract imports nothing from the plugin kit`)
      else if (i.resolved && !inside(i.resolved, sdkDir)) problems.push(`${rel}: the plugin contract imports nothing outside its package`)
      else if (isTest(f))
        continue // the contract's own tests may use tap and Node
      else if (packageOf(i.spec)) problems.push(`${rel}: the plugin contract imports no package (the bundle runs in the sandbox)`)
      else if (i.spec.startsWith('node:') || (!i.spec.startsWith('.') && packageOf(i.spec) === null))
        problems.push(`${rel}: the plugin contract imports no Node module (the bundle runs in the sandbox)`)
    }
  }
  return problems
}

/** The packages that code run from `entries` loads: its own imports and those of every file it reaches
 *  by relative imports (type-only imports load nothing). A file under `aliases` counts as that package. */
export function packagesReached(entries: string[], aliases: Record<string, string> = {}): Map<string, string> {
  const found = new Map<string, string>() // package -> first file that imports it
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const i of importsOf(file)) {
      if (i.typeOnly) continue
      if (!i.resolved) {
        const pkg = packageOf(i.spec)
        if (pkg && !found.has(pkg)) found.set(pkg, file)
        continue
      }
      const alias = Object.entries(aliases).find(([, dir]) => inside(i.resolved!, dir))
      if (alias) {
        if (!found.has(alias[0])) found.set(alias[0], file)
        continue
      }
      const ts = i.resolved.replace(/\.js$/, '.ts')
      const target = [ts, i.resolved].find((p) => {
        try {
          return statSync(p).isFile()
        } catch {
          return false
        }
      })
      if (!target) throw new Error(`${file}: cannot find '${i.spec}'`)
      if (SOURCE.test(target)) visit(target)
    }
  }
  for (const e of entries) visit(e)
  return found
}
