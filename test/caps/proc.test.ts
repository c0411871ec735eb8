// ProcManager: managed processes under a sh supervisor, exit detection by event, re-attach.
// Every test cleans up every process it started (teardown kills by recorded pid + start time only).
import t, { type Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { ProcManager, isAlive, type ProcExitEvent } from '../../core/plugins/caps/proc.js'
import { isMccsError } from '../../core/errors.js'
import { LAUNCH_NAME, LAUNCH_SCRIPT, encodeEnv } from '../../core/plugins/caps/proc-supervisor.js'

const SLEEP = fs.existsSync('/bin/sleep') ? '/bin/sleep' : '/usr/bin/sleep'
const SH = '/bin/sh'
const isRoot = process.getuid?.() === 0
const latencies: number[] = []

/** The exit-detection budget: 100 ms. Only when the host's CPUs are overloaded (1-min load average
 *  above twice the CPU count, e.g. other test suites or benchmarks running beside this one) does a
 *  scheduling delay that is not ours get a wider budget, and the assertion says so. */
function budget(): { ms: number; note: string } {
  const load = os.loadavg()[0] ?? 0
  const cpus = os.cpus().length || 1
  return load > 2 * cpus
    ? { ms: 250, note: ` (host overloaded: load ${load.toFixed(1)} on ${cpus} CPUs, budget 250 ms)` }
    : { ms: 100, note: '' }
}

function pidRec(file: string): { pid: number; start: number } | null {
  try {
    const [p, s] = fs.readFileSync(file, 'utf8').trim().split(/\s+/)
    return { pid: Number(p), start: Number(s) }
  } catch {
    return null
  }
}

/** A fresh state dir, with a teardown that kills every supervisor and service recorded in it. */
function setup(t: Test): {
  dir: string
  managers: ProcManager[]
  mk: (o?: Partial<ConstructorParameters<typeof ProcManager>[0]>) => ProcManager
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-proc-'))
  const managers: ProcManager[] = []
  t.teardown(() => {
    for (const m of managers) m.close()
    const dirs = (d: string): string[] =>
      fs
        .readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
    for (const res of dirs(dir)) {
      for (const name of dirs(path.join(dir, res))) {
        const d = path.join(dir, res, name)
        const child = pidRec(path.join(d, 'child.pid'))
        const sup = pidRec(path.join(d, 'supervisor.pid'))
        if (child && isAlive(child)) {
          try {
            process.kill(-child.pid, 'SIGKILL')
          } catch {
            try {
              process.kill(child.pid, 'SIGKILL')
            } catch {
              /* gone */
            }
          }
        }
        if (sup && isAlive(sup))
          try {
            process.kill(sup.pid, 'SIGKILL')
          } catch {
            /* gone */
          }
        for (const f of ['extra.pid']) {
          const e = pidRec(path.join(d, f))
          if (e && isAlive(e))
            try {
              process.kill(e.pid, 'SIGKILL')
            } catch {
              /* gone */
            }
        }
      }
    }
    // A supervisor may still be writing its exit file: retried for up to 5 s (0.5 s was not enough in a
    // loaded full run: ENOTEMPTY on the log folder).
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 50, retryDelay: 100 })
  })
  const mk = (o: Partial<ConstructorParameters<typeof ProcManager>[0]> = {}): ProcManager => {
    const m = new ProcManager({ stateDir: dir, ...o })
    managers.push(m)
    return m
  }
  return { dir, managers, mk }
}

function nextExit(pm: ProcManager, timeoutMs = 5000): Promise<ProcExitEvent & { receivedAt: number }> {
  return new Promise((resolve, reject) => {
    const to = setTimeout(() => reject(new Error('no exit event')), timeoutMs)
    pm.once('exit', (ev: ProcExitEvent) => {
      clearTimeout(to)
      resolve({ ...ev, receivedAt: performance.now() })
    })
  })
}

const stat = (pid: number): string[] => {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  return s.slice(s.lastIndexOf(')') + 2).split(' ')
}
const waitUntil = async (cond: () => boolean, ms = 3000): Promise<boolean> => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (cond()) return true
    await new Promise((r) => setTimeout(r, 10))
  }
  return cond()
}
const procGone = (pid: number): boolean => {
  try {
    return stat(pid)[0] === 'Z' // a zombie is dead (the container's init may be slow to reap)
  } catch {
    return true
  }
}

t.test('start, idempotent start, status, own process group, supervisor reaped', async (t) => {
  const { mk } = setup(t)
  const pm = mk()
  const s1 = await pm.start('web', { name: 'main', argv: [SLEEP, '1000'] })
  t.equal(s1.running, true)
  t.type(s1.pid, 'number')
  const t1 = Date.now()
  t.ok(s1.startedAt && Math.abs(Date.parse(s1.startedAt) - t1) < 500, `startedAt ${s1.startedAt} is now (${t1})`)
  t.match(s1.logFile, /web\/main\/output\.log$/)
  const pid = s1.pid as number
  const st = stat(pid)
  t.equal(Number(st[2]), pid, 'the service leads its own process group')
  t.equal(Number(st[3]), pid, 'and its own session')
  t.equal(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0], SLEEP, 'exec chain ended in the service itself')
  t.not(s1.supervisorPid, null)

  const s2 = await pm.start('web', { name: 'main', argv: [SLEEP, '1000'] })
  t.equal(s2.pid, pid, 'second start returns the same pid')
  const sleeps = fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return stat(Number(p))[0] !== 'Z' && Number(stat(Number(p))[1]) === s1.supervisorPid
      } catch {
        return false
      }
    })
  t.equal(sleeps.length, 1, 'the supervisor has exactly one child')

  const st3 = await pm.status('web', 'main')
  t.equal(st3.running, true)
  t.equal(st3.pid, pid)
  const none = await pm.status('web', 'nothing')
  t.same([none.running, none.pid, none.logFile], [false, null, null], 'unknown process: not running')

  const sup = s1.supervisorPid as number
  const ev = nextExit(pm)
  process.kill(pid, 'SIGKILL')
  await ev
  t.ok(await waitUntil(() => procGone(sup), 2000), 'the supervisor was reaped (no zombie)')
})

t.test("kill -9 of the service: 'exit' within 100 ms", async (t) => {
  const { mk } = setup(t)
  const pm = mk()
  for (let i = 0; i < 5; i++) {
    const s = await pm.start('db', { name: 'p', argv: [SLEEP, '1000'] })
    const ev = nextExit(pm)
    const t0 = performance.now()
    process.kill(s.pid as number, 'SIGKILL')
    const e = await ev
    const ms = e.receivedAt - t0
    latencies.push(ms)
    const b = budget()
    t.ok(ms < b.ms, `exit event after ${ms.toFixed(1)} ms${b.note}`)
    t.equal(e.signal, 'SIGKILL')
    t.equal(e.code, null)
    t.equal(e.pid, s.pid)
    t.equal(e.expected, false, 'not expected')
    t.same([e.resource, e.name], ['db', 'p'])
    const st = await pm.status('db', 'p')
    t.same([st.running, st.pid, st.exitSignal, st.lastPid], [false, null, 'SIGKILL', s.pid])
  }
})

t.test('stop: SIGTERM, expected exit, idempotent', async (t) => {
  const { mk } = setup(t)
  const pm = mk()
  const events: ProcExitEvent[] = []
  pm.on('exit', (e) => events.push(e))
  const s = await pm.start('r', { name: 'svc', argv: [SLEEP, '1000'] })
  const t0 = Date.now()
  const st = await pm.stop('r', 'svc', { graceMs: 5000 })
  t.ok(Date.now() - t0 < 1000, 'stopped without waiting for the grace time')
  t.equal(st.running, false)
  t.equal(st.exitSignal, 'SIGTERM')
  t.equal(st.expected, true)
  t.notOk(
    isAlive({ pid: s.pid as number, start: Number(stat(process.pid)[19]) }) &&
      fs.existsSync(`/proc/${s.pid}`) &&
      stat(s.pid as number)[0] !== 'Z',
    'gone',
  )
  t.equal(events.length, 1, 'one exit event')
  t.equal(events[0]?.expected, true, 'marked expected')
  t.equal(events[0]?.signal, 'SIGTERM')
  const again = await pm.stop('r', 'svc')
  t.equal(again.running, false, 'stopping a stopped process succeeds')
  const never = await pm.stop('r', 'never-started')
  t.equal(never.running, false, 'stopping an unknown process succeeds')
  t.equal(events.length, 1, 'no more events')
})

t.test('stop with SIGINT works (signals reset to default for the service)', async (t) => {
  const { mk } = setup(t)
  const pm = mk()
  const s = await pm.start('r', { name: 'int', argv: [SLEEP, '1000'] })
  const ign = /SigIgn:\s*([0-9a-f]+)/.exec(fs.readFileSync(`/proc/${s.pid}/status`, 'utf8'))?.[1]
  t.equal(BigInt('0x' + ign), 0n, 'the service ignores no signal')
  const st = await pm.stop('r', 'int', { signal: 'SIGINT', graceMs: 3000 })
  t.equal(st.exitSignal, 'SIGINT')
})

t.test('stop of a process that ignores SIGTERM: SIGKILL after the grace time', async (t) => {
  const { mk } = setup(t)
  const pm = mk()
  const s = await pm.start('r', { name: 'stubborn', argv: [SH, '-c', 'trap "" TERM; sleep 1000'] })
  t.equal(s.running, true)
  await new Promise((r) => setTimeout(r, 100)) // let the shell install its trap
  const exit = nextExit(pm)
  const t0 = Date.now()
  const st = await pm.stop('r', 'stubborn', { graceMs: 400 })
  const took = Date.now() - t0
  t.ok(took >= 400 && took < 2000, `stop took ${took} ms (grace 400)`)
  t.equal(st.running, false)
  t.equal(st.exitSignal, 'SIGKILL')
  const e = await exit
  t.equal(e.expected, true, 'a SIGKILL by stop is expected too')
})

t.test('stop kills what the service left in its process group', async (t) => {
  const { mk, dir } = setup(t)
  const pm = mk()
  const pidFile = path.join(dir, 'left.pid')
  const exit = nextExit(pm)
  await pm.start('r', { name: 'forker', argv: [SH, '-c', `${SLEEP} 1000 & echo "$!" > ${pidFile}; exit 0`] })
  const e = await exit
  t.equal(e.code, 0, 'the leader exited with 0')
  const left = Number(fs.readFileSync(pidFile, 'utf8'))
  t.ok(fs.existsSync(`/proc/${left}`), 'a process was left behind')
  // record it for teardown in case the test fails
  fs.writeFileSync(path.join(dir, 'r', 'forker', 'extra.pid'), `${left} ${stat(left)[19]}\n`)
  await pm.stop('r', 'forker', { graceMs: 2000 })
  t.ok(await waitUntil(() => procGone(left), 1000), 'the left-behind process is gone')
})

t.test('re-attach after an agent restart: same pid, kill still detected < 100 ms', async (t) => {
  const { mk } = setup(t)
  const pm1 = mk()
  const s = await pm1.start('app', { name: 'a', argv: [SLEEP, '1000'] })
  await pm1.start('app', { name: 'b', argv: [SLEEP, '1000'] })
  pm1.close()
  const pm2 = mk()
  const events: ProcExitEvent[] = []
  pm2.on('exit', (e) => events.push(e))
  const list = await pm2.reattach()
  t.same(list.map((x) => [x.name, x.running]).sort(), [
    ['a', true],
    ['b', true],
  ])
  t.equal(list.find((x) => x.name === 'a')?.pid, s.pid, 'same pid')
  t.equal(events.length, 0, 'no exit reported for live processes')
  const again = await pm2.start('app', { name: 'a', argv: [SLEEP, '1000'] })
  t.equal(again.pid, s.pid, 'start after re-attach does not start a second copy')
  const ev = nextExit(pm2)
  const t0 = performance.now()
  process.kill(s.pid as number, 'SIGKILL')
  const e = await ev
  const ms = e.receivedAt - t0
  latencies.push(ms)
  const b = budget()
  t.ok(ms < b.ms, `exit after re-attach detected in ${ms.toFixed(1)} ms${b.note}`)
  t.equal(e.signal, 'SIGKILL')
  const st = await pm2.stop('app', 'b', { graceMs: 2000 })
  t.equal(st.exitSignal, 'SIGTERM', 're-attached process can be stopped')
})

t.test('a process that died while the agent was down is reported by reattach, once', async (t) => {
  const { mk, dir } = setup(t)
  const pm1 = mk()
  const s = await pm1.start('app', { name: 'x', argv: [SLEEP, '1000'] })
  pm1.close()
  process.kill(s.pid as number, 'SIGKILL')
  t.ok(await waitUntil(() => fs.existsSync(path.join(dir, 'app', 'x', 'exit.json'))), 'supervisor recorded the exit')
  const pm2 = mk()
  const events: ProcExitEvent[] = []
  pm2.on('exit', (e) => events.push(e))
  const list = await pm2.reattach()
  t.equal(list[0]?.running, false)
  t.equal(list[0]?.exitSignal, 'SIGKILL')
  t.equal(events.length, 1)
  t.match(events[0], { resource: 'app', name: 'x', pid: s.pid, signal: 'SIGKILL', code: null, expected: false })
  pm2.close()
  const pm3 = mk()
  let n = 0
  pm3.on('exit', () => n++)
  await pm3.reattach()
  t.equal(n, 0, 'a reported exit is not reported again')
})

t.test('a process that died with its supervisor while the agent was down: lost', async (t) => {
  const { mk } = setup(t)
  const pm1 = mk()
  const s = await pm1.start('app', { name: 'y', argv: [SLEEP, '1000'] })
  pm1.close()
  const sup = s.supervisorPid as number
  process.kill(sup, 'SIGKILL')
  // The supervisor gone first: a supervisor still alive when its child dies records that exit (seen once in
  // a full run: the process then read as exited, not lost).
  await waitUntil(() => procGone(sup))
  process.kill(s.pid as number, 'SIGKILL')
  await waitUntil(() => procGone(s.pid as number))
  const pm2 = mk()
  const events: ProcExitEvent[] = []
  pm2.on('exit', (e) => events.push(e))
  const list = await pm2.reattach()
  t.equal(list[0]?.running, false)
  t.equal(list[0]?.lost, true)
  t.match(events, [{ name: 'y', lost: true, code: null, signal: null, expected: false }])
})

t.test('pid reuse guard: a recorded pid with another start time is not ours', async (t) => {
  const { mk, dir } = setup(t)
  const d = path.join(dir, 'reuse', 'p')
  fs.mkdirSync(d, { recursive: true })
  // The test runner's own pid, recorded with a wrong start time: alive, but not "ours".
  const realStart = Number(stat(process.pid)[19])
  fs.writeFileSync(
    path.join(d, 'spec.json'),
    JSON.stringify({
      resource: 'reuse',
      spec: { name: 'p', argv: [SLEEP, '1000'] },
      argv: [SLEEP, '1000'],
      createdAt: new Date().toISOString(),
    }),
  )
  fs.writeFileSync(path.join(d, 'child.pid'), `${process.pid} ${realStart + 12345}\n`)
  fs.writeFileSync(path.join(d, 'supervisor.pid'), `${process.pid} ${realStart + 12345}\n`)
  t.equal(isAlive({ pid: process.pid, start: realStart }), true)
  t.equal(isAlive({ pid: process.pid, start: realStart + 12345 }), false)
  const pm = mk()
  t.equal((await pm.status('reuse', 'p')).running, false, 'status: not running')
  const stopped = await pm.stop('reuse', 'p', { graceMs: 0 }) // must not signal the test runner
  t.equal(stopped.running, false)
  const events: ProcExitEvent[] = []
  pm.on('exit', (e) => events.push(e))
  await pm.reattach()
  t.match(events, [{ name: 'p', lost: true }], 'reported as lost')
  const s = await pm.start('reuse', { name: 'p', argv: [SLEEP, '1000'] })
  t.equal(s.running, true)
  t.not(s.pid, process.pid, 'a new process was started')
})

t.test('supervisor SIGKILLed: the service keeps running, its death is found by the fallback poll', async (t) => {
  const { mk } = setup(t)
  const pm = mk({ pollMs: 100 })
  const s = await pm.start('r', { name: 'orphan', argv: [SLEEP, '1000'] })
  process.kill(s.supervisorPid as number, 'SIGKILL')
  await new Promise((r) => setTimeout(r, 150))
  const st = await pm.status('r', 'orphan')
  t.same([st.running, st.supervised, st.pid], [true, false, s.pid], 'still running, unsupervised')
  const ev = nextExit(pm)
  const t0 = performance.now()
  process.kill(s.pid as number, 'SIGKILL')
  const e = await ev
  t.ok(e.receivedAt - t0 < 400, `fallback detection in ${(e.receivedAt - t0).toFixed(0)} ms (poll 100 ms)`)
  t.equal(e.lost, true)
})

t.test('the service survives the exit of the agent that started it', async (t) => {
  const { dir } = setup(t)
  const script = path.join(dir, 'agent.mts')
  const procTs = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../../core/plugins/caps/proc.ts')
  fs.writeFileSync(
    script,
    [
      `import { ProcManager } from ${JSON.stringify(procTs)}`,
      `const pm = new ProcManager({ stateDir: ${JSON.stringify(dir)} })`,
      `const s = await pm.start('agent', { name: 'svc', argv: [${JSON.stringify(SLEEP)}, '1000'] })`,
      `console.log(JSON.stringify(s))`,
      `pm.close()`,
    ].join('\n'),
  )
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
    cwd: path.resolve(path.dirname(procTs), '../../..'),
    encoding: 'utf8',
    timeout: 30_000,
  })
  t.equal(r.status, 0, r.stderr)
  const s = JSON.parse(r.stdout.trim().split('\n').pop() as string)
  t.equal(s.running, true)
  const pm = mk2(t, dir)
  const list = await pm.reattach()
  t.match(list, [{ name: 'svc', running: true, pid: s.pid }], 'still running after its agent exited')
  const ev = nextExit(pm)
  const t0 = performance.now()
  process.kill(s.pid, 'SIGKILL')
  const e = await ev
  const b = budget()
  t.ok(e.receivedAt - t0 < b.ms, `detected in ${(e.receivedAt - t0).toFixed(1)} ms${b.note}`)
})
function mk2(t: Test, dir: string): ProcManager {
  const pm = new ProcManager({ stateDir: dir })
  t.teardown(() => pm.close())
  return pm
}

t.test('run as user nobody', { skip: isRoot ? false : 'needs root' }, async (t) => {
  const { mk } = setup(t)
  const pm = mk()
  const s = await pm.start('u', { name: 'n', argv: [SLEEP, '1000'], user: 'nobody' })
  const status = fs.readFileSync(`/proc/${s.pid}/status`, 'utf8')
  t.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m, 'uid nobody')
  t.match(status, /^Gid:\s+65534\s+65534\s+65534\s+65534$/m, 'primary group of nobody')
  const g = await pm.start('u', { name: 'g', argv: [SLEEP, '1000'], group: 'nogroup' })
  t.match(fs.readFileSync(`/proc/${g.pid}/status`, 'utf8'), /^Gid:\s+65534\s+65534/m, 'group only')
  await pm.stop('u', 'n', { graceMs: 1000 })
  await pm.stop('u', 'g', { graceMs: 1000 })
})

t.test('output.log, exit code, clean env, cwd', async (t) => {
  const { mk, dir } = setup(t)
  const pm = mk()
  process.env.MCCS_TEST_AGENT_SECRET = 'leak'
  t.teardown(() => {
    delete process.env.MCCS_TEST_AGENT_SECRET
  })
  const exit = nextExit(pm)
  const s = await pm.start('o', {
    name: 'log',
    argv: [SH, '-c', 'echo "out $FOO $(pwd) [$MCCS_TEST_AGENT_SECRET] $PATH"; echo err >&2; exit 3', 'ignored'],
    env: { FOO: 'a b;$(x)' },
    cwd: dir,
  })
  const e = await exit
  t.equal(e.code, 3)
  t.equal(e.signal, null)
  const log = fs.readFileSync(s.logFile as string, 'utf8')
  t.match(log, `out a b;$(x) ${dir} [] /usr/local/sbin:`, 'env passed verbatim, agent env not inherited, cwd, PATH')
  t.match(log, /^err$/m, 'stderr too')
  t.match(log, /mccs: starting/, 'host header line')
  const st = await pm.status('o', 'log')
  t.same([st.running, st.exitCode, st.exitSignal], [false, 3, null])
  // appended on the next run
  const exit2 = nextExit(pm)
  await pm.start('o', { name: 'log', argv: [SH, '-c', 'echo second'] })
  await exit2
  const log2 = fs.readFileSync(s.logFile as string, 'utf8')
  t.ok(log2.startsWith(log) && log2.includes('second'), 'output.log is appended')
})

/** Every process's command line, as `ps -eo args` shows it (NULs as spaces). */
function allCmdlines(): Array<{ pid: number; args: string }> {
  const out: Array<{ pid: number; args: string }> = []
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      out.push({ pid: Number(e), args: fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').join(' ') })
    } catch {
      /* gone */
    }
  }
  return out
}
const environOf = (pid: number): Map<string, string> => {
  const m = new Map<string, string>()
  for (const kv of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    if (!kv) continue
    const i = kv.indexOf('=')
    m.set(kv.slice(0, i), kv.slice(i + 1))
  }
  return m
}

t.test('env values never appear on a command line (ps), in the state folder or in the supervisor; the process sees them all', async (t) => {
  const { mk, dir } = setup(t)
  const pm = mk()
  const tag = randomBytes(6).toString('hex')
  const planted = {
    DB_PASS: `planted-secret-db-${tag}`,
    MYSQL_PWD: `planted-secret-my-${tag}`,
    // values a line- or shell-based transport could mangle
    MULTI: `  first line\nplanted-secret-ml-${tag}\n\nlast \\ 'q' "d" $(x) \`y\`  `,
    EMPTY: '',
    // names a shell loader could confuse with its own variables
    k: `planted-secret-k-${tag}`,
    v: 'v',
    n: 'n',
    IFS: ' x',
    PWD: '/planted',
  }
  const secrets = [planted.DB_PASS, planted.MYSQL_PWD, `planted-secret-ml-${tag}`, planted.k]
  const hits = new Set<string>()
  const scan = (when: string): void => {
    for (const { pid, args } of allCmdlines()) {
      for (const sec of secrets) if (args.includes(sec)) hits.add(`${when}: pid ${pid}: ${args.slice(0, 200)}`)
    }
  }
  // Sample every command line while start() runs: the launch chain's transient processes count too.
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      scan('during start')
      await new Promise((r) => setImmediate(r))
    }
  })()
  const s = await pm.start('sec', { name: 'db', argv: [SLEEP, '1000'], env: planted })
  sampling = false
  await sampler
  scan('after start')
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
  t.equal(ps.status, 0, 'ps ran')
  for (const sec of secrets) t.notOk(ps.stdout.includes(sec), `ps -eo args does not show ${sec}`)
  t.same([...hits], [], 'no command line held a planted value, during or after start')

  const env = environOf(s.pid as number)
  for (const [k, v] of Object.entries(planted)) t.equal(env.get(k), v, `the process sees ${k} verbatim`)
  t.same(
    [...env.keys()].sort(),
    [...new Set([...Object.keys(planted), 'PATH', 'HOME', 'USER', 'LOGNAME', 'LANG'])].sort(),
    'and nothing else than the clean base and the spec',
  )

  const sup = environOf(s.supervisorPid as number)
  for (const sec of secrets)
    t.notOk(
      [...sup.values()].some((v) => v.includes(sec)),
      "the supervisor's own environment holds no planted value",
    )
  for (const pid of [s.pid as number, s.supervisorPid as number]) {
    t.equal(fs.statSync(`/proc/${pid}/environ`).mode & 0o077, 0, `/proc/${pid}/environ is not readable by group or others`)
  }
  if (isRoot) {
    const other = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', `/proc/${s.pid}/environ`], {
      encoding: 'utf8',
    })
    t.not(other.status, 0, 'another local user cannot read the environment of the service')
    t.notOk(other.stdout.includes(planted.DB_PASS))
  }
  const folder = path.join(dir, 'sec', 'db')
  for (const f of fs.readdirSync(folder)) {
    const text = fs.readFileSync(path.join(folder, f), 'utf8')
    for (const sec of secrets) t.notOk(text.includes(sec), `${f} holds no planted value`)
  }
  await pm.stop('sec', 'db', { graceMs: 1000 })
})

/** Runs the launcher by itself: `sh -c LAUNCH_SCRIPT mccs-launch argv...` with `stream` on fd 3. */
function runLauncher(shell: string[], stream: string, argv: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    // env -i as in the real chain (the test runner adds its own variables to every spawn)
    const cp = spawn('env', ['-i', ...shell, '-c', LAUNCH_SCRIPT, LAUNCH_NAME, ...argv], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    cp.stdout?.on('data', (d) => {
      out += d
    })
    cp.stderr?.on('data', (d) => {
      err += d
    })
    const s3 = cp.stdio[3] as NodeJS.WritableStream
    s3.on('error', () => {})
    s3.end(stream)
    cp.on('close', (code) => resolve({ code, out, err }))
  })
}

t.test('the launcher: exact environment from fd 3, nothing started from a cut stream, read-only names under bash', async (t) => {
  const env = { A: 'x y', B: 'two\nlines\n', C: '', D: '--', PATH: '/nowhere' }
  const r = await runLauncher([SH], encodeEnv(env), ['/usr/bin/env', '-0'])
  t.equal(r.code, 0, r.err)
  const got = Object.fromEntries(
    r.out
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  )
  t.same(got, env, 'exactly the streamed variables, verbatim')
  const stream = encodeEnv({ A: 'a', SECRET: 'b' })
  const cut = await runLauncher([SH], stream.slice(0, stream.length - 2), ['/usr/bin/env'])
  t.equal(cut.code, 125, 'a stream without its end marker: exit 125')
  t.equal(cut.out, '', 'and the command did not run')
  t.match(cut.err, /did not arrive/)
  const bash = ['/bin/bash', '/usr/bin/bash'].find((b) => fs.existsSync(b))
  if (bash) {
    const rb = await runLauncher([bash, '--posix'], encodeEnv({ PPID: '1', A: 'kept' }), ['/usr/bin/env'])
    t.equal(rb.code, 0, 'bash as sh: a read-only name does not stop the launch')
    t.match(rb.out, /^A=kept$/m)
    t.match(rb.err, /PPID not set/, 'the left-out name is said')
  }
})

t.test('argv[0] given as a bare name is resolved via PATH', async (t) => {
  const { mk } = setup(t)
  const msgs: string[] = []
  const pm = mk({
    log: {
      log: (_l, m) => {
        msgs.push(m)
      },
    },
  })
  const s = await pm.start('p', { name: 'bare', argv: ['sleep', '1000'] })
  t.equal(s.running, true)
  t.ok(
    msgs.some((m) => /resolved via PATH/.test(m)),
    'logged',
  )
  await pm.stop('p', 'bare', { graceMs: 1000 })
})

t.test('bad specs are rejected with the field named', async (t) => {
  const { mk, dir } = setup(t)
  const pm = mk()
  const cases: Array<[string, unknown, string]> = [
    ['bad name', { name: 'a/b', argv: [SLEEP] }, '/name'],
    ['dot-dot name', { name: '..', argv: [SLEEP] }, '/name'],
    ['long name', { name: 'x'.repeat(65), argv: [SLEEP] }, '/name'],
    ['no argv', { name: 'a' }, '/argv'],
    ['empty argv', { name: 'a', argv: [] }, '/argv'],
    ['argv not strings', { name: 'a', argv: [SLEEP, 5] }, '/argv/1'],
    ['NUL in argv', { name: 'a', argv: [SLEEP, 'a\0b'] }, '/argv/1'],
    ['relative argv0', { name: 'a', argv: ['bin/sleep'] }, '/argv/0'],
    ['missing binary', { name: 'a', argv: ['/nonexistent/bin'] }, '/argv/0'],
    ['unknown bare name', { name: 'a', argv: ['no-such-command-mccs'] }, '/argv/0'],
    ['directory argv0', { name: 'a', argv: ['/usr'] }, '/argv/0'],
    ['env not object', { name: 'a', argv: [SLEEP], env: ['A=1'] }, '/env'],
    ['env key', { name: 'a', argv: [SLEEP], env: { 'A=B': 'x' } }, '/env/A=B'],
    ['env value type', { name: 'a', argv: [SLEEP], env: { A: 1 } }, '/env/A'],
    ['env value NUL', { name: 'a', argv: [SLEEP], env: { A: 'x\0' } }, '/env/A'],
    ['env string too long for exec', { name: 'a', argv: [SLEEP], env: { BIG: 'x'.repeat(128 * 1024) } }, '/env/BIG'],
    [
      'env too large in all',
      { name: 'a', argv: [SLEEP], env: Object.fromEntries([1, 2, 3].map((i) => [`V${i}`, 'x'.repeat(100 * 1024)])) },
      '/env',
    ],
    ['cwd relative', { name: 'a', argv: [SLEEP], cwd: 'tmp' }, '/cwd'],
    ['cwd missing', { name: 'a', argv: [SLEEP], cwd: path.join(dir, 'nope') }, '/cwd'],
    ['no such user', { name: 'a', argv: [SLEEP], user: 'no-such-user-mccs' }, '/user'],
    ['bad user', { name: 'a', argv: [SLEEP], user: '-rf' }, '/user'],
    ['no such group', { name: 'a', argv: [SLEEP], group: 'no-such-group-mccs' }, '/group'],
    ['unknown field', { name: 'a', argv: [SLEEP], shell: true }, '/shell'],
    ['not an object', 'sleep', '/'],
  ]
  for (const [what, spec, field] of cases) {
    await t.rejects(pm.start('bad', spec as never), { code: 'MCCS_ERR_CAPABILITY_ARGS', field }, what)
  }
  await t.rejects(pm.start('../x', { name: 'a', argv: [SLEEP] }), { code: 'MCCS_ERR_CAPABILITY_ARGS', field: 'resource' }, 'resource')
  await t.rejects(pm.stop('r', 'a', { graceMs: -1 }), { code: 'MCCS_ERR_CAPABILITY_ARGS', field: 'graceMs' })
  await t.rejects(pm.stop('r', 'a', { signal: 'SIGSTOP' }), { code: 'MCCS_ERR_CAPABILITY_ARGS', field: 'signal' })
  await t.rejects(pm.status('r', '../../etc'), { code: 'MCCS_ERR_CAPABILITY_ARGS', field: '/name' })
  t.notOk(fs.existsSync(path.join(dir, 'bad')), 'nothing was written for rejected specs')
  try {
    await pm.start('bad', { name: 'a', argv: ['bin/x'] })
  } catch (e) {
    t.ok(isMccsError(e, 'MCCS_ERR_CAPABILITY_ARGS'))
    t.match((e as Error).message, /\/argv\/0/, 'message names the field')
  }
})

t.test('capabilityFor binds a resource', async (t) => {
  const { mk } = setup(t)
  const pm = mk()
  const cap = pm.capabilityFor('bound')
  const s = await cap.start({ name: 'c', argv: [SLEEP, '1000'] })
  t.equal((await pm.status('bound', 'c')).pid, s.pid, 'started under the bound resource')
  t.equal((await cap.status('c')).running, true)
  t.equal((await pm.status('other', 'c')).running, false, 'another resource does not see it')
  const st = await cap.stop('c', { graceMs: 1000 })
  t.equal(st.running, false)
})

t.test('concurrent starts of the same process start one copy', async (t) => {
  const { mk } = setup(t)
  const pm = mk()
  const all = await Promise.all([1, 2, 3, 4].map(() => pm.start('c', { name: 'once', argv: [SLEEP, '1000'] })))
  t.equal(new Set(all.map((s) => s.pid)).size, 1)
  await pm.stop('c', 'once', { graceMs: 1000 })
})

t.teardown(() => {
  if (latencies.length) {
    const sorted = [...latencies].sort((a, b) => a - b)
    t.comment(
      `exit-detection latency ms: min ${sorted[0]?.toFixed(1)} median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} max ${sorted[sorted.length - 1]?.toFixed(1)} (n=${sorted.length})`,
    )
  }
})
