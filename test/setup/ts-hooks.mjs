// Module hooks for test processes: TypeScript through esbuild, one file at a time (registered by ts-loader.mjs).
// Why not tap's default ts-node: its per-file transpile made loading a test file cost several CPU-seconds
// before the first assertion (timeline.test: ~6.8 CPU-s with ts-node, ~1 with this), over 234 files about a
// quarter of the suite's wall time. Why not tsx: it minifies whitespace (its output is a few very long
// lines), and the coverage of such code, mapped back through the source map, read 100 % for every file.
// esbuild keeps one output line per statement, so the coverage is mapped as with ts-node.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { transform } from 'esbuild'

// The project's own compiler options: esbuild takes the ones that change emitted code (target, which sets
// class-field semantics; verbatimModuleSyntax, which decides whether type-only imports are dropped).
const compilerOptions = JSON.parse(readFileSync(new URL('../../tsconfig.json', import.meta.url), 'utf8')).compilerOptions
const TS = /\.(?:ts|mts)$/

/** Sources import `./x.js` for `./x.ts` (NodeNext); resolve to the .ts file when no .js file is there. */
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context)
  } catch (e) {
    const parent = context.parentURL ?? ''
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !/\.m?js$/.test(specifier) || !/^(?:\.|\/|file:)/.test(specifier) || !TS.test(parent)) throw e
    return nextResolve(specifier.replace(/js$/, 'ts'), context)
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !TS.test(new URL(url).pathname)) return nextLoad(url, context)
  // Read through the next hooks (tap's processinfo records the file there), as 'module': Node would refuse .ts.
  const raw = await nextLoad(url, { ...context, format: 'module' })
  const out = await transform(String(raw.source), {
    loader: 'ts',
    format: 'esm',
    target: `node${process.versions.node}`,
    sourcemap: 'inline',
    sourcefile: fileURLToPath(url),
    tsconfigRaw: { compilerOptions },
  })
  return { format: 'module', source: out.code, shortCircuit: true }
}
