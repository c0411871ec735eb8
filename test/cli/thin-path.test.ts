// Issue 19, What 2: `mccs status` and the group/resource operator commands run from the thin entry
// (dist/mccs-thin.cjs): what they load is listed at exit (fixtures/module-list.cjs) and must hold none of the
// agent's heavy packages; against a real agent they print, byte for byte, what the full entry
// (dist/mccs.js, the path every call took before) prints, in English and Korean, human and --json, with the
// same exit codes.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'
import { startTestAgent, res } from '../agent/helpers.js'

const root = packageRoot()
const bin = path.join(root, 'bin/mccs')
const HEAVY = ['fastify', 'isolated-vm', '@aws-sdk', 'cosmiconfig', 'pino', 'ajv']
const built = existsSync(path.join(root, 'dist/mccs-thin.cjs')) && existsSync(path.join(root, 'dist/mccs.js'))

type Run = { code: number; out: string; err: string }
function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const e = { ...env }
  delete e.NODE_OPTIONS // as an operator runs it: without the test runner's loaders
  return new Promise((resolve) =>
    execFile(file, args, { env: e, timeout: 60_000 }, (err, out, errOut) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut }),
    ),
  )
}
/** The thin entry as an operator runs it (bin/mccs), and the full entry as the package's wrapper runs it. */
const thin = (args: string[], env: NodeJS.ProcessEnv) => run(bin, args, env)
const full = (args: string[], env: NodeJS.ProcessEnv) =>
  run(process.execPath, ['--no-node-snapshot', path.join(root, 'dist/mccs.js'), ...args], env)

/** The files a CLI run loaded, relative to the repository (node_modules/<package>/… for packages). */
async function loaded(args: string[], env: NodeJS.ProcessEnv): Promise<{ r: Run; files: string[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-modlist-'))
  try {
    const list = path.join(dir, 'list')
    const r = await run(process.execPath, ['--require', path.join(root, 'test/cli/fixtures/module-list.cjs'), ...args], {
      ...env,
      MCCS_TEST_MODULE_LIST: list,
    })
    const text = await readFile(list, 'utf8').catch(() => '')
    const files = [...new Set(text.split('\n').filter(Boolean))].map((f) => {
      const nm = f.lastIndexOf('/node_modules/')
      return nm >= 0 ? f.slice(nm + 1) : path.relative(root, f)
    })
    return { r, files }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
const heavyIn = (files: string[]) => HEAVY.filter((p) => files.some((f) => f.startsWith(`node_modules/${p}/`)))

t.test('the thin path loads no heavy package; the full entry does (the listing sees them)', { skip: !built && 'not built' }, async (t) => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-thin-'))
  t.teardown(() => rm(home, { recursive: true, force: true }))
  const env: NodeJS.ProcessEnv = { ...process.env, MCCS_HOME: home, MCCS_NODE_NAME: 'n1' }
  for (const env_ of [env, { ...env, MCCS_LANG: 'ko' }]) {
    for (const args of [['status', '--json'], ['status'], ['group', 'switch', 'g'], ['resource', 'probe', 'r'], ['monitor-all']]) {
      const { r, files } = await loaded([path.join(root, 'bin/mccs.cjs'), ...args], env_)
      t.equal(r.code, 4, `${args.join(' ')}: no agent, exit 4 (${r.err.trim()})`)
      t.ok(files.includes('dist/mccs-thin.cjs'), `${args.join(' ')}: ran the thin entry`)
      t.same(heavyIn(files), [], `${args.join(' ')}${env_.MCCS_LANG ? ' (ko)' : ''}: none of ${HEAVY.join(', ')}`)
      t.notOk(
        files.some((f) => f.startsWith('dist/') && f !== 'dist/mccs-thin.cjs'),
        `${args.join(' ')}: nothing else of dist/ (${files.filter((f) => f.startsWith('dist/')).join(', ')})`,
      )
      t.same(await full(args, env_), r, `${args.join(' ')}: the same error and exit code as the full entry`)
    }
  }
  // The same listing of the full entry shows the packages, so the assertions above can fail.
  const { r, files } = await loaded(['--no-node-snapshot', path.join(root, 'dist/mccs.js'), 'status', '--json'], env)
  t.equal(r.code, 4)
  t.same(heavyIn(files), ['cosmiconfig', 'ajv'], 'the full entry loads the settings loader for status')
  // A command of the full entry through bin/mccs still works (run in a child with --no-node-snapshot).
  const v = await thin(['--version'], env)
  t.match(v, { code: 0, out: /^mccs \d+\.\d+\.\d+/ })
})

t.test('against a real agent the thin path prints what the full entry prints', { skip: !built && 'not built' }, async (t) => {
  const a = await startTestAgent({
    groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
    resources: [res('r', 'dummy', {}), res('r2', 'dummy', {}, { critical: false })],
    dependencies: [{ parent: 'r2', child: 'r' }],
    types: {},
  })
  t.teardown(() => a.cleanup())
  // The agent's uptime and when it last checked the license may change between two calls; nothing else may.
  const steady = (r: Run) => ({
    ...r,
    out: r.out
      .replace(/("uptimeS": )\d+/, '$1N')
      .replace(/("checkedAt": )"[^"]*"/g, '$1T')
      .replace(/^(cluster .* up |클러스터 .* 가동 )\d+/, '$1N'),
  })
  const cases: Array<[string[], NodeJS.ProcessEnv]> = [
    [['status', '--json'], a.env],
    [['status'], a.env],
    [['status'], { ...a.env, MCCS_LANG: 'ko' }],
    [['status', '--json', '--lang', 'ko'], a.env],
    [['status', '--lang', 'fr'], a.env],
    [['group', 'lock', 'nosuch'], a.env],
    [['group', 'lock', 'nosuch'], { ...a.env, MCCS_LANG: 'ko' }],
    [['group', 'lock', 'nosuch', '--json'], a.env],
    [['group'], a.env],
    [['resource', 'probe', 'nosuch', '--json'], a.env],
  ]
  for (const [args, env] of cases) {
    const { files, r } = await loaded([path.join(root, 'bin/mccs.cjs'), ...args], env)
    t.same(heavyIn(files), [], `${args.join(' ')}: thin`)
    t.same(steady(r), steady(await full(args, env)), `${args.join(' ')}${env.MCCS_LANG ? ` (MCCS_LANG=${env.MCCS_LANG})` : ''}: identical`)
  }
  const json = await thin(['status', '--json'], a.env)
  t.equal(json.code, 0, json.err)
  const s = JSON.parse(json.out) as { node: string; groups: Array<{ name: string; resources: Array<{ name: string }> }> }
  t.equal(s.node, 'n1')
  t.same(
    s.groups.map((g) => [g.name, g.resources.map((x) => x.name).sort()]),
    [['g', ['r', 'r2']]],
    'the agent’s group and resources',
  )
  // An operator command through the thin path does what it says, and prints as the full entry does.
  const on = await thin(['group', 'online', 'g', '--wait', '--timeout', '30'], a.env)
  t.equal(on.code, 0, on.err)
  t.match(on.out, /group g {2}n1:online/)
  const off = await full(['group', 'offline', 'g', '--wait', '--timeout', '30'], a.env)
  t.equal(off.code, 0, off.err)
  t.same(steady(await thin(['status'], a.env)), steady(await full(['status'], a.env)), 'status after the commands: identical')
})
