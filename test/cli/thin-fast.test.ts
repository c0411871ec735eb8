// Issue 19, What 2: the fast path of `mccs status` and the operator commands. bin/mccs-fast.pl (Perl, no Node
// start) finds the control socket as core/cli/thin-bootstrap.ts does or declines; the agent runs the thin
// entry's code for it (the control socket's `cli` method, core/cli/thin-server.ts). Against a real agent it
// prints, byte for byte, what the Node thin entry (bin/mccs.cjs) prints, with the same exit codes; what it
// declines goes to the Node entry. The fast runs below give the client a Node that cannot start, so an
// answer that came from Node instead of the agent fails them.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'
import * as thin from '../../core/cli/thin-bootstrap.js'
import { currentUser } from '../../core/cli/user.js'
import { startTestAgent, res } from '../agent/helpers.js'

const root = packageRoot()
const fast = path.join(root, 'bin/mccs-fast.pl')
const cjs = path.join(root, 'bin/mccs.cjs')
const NO_NODE = '/nonexistent/node'
const built = existsSync(path.join(root, 'dist/mccs-thin.cjs'))

type Run = { code: number; out: string; err: string }
function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Run> {
  const e = { ...env }
  delete e.NODE_OPTIONS // as an operator runs it: without the test runner's loaders
  return new Promise((resolve) =>
    execFile(file, args, { env: e, timeout: 60_000, ...(cwd ? { cwd } : {}) }, (err, out, errOut) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut }),
    ),
  )
}
/** The fast path only: a fall back to Node fails ("cannot start /nonexistent/node", exit 1). */
const fastOnly = (args: string[], env: NodeJS.ProcessEnv) => run('perl', [fast, NO_NODE, cjs, ...args], env)
/** As an operator runs it: the wrapper, fast path first. */
const wrapper = (args: string[], env: NodeJS.ProcessEnv) => run(path.join(root, 'bin/mccs'), args, env)
/** The Node thin entry. */
const node = (args: string[], env: NodeJS.ProcessEnv) => run(process.execPath, [cjs, ...args], env)
const FELL_BACK = { code: 1, out: '', err: `mccs: cannot start ${NO_NODE}: No such file or directory\n` }

t.test('the Perl client’s copies of thin-bootstrap.ts’s constants', async (t) => {
  const text = await readFile(fast, 'utf8')
  const envVars = Object.fromEntries([...text.matchAll(/(MCCS_[A-Z_]+) => '(\w+)'/g)].map((m) => [m[1], m[2]]))
  t.same(envVars, thin.ENV_VARS)
  t.match(text, `my @SETTINGS_FILES = (${thin.SETTINGS_FILES.map((f) => `'${f}'`).join(', ')});`)
  t.match(text, `my $MAX_SETTINGS_BYTES = ${thin.MAX_SETTINGS_BYTES / 1024} * 1024;`)
  t.match(text, `// '${thin.DEFAULT_HOME}'`)
  t.match(text, `control_paths('${thin.SYSTEM_DIR}')`)
  t.match(text, `'${thin.ENV_FILE}', '${thin.ENV_FILE_OLD}'`) // a named settings file: declined
})

t.test('the control socket the Perl client finds is controlPaths()’s, or it declines', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-fastboot-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const sys = path.join(dir, 'etc') // stands for /etc/mccs
  await mkdir(sys)
  let n = 0
  async function check(name: string, files: Record<string, string>, env: NodeJS.ProcessEnv, expect: 'same' | 'declines', home?: string) {
    home ??= path.join(dir, `h${n++}`)
    await mkdir(path.join(home, 'config'), { recursive: true })
    for (const [f, text] of Object.entries(files)) await writeFile(path.join(home, f), text)
    const e: NodeJS.ProcessEnv = { PATH: process.env.PATH, MCCS_HOME: home, ...env }
    const want = await thin.controlPaths({ cwd: home, env: e, systemDir: sys })
    const r = await run('perl', [fast, '--paths', sys], e, home)
    t.equal(r.code, 0, r.err)
    const got = r.out === 'declined\n' ? null : (([controlSocket, configDir]) => ({ controlSocket, configDir }))(r.out.split('\n'))
    if (expect === 'same') t.same(got, want, `${name}: ${JSON.stringify(got)}`)
    else t.equal(got, null, `${name}: declines (controlPaths: ${JSON.stringify(want)})`)
    return home
  }
  await check('no settings file', {}, {}, 'same')
  await check('MCCS_CONTROL_SOCKET, relative', {}, { MCCS_CONTROL_SOCKET: 'run/x.sock' }, 'same')
  await check('MCCS_STATE_DIR', {}, { MCCS_STATE_DIR: '/var/tmp//st/' }, 'same')
  await check('MCCS_CONFIG_DIR elsewhere', {}, { MCCS_CONFIG_DIR: '/nonexistent/cfg' }, 'same')
  await check('MCCS_HOME with dots', {}, { MCCS_HOME: '/a/./b/../c' }, 'same')
  await check(
    'the installed template plus a node name',
    { 'config/mccs.config.json': JSON.stringify({ home: '/opt/MCCS', consolePort: 11080, heartbeatPort: 14321, nodeName: 'n1' }, null, 2) },
    {},
    'same',
  )
  await check('relative paths in the file', { 'config/mccs.config.json': '{"stateDir": "../st", "configDir": "."}' }, {}, 'same')
  await check('plugin folders and null', { 'config/mccs.config.json': '{"pluginDirs": ["/p", "q"], "builtinPluginDir": null}' }, {}, 'same')
  await check(
    'file and environment',
    { 'config/mccs.config.json': '{"controlSocket": "/run/a.sock"}' },
    { MCCS_CONTROL_SOCKET: '/run/b.sock' },
    'same',
  )
  await check('an empty file', { 'config/mccs.config.json': '  \n' }, {}, 'same')
  await check(
    'ports and names from the environment',
    {},
    { MCCS_CONSOLE_PORT: '0080', MCCS_NODE_NAME: 'n-1.a', MCCS_PLUGIN_DIRS: '/a::/b' },
    'same',
  )
  // Declined: Node reads these (or refuses them) itself.
  await check('a YAML file', { 'config/mccs.config.yaml': 'stateDir: /run/y\n' }, {}, 'declines')
  await check('unparsable JSON', { 'config/mccs.config.json': '{"stateDir": ' }, {}, 'declines')
  await check('trailing text', { 'config/mccs.config.json': '{"stateDir": "/x"} x' }, {}, 'declines')
  await check('an unknown key', { 'config/mccs.config.json': '{"stateDirr": "/x"}' }, {}, 'declines')
  await check('__proto__', { 'config/mccs.config.json': '{"__proto__": "/x"}' }, {}, 'declines')
  await check('a port as a string', { 'config/mccs.config.json': '{"consolePort": "80"}' }, {}, 'declines')
  await check('a path as a number', { 'config/mccs.config.json': '{"stateDir": 5}' }, {}, 'declines')
  await check('an escaped string', { 'config/mccs.config.json': '{"stateDir": "/x\\/y"}' }, {}, 'declines')
  await check('a non-ASCII path', { 'config/mccs.config.json': '{"stateDir": "/상태"}' }, {}, 'declines')
  await check('an array', { 'config/mccs.config.json': '[]' }, {}, 'declines')
  await check('null', { 'config/mccs.config.json': 'null' }, {}, 'declines')
  await check('a bad node name', {}, { MCCS_NODE_NAME: '1abc' }, 'declines')
  await check('a bad port in the environment', {}, { MCCS_CONSOLE_PORT: 'x' }, 'declines')
  await check('a port out of range', {}, { MCCS_HEARTBEAT_PORT: '70000' }, 'declines')
  await check('a newline at the end of a name', {}, { MCCS_NODE_NAME: 'n1\n' }, 'declines')
  await check('MCCS_CONFIG names a file', { 'named.json': '{}' }, { MCCS_CONFIG: 'named.json' }, 'declines')
  await check('a socket path over 107 bytes', {}, { MCCS_CONTROL_SOCKET: '/' + 'x'.repeat(120) }, 'declines')
  // The settings file must be one no other user could have written (core/config/trusted-file.ts).
  const open = await check('a settings file', { 'config/mccs.config.json': '{"stateDir": "/run/o"}' }, {}, 'same')
  await chmod(path.join(open, 'config/mccs.config.json'), 0o664)
  await check('… writable by its group', {}, {}, 'declines', open)
  await chmod(path.join(open, 'config/mccs.config.json'), 0o644)
  await chmod(path.join(open, 'config'), 0o777)
  await check('… in a folder writable by others', {}, {}, 'declines', open)
  await chmod(path.join(open, 'config'), 0o755)
  await symlink(path.join(open, 'config'), path.join(dir, 'linked'))
  await check('… named through a symbolic link (Node’s to resolve)', {}, { MCCS_CONFIG_DIR: path.join(dir, 'linked') }, 'declines', open)
  // A file in the system place wins over the home's, as in loadBootstrap; a dangling link there is no file.
  await writeFile(path.join(sys, 'mccs.config.json'), '{"controlSocket": "/run/sys.sock"}')
  await check('the system settings file', { 'config/mccs.config.json': '{"controlSocket": "/run/home.sock"}' }, {}, 'same')
  await rm(path.join(sys, 'mccs.config.json'))
  await symlink('/nonexistent/target.json', path.join(sys, 'mccs.config.json'))
  await check('a dangling link in the system place', {}, {}, 'same')
})

t.test('against a real agent the fast path prints what the Node thin entry prints', { skip: !built && 'not built' }, async (t) => {
  const a = await startTestAgent({
    groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
    resources: [res('r', 'dummy', {}), res('r2', 'dummy', {}, { critical: false })],
    dependencies: [{ parent: 'r2', child: 'r' }],
    types: {},
  })
  t.teardown(() => a.cleanup())
  const env: NodeJS.ProcessEnv = { ...a.env }
  delete env.MCCS_LANG
  // The agent's uptime and when it last checked the license may change between two calls; nothing else may.
  const steady = (r: Run) => ({
    ...r,
    out: r.out
      .replace(/("uptimeS": )\d+/, '$1N')
      .replace(/("checkedAt": )"[^"]*"/g, '$1T')
      .replace(/^(cluster .* up |클러스터 .* 가동 )\d+/, '$1N'),
  })
  const cases: Array<[string[], NodeJS.ProcessEnv, number]> = [
    [['status', '--json'], env, 0],
    [['status'], env, 0],
    [['status'], { ...env, MCCS_LANG: 'ko' }, 0],
    [['status', '--json', '--lang', 'ko'], env, 0],
    [['--lang', 'ko', 'status'], env, 0],
    [['status', '--lang', 'fr'], env, 1],
    [['status'], { ...env, MCCS_LANG: 'xx' }, 1],
    [['group', 'lock', 'nosuch'], env, 3],
    [['group', 'lock', 'nosuch'], { ...env, MCCS_LANG: 'ko' }, 3],
    [['group', 'lock', 'nosuch', '--json'], env, 3],
    [['group'], env, 2],
    [['group', 'frob', 'g'], { ...env, MCCS_LANG: 'ko' }, 2],
    [['resource', 'probe', 'nosuch', '--json'], env, 3],
    [['group', 'online', 'g', '--wait', '--timeout', '30'], env, 0],
    [['group', 'online', 'g', '--wait', '--timeout', '30', '--lang', 'ko'], env, 0],
    [['monitor-all'], env, 0],
    [['group', 'offline', 'g', '--wait', '--timeout', '30'], env, 0],
    [['status'], env, 0],
  ]
  for (const [args, e, code] of cases) {
    const name = `${args.join(' ')}${e.MCCS_LANG ? ` (MCCS_LANG=${e.MCCS_LANG})` : ''}`
    const f = await fastOnly(args, e)
    t.equal(f.code, code, `${name}: exit ${code} (${f.err.trim().split('\n')[0]})`)
    t.same(steady(f), steady(await node(args, e)), `${name}: the agent answered as the Node thin entry does`)
  }
  t.same(steady(await wrapper(['status'], env)), steady(await node(['status'], env)), 'bin/mccs status: the same')

  // Declined by the agent (nothing ran), so the client runs Node: an edit, --help, another config folder.
  t.same(await fastOnly(['group', 'add', 'g2', '--nodes', 'n1'], env), FELL_BACK, 'group add: Node’s (an edit)')
  t.same(await fastOnly(['status', '--help'], env), FELL_BACK, 'status --help: Node’s')
  const cfg = path.join(a.home, 'cfg2')
  await mkdir(cfg)
  t.same(
    await fastOnly(['status'], { ...env, MCCS_CONFIG_DIR: cfg, MCCS_CONTROL_SOCKET: path.join(a.home, 'state/mccs.sock') }),
    FELL_BACK,
    'another config folder: Node’s',
  )
  t.same(await fastOnly(['agent'], env), FELL_BACK, 'not a command of this path: Node’s, the agent not asked')

  // The method at the edge: each field checked and named; another user's request declined.
  const ask = (params: unknown) =>
    new Promise<string>((resolve, reject) => {
      const s = net.connect(path.join(a.home, 'state/mccs.sock'))
      let got = ''
      s.on('connect', () => s.write(JSON.stringify({ id: 7, method: 'cli', params }) + '\n'))
      s.on('data', (c) => (got += c.toString()))
      s.on('end', () => resolve(got))
      s.on('error', reject)
    })
  const ok = { argv: ['status', '--json'], user: currentUser(), configDir: path.join(a.home, 'config') }
  for (const [params, field] of [
    [null, 'params'],
    [{ ...ok, argv: 'status' }, 'params.argv'],
    [{ ...ok, argv: [] }, 'params.argv'],
    [{ ...ok, argv: ['status', 1] }, 'params.argv[1]'],
    [{ ...ok, argv: Array(65).fill('status') }, 'params.argv'],
    [{ ...ok, lang: 5 }, 'params.lang'],
    [{ ...ok, user: '' }, 'params.user'],
    [{ ...ok, configDir: 'config' }, 'params.configDir'],
    [{ ...ok, extra: 1 }, 'params.extra'],
  ] as const) {
    const reply = JSON.parse(await ask(params)) as { id: number; ok: boolean; error: { code: string; field: string } }
    t.match(
      reply,
      { id: 7, ok: false, error: { code: 'MCCS_ERR_INVALID', field } },
      `${JSON.stringify(params)?.slice(0, 60)}: refused naming ${field}`,
    )
  }
  t.equal(await ask({ ...ok, user: `${currentUser()}x` }), 'n\n', 'another user: declined (the operator commands record who ran them)')
  const frames = await ask(ok)
  t.match(frames, /^a 690\no \d+\n\{\n {2}"node": "n1",[^]*\nx 0\n$/, 'accepted, the JSON on stdout, exit 0')
})

t.test('with no agent the fast path gives way to Node, which says so', { skip: !built && 'not built' }, async (t) => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-fastdown-'))
  t.teardown(() => rm(home, { recursive: true, force: true }))
  const env: NodeJS.ProcessEnv = { ...process.env, MCCS_HOME: home, MCCS_NODE_NAME: 'n1' }
  delete env.MCCS_LANG
  t.same(await fastOnly(['status'], env), FELL_BACK, 'no socket: Node’s answer')
  for (const e of [env, { ...env, MCCS_LANG: 'ko' }]) {
    for (const args of [
      ['status', '--json'],
      ['group', 'switch', 'g'],
    ]) {
      const r = await wrapper(args, e)
      t.equal(r.code, 4, `${args.join(' ')}: exit 4 (${r.err.trim()})`)
      t.same(r, await node(args, e), `${args.join(' ')}${e.MCCS_LANG ? ' (ko)' : ''}: what the Node thin entry prints`)
    }
  }
})

t.test('an agent that does not answer in frames: Node runs the command, or it ran and the client says it ended', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-fastproto-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const sock = path.join(dir, 's.sock')
  /** A control socket that answers the first line with `reply` and closes. */
  async function server(reply: string): Promise<{ close(): Promise<void>; got: string[] }> {
    const got: string[] = []
    const s = net.createServer((c) => {
      let buf = ''
      c.on('data', (d) => {
        buf += d.toString()
        if (buf.includes('\n')) {
          got.push(buf)
          c.end(reply)
        }
      })
    })
    await new Promise<void>((r) => s.listen(sock, r))
    return { got, close: () => new Promise<void>((r) => s.close(() => r())) }
  }
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, MCCS_HOME: dir, MCCS_CONTROL_SOCKET: sock, MCCS_LANG: 'ko' }
  // An agent from before the method answers it with a JSON error: nothing ran.
  let s = await server('{"id":1,"ok":false,"error":{"code":"MCCS_ERR_INVALID","message":"unknown method \\"cli\\""}}\n')
  t.same(await fastOnly(['group', 'switch', 'g', '한'], env), FELL_BACK, 'an older agent: Node’s')
  t.same(JSON.parse(s.got[0]!), {
    id: 1,
    method: 'cli',
    params: { argv: ['group', 'switch', 'g', '한'], lang: 'ko', user: currentUser(), configDir: path.join(dir, 'config') },
  })
  await s.close()
  s = await server('')
  t.same(await fastOnly(['status'], env), FELL_BACK, 'closed before accepting: Node’s')
  await s.close()
  s = await server('a 5\no 3\nhi\n')
  t.same(
    await fastOnly(['group', 'switch', 'g'], env),
    { code: 1, out: 'hi\n', err: 'mccs: the agent ended the connection before the command finished\n' },
    'accepted, then gone: not run again by Node',
  )
  await s.close()
  s = await server('a 5\ne 4\nerr\nx 3\n')
  t.same(await fastOnly(['group', 'lock', 'g'], env), { code: 3, out: '', err: 'err\n' }, 'stderr frame and exit code')
  await s.close()
  // Words that are not UTF-8 are Node's to decode: not sent (this agent would answer exit 0).
  s = await server('a 5\nx 0\n')
  t.equal((await fastOnly(['status', '--lang', 'ÿ'], env)).code, 0, 'UTF-8 words are sent')
  const sh = `exec perl ${fast} ${NO_NODE} ${cjs} status --lang "$(printf '\\377')"`
  t.same(await run('sh', ['-c', sh], env), FELL_BACK, 'a byte that is not UTF-8: Node’s')
  t.equal(s.got.length, 1, 'only the UTF-8 request reached the agent')
  await s.close()
})
