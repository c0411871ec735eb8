// Unit tests of the hello-file type: the real sandbox, permission and contract checks of MCCS, with a
// fake `exec` that simulates the three binaries on an in-memory set of files. Nothing touches the disk.
//   npx tap test/hello-file.test.ts        (from this folder; the repo's .taprc adds --no-node-snapshot)
import t, { type Test } from 'tap'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestHost, type TestHost } from '@mccs/plugin-kit/testing'
import type { ExecRequest, ExecResult } from '@mccs/sdk'

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** A fake filesystem and the three binaries the plugin may run. */
function fakeWorld() {
  const files = new Set<string>()
  const calls: ExecRequest[] = []
  let hang = false
  const exec = (req: ExecRequest): Partial<ExecResult> => {
    calls.push(req)
    if (hang) return { code: null, signal: 'SIGTERM', timedOut: true }
    const args = req.args ?? []
    const target = args[args.length - 1]!
    switch (req.file) {
      case '/usr/bin/touch':
        files.add(target)
        return { code: 0 }
      case '/usr/bin/rm':
        files.delete(target)
        return { code: 0 }
      case '/usr/bin/test':
        return { code: files.has(target) ? 0 : 1 }
      default:
        return { code: 127, stderr: `cannot run ${req.file}: ENOENT` }
    }
  }
  return {
    files,
    calls,
    exec,
    hang: (v: boolean) => {
      hang = v
    },
  }
}

let built = false
async function setup(t: Test) {
  const w = fakeWorld()
  // The first host builds the bundle (dist/index.js); the others reuse it.
  const h: TestHost = await createTestHost({ pluginDir, build: !built, fakes: { exec: w.exec }, nodes: ['node1', 'node2'] })
  built = true
  t.teardown(() => h.dispose())
  return { h, w }
}

const attrs = { dir: '/srv/app', fileName: 'up.marker' }

t.test('online creates the marker, monitor sees it, offline removes it', async (t) => {
  const { h, w } = await setup(t)
  t.equal((await h.call('monitor', { attrs })).answer, 'notRunning', 'nothing yet')
  const on = await h.call('online', { attrs })
  t.same([on.status, on.answer], ['done', 'ok'], on.error ?? on.reason ?? '')
  t.ok(w.files.has('/srv/app/up.marker'))
  t.same(
    w.calls[1],
    { file: '/usr/bin/touch', args: ['--', '/srv/app/up.marker'], timeoutMs: w.calls[1]!.timeoutMs },
    'argv array, no shell',
  )
  t.equal((await h.call('monitor', { attrs })).answer, 'ok')
  const off = await h.call('offline', { attrs })
  t.equal(off.answer, 'ok')
  t.notOk(w.files.has('/srv/app/up.marker'))
  t.equal((await h.call('monitor', { attrs })).answer, 'notRunning')
  t.ok(
    h.logs.some((l) => l.msg.includes('marker /srv/app/up.marker created')),
    'the hook logged through ctx.log',
  )
})

t.test('online and offline are idempotent', async (t) => {
  const { h } = await setup(t)
  t.equal((await h.call('online', { attrs })).answer, 'ok')
  t.equal((await h.call('online', { attrs })).answer, 'ok', 'online of a running resource succeeds')
  t.equal((await h.call('offline', { attrs })).answer, 'ok')
  t.equal((await h.call('offline', { attrs })).answer, 'ok', 'offline of a stopped resource succeeds')
})

t.test('the default file name and a trailing slash', async (t) => {
  const { h, w } = await setup(t)
  await h.call('online', { attrs: { dir: '/srv/app/' } })
  t.ok(w.files.has('/srv/app/hello.marker'))
})

t.test('a monitor that cannot find out says unknown, never notRunning', async (t) => {
  const { h, w } = await setup(t)
  w.hang(true)
  const r = await h.call('monitor', { attrs })
  t.equal(r.status, 'done')
  t.equal(r.answer, 'unknown')
  t.equal(r.recoverable, true)
  t.match(r.reason, /timed out/)
})

t.test('a failed touch is a failed online; a missing binary is not recoverable', async (t) => {
  const { h } = await setup(t)
  const h2 = await createTestHost({
    pluginDir,
    build: false,
    fakes: { exec: () => ({ code: 127, stderr: 'cannot run /usr/bin/touch: ENOENT' }) },
  })
  t.teardown(() => h2.dispose())
  const r = await h2.call('online', { attrs })
  t.same([r.status, r.answer, r.recoverable], ['done', 'failed', false])
  const h3 = await createTestHost({ pluginDir, build: false, fakes: { exec: () => ({ code: 1, stderr: 'touch: Permission denied' }) } })
  t.teardown(() => h3.dispose())
  const r3 = await h3.call('online', { attrs })
  t.same([r3.answer, r3.recoverable], ['failed', true])
  t.match(r3.reason, /Permission denied/)
  t.ok(h, 'the first host is unused here')
})

t.test('validate checks every node and names the field', async (t) => {
  const { h } = await setup(t)
  const good = await h.call('validate', { args: [{ perNode: { node1: { dir: '/a' }, node2: { dir: '/b', fileName: 'm' } } }] })
  t.equal(good.answer, 'ok', good.error ?? good.reason ?? '')
  const bad = await h.call('validate', { args: [{ perNode: { node1: { dir: '/a' }, node2: { dir: 'relative', fileName: '../x' } } }] })
  t.equal(bad.answer, 'invalid')
  t.equal(bad.recoverable, false)
  t.same(bad.diagnostics?.map((d) => d.path).sort(), ['/nodes/node2/dir', '/nodes/node2/fileName'])
})
