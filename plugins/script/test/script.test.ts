// The script type through a real PluginHost (sandbox, permission and contract checks) with the real
// exec and state providers. The operator's scripts are small shell scripts written into a temp
// folder that the host knows as its scripts folder.
import t, { type Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PluginHost } from '../../../core/plugins/host.js'
import { execProvider } from '../../../core/plugins/caps/exec.js'
import { StateStore, stateProvider } from '../../../core/plugins/caps/state.js'
import { buildPlugin } from '@mccs/plugin-kit/build'
import type { HookName, HookResult } from '../../../sdk/src/types.js'

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

interface Line {
  level: string
  msg: string
  data?: Record<string, unknown>
}

async function setup(t: Test) {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-script-')))
  const scripts = path.join(base, 'script')
  fs.mkdirSync(scripts)
  const logs: Line[] = []
  const host = new PluginHost({
    providers: [execProvider, stateProvider(new StateStore(path.join(base, 'state')))],
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
  await host.load(pluginDir)
  t.teardown(() => {
    host.dispose()
    fs.rmSync(base, { recursive: true, force: true })
  })
  const write = (name: string, body: string) => {
    const f = path.join(scripts, name)
    fs.mkdirSync(path.dirname(f), { recursive: true })
    fs.writeFileSync(f, `#!/bin/sh\n${body}\n`)
    fs.chmodSync(f, 0o755)
  }
  const call = (
    hook: HookName,
    attrs: Record<string, unknown>,
    o: { timeoutMs?: number; resource?: string; args?: unknown[] } = {},
  ): Promise<HookResult> =>
    host.call('script', hook, {
      resource: o.resource ?? 'app',
      node: 'node1',
      nodes: ['node1', 'node2'],
      attrs,
      timeoutMs: o.timeoutMs ?? 5000,
      args: o.args ?? [],
    })
  return { base, scripts, logs, write, call, host }
}

t.before(async () => {
  await buildPlugin(pluginDir)
})

const attrs = { onlineScript: 'start.sh', offlineScript: 'stop.sh', monitorScript: 'check.sh' }

t.test('exit codes: online 0 is ok; monitor 0 ok, 7 notRunning, other failed', async (t) => {
  const s = await setup(t)
  s.write('start.sh', 'exit 0')
  s.write('stop.sh', 'exit 0')
  const on = await s.call('online', attrs)
  t.same([on.status, on.answer], ['done', 'ok'], on.error ?? on.reason ?? '')
  for (const [code, answer] of [
    [0, 'ok'],
    [7, 'notRunning'],
    [1, 'failed'],
    [2, 'failed'],
    [127, 'failed'],
  ] as const) {
    s.write('check.sh', `exit ${code}`)
    const r = await s.call('monitor', attrs)
    t.equal(r.status, 'done')
    t.equal(r.answer, answer, `monitor exit ${code} -> ${answer}`)
    if (code !== 0 && code !== 7) t.match(r.reason, `exit code ${code}`)
  }
  s.write('start.sh', 'exit 1')
  const bad = await s.call('online', attrs)
  t.same([bad.answer, bad.recoverable], ['failed', true])
  t.match(bad.reason, /start\.sh: exit code 1/)
})

t.test('offline: exit 7 (already stopped) is ok; other codes fail', async (t) => {
  const s = await setup(t)
  s.write('stop.sh', 'exit 7')
  t.equal((await s.call('offline', attrs)).answer, 'ok')
  s.write('stop.sh', 'exit 0')
  t.equal((await s.call('offline', attrs)).answer, 'ok')
  s.write('stop.sh', 'exit 3')
  const r = await s.call('offline', attrs)
  t.equal(r.answer, 'failed')
  t.match(r.reason, /exit code 3/)
})

t.test('a script that sleeps past the timeout fails with "timed out" within the deadline', async (t) => {
  const s = await setup(t)
  const marker = `30.${process.pid}`
  s.write('start.sh', `/bin/sleep ${marker}`)
  const t0 = Date.now()
  const r = await s.call('online', attrs, { timeoutMs: 600 })
  const took = Date.now() - t0
  t.equal(r.answer, 'failed')
  t.ok(took < 600 + 150, `returned after ${took} ms`)
  // The plugin gives its script the time left minus 50 ms, then reports 'timed out' itself. On a
  // loaded machine killing the script and answering can take longer than those 50 ms, and then the
  // host's deadline wins: the call is a host-side timeout instead. Both end the hook in time.
  if (r.status === 'done') t.match(r.reason, /timed out/, 'the plugin says why')
  else t.equal(r.status, 'timeout', `host deadline won (${took} ms)`)
  const sleeping = () =>
    fs
      .readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .some((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === `/bin/sleep\0${marker}\0`
        } catch {
          return false
        }
      })
  const end = Date.now() + 1000
  while (sleeping() && Date.now() < end) await new Promise((res) => setTimeout(res, 20))
  t.notOk(sleeping(), "the script's sleep was killed")
  const killed = await s.call('monitor', { ...attrs, monitorScript: undefined })
  t.equal(killed.answer, 'notRunning', 'a failed online did not mark it started')
})

t.test("the script's output lines reach the host logger", async (t) => {
  const s = await setup(t)
  s.write('start.sh', 'echo "hello from $1"\necho "second line"\necho "to stderr" >&2\nexit 0')
  s.write('check.sh', 'echo "checking"; exit 0')
  await s.call('online', attrs)
  await s.call('monitor', attrs)
  const lines = s.logs.filter((l) => l.data?.plugin === 'script').map((l) => l.msg)
  t.ok(lines.includes('start.sh start: hello from start'), 'stdout, with $1 = start')
  t.ok(lines.includes('start.sh start: second line'))
  t.ok(lines.includes('start.sh start: to stderr'), 'stderr too')
  t.ok(lines.includes('check.sh monitor: checking'), 'monitor output, right before the hook returns')
  const l = s.logs.find((x) => x.msg === 'start.sh start: hello from start')!
  t.match(l.data, { plugin: 'script', resource: 'app', hook: 'online', data: { stream: 'stdout' } }, 'tagged with plugin, resource, hook')
})

t.test('OCF_RESKEY_<param> variables, the action and the arguments arrive', async (t) => {
  const s = await setup(t)
  const out = path.join(s.base, 'env.out')
  s.write(
    'start.sh',
    `{ echo "action=$1 rest=$2,$3"; echo "color=$OCF_RESKEY_color"; echo "spaced=$OCF_RESKEY_spaced"; echo "res=$OCF_RESOURCE_INSTANCE type=$OCF_RESOURCE_TYPE node=$MCCS_NODE"; echo "secret=$MCCS_TEST_SECRET"; } > '${out}'`,
  )
  process.env.MCCS_TEST_SECRET = 'must-not-leak'
  t.teardown(() => {
    delete process.env.MCCS_TEST_SECRET
  })
  const r = await s.call('online', { ...attrs, args: ['--fast', 'two words'], params: { color: 'blue', spaced: 'a b; $(id)' } })
  t.equal(r.answer, 'ok', r.reason ?? '')
  t.same(fs.readFileSync(out, 'utf8').split('\n'), [
    'action=start rest=--fast,two words',
    'color=blue',
    'spaced=a b; $(id)',
    'res=app type=script node=node1',
    'secret=',
    '',
  ])
})

t.test('validate rejects paths out of the script folder with a diagnostic path', async (t) => {
  const s = await setup(t)
  const v = (perNode: Record<string, unknown>) => s.call('validate', {}, { args: [{ perNode }] })
  const good = await v({ node1: attrs, node2: { onlineScript: 'sub/start.sh', offlineScript: 'stop.sh' } })
  t.equal(good.answer, 'ok')
  const bad = await v({ node1: attrs, node2: { onlineScript: '../x', offlineScript: 'stop.sh', monitorScript: '/etc/x' } })
  t.equal(bad.answer, 'invalid')
  t.equal(bad.recoverable, false)
  t.same(bad.diagnostics?.map((d) => d.path).sort(), ['/nodes/node2/monitorScript', '/nodes/node2/onlineScript'])
  const dots = await v({ node1: { onlineScript: 'a/../../x', offlineScript: 'stop.sh' } })
  t.same(
    dots.diagnostics?.map((d) => d.path),
    ['/nodes/node1/onlineScript'],
  )
  const missing = await v({ node1: { onlineScript: 'start.sh' } })
  t.same(
    missing.diagnostics?.map((d) => d.path),
    ['/nodes/node1/offlineScript'],
    'offlineScript is required',
  )
})

t.test('without a monitorScript, monitor reflects the last online/offline', async (t) => {
  const s = await setup(t)
  s.write('start.sh', 'exit 0')
  s.write('stop.sh', 'exit 0')
  const a = { onlineScript: 'start.sh', offlineScript: 'stop.sh' }
  t.equal((await s.call('monitor', a)).answer, 'notRunning', 'never started')
  t.equal((await s.call('online', a)).answer, 'ok')
  t.equal((await s.call('monitor', a)).answer, 'ok')
  t.equal((await s.call('monitor', a, { resource: 'other' })).answer, 'notRunning', 'state is per resource')
  t.equal((await s.call('offline', a)).answer, 'ok')
  t.equal((await s.call('monitor', a)).answer, 'notRunning')
  // The state store is on disk: a new host (agent restart) still knows.
  await s.call('online', a)
  const again = new PluginHost({
    providers: [execProvider, stateProvider(new StateStore(path.join(s.base, 'state')))],
    paths: { home: s.base, scripts: s.scripts },
  })
  t.teardown(() => again.dispose())
  await again.load(pluginDir)
  const r = await again.call('script', 'monitor', { resource: 'app', node: 'node1', attrs: a, timeoutMs: 5000 })
  t.equal(r.answer, 'ok', 'remembered across a restart')
})

t.test('a script outside the folder or missing is refused by the exec permission', async (t) => {
  const s = await setup(t)
  fs.writeFileSync(path.join(s.base, 'evil.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  fs.symlinkSync(path.join(s.base, 'evil.sh'), path.join(s.scripts, 'link.sh'))
  for (const onlineScript of ['link.sh', 'missing.sh']) {
    const r = await s.call('online', { ...attrs, onlineScript })
    t.not(r.answer, 'ok', `${onlineScript}: not run`)
    t.equal(r.errorCode, 'MCCS_ERR_PERMISSION_DENIED', `${onlineScript}: ${r.error}`)
  }
})
