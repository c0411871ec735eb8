// The ocf type through the real plugin host (sandbox, permission and contract checks) and the real exec
// capability, against Debian's resource-agents: ocf:heartbeat:Dummy started, monitored, stopped and
// validated for real; exit codes mapped as Pacemaker treats them; params checked against the meta-data.
import t, { type Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestHost, type TestHost } from '@mccs/plugin-kit/testing'
import { execProvider } from '../../../core/plugins/caps/exec.js'
import { OCF_AGENT_DIR } from '../../../core/plugins/caps/ocf-agents.js'

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DUMMY = `${OCF_AGENT_DIR}/heartbeat/Dummy`
const installed = fs.existsSync(DUMMY)

async function setup(t: Test): Promise<{ h: TestHost; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-ocf-'))
  const h = await createTestHost({ pluginDir, fakes: { providers: [execProvider] } })
  t.teardown(() => {
    h.dispose()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { h, dir }
}

if (!installed) {
  // resource-agents is a test dependency (scripts/test-deps.sh installs it): its absence is a failure here.
  t.fail(`no ${DUMMY}: install Debian's resource-agents (scripts/test-deps.sh)`)
} else {
  t.test('Dummy: start, monitor, idempotent start, stop, idempotent stop, probe', async (t) => {
    const { h, dir } = await setup(t)
    const state = path.join(dir, 'dummy.state')
    const attrs = { agent: 'heartbeat:Dummy', params: { state } }
    const probe = await h.call('monitor', { resource: 'd1', attrs })
    t.equal(probe.answer, 'notRunning', `a probe before start: ${probe.reason}`)

    const on = await h.call('online', { resource: 'd1', attrs })
    t.equal(on.status, 'done', on.error ?? '')
    t.equal(on.answer, 'ok', on.reason ?? '')
    t.ok(fs.existsSync(state), 'the agent itself made its state file (OCF_RESKEY_state reached it)')
    t.equal((await h.call('monitor', { resource: 'd1', attrs })).answer, 'ok', 'monitor: running (exit 0)')
    t.equal((await h.call('online', { resource: 'd1', attrs })).answer, 'ok', 'start of a running Dummy: ok')

    // Dummy's state file gone behind its back: the next monitor is "not running" (exit 7).
    fs.rmSync(state)
    const gone = await h.call('monitor', { resource: 'd1', attrs })
    t.equal(gone.answer, 'notRunning')
    t.match(gone.reason, /exit 7 \(OCF_NOT_RUNNING\)/, `the reason names the code: ${gone.reason}`)

    t.equal((await h.call('online', { resource: 'd1', attrs })).answer, 'ok')
    const off = await h.call('offline', { resource: 'd1', attrs })
    t.equal(off.answer, 'ok', off.reason ?? '')
    t.notOk(fs.existsSync(state), 'stop removed the state file')
    t.equal((await h.call('offline', { resource: 'd1', attrs })).answer, 'ok', 'stop of a stopped Dummy: ok')
    t.equal((await h.call('monitor', { resource: 'd1', attrs })).answer, 'notRunning')
  })

  t.test('an agent that starts a daemon: start returns when the agent does, the daemon outlives it, stop ends it', async (t) => {
    // A small agent of the test's own, in a provider folder of its own (removed afterwards): its daemon
    // keeps the agent's stdout and stderr open, as a careless agent's would. (ocf:heartbeat:anything does
    // the same through `su - root`, whose login profile takes a minute on a loaded machine.)
    const { h, dir } = await setup(t)
    const provider = `mccs-test-${process.pid}`
    const providerDir = path.join(OCF_AGENT_DIR, provider)
    fs.mkdirSync(providerDir, { recursive: true })
    t.teardown(() => fs.rmSync(providerDir, { recursive: true, force: true }))
    const pidfile = path.join(dir, 'daemon.pid')
    fs.writeFileSync(
      path.join(providerDir, 'Daemon'),
      `#!/bin/sh
: \${OCF_FUNCTIONS_DIR=\${OCF_ROOT}/lib/heartbeat}
. \${OCF_FUNCTIONS_DIR}/ocf-shellfuncs
running() { [ -f "$OCF_RESKEY_pidfile" ] && kill -0 "$(cat "$OCF_RESKEY_pidfile")" 2>/dev/null; }
case "$1" in
meta-data) echo '<?xml version="1.0"?><resource-agent name="Daemon"><parameters><parameter name="pidfile" required="1"><content type="string"/></parameter></parameters><actions><action name="start" timeout="20s"/></actions></resource-agent>'; exit 0 ;;
start) running && exit $OCF_SUCCESS; sleep 1000 & echo $! > "$OCF_RESKEY_pidfile"; exit $OCF_SUCCESS ;;
stop) running && kill "$(cat "$OCF_RESKEY_pidfile")"; rm -f "$OCF_RESKEY_pidfile"; exit $OCF_SUCCESS ;;
monitor) running && exit $OCF_SUCCESS; exit $OCF_NOT_RUNNING ;;
validate-all) exit $OCF_SUCCESS ;;
*) exit $OCF_ERR_UNIMPLEMENTED ;;
esac
`,
      { mode: 0o755 },
    )
    const attrs = { agent: `${provider}:Daemon`, params: { pidfile } }
    t.teardown(() => {
      try {
        process.kill(Number(fs.readFileSync(pidfile, 'utf8')), 'SIGKILL')
      } catch {
        /* gone */
      }
    })
    const started = Date.now()
    const on = await h.call('online', { resource: 'dmn', attrs, timeoutMs: 20_000 })
    t.equal(on.answer, 'ok', on.reason ?? on.error ?? '')
    t.ok(Date.now() - started < 15_000, `start returned in ${Date.now() - started} ms, not at its 20 s timeout`)
    const pid = Number(fs.readFileSync(pidfile, 'utf8'))
    t.ok(pid > 1 && fs.existsSync(`/proc/${pid}`), `the daemon (pid ${pid}) runs after start returned`)
    t.equal((await h.call('monitor', { resource: 'dmn', attrs })).answer, 'ok')
    t.equal((await h.call('offline', { resource: 'dmn', attrs })).answer, 'ok')
    await new Promise((r) => setTimeout(r, 200))
    t.notOk(fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), 'stop ended it')
  })

  t.test('the agent sees the OCF environment: OCF_ROOT set by the host, instance = resource name, default state file', async (t) => {
    const { h } = await setup(t)
    const res = `ocfenv${process.pid}`
    const file = `/run/resource-agents/Dummy-${res}.state` // Dummy's default: ${HA_RSCTMP}/Dummy-${OCF_RESOURCE_INSTANCE}.state
    t.teardown(() => fs.rmSync(file, { force: true }))
    const attrs = { agent: 'ocf:heartbeat:Dummy' } // Pacemaker's spelling is accepted
    t.equal((await h.call('online', { resource: res, attrs })).answer, 'ok')
    t.ok(fs.existsSync(file), `the agent named its state file after the resource: ${file}`)
    t.equal((await h.call('offline', { resource: res, attrs })).answer, 'ok')
    t.notOk(fs.existsSync(file))
  })

  t.test(
    "exit codes from the real agent: validate-all exit 2 is a hard failure, with the agent's reason, and nothing starts",
    async (t) => {
      const { h, dir } = await setup(t)
      // validate-all: the state directory is not writable -> OCF_ERR_ARGS (2): hard, start never runs.
      const badDir = { agent: 'heartbeat:Dummy', params: { state: path.join(dir, 'missing-dir/x.state') } }
      const v = await h.call('online', { resource: 'd2', attrs: badDir })
      t.equal(v.answer, 'failed')
      t.equal(v.recoverable, false, 'OCF_ERR_ARGS is a hard error: not retried on this node')
      t.match(v.reason, /validate-all: exit 2 \(OCF_ERR_ARGS\): State file .* is not writable \(nothing started\)/, v.reason ?? '')
      t.notOk(fs.existsSync(path.join(dir, 'missing-dir')), 'start did not run')
    },
  )

  t.test('params are checked against the meta-data: unknown refused, required named, kinds checked', async (t) => {
    const { h, dir } = await setup(t)
    const perNode = {
      node1: { agent: 'heartbeat:Dummy', params: { state: path.join(dir, 's'), colour: 'red' } },
      node2: { agent: 'heartbeat:IPaddr2', params: { cidr_netmask: '24', lvs_support: 'maybe', arp_count: 'five' } },
    }
    const v = await h.call('validate', { args: [{ perNode }] })
    t.equal(v.status, 'done', v.error ?? '')
    t.equal(v.answer, 'invalid')
    const by = Object.fromEntries((v.diagnostics ?? []).map((d) => [d.path, d.summary]))
    t.match(by['/nodes/node1/params/colour'], /'colour' is not a parameter of ocf:heartbeat:Dummy/)
    t.match(by['/nodes/node2/params/ip'], /'ip' is required by ocf:heartbeat:IPaddr2/)
    t.match(by['/nodes/node2/params/lvs_support'], /must be true or false/)
    t.match(by['/nodes/node2/params/arp_count'], /must be a whole number/)
    t.equal(Object.keys(by).length, 4, `exactly these: ${JSON.stringify(by)}`)

    const good = await h.call('validate', {
      args: [{ perNode: { node1: { agent: 'heartbeat:Dummy', params: { state: path.join(dir, 's'), fake: 3 } } } }],
    })
    t.equal(good.answer, 'ok', JSON.stringify(good.diagnostics))

    // online refuses the same (configuration written without the wizard), naming the field, starting nothing.
    const on = await h.call('online', { resource: 'd3', attrs: perNode.node1 })
    t.equal(on.answer, 'invalid')
    t.equal(on.diagnostics?.[0]?.path, '/params/colour')
    t.notOk(fs.existsSync(path.join(dir, 's')), 'nothing started')
  })

  t.test('agent names: no path traversal, not installed, Pacemaker prefix', async (t) => {
    const { h } = await setup(t)
    const names: Record<string, RegExp> = {
      '../../../bin:sh': /is not provider:name/,
      'heartbeat:../../../../bin/sh': /is not provider:name/,
      'heartbeat/Dummy': /is not provider:name/,
      '.:Dummy': /is not provider:name/,
      'heartbeat:NoSuchAgent': /not an installed OCF agent on node1 \(no \/usr\/lib\/ocf\/resource\.d\/heartbeat\/NoSuchAgent\)/,
    }
    const perNode = Object.fromEntries(Object.keys(names).map((a, i) => [`n${i}`, { agent: a }]))
    const v = await h.call('validate', { args: [{ perNode }] })
    t.equal(v.answer, 'invalid')
    for (const [i, [a, re]] of Object.entries(names).entries()) {
      t.match(v.diagnostics?.find((d) => d.path === `/nodes/n${i}/agent`)?.summary, re, a)
    }
    // Probe where the agent is not installed: not running here (Pacemaker's reading of exit 5 on a probe).
    const probe = await h.call('monitor', { resource: 'd4', attrs: { agent: 'heartbeat:NoSuchAgent' } })
    t.equal(probe.answer, 'notRunning', probe.reason ?? '')
    const on = await h.call('online', { resource: 'd4', attrs: { agent: 'heartbeat:NoSuchAgent' } })
    t.equal(on.answer, 'failed')
    t.equal(on.recoverable, false, 'an agent missing on this node: hard, try another node')
    const off = await h.call('offline', { resource: 'd4', attrs: { agent: 'heartbeat:NoSuchAgent' } })
    t.equal(off.answer, 'ok', `offline where no agent file is and nothing was started: ${off.reason}`)
    t.equal((await h.call('clean', { resource: 'd4', attrs: { agent: 'heartbeat:NoSuchAgent' } })).answer, 'ok')
    h.state.set('d4', { started: true })
    t.equal(
      (await h.call('offline', { resource: 'd4', attrs: { agent: 'heartbeat:NoSuchAgent' } })).answer,
      'failed',
      'but an agent removed after MCCS started it cannot be stopped: failed',
    )
  })

  t.test('discover: the installed agents, and a wizard schema from the meta-data', async (t) => {
    const { h } = await setup(t)
    const list = await h.call('discover', { args: ['agents', {}] })
    t.equal(list.answer, 'ok', list.reason ?? '')
    const values = (list.choices ?? []).map((c) => c.value)
    t.ok(values.includes('heartbeat:Dummy') && values.includes('heartbeat:IPaddr2'), `${values.length} agents`)
    t.notOk(
      values.some((v) => !/^[A-Za-z0-9_][A-Za-z0-9_.+-]*:[A-Za-z0-9_][A-Za-z0-9_.+-]*$/.test(v)),
      'only provider:name entries',
    )

    const d = await h.call('discover', { args: ['params', { agent: 'heartbeat:IPaddr2' }] })
    t.equal(d.answer, 'ok', d.reason ?? '')
    const schema = (d.data as { schema: { required: string[]; properties: Record<string, Record<string, unknown>>; description: string } })
      .schema
    t.same(schema.required, ['ip'])
    t.equal(schema.properties.ip?.title, 'IPv4 or IPv6 address (ip)')
    t.equal(schema.properties.arp_count?.type, 'integer')
    t.same(schema.properties.lvs_support?.enum, ['true', 'false'], 'a boolean is a choice')
    t.equal(schema.properties.lvs_support?.default, 'false')
    t.match(schema.properties.preferred_lft?.description, /Default: forever/, 'a string default is told, not prefilled')
    t.equal(schema.properties.preferred_lft?.default, undefined)
    t.match(schema.description, /Advised timeouts: start 20 s, stop 20 s, monitor 20 s/)

    const bad = await h.call('discover', { args: ['params', { agent: 'heartbeat:../x' }] })
    t.equal(bad.answer, 'failed')
  })

  t.test('in the wizard hooks an agent may only describe itself (meta-data, no parameters)', async (t) => {
    // A plugin holding exec:ocf/* that tries to start an agent from discover (attributes chosen by
    // whoever fills the wizard) is refused by the host.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-ocf-rogue-'))
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
    fs.writeFileSync(
      path.join(dir, 'plugin.json'),
      JSON.stringify({
        name: 'ocf-rogue',
        displayName: 'rogue',
        version: '1.0.0',
        kind: 'resource',
        engines: { mccs: '^1.0.0' },
        main: 'dist/index.js',
        permissions: ['exec:ocf/*'],
        wizard: { type: 'object', properties: {} },
      }),
    )
    fs.mkdirSync(path.join(dir, 'dist'))
    fs.writeFileSync(
      path.join(dir, 'dist/index.js'),
      `globalThis.__mccsPlugin = {
      online: async () => ({ answer: 'ok' }), offline: async () => ({ answer: 'ok' }), monitor: async () => ({ answer: 'ok' }),
      discover: async (ctx, field) => {
        const env = field === 'env' ? { OCF_RESKEY_state: '/tmp/x' } : {}
        const args = field === 'meta' || field === 'env' ? ['meta-data'] : ['start']
        try { const r = await ctx.exec.run({ file: '${DUMMY}', args, env }); return { answer: 'ok', reason: 'ran ' + r.code } }
        catch (e) { return { answer: 'failed', reason: e.code + ' ' + e.field } }
      },
    }`,
    )
    const h = await createTestHost({ pluginDir: dir, build: false, fakes: { providers: [execProvider] } })
    t.teardown(() => h.dispose())
    t.equal((await h.call('discover', { args: ['meta', {}] })).reason, 'ran 0', 'meta-data is allowed')
    t.match(
      (await h.call('discover', { args: ['start', {}] })).reason,
      /^MCCS_ERR_PERMISSION_DENIED exec:\/usr\/lib\/ocf\/resource\.d\/heartbeat\/Dummy/,
      'start is refused',
    )
    t.match((await h.call('discover', { args: ['env', {}] })).reason, /^MCCS_ERR_PERMISSION_DENIED/, 'meta-data with parameters is refused')
  })
}
