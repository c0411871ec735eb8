// Layer lint (`npm run lint`): the folders of the repository form layers, and imports only go down.
//   node scripts/lint-layers.mjs [root]     (root: the repository; a test runs it on a copy)
// Rules, each printed with the file and line that breaks it:
//   1. A folder imports its own files and folders of lower layers only (types count: a type import is a
//      dependency too). Folders of one layer are independent of each other. A core folder in no layer fails.
//   2. Also forbidden although lower: the cluster imports no engine (the heartbeat and the role speak of
//      membership and hb.json, never of decisions).
//   3. Outside core/engine only its public surface, core/engine/index.ts, is imported.
//   4. No import circle between files (value, type and dynamic imports alike).
//   5. core/engine is pure: it imports only engine files, ../errors.js and SDK types; no Node builtins, no
//      packages, and no clock, randomness, timers, process or console.
//   6. A plugin or example (plugins/*/src, examples/*/src) imports only the SDK and its own files.
//   7. No unused barrel: a core/**/index.ts that no source imports goes (a second door nobody uses).
// The layers, lowest first. Keep docs/layers.md in step with this table.
export const LAYERS = [
  ['sdk'], // sdk/src: the plugin contract (types and capability shapes); imports nothing from core
  ['i18n'], // core/i18n: the locale files (ko, en), t(), locale choice, the one date/time format; imports nothing from core
  ['base'], // core/errors.ts, core/paths.ts, core/line-reader.ts: the error catalogue and small helpers
  ['engine'], // core/engine: pure decisions (state + event + now → state + plan)
  ['log'], // core/log: the structured log, the operation log, redaction of secrets
  ['config'], // core/config: bootstrap settings, main.json / hb.json schemas, validation, the atomic store
  ['cluster', 'executor', 'support', 'ec2sim'], // heartbeat, role, quorum, peer channel | plan runner | support bundles | EC2 simulator
  ['license', 'mirror'], // licences (leases signed with the cluster key) | the mirror disk's volumes (TLS from the cluster)
  ['plugins', 'setup'], // core/plugins: the plugin host, sandbox and capabilities | core/setup: first setup, join, uninstall
  ['agent'], // core/agent: the node's agent around the engine
  ['api'], // core/api: the control socket
  ['console'], // core/console: the web console (front end)
  ['cli'], // core/cli: the mccs command (front end, the process entry: starts agent, socket and console)
  ['kit'], // <workspace>/src of the other workspace packages (sdk/plugin-kit): a tool above the host it runs
]
/** Lower than the importer, but still not to be imported by it. */
const NOT_BELOW = { cluster: { engine: 'the cluster layer must not depend on the engine' } }

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

const here = import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname)
const root = path.resolve(process.argv[2] ?? path.join(here, '..'))
const rank = new Map(LAYERS.flatMap((l, i) => l.map((u) => [u, i])))
const rel = (p) => path.relative(root, p).split(path.sep).join('/')

// ---- which files, and the unit (folder) each belongs to ----
const files = []
const walk = (d) => {
  if (!existsSync(d)) return
  for (const f of readdirSync(d)) {
    if (f === 'node_modules' || f === 'dist') continue
    const p = path.join(d, f)
    if (statSync(p).isDirectory()) walk(p)
    else if (/\.(m|c)?tsx?$/.test(f) && !f.endsWith('.d.ts')) files.push(p)
  }
}
walk(path.join(root, 'core'))
walk(path.join(root, 'sdk/src'))
for (const top of ['plugins', 'examples']) {
  const d = path.join(root, top)
  if (existsSync(d)) for (const p of readdirSync(d)) walk(path.join(d, p, 'src'))
}
// The other workspace packages (the plugin kit), from the root package.json.
const pkg = existsSync(path.join(root, 'package.json')) ? JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) : {}
const kitDirs = (pkg.workspaces ?? []).filter((w) => w !== 'sdk').map((w) => `${w.replace(/\/$/, '')}/src`)
for (const d of kitDirs) walk(path.join(root, d))

/** {unit, label}: unit is the layer table's name; label names it in messages. */
function unitOf(file) {
  const r = rel(file).split('/')
  if (r[0] === 'core') return r.length === 2 ? { unit: 'base', dir: 'core' } : { unit: r[1], dir: `core/${r[1]}` }
  if (r[0] === 'sdk' && r[1] === 'src') return { unit: 'sdk', dir: 'sdk/src' }
  if (r[0] === 'plugins' || r[0] === 'examples') return { unit: 'plugin', dir: r.slice(0, 3).join('/') }
  const kit = kitDirs.find((d) => rel(file).startsWith(`${d}/`))
  if (kit) return { unit: 'kit', dir: kit }
  return null // outside the linted sources (tests, scripts): no rule
}

// ---- the imports of one file ----
function importsOf(file, text) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS)
  const out = []
  const line = (n) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1
  const add = (node, spec, typeOnly) => out.push({ spec, typeOnly, line: line(node) })
  const visit = (n) => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : null
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)))
      add(n, n.moduleSpecifier.text, typeOnly)
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      const named = n.exportClause && ts.isNamedExports(n.exportClause) ? n.exportClause.elements : null
      add(n, n.moduleSpecifier.text, n.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)))
    } else if (
      ts.isImportEqualsDeclaration(n) &&
      ts.isExternalModuleReference(n.moduleReference) &&
      ts.isStringLiteral(n.moduleReference.expression)
    ) {
      add(n, n.moduleReference.expression.text, n.isTypeOnly)
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      add(n, n.argument.literal.text, true)
    } else if (
      ts.isCallExpression(n) &&
      n.arguments.length >= 1 &&
      ts.isStringLiteralLike(n.arguments[0]) &&
      (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))
    ) {
      add(n, n.arguments[0].text, false)
    }
    ts.forEachChild(n, visit)
  }
  visit(sf)
  return { sf, imports: out }
}

/** The file a relative specifier names (`./x.js` is `./x.ts` in the sources), or its path if none exists. */
function resolve(from, spec) {
  const p = path.resolve(path.dirname(from), spec)
  const stem = p.replace(/\.(m|c)?js$/, '')
  for (const c of [`${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, p, `${p}.ts`, path.join(p, 'index.ts')]) {
    if (existsSync(c) && statSync(c).isFile()) return c
  }
  return p
}

// ---- engine purity: what a pure function may not touch ----
const IMPURE = [
  [
    (n) => ts.isPropertyAccessExpression(n) && isId(n.expression, 'Date') && n.name.text === 'now',
    'reads the clock (time is an input: `now`)',
  ],
  [(n) => ts.isNewExpression(n) && isId(n.expression, 'Date'), 'reads the clock (time is an input: `now`)'],
  [(n) => ts.isPropertyAccessExpression(n) && isId(n.expression, 'performance') && n.name.text === 'now', 'reads the clock'],
  [
    (n) => ts.isPropertyAccessExpression(n) && isId(n.expression, 'Math') && n.name.text === 'random',
    'uses randomness (plans must be deterministic)',
  ],
  [
    (n) => ts.isCallExpression(n) && ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask'].some((f) => isId(n.expression, f)),
    'uses timers',
  ],
  [(n) => ts.isPropertyAccessExpression(n) && isId(n.expression, 'process'), 'touches process'],
  [(n) => ts.isPropertyAccessExpression(n) && isId(n.expression, 'console'), 'writes to the console'],
]
const isId = (n, name) => ts.isIdentifier(n) && n.text === name

const problems = []
const fileSet = new Set(files)
const graph = new Map() // file → files it imports (for circles)
const engineDir = path.join(root, 'core', 'engine')
const engineDoor = path.join(engineDir, 'index.ts')
const errorsFile = path.join(root, 'core', 'errors.ts')

for (const f of files) {
  const from = unitOf(f)
  const name = rel(f)
  if (from.unit !== 'plugin' && !rank.has(from.unit)) {
    problems.push(`${name}: ${from.dir} is in no layer (add it to LAYERS in scripts/lint-layers.mjs and to docs/layers.md)`)
    continue
  }
  const { sf, imports } = importsOf(f, readFileSync(f, 'utf8'))
  const edges = new Set()
  graph.set(f, edges)
  for (const im of imports) {
    const at = `${name}:${im.line}`
    const relative = im.spec.startsWith('.')
    const target = relative ? resolve(f, im.spec) : null
    if (target && fileSet.has(target)) edges.add(target)

    if (from.unit === 'engine') {
      const ok =
        target && (target.startsWith(engineDir + path.sep) || target === errorsFile || (im.typeOnly && rel(target).startsWith('sdk/src/')))
      if (!ok)
        problems.push(
          `${at}: imports '${im.spec}'${im.typeOnly ? ' (type)' : ''}: the engine may import only engine files, ../errors.js and SDK types`,
        )
      continue
    }
    if (from.unit === 'plugin') {
      const ok = !relative
        ? !/^(\.|\/)/.test(im.spec) && !im.spec.startsWith('mccs')
        : target.startsWith(path.join(root, from.dir) + path.sep) || rel(target).startsWith('sdk/src/')
      if (!ok) problems.push(`${at}: a plugin imports only the sdk and its own files, not ${relative ? rel(target) : im.spec}`)
      continue
    }
    if (!target) {
      if (im.spec === '@mccs/sdk' || im.spec.startsWith('@mccs/sdk/')) check(at, from, { unit: 'sdk', dir: 'sdk/src' }, im.spec)
      continue
    }
    const to = unitOf(target)
    if (!to) continue // tests, scripts: not imported by sources, and tsc says if they are
    if (to.unit === from.unit) continue
    if (to.unit === 'engine' && target !== engineDoor) {
      problems.push(`${at}: imports ${rel(target)}: outside the engine only its public surface (core/engine/index.ts) is imported`)
    }
    check(at, from, to, rel(target))
  }
  if (from.unit === 'engine') {
    const visit = (n) => {
      for (const [is, why] of IMPURE)
        if (is(n)) problems.push(`${name}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${why}`)
      ts.forEachChild(n, visit)
    }
    visit(sf)
  }
}

function check(at, from, to, what) {
  const a = rank.get(from.unit)
  const b = rank.get(to.unit)
  if (to.unit === 'plugin')
    problems.push(`${at}: ${from.unit} imports a plugin (${what}): plugins are loaded by the plugin host, never imported`)
  else if (b === undefined)
    return // reported once, as the folder in no layer
  else if (b > a) problems.push(`${at}: ${from.unit} imports ${to.unit} (${what}): ${to.unit} is in a higher layer`)
  else if (b === a)
    problems.push(
      `${at}: ${from.unit} imports ${to.unit} (${what}): ${to.unit} is in the same layer (folders of one layer are independent)`,
    )
  else if (NOT_BELOW[from.unit]?.[to.unit])
    problems.push(`${at}: ${from.unit} imports ${to.unit} (${what}): ${NOT_BELOW[from.unit][to.unit]}`)
}

// ---- unused barrels ----
{
  const imported = new Set([...graph.values()].flatMap((e) => [...e]))
  for (const f of files) {
    if (path.basename(f) === 'index.ts' && rel(f).startsWith('core/') && !imported.has(f)) {
      problems.push(`${rel(f)}: an unused barrel (no source imports it): remove it, or import through it`)
    }
  }
}

// ---- import circles: strongly connected components of the file graph (Tarjan, iterative) ----
{
  let index = 0
  const idx = new Map(),
    low = new Map(),
    onStack = new Set(),
    stack = []
  for (const start of graph.keys()) {
    if (idx.has(start)) continue
    const work = [[start, [...graph.get(start)].values()]]
    idx.set(start, index)
    low.set(start, index)
    index++
    stack.push(start)
    onStack.add(start)
    while (work.length) {
      const [v, it] = work[work.length - 1]
      const next = it.next()
      if (!next.done) {
        const w = next.value
        if (!graph.has(w)) continue
        if (!idx.has(w)) {
          idx.set(w, index)
          low.set(w, index)
          index++
          stack.push(w)
          onStack.add(w)
          work.push([w, [...graph.get(w)].values()])
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)))
        continue
      }
      work.pop()
      if (work.length) {
        const u = work[work.length - 1][0]
        low.set(u, Math.min(low.get(u), low.get(v)))
      }
      if (low.get(v) === idx.get(v)) {
        const scc = []
        let w
        do {
          w = stack.pop()
          onStack.delete(w)
          scc.push(w)
        } while (w !== v)
        if (scc.length > 1 || graph.get(v).has(v)) problems.push(`import circle: ${circleOf(new Set(scc))}`)
      }
    }
  }
}

/** One cycle through the component, from its first file in name order: a → b → … → a. */
function circleOf(scc) {
  const first = [...scc].sort((x, y) => rel(x).localeCompare(rel(y)))[0]
  const prev = new Map([[first, null]])
  const queue = [first]
  while (queue.length) {
    const v = queue.shift()
    for (const w of [...graph.get(v)].sort()) {
      if (!scc.has(w)) continue
      if (w === first) {
        const cycle = [first]
        for (let u = v; u !== null; u = prev.get(u)) cycle.unshift(u)
        return cycle.map(rel).join(' → ')
      }
      if (!prev.has(w)) {
        prev.set(w, v)
        queue.push(w)
      }
    }
  }
  return [...scc].map(rel).join(', ')
}

if (problems.length) {
  console.error(`Layer lint (scripts/lint-layers.mjs; the layers: docs/layers.md):\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(`lint: layers: ${files.length} files checked; no upward import, no import circle, core/engine is pure`)
