// The layer lint (scripts/lint-layers.mjs, run by `npm run lint` in `npm test`): the repository passes it,
// and a copy of the sources with forbidden imports added fails it, naming each file, line and rule.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'

const repo = path.resolve(import.meta.dirname, '../..')
const script = path.join(repo, 'scripts/lint-layers.mjs')

function lint(root: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [script, root], { encoding: 'utf8', timeout: 120_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** A copy of what the lint reads: core/, sdk/src, each plugin's and example's src, the other workspaces' src. */
function copyOfSources(t: Tap): string {
  const root = mkdtempSync(path.join(tmpdir(), 'mccs-layers-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const dirs = ['core', 'sdk/src']
  for (const top of ['plugins', 'examples']) {
    for (const p of readdirSync(path.join(repo, top))) dirs.push(`${top}/${p}/src`)
  }
  const workspaces = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).workspaces ?? []) as string[]
  for (const w of workspaces) if (w !== 'sdk') dirs.push(`${w}/src`)
  cpSync(path.join(repo, 'package.json'), path.join(root, 'package.json'))
  for (const d of dirs) if (existsSync(path.join(repo, d))) cpSync(path.join(repo, d), path.join(root, d), { recursive: true })
  return root
}

type Tap = { teardown(fn: () => void): void }

function add(root: string, file: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
  writeFileSync(path.join(root, file), text)
}

t.test('the repository passes the layer lint', async (t) => {
  const r = lint(repo)
  t.equal(r.code, 0, r.err)
  t.match(r.out, /layers: \d+ files checked/)
})

t.test('an unchanged copy passes, so the failures below come from the imports added', async (t) => {
  const r = lint(copyOfSources(t))
  t.equal(r.code, 0, r.err)
})

const forbidden: Array<{ name: string; file: string; text: string; why: RegExp }> = [
  {
    name: 'the console imports the CLI (a front end imports the other)',
    file: 'core/console/routes/bad.ts',
    text: "import { opsCommand } from '../../cli/ops-cmd.js'\nexport const x = opsCommand\n",
    why: /core\/console\/routes\/bad\.ts:1: console imports cli \(core\/cli\/ops-cmd\.ts\): cli is in a higher layer/,
  },
  {
    name: 'the cluster imports the engine (types count)',
    file: 'core/cluster/bad-engine.ts',
    text: "import type { EngineState } from '../engine/index.js'\nexport type X = EngineState\n",
    why: /core\/cluster\/bad-engine\.ts:1: cluster imports engine \(core\/engine\/index\.ts\): the cluster layer must not depend on the engine/,
  },
  {
    name: 'the cluster imports the agent',
    file: 'core/cluster/bad-agent.ts',
    text: "import type { Agent } from '../agent/agent.js'\nexport type X = Agent\n",
    why: /core\/cluster\/bad-agent\.ts:1: cluster imports agent \(core\/agent\/agent\.ts\): agent is in a higher layer/,
  },
  {
    name: 'the sdk imports core',
    file: 'sdk/src/bad.ts',
    text: "import { MccsError } from '../../core/errors.js'\nexport const x = MccsError\n",
    why: /sdk\/src\/bad\.ts:1: sdk imports base \(core\/errors\.ts\): base is in a higher layer/,
  },
  {
    name: 'the agent reaches inside the engine instead of its public surface',
    file: 'core/agent/bad.ts',
    text: "import {\n  step,\n} from '../engine/scheduler.js'\nexport const x = step\n",
    why: /core\/agent\/bad\.ts:1: imports core\/engine\/scheduler\.ts: outside the engine only its public surface \(core\/engine\/index\.ts\) is imported/,
  },
  {
    name: 'the configuration layer imports the agent above it',
    file: 'core/config/bad.ts',
    text: "export async function f() { return (await import('../agent/agent.js')).Agent }\n",
    why: /core\/config\/bad\.ts:1: config imports agent \(core\/agent\/agent\.ts\): agent is in a higher layer/,
  },
  {
    name: 'two folders of one layer import each other',
    file: 'core/executor/bad.ts',
    text: "import { derivePsk } from '../cluster/tls.js'\nexport const x = derivePsk\n",
    why: /core\/executor\/bad\.ts:1: executor imports cluster \(core\/cluster\/tls\.ts\): cluster is in the same layer/,
  },
  {
    name: 'a core folder that is in no layer',
    file: 'core/newfolder/x.ts',
    text: 'export const x = 1\n',
    why: /core\/newfolder\/x\.ts: core\/newfolder is in no layer/,
  },
  {
    name: 'a plugin imports core',
    file: 'plugins/dummy/src/bad.ts',
    text: "import { MccsError } from '../../../core/errors.js'\nexport const x = MccsError\n",
    why: /plugins\/dummy\/src\/bad\.ts:1: a plugin imports only the sdk and its own files, not core\/errors\.ts/,
  },
  {
    name: 'the engine reads the clock',
    file: 'core/engine/bad-clock.ts',
    text: 'export const now = () => Date.now()\n',
    why: /core\/engine\/bad-clock\.ts:1: reads the clock/,
  },
  {
    name: 'the engine imports a Node builtin',
    file: 'core/engine/bad-fs.ts',
    text: "import { readFileSync } from 'node:fs'\nexport const x = readFileSync\n",
    why: /core\/engine\/bad-fs\.ts:1: imports 'node:fs': the engine may import only engine files, \.\.\/errors\.js and SDK types/,
  },
  {
    name: 'a barrel no source imports',
    file: 'core/log/index.ts',
    text: "export { createLog } from './logger.js'\n",
    why: /core\/log\/index\.ts: an unused barrel \(no source imports it\)/,
  },
]

// One copy holds every forbidden import (each in its own file): each rule must name its file and line.
t.test('a copy with forbidden imports fails, naming each', async (t) => {
  const root = copyOfSources(t)
  for (const c of forbidden) add(root, c.file, c.text)
  add(root, 'core/log/circle-a.ts', "import { b } from './circle-b.js'\nexport const a = () => b\n")
  add(root, 'core/log/circle-b.ts', "import type { a } from './circle-a.js'\nexport const b: typeof a | null = null\n")
  const r = lint(root)
  t.equal(r.code, 1, 'the lint fails')
  for (const c of forbidden) t.match(r.err, c.why, c.name)
  t.match(
    r.err,
    /import circle: core\/log\/circle-a\.ts → core\/log\/circle-b\.ts → core\/log\/circle-a\.ts/,
    'an import circle (a type import counts)',
  )
  // Nothing else: every problem printed is one of those added.
  const lines = r.err.split('\n').slice(1).filter(Boolean)
  t.equal(lines.length, forbidden.length + 1, lines.join('\n'))
})
