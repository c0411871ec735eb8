// The exec capability as a plugin meets it: through a real PluginHost (sandbox, permission checks)
// with the real exec provider. No shell, deny by default, bounded time and output, the whole process
// group killed on timeout and on cancel, a clean environment.
import t, { type Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { PluginHost } from '../../core/plugins/host.js'
import { execProvider, SAFE_PATH } from '../../core/plugins/caps/exec.js'
import { buildPlugin } from '@mccs/plugin-kit/build'
import type { ExecRequest, ExecResult, HookResult } from '../../sdk/src/types.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = path.join(here, '../fixtures/plugins/exec-probe')

// One host for the file: its scripts folder is a temp dir; an "outside" dir sits next to it.
const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-exec-')))
const scripts = path.join(base, 'scripts')
const outside = path.join(base, 'outside')
fs.mkdirSync(path.join(scripts, 'sub'), { recursive: true })
fs.mkdirSync(outside)
const script = (file: string, body: string) => {
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`)
  fs.chmodSync(file, 0o755)
  return file
}
script(path.join(scripts, 'ok.sh'), 'echo "inside $1"; echo "cwd=$(pwd)"')
script(path.join(scripts, 'sub/deeper.sh'), 'echo deeper')
script(path.join(outside, 'evil.sh'), 'echo "ESCAPED"')
fs.symlinkSync(path.join(outside, 'evil.sh'), path.join(scripts, 'link-out.sh'))
fs.symlinkSync(path.join(scripts, 'ok.sh'), path.join(scripts, 'link-in.sh'))
// A child that starts a grandchild and waits: $1 is where the grandchild's pid goes.
script(path.join(scripts, 'spawner.sh'), '/bin/sleep 30 &\necho $! > "$1"\nwait')
// The same, but the grandchild ignores SIGTERM: only the SIGKILL after the grace period ends it.
script(path.join(scripts, 'stubborn.sh'), '(trap \'\' TERM; exec /bin/sleep 30) &\necho $! > "$1"\nwait')
// 200 000 bytes on stdout and on stderr.
script(path.join(scripts, 'noisy.sh'), 'i=0; while [ $i -lt 200 ]; do printf "%01000d" 0; printf "%01000d" 0 >&2; i=$((i+1)); done')

let host: PluginHost
const logs: Array<{ level: string; msg: string; data?: Record<string, unknown> }> = []

t.before(async () => {
  await buildPlugin(fixture)
  host = new PluginHost({
    providers: [execProvider],
    paths: { home: base, scripts },
    logger: {
      log: (level, msg, data) => {
        logs.push({ level, msg, ...(data ? { data } : {}) })
      },
    },
    onCatastrophicError: (m) => {
      throw new Error(m)
    },
  })
  await host.load(fixture)
})
t.teardown(() => {
  host?.dispose()
  fs.rmSync(base, { recursive: true, force: true })
})

function call(
  req: ExecRequest | Record<string, unknown>,
  o: { attrs?: Record<string, unknown>; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<HookResult> {
  return host.call('exec-probe', 'online', {
    resource: 'r1',
    node: 'node1',
    attrs: { req, ...(o.attrs ?? {}) },
    timeoutMs: o.timeoutMs ?? 10000,
    ...(o.signal ? { signal: o.signal } : {}),
  })
}
const resultOf = (r: HookResult) => (r.data as { result: ExecResult & { stdoutLength?: number; stderrLength?: number } }).result
const errorOf = (r: HookResult) => r.data as { code: string; field?: string }

/** Runs and expects the exec to have happened. */
async function ran(t: Test, req: ExecRequest, o: Parameters<typeof call>[1] = {}) {
  const r = await call(req, o)
  t.equal(r.answer, 'ok', `${req.file} ran (${r.reason ?? r.error ?? ''})`)
  return resultOf(r)
}
/** Runs and expects a permission refusal naming exec:<file>. */
async function denied(t: Test, req: ExecRequest, o: Parameters<typeof call>[1] = {}, what = req.file) {
  const r = await call(req, o)
  t.equal(r.answer, 'failed', `${what}: refused`)
  t.equal(errorOf(r)?.code, 'MCCS_ERR_PERMISSION_DENIED', `${what}: permission denied`)
  t.equal(errorOf(r)?.field, `exec:${req.file}`, `${what}: names the missing permission`)
  t.ok(r.reason?.includes(`'exec:${req.file}'`), `${what}: the message names it: ${r.reason}`)
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}
/** Pids of live processes whose argv is exactly `argv`. */
function pidsOf(argv: string[]): number[] {
  const want = argv.join('\0')
  const found: number[] = []
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0$/, '')
      if (cmd === want && alive(Number(d))) found.push(Number(d))
    } catch {
      /* gone */
    }
  }
  return found
}
async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (cond()) return true
    await new Promise((r) => setTimeout(r, 10))
  }
  return cond()
}
const readPid = async (file: string): Promise<number> => {
  await waitFor(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() !== '', 2000)
  return Number(fs.readFileSync(file, 'utf8').trim())
}

t.test('an allowed binary runs with its argv array verbatim: no shell anywhere', async (t) => {
  const args = ['; rm -rf /', '$(id)', '`id`', 'a b  c', '*', '"quoted"', "'single'", '$HOME', '|| true', '> /tmp/x', '', 'ünï']
  const r = await ran(t, { file: '/usr/bin/printf', args: ['%s\n', ...args] })
  t.equal(r.code, 0)
  t.same(r.stdout.split('\n').slice(0, -1), args, 'each argument arrived as one argv entry, untouched')
  t.same([r.timedOut, r.truncated, r.signal], [false, false, null])
  const viaLog = logs.find((l) => l.msg === 'exec')
  t.ok(viaLog, 'the host logs each exec at debug level')
})

t.test('an undeclared binary is refused with the permission it lacks', async (t) => {
  await denied(t, { file: '/usr/bin/id', args: [] })
  await denied(t, { file: '/bin/sh', args: ['-c', 'id'] })
  // Another spelling of a declared path is another path: permissions match exactly.
  await denied(t, { file: '/usr/bin/../bin/printf', args: ['x'] }, {}, 'dot-dot spelling')
  await denied(t, { file: '/usr/bin//printf', args: ['x'] }, {}, 'double slash')
  const rel = await call({ file: 'printf', args: ['x'] })
  t.equal(errorOf(rel).code, 'MCCS_ERR_CAPABILITY_ARGS', 'a relative file is bad input, not a PATH lookup')
  const badArgs = await call({ file: '/usr/bin/printf', args: 'x y' } as unknown as ExecRequest)
  t.equal(errorOf(badArgs).code, 'MCCS_ERR_CAPABILITY_ARGS', 'args must be an array')
  t.ok(
    logs.some((l) => l.level === 'warn' && l.msg.includes('exec:/usr/bin/id')),
    'refusals are logged',
  )
})

t.test('exec:scripts/* allows scripts inside the scripts folder only', async (t) => {
  const ok = await ran(t, { file: path.join(scripts, 'ok.sh'), args: ['arg1'] })
  t.equal(ok.stdout, 'inside arg1\ncwd=/\n', 'runs, with / as the default cwd')
  t.equal((await ran(t, { file: path.join(scripts, 'sub/deeper.sh') })).stdout, 'deeper\n', 'subfolders count as inside')
  t.equal(
    (await ran(t, { file: path.join(scripts, 'link-in.sh'), args: ['x'] })).stdout.split('\n')[0],
    'inside x',
    'a symlink to a script inside is fine',
  )
  await denied(t, { file: path.join(scripts, 'link-out.sh') }, {}, 'symlink pointing outside')
  await denied(t, { file: `${scripts}/../outside/evil.sh` }, {}, '../ escape')
  await denied(t, { file: `${scripts}/sub/../../outside/evil.sh` }, {}, 'deeper ../ escape')
  await denied(t, { file: path.join(outside, 'evil.sh') }, {}, 'a sibling folder')
  await denied(t, { file: scripts }, {}, 'the folder itself')
  await denied(t, { file: `${scripts}-other/x.sh` }, {}, 'a folder sharing the prefix')
  await denied(t, { file: path.join(scripts, 'missing.sh') }, {}, 'a script that does not exist')
  const r = await call({ file: `${scripts}/../outside/evil.sh` })
  t.notMatch(JSON.stringify(r), /ESCAPED/)
})

t.test('exec:attr:<field> allows exactly the binary the operator configured', async (t) => {
  t.equal(
    (await ran(t, { file: '/usr/bin/id', args: ['-u'] }, { attrs: { command: '/usr/bin/id' } })).stdout.trim(),
    String(process.getuid!()),
  )
  await ran(t, { file: '/usr/bin/id', args: ['-u'] }, { attrs: { command: ['/usr/bin/id', '-u'] } })
  await denied(t, { file: '/usr/bin/whoami' }, { attrs: { command: '/usr/bin/id' } }, 'another binary')
  await denied(t, { file: '/usr/bin/id' }, { attrs: { command: '/usr/bin/id2' } }, 'prefix of the configured one')
  await denied(t, { file: '/usr/bin/id' }, { attrs: { command: 'id' } }, 'a relative configured value')
  await denied(t, { file: '/usr/bin/id' }, { attrs: { command: ['-u', '/usr/bin/id'] } }, 'not argv[0]')
  await denied(t, { file: '/usr/bin/id' }, { attrs: { other: '/usr/bin/id' } }, 'an undeclared attribute')
  await denied(t, { file: '/usr/bin/id' }, {}, 'no attribute')
})

// Issue 12, finding 9: in discover and validate the attributes come from the caller (the console's
// wizard, before anything is committed), so an exec:attr permission would let whoever calls them pick
// the binary. exec:attr:<field> authorises only in hooks that run on committed configuration.
t.test('exec:attr:<field> does not authorise in discover or validate (caller-supplied attributes)', async (t) => {
  for (const hook of ['discover', 'validate'] as const) {
    const r = await host.call('exec-probe', hook, {
      resource: '_wizard',
      node: 'node1',
      attrs: { req: { file: '/usr/bin/id', args: ['-u'] }, command: '/usr/bin/id' },
      timeoutMs: 10000,
      args: hook === 'validate' ? [{ perNode: { node1: { command: '/usr/bin/id' } } }] : ['x', {}],
    })
    t.not(r.answer, 'ok', `${hook}: not run (${r.answer}: ${r.reason ?? r.error ?? ''})`)
    t.equal(errorOf(r)?.code, 'MCCS_ERR_PERMISSION_DENIED', `${hook}: permission denied`)
    t.equal(errorOf(r)?.field, 'exec:/usr/bin/id', `${hook}: names the permission`)
  }
  const declared = await host.call('exec-probe', 'discover', {
    resource: '_wizard',
    node: 'node1',
    attrs: { req: { file: '/usr/bin/printf', args: ['x'] } },
    timeoutMs: 10000,
    args: ['x', {}],
  })
  t.equal(declared.answer, 'ok', 'an exact exec permission still works in discover')
})

t.test('a timeout kills the whole process group', async (t) => {
  const pidFile = path.join(base, `grandchild-${randomBytes(4).toString('hex')}`)
  const t0 = Date.now()
  const r = await ran(t, { file: path.join(scripts, 'spawner.sh'), args: [pidFile], timeoutMs: 300 })
  const took = Date.now() - t0
  t.equal(r.timedOut, true)
  t.equal(r.code, null)
  t.ok(took >= 250 && took < 1500, `returned after ${took} ms`)
  const pid = await readPid(pidFile)
  t.ok(pid > 1, `grandchild pid ${pid}`)
  t.ok(await waitFor(() => !alive(pid), 500), 'the grandchild sleep is gone')
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      /* gone */
    }
  })
})

t.test('a grandchild ignoring SIGTERM gets SIGKILL after the grace period', async (t) => {
  const pidFile = path.join(base, `stubborn-${randomBytes(4).toString('hex')}`)
  const t0 = Date.now()
  const r = await ran(t, { file: path.join(scripts, 'stubborn.sh'), args: [pidFile], timeoutMs: 300 }, { timeoutMs: 10000 })
  const took = Date.now() - t0
  t.equal(r.timedOut, true)
  t.ok(took < 4000, `returned after ${took} ms (timeout + 2 s grace)`)
  const pid = await readPid(pidFile)
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      /* gone */
    }
  })
  t.ok(await waitFor(() => !alive(pid), 500), 'the stubborn grandchild is gone')
})

t.test('output is capped per stream', async (t) => {
  const small = await ran(t, { file: '/usr/bin/printf', args: ['%s', 'x'.repeat(5000)], maxOutputBytes: 1000 })
  t.equal(small.stdout.length, 1000)
  t.equal(small.truncated, true)
  t.equal(small.code, 0)
  const noisy = await ran(t, { file: path.join(scripts, 'noisy.sh') }, { attrs: { summary: true } })
  t.equal(noisy.code, 0, 'the command ran to its end: the pipes kept draining past the cap')
  t.equal(noisy.truncated, true)
  t.equal(noisy.stdoutLength, 64 * 1024, 'default cap 64 KiB on stdout')
  t.equal(noisy.stderrLength, 64 * 1024, 'and on stderr')
  const fits = await ran(t, { file: '/usr/bin/printf', args: ['%s', 'y'.repeat(1000)], maxOutputBytes: 1000 })
  t.same([fits.stdout.length, fits.truncated], [1000, false], 'exactly the cap is not truncated')
  const tooBig = await call({ file: '/usr/bin/printf', args: ['x'], maxOutputBytes: 2 * 1024 * 1024 })
  t.equal(errorOf(tooBig).code, 'MCCS_ERR_CAPABILITY_ARGS', 'at most 1 MiB may be asked for')
})

t.test('cancelling the hook kills a running sleep within 1 s', async (t) => {
  const argv = ['/bin/sleep', `30.${randomBytes(3).readUIntBE(0, 3)}`]
  const ac = new AbortController()
  const pending = call({ file: argv[0]!, args: [argv[1]!] }, { timeoutMs: 60000, signal: ac.signal })
  t.ok(await waitFor(() => pidsOf(argv).length === 1, 3000), 'the sleep runs')
  const [pid] = pidsOf(argv)
  t.teardown(() => {
    try {
      process.kill(pid!, 'SIGKILL')
    } catch {
      /* gone */
    }
  })
  const t0 = Date.now()
  ac.abort()
  const r = await pending
  t.equal(r.status, 'cancelled')
  t.ok(Date.now() - t0 < 1000, `the call returned ${Date.now() - t0} ms after the abort`)
  t.ok(await waitFor(() => !alive(pid!), 1000 - (Date.now() - t0)), `the sleep is gone ${Date.now() - t0} ms after the abort`)
})

t.test("a hook deadline kills the exec's processes too", async (t) => {
  const argv = ['/bin/sleep', `30.${randomBytes(3).readUIntBE(0, 3)}`]
  const t0 = Date.now()
  const r = await call({ file: argv[0]!, args: [argv[1]!] }, { timeoutMs: 400 })
  t.ok(Date.now() - t0 < 1500, `returned after ${Date.now() - t0} ms`)
  t.ok(r.status === 'timeout' || (r.status === 'done' && resultOf(r).timedOut), `status ${r.status}`)
  t.ok(await waitFor(() => pidsOf(argv).length === 0, 1000), 'no sleep left behind')
})

t.test("the environment is clean: nothing of the agent's leaks", async (t) => {
  const secret = `s3cret-${randomBytes(6).toString('hex')}`
  process.env.MCCS_TEST_SECRET = secret
  t.teardown(() => {
    delete process.env.MCCS_TEST_SECRET
  })
  const r = await ran(t, { file: '/usr/bin/env', args: ['-0'], env: { MCCS_FOO: 'bar baz', OCF_RESKEY_x: '1' } })
  // tap's coverage tracker (@tapjs/processinfo) wraps child_process.spawn in this test process and adds
  // its own variables to every child: they are the harness's, not the agent's.
  const harness = (k: string, v: string) =>
    k.startsWith('_TAPJS_PROCESSINFO_') || (k === 'NODE_OPTIONS' && v.includes('@tapjs/processinfo'))
  const env = Object.fromEntries(
    r.stdout
      .split('\0')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
      .filter(([k, v]) => !harness(k!, v!)),
  )
  t.notOk('MCCS_TEST_SECRET' in env)
  t.notOk(r.stdout.includes(secret), 'the secret value appears nowhere')
  t.same(Object.keys(env).sort(), ['LANG', 'MCCS_FOO', 'OCF_RESKEY_x', 'PATH'], 'only PATH, LANG and what the plugin passed')
  t.equal(env.PATH, SAFE_PATH)
  t.equal(env.MCCS_FOO, 'bar baz')
  const bad = await call({ file: '/usr/bin/env', env: { 'BAD-NAME': 'x' } })
  t.equal(errorOf(bad).code, 'MCCS_ERR_CAPABILITY_ARGS')
  const nul = await call({ file: '/usr/bin/env', env: { A: 'x\u0000y' } })
  t.equal(errorOf(nul).code, 'MCCS_ERR_CAPABILITY_ARGS', 'NUL bytes are refused')
})

// Issue 12, finding 2: a plugin passed LD_PRELOAD=<its own .so> to an allowed binary and ran its code
// as root. The library here is real (gcc, at test time): its constructor writes a marker file.
t.test('LD_PRELOAD and other loader/interpreter variables are refused; the library never loads', async (t) => {
  const gcc = ['/usr/bin/gcc', '/usr/bin/cc'].find((f) => fs.existsSync(f))
  if (!gcc) return t.fail('gcc is needed to build the preload library (apt-get install gcc libc6-dev)')
  const marker = path.join(base, `preloaded-${randomBytes(4).toString('hex')}`)
  const src = path.join(base, 'evil.c')
  const so = path.join(base, 'evil.so')
  fs.writeFileSync(
    src,
    `#include <stdio.h>\n__attribute__((constructor)) static void evil(void) {\n` +
      `  FILE *f = fopen(${JSON.stringify(marker)}, "w"); if (f) { fputs("preloaded\\n", f); fclose(f); }\n}\n`,
  )
  const { execFileSync } = await import('node:child_process')
  execFileSync(gcc, ['-shared', '-fPIC', '-o', so, src])
  // The library works: loaded by hand, it writes the marker (so its absence below means something).
  const proof = `${marker}-proof`
  fs.writeFileSync(src, fs.readFileSync(src, 'utf8').replace(JSON.stringify(marker), JSON.stringify(proof)))
  execFileSync(gcc, ['-shared', '-fPIC', '-o', `${so}.proof.so`, src])
  execFileSync('/usr/bin/printf', ['x'], { env: { LD_PRELOAD: `${so}.proof.so` } })
  t.ok(fs.existsSync(proof), 'the test library runs its constructor when preloaded')

  const r = await call({ file: '/usr/bin/printf', args: ['%s', 'hello'], env: { MCCS_OK: '1', LD_PRELOAD: so } })
  t.notOk(fs.existsSync(marker), 'the library was not loaded into the allowed binary')
  t.equal(r.answer, 'failed', 'the call is refused')
  t.equal(errorOf(r).code, 'MCCS_ERR_CAPABILITY_ARGS')
  t.equal(errorOf(r).field, 'exec.run: env.LD_PRELOAD', 'the error names the variable')
  t.match(r.reason, /LD_PRELOAD/)

  // The other ways an environment turns a trusted binary into the plugin's code (or changes which
  // binary runs): each refused, none reaches the child.
  for (const name of [
    'LD_LIBRARY_PATH',
    'LD_AUDIT',
    'ld_preload',
    'PATH',
    'BASH_ENV',
    'ENV',
    'IFS',
    'SHELLOPTS',
    'PS4',
    'PYTHONPATH',
    'PYTHONSTARTUP',
    'PERL5OPT',
    'PERL5LIB',
    'RUBYOPT',
    'NODE_OPTIONS',
    'GCONV_PATH',
    'LOCPATH',
    'HOSTALIASES',
    'LANG',
    'LC_ALL',
    'HOME',
    'XDG_CONFIG_HOME',
    'OPENSSL_CONF',
    'GIT_SSH_COMMAND',
    'PAGER',
    'SYSTEMD_PAGER',
    'OCF_ROOT',
    'OCF_FUNCTIONS_DIR',
    'MCCS_HOME',
    'MCCS_CONFIG',
    'MCCS_BOOTSTRAP',
    'MCCS_PLUGIN_DIRS',
    'FOO',
    '__proto__',
  ]) {
    const x = await call({ file: '/usr/bin/env', args: [], env: { [name]: so } })
    t.equal(errorOf(x).code, 'MCCS_ERR_CAPABILITY_ARGS', `${name}: refused`)
    t.equal(errorOf(x).field, `exec.run: env.${name}`, `${name}: named`)
  }
  t.notOk(fs.existsSync(marker), 'still no marker')
})
