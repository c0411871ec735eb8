// The process type through the real plugin host (sandbox, permission and contract checks) with a real
// ProcManager and the real exec capability. Every process started is killed in teardown.
import t, { type Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestHost, type TestHost } from '@mccs/plugin-kit/testing'
import { ProcManager, isAlive, type ProcExitEvent } from '../../../core/plugins/caps/proc.js'
import { procProvider } from '../../../core/plugins/caps/proc-provider.js'
import { execProvider } from '../../../core/plugins/caps/exec.js'

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SLEEP = fs.existsSync('/bin/sleep') ? '/bin/sleep' : '/usr/bin/sleep'
const isRoot = process.getuid?.() === 0

/** The next 'exit' event (with a timer: ProcManager's watchers do not keep the event loop alive). */
function nextExit(pm: ProcManager, ms = 5000): Promise<ProcExitEvent> {
  return new Promise((resolve, reject) => {
    const to = setTimeout(() => reject(new Error('no exit event')), ms)
    pm.once('exit', (e: ProcExitEvent) => {
      clearTimeout(to)
      resolve(e)
    })
  })
}

async function setup(t: Test): Promise<{ h: TestHost; pm: ProcManager; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-process-'))
  const pm = new ProcManager({ stateDir: dir })
  const h = await createTestHost({ pluginDir, fakes: { providers: [procProvider(pm), execProvider] } })
  t.teardown(() => {
    h.dispose()
    pm.close()
    for (const res of fs.readdirSync(dir)) {
      for (const name of fs.readdirSync(path.join(dir, res))) {
        for (const f of ['child.pid', 'supervisor.pid']) {
          let rec: { pid: number; start: number } | null = null
          try {
            const [p, s] = fs
              .readFileSync(path.join(dir, res, name, f), 'utf8')
              .trim()
              .split(/\s+/)
            rec = { pid: Number(p), start: Number(s) }
          } catch {
            /* none */
          }
          if (rec && isAlive(rec)) {
            try {
              process.kill(f === 'child.pid' ? -rec.pid : rec.pid, 'SIGKILL')
            } catch {
              /* gone */
            }
          }
        }
      }
    }
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { h, pm, dir }
}

t.test('online, monitor, idempotent online, unexpected death, offline', async (t) => {
  const { h, pm } = await setup(t)
  const attrs = { argv: [SLEEP, '1000'], stopGraceS: 5 }
  const on = await h.call('online', { resource: 'web', attrs })
  t.equal(on.status, 'done', on.error ?? '')
  t.equal(on.answer, 'ok', on.reason ?? '')
  const pid = (on.data as { pid: number }).pid
  t.type(pid, 'number')
  t.ok(fs.existsSync(`/proc/${pid}`))
  const mon = await h.call('monitor', { resource: 'web', attrs })
  t.equal(mon.answer, 'ok', mon.reason ?? '')
  const again = await h.call('online', { resource: 'web', attrs })
  t.equal((again.data as { pid: number }).pid, pid, 'online of a running resource keeps the same process')

  const ev = nextExit(pm)
  process.kill(pid, 'SIGKILL')
  const e = await ev
  t.match(e, { resource: 'web', name: 'main', signal: 'SIGKILL', expected: false })
  const dead = await h.call('monitor', { resource: 'web', attrs })
  t.equal(dead.answer, 'notRunning')
  t.match(dead.reason, /SIGKILL/)

  await h.call('online', { resource: 'web', attrs })
  const stopEv = nextExit(pm)
  const off = await h.call('offline', { resource: 'web', attrs })
  t.equal(off.answer, 'ok', off.reason ?? '')
  t.equal((await stopEv).expected, true, 'offline is an expected exit')
  const off2 = await h.call('offline', { resource: 'web', attrs })
  t.equal(off2.answer, 'ok', 'offline of a stopped resource succeeds')
  t.equal((await h.call('monitor', { resource: 'web', attrs })).answer, 'notRunning')
})

t.test('online of a program that dies at once fails', async (t) => {
  const { h } = await setup(t)
  const r = await h.call('online', { attrs: { argv: ['/bin/sh', '-c', 'echo bad config >&2; exit 2'] } })
  t.equal(r.answer, 'failed')
  t.match(r.reason, /exited with code 2/)
  t.match(fs.readFileSync((r.data as { logFile: string }).logFile, 'utf8'), /bad config/, 'stderr in output.log')
})

t.test('clean kills at once, even a process that ignores SIGTERM', async (t) => {
  const { h } = await setup(t)
  const attrs = { argv: ['/bin/sh', '-c', 'trap "" TERM; sleep 1000'], stopGraceS: 60 }
  const on = await h.call('online', { attrs })
  t.equal(on.answer, 'ok', on.reason ?? '')
  const t0 = Date.now()
  const c = await h.call('clean', { attrs })
  t.equal(c.answer, 'ok', c.reason ?? '')
  t.ok(Date.now() - t0 < 2000, 'no grace time')
  t.equal((await h.call('monitor', { attrs })).answer, 'notRunning')
})

t.test('offline: SIGKILL after stopGraceS', async (t) => {
  const { h } = await setup(t)
  const attrs = { argv: ['/bin/sh', '-c', 'trap "" TERM; sleep 1000'], stopGraceS: 1 }
  await h.call('online', { attrs })
  const t0 = Date.now()
  const off = await h.call('offline', { attrs, timeoutMs: 10_000 })
  t.equal(off.answer, 'ok', off.reason ?? '')
  t.match(off.reason, /SIGKILL/)
  t.ok(Date.now() - t0 >= 1000, 'waited the grace time')
})

t.test('health command: exit 0 ok, non-zero failed', async (t) => {
  const { h } = await setup(t)
  const base = { argv: [SLEEP, '1000'] }
  await h.call('online', { attrs: base })
  const good = await h.call('monitor', { attrs: { ...base, healthCommand: ['/bin/sh', '-c', 'test -d "/proc/$MCCS_PID"'] } })
  t.equal(good.answer, 'ok', good.reason ?? '')
  const bad = await h.call('monitor', { attrs: { ...base, healthCommand: ['/bin/sh', '-c', 'echo unhealthy >&2; exit 3'] } })
  t.equal(bad.answer, 'failed')
  t.match(bad.reason, /exit code 3: unhealthy/)
  const slow = await h.call('monitor', { attrs: { ...base, healthCommand: [SLEEP, '10'], healthTimeoutS: 1 } })
  t.equal(slow.answer, 'failed')
  t.match(slow.reason, /timed out/)
})

t.test('resources are isolated from each other', async (t) => {
  const { h } = await setup(t)
  const a = await h.call('online', { resource: 'a', attrs: { argv: [SLEEP, '1000'] } })
  const b = await h.call('online', { resource: 'b', attrs: { argv: [SLEEP, '1000'] } })
  t.not((a.data as { pid: number }).pid, (b.data as { pid: number }).pid)
  await h.call('offline', { resource: 'a', attrs: { argv: [SLEEP, '1000'] } })
  t.equal((await h.call('monitor', { resource: 'a', attrs: { argv: [SLEEP, '1000'] } })).answer, 'notRunning')
  t.equal((await h.call('monitor', { resource: 'b', attrs: { argv: [SLEEP, '1000'] } })).answer, 'ok')
})

t.test('env, cwd and user reach the process', { skip: isRoot ? false : 'needs root' }, async (t) => {
  const { h, dir } = await setup(t)
  const attrs = { argv: [SLEEP, '1000'], user: 'nobody', env: { APP_MODE: 'ha' }, cwd: dir }
  const on = await h.call('online', { attrs })
  t.equal(on.answer, 'ok', on.reason ?? '')
  const pid = (on.data as { pid: number }).pid
  t.match(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\s+65534\s/m)
  t.ok(fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes('APP_MODE=ha'))
  t.equal(fs.readlinkSync(`/proc/${pid}/cwd`), dir)
})

t.test('bad attributes: validate and online answer invalid with the field path', async (t) => {
  const { h } = await setup(t)
  const v = await h.call('validate', {
    args: [
      {
        perNode: {
          n1: { argv: ['sleep', '1'], env: { '1X': 'a' }, healthCommand: ['true'], stopGraceS: -1, cwd: '/srv' },
          n2: { argv: ['sleep', '1'], env: { '1X': 'a' }, healthCommand: ['true'], stopGraceS: -1, cwd: 'srv' },
        },
      },
    ],
  })
  t.equal(v.answer, 'invalid')
  const paths = (v.diagnostics ?? []).map((d) => d.path).sort()
  t.same(paths, ['/argv/0', '/env/1X', '/healthCommand/0', '/nodes/n2/cwd', '/stopGraceS'])
  const good = await h.call('validate', { args: [{ perNode: { n1: { argv: [SLEEP, '1'] } } }] })
  t.equal(good.answer, 'ok', good.reason ?? '')

  const rel = await h.call('online', { attrs: { argv: ['bin/app'] } })
  t.equal(rel.answer, 'invalid')
  t.equal(rel.diagnostics?.[0]?.path, '/argv/0')
  const missing = await h.call('online', { attrs: { argv: ['/nonexistent/app'] } })
  t.equal(missing.answer, 'invalid', 'the host-side check of ProcManager is reported with its field')
  t.equal(missing.diagnostics?.[0]?.path, '/argv/0')
  t.equal(missing.recoverable, false)
  const user = await h.call('online', { attrs: { argv: [SLEEP, '1'], user: 'no-such-user-mccs' } })
  t.equal(user.answer, 'invalid')
  t.equal(user.diagnostics?.[0]?.path, '/user')
})
