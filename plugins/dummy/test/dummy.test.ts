// The dummy type, through the real sandbox with the SDK's test host: each mode does what the engine,
// executor and cluster tests rely on.
import t, { type Test } from 'tap'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestHost, type TestHost } from '@mccs/plugin-kit/testing'

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

let built = false
async function setup(t: Test): Promise<TestHost> {
  const h = await createTestHost({ pluginDir, build: !built, nodes: ['node1', 'node2'] })
  built = true
  t.teardown(() => h.dispose())
  return h
}

t.test('ok: online, monitor, offline, clean track the state', async (t) => {
  const h = await setup(t)
  t.equal((await h.call('monitor')).answer, 'notRunning')
  const on = await h.call('online')
  t.same([on.status, on.answer, on.reason], ['done', 'ok', 'started'])
  t.same(h.state.get('r1'), { running: true })
  t.equal((await h.call('monitor')).answer, 'ok')
  t.equal((await h.call('online')).answer, 'ok', 'online is idempotent')
  t.equal((await h.call('offline')).answer, 'ok')
  t.equal((await h.call('offline')).answer, 'ok', 'offline is idempotent')
  t.equal((await h.call('monitor')).answer, 'notRunning')
  await h.call('online')
  t.equal((await h.call('clean')).reason, 'cleaned')
  t.equal((await h.call('monitor')).answer, 'notRunning')
  t.equal((await h.call('monitor', { resource: 'r2' })).answer, 'notRunning', 'resources are separate')
})

t.test('fail: a recoverable failed answer, the state unchanged', async (t) => {
  const h = await setup(t)
  for (const hook of ['online', 'offline', 'monitor', 'clean'] as const) {
    const r = await h.call(hook, { attrs: { [hook]: 'fail' } })
    t.same([r.status, r.answer, r.recoverable], ['done', 'failed', true], hook)
    t.match(r.reason, `told to fail ${hook}`)
  }
  t.notOk(h.state.get('r1')?.running, 'the failed online did not mark it running')
})

t.test('slow: waits delayMs, then succeeds; a shorter deadline times out', async (t) => {
  const h = await setup(t)
  const t0 = Date.now()
  const r = await h.call('online', { attrs: { online: 'slow', delayMs: 300 } })
  t.equal(r.answer, 'ok')
  t.ok(Date.now() - t0 >= 290, `took ${Date.now() - t0} ms`)
  const late = await h.call('offline', { attrs: { offline: 'slow', delayMs: 5000 }, timeoutMs: 200 })
  t.equal(late.status, 'timeout')
  t.equal(h.state.get('r1')?.running, true, 'the timed-out offline did not stop it')
})

t.test('flap: monitor alternates down and up', async (t) => {
  const h = await setup(t)
  const seen: string[] = []
  for (let i = 0; i < 5; i++) seen.push((await h.call('monitor', { attrs: { monitor: 'flap' } })).answer)
  t.same(seen, ['notRunning', 'ok', 'notRunning', 'ok', 'notRunning'])
  t.equal(h.state.get('r1')?.flaps, 5)
})

t.test("the state key 'control' overrides the attributes at run time", async (t) => {
  const h = await setup(t)
  h.state.set('r1', { running: true, control: { monitor: 'fail' } })
  t.equal((await h.call('monitor')).answer, 'failed', 'control says fail, attributes say nothing')
  h.state.set('r1', { running: true, control: { monitor: 'ok' } })
  t.equal((await h.call('monitor', { attrs: { monitor: 'fail' } })).answer, 'ok', 'control wins over the attributes')
  h.state.set('r1', { running: true, control: { online: 'fail' } })
  t.equal((await h.call('monitor', { attrs: { monitor: 'fail' } })).answer, 'failed', 'other hooks keep their attribute')
  t.equal((await h.call('online')).answer, 'failed')
  h.state.set('r1', { control: { monitor: 'flap' } })
  t.same([(await h.call('monitor')).answer, (await h.call('monitor')).answer], ['notRunning', 'ok'])
  h.state.set('r2', { running: true, control: { monitor: 'fail' } })
  h.state.set('r1', { running: true })
  t.equal((await h.call('monitor')).answer, 'ok', 'control is per resource')
  t.equal((await h.call('monitor', { resource: 'r2' })).answer, 'failed')
})

t.test('validate rejects an unknown mode, naming the node and hook', async (t) => {
  const h = await setup(t)
  const good = await h.call('validate', { args: [{ perNode: { node1: { online: 'slow', monitor: 'flap' }, node2: {} } }] })
  t.equal(good.answer, 'ok')
  const bad = await h.call('validate', { args: [{ perNode: { node1: { online: 'ok' }, node2: { monitor: 'explode', clean: 'nope' } } }] })
  t.same([bad.status, bad.answer, bad.recoverable], ['done', 'invalid', false])
  t.same(
    bad.diagnostics?.map((d) => d.path),
    ['/nodes/node2/monitor', '/nodes/node2/clean'],
  )
  t.match(bad.diagnostics?.[0]?.summary, /explode/)
})
