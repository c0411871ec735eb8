// The fence-script type through a real PluginHost (sandbox, permission and contract checks) with the
// real exec provider: the operator's fence script is a small shell script in a temp scripts folder.
import t, { type Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PluginHost } from '../../core/plugins/host.js'
import { execProvider } from '../../core/plugins/caps/exec.js'
import { buildPlugin } from '@mccs/plugin-kit/build'
import { createTestHost } from '@mccs/plugin-kit/testing'
import type { HookName, HookResult } from '../../sdk/src/types.js'

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../plugins/fence-script')

interface Line {
  level: string
  msg: string
  data?: Record<string, unknown>
}

async function setup(t: Test) {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-fence-')))
  const scripts = path.join(base, 'script')
  fs.mkdirSync(scripts)
  const logs: Line[] = []
  const host = new PluginHost({
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
  const call = (hook: HookName, attrs: Record<string, unknown>, args: unknown[], o: { timeoutMs?: number } = {}): Promise<HookResult> =>
    host.call('fence-script', hook, {
      resource: 'fence1',
      node: 'node1',
      nodes: ['node1', 'node2'],
      attrs,
      timeoutMs: o.timeoutMs ?? 5000,
      args,
    })
  return { base, scripts, logs, write, call, host }
}

t.before(async () => {
  await buildPlugin(pluginDir)
})

const attrs = { script: 'fence.sh' }

t.test('the manifest: a fence plugin with exec:scripts/* and a wizard', async (t) => {
  const s = await setup(t)
  const m = s.host.get('fence-script')!.manifest
  t.equal(m.kind, 'fence')
  t.same(m.permissions, ['exec:scripts/*'])
  t.match(m.wizard, {
    type: 'object',
    required: ['script'],
    properties: { script: { type: 'string' }, plugs: { type: 'object' }, params: { 'x-mccs': { scope: 'node' } } },
  })
  const r = await s.call('online', attrs, [])
  t.same([r.status, r.errorCode], ['notSupported', 'MCCS_ERR_HOOK_UNKNOWN'], 'resource hooks do not exist on a fence type')
})

t.test('fence: exit 0 is done, anything else failed; the script gets "fence <node>"', async (t) => {
  const s = await setup(t)
  const out = path.join(s.base, 'argv.out')
  s.write('fence.sh', `printf '%s|' "$@" > '${out}'\nexit 0`)
  const r = await s.call('fence', attrs, ['node2'])
  t.same([r.status, r.answer], ['done', 'ok'], r.error ?? r.reason ?? '')
  t.match(r.data, { target: 'node2' })
  t.equal(fs.readFileSync(out, 'utf8'), 'fence|node2|', 'argv: fence <node>')
  for (const code of [1, 2, 7, 125]) {
    s.write('fence.sh', `exit ${code}`)
    const bad = await s.call('fence', attrs, ['node2'])
    t.same([bad.status, bad.answer, bad.recoverable], ['done', 'failed', true], `exit ${code}: failed, may be retried`)
    t.match(bad.reason, `fence.sh fence node2: exit code ${code}`)
  }
  s.write('fence.sh', 'kill -9 $$')
  const killed = await s.call('fence', attrs, ['node2'])
  t.equal(killed.answer, 'failed')
  t.match(killed.reason, /killed by SIGKILL/)
})

t.test('status: exit 0 means the target is off (notRunning), anything else failed', async (t) => {
  const s = await setup(t)
  s.write('fence.sh', '[ "$1" = status ] && [ "$2" = node2 ] && exit 0\nexit 1')
  const off = await s.call('status', attrs, ['node2'])
  t.same([off.status, off.answer], ['done', 'notRunning'], off.reason ?? '')
  t.match(off.data, { target: 'node2', off: true })
  const on = await s.call('status', attrs, ['node3'])
  t.same([on.answer, on.recoverable], ['failed', true])
  t.match(on.reason, /status node3: not confirmed off \(exit code 1\)/)
})

t.test('arguments, plug and parameters reach the script as argv and environment (no shell)', async (t) => {
  const s = await setup(t)
  const out = path.join(s.base, 'env.out')
  s.write(
    'fence.sh',
    `{ printf '%s|' "$@"; echo; echo "action=$MCCS_FENCE_ACTION target=$MCCS_FENCE_TARGET plug=$MCCS_FENCE_PLUG device=$MCCS_FENCE_DEVICE node=$MCCS_NODE"; echo "region=$MCCS_PARAM_region"; echo "secret=$MCCS_TEST_SECRET"; } > '${out}'`,
  )
  process.env.MCCS_TEST_SECRET = 'must-not-leak'
  t.teardown(() => {
    delete process.env.MCCS_TEST_SECRET
  })
  const r = await s.call(
    'fence',
    { ...attrs, args: ['--hard', 'a b; $(id)'], plugs: { node2: 'i-0abc', node1: 'i-0def' }, params: { region: 'eu-west-1' } },
    ['node2'],
  )
  t.equal(r.answer, 'ok', r.reason ?? '')
  t.same(fs.readFileSync(out, 'utf8').split('\n'), [
    'fence|node2|--hard|a b; $(id)|',
    'action=fence target=node2 plug=i-0abc device=fence1 node=node1',
    'region=eu-west-1',
    'secret=',
    '',
  ])
})

t.test('a target that is not a node name is refused before anything runs', async (t) => {
  const s = await setup(t)
  const out = path.join(s.base, 'ran')
  s.write('fence.sh', `touch '${out}'`)
  for (const target of ['-rf', '../x', '', 'a b', 42, undefined]) {
    const r = await s.call('fence', attrs, target === undefined ? [] : [target])
    t.same([r.answer, r.recoverable], ['failed', false], `${JSON.stringify(target)}: refused`)
  }
  t.notOk(fs.existsSync(out), 'the script never ran')
})

t.test('a script that hangs past the deadline fails (never "done")', async (t) => {
  const s = await setup(t)
  s.write('fence.sh', '/bin/sleep 30')
  const t0 = Date.now()
  const r = await s.call('fence', attrs, ['node2'], { timeoutMs: 600 })
  t.equal(r.answer, 'failed')
  t.ok(Date.now() - t0 < 600 + 300, 'in time')
  if (r.status === 'done') t.match(r.reason, /timed out/)
  else t.equal(r.status, 'timeout')
})

t.test('scripts outside the folder or missing are refused by the exec permission', async (t) => {
  const s = await setup(t)
  fs.writeFileSync(path.join(s.base, 'evil.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  fs.symlinkSync(path.join(s.base, 'evil.sh'), path.join(s.scripts, 'link.sh'))
  for (const script of ['link.sh', 'missing.sh']) {
    const r = await s.call('fence', { script }, ['node2'])
    t.not(r.answer, 'ok', `${script}: not run`)
    t.equal(r.errorCode, 'MCCS_ERR_PERMISSION_DENIED', `${script}: ${r.error}`)
  }
  const up = await s.call('fence', { script: '../evil.sh' }, ['node2'])
  t.same([up.answer, up.recoverable], ['failed', false], 'a path with .. is refused by the plugin itself')
})

t.test('validate names the wrong field per node', async (t) => {
  const s = await setup(t)
  const v = (perNode: Record<string, unknown>) => s.call('validate', {}, [{ perNode }])
  t.equal((await v({ node1: attrs, node2: { script: 'sub/fence.sh', plugs: { node1: 'x' }, params: { a_b: '1' } } })).answer, 'ok')
  const bad = await v({
    node1: { script: '../x' },
    node2: { script: 'fence.sh', args: [1], plugs: { '-x': 'y', node1: 3 }, params: { '1bad': 'v', ok: 2 } },
  })
  t.equal(bad.answer, 'invalid')
  t.same(bad.diagnostics?.map((d) => d.path).sort(), [
    '/nodes/node1/script',
    '/nodes/node2/args',
    '/nodes/node2/params/1bad',
    '/nodes/node2/params/ok',
    '/nodes/node2/plugs/-x',
    '/nodes/node2/plugs/node1',
  ])
  t.same(
    (await v({ node1: {} })).diagnostics?.map((d) => d.path),
    ['/nodes/node1/script'],
    'script is required',
  )
})

t.test('the SDK test host runs it too (fake exec)', async (t) => {
  // The permission check is the real one: the script must exist inside the scripts folder.
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-fence-fake-')))
  fs.writeFileSync(path.join(base, 'fence.sh'), '#!/bin/sh\nexit 99\n', { mode: 0o755 })
  const th = await createTestHost({
    pluginDir,
    build: false,
    paths: { home: base, scripts: base },
    fakes: { exec: (req) => ({ code: req.args?.[0] === 'fence' ? 0 : 3 }) },
  })
  t.teardown(() => {
    th.dispose()
    fs.rmSync(base, { recursive: true, force: true })
  })
  t.equal((await th.call('fence', { attrs, args: ['node2'] })).answer, 'ok')
  t.equal((await th.call('status', { attrs, args: ['node2'] })).answer, 'failed')
  t.ok(
    th.logs.some((l) => l.msg === 'fencing node2 with fence.sh' && l.level === 'warn'),
    'the fence is logged',
  )
})
