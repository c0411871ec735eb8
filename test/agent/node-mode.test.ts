// Issue 14, finding 7, on a single node (no other node can take its groups): a planned stop (the agent's
// leave, what SIGTERM runs) stops the groups instead of leaving them running unmanaged; standby stops
// them and starts nothing until unstandby, across an agent restart; `mccs node` validates its input.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { makeHome, until, type AgentHome } from './agent-home.js'
import type { MainConfig } from '../../core/engine/model.js'
import type { AgentStatus } from '../../core/agent/status.js'

t.setTimeout(180_000)

const MAIN: Omit<MainConfig, 'generation'> = {
  types: {},
  groups: [
    { name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false },
    { name: 'k', nodes: ['n1'], failoverOnFailure: false, autoStart: false, autoFailback: false },
  ],
  resources: [
    // Cannot be stopped: its offline and clean fail.
    {
      name: 'stuck',
      type: 'dummy',
      group: 'k',
      critical: true,
      monitored: true,
      attrs: { offline: 'fail', clean: 'fail' },
      nodeAttrs: {},
      policy: { monitorIntervalS: 1 },
    },
    { name: 'base', type: 'dummy', group: 'g', critical: true, monitored: true, attrs: {}, nodeAttrs: {}, policy: { monitorIntervalS: 1 } },
    {
      name: 'svc',
      type: 'process',
      group: 'g',
      critical: true,
      monitored: true,
      attrs: { argv: ['/bin/sleep', '100000'], stopGraceS: 1 },
      nodeAttrs: {},
      policy: { monitorIntervalS: 1 },
    },
  ],
  dependencies: [{ parent: 'svc', child: 'base' }],
}

let h: AgentHome
t.before(async () => {
  h = await makeHome(MAIN)
  await h.start()
})
t.teardown(async () => {
  await h?.cleanup()
})

const agent = () => h.running!.agent
const svcPid = async () => (await agent().procs.status('svc', 'main')).pid
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
const status = async (): Promise<AgentStatus> => JSON.parse((await h.cli('status', '--json')).out) as AgentStatus

t.test('a planned stop of a single node stops its groups (no other node can take them)', async (t) => {
  const on = await h.cli('group', 'online', 'g', '--wait', '--timeout', '60')
  t.equal(on.code, 0, on.err)
  const pid = await svcPid()
  t.ok(pid && alive(pid), 'svc runs')
  const r = await agent().leave(30_000)
  t.same(r.moved, { g: 'stopped' }, 'g was stopped: no other node')
  t.same(r.left, [])
  t.notOk(alive(pid!), 'the service process is gone')
  t.equal(agent().engineState().groups['g']?.nodes['n1'], 'offline')
  await h.stop()
  await h.start() // a start after a planned stop: nothing runs, nothing is started behind the operator's back
  await until(() => agent().engineState().groups['g']?.nodes['n1'] === 'offline', 20_000, 50, 'g probed offline')
  t.pass('after the restart g is offline')
})

t.test('standby: the groups stop, nothing starts until unstandby, and it survives a restart', async (t) => {
  t.equal((await h.cli('group', 'online', 'g', '--wait', '--timeout', '60')).code, 0)
  const sb = await h.cli('node', 'standby')
  t.equal(sb.code, 0, sb.err)
  t.match(sb.out, /n1: in standby; g stopped \(no other node can take it\)/)
  t.equal(agent().engineState().groups['g']?.nodes['n1'], 'offline')
  t.equal((await status()).nodes[0]?.membership, 'standby', 'status shows the node in standby')
  const on = await h.cli('group', 'online', 'g')
  t.equal(on.code, 3, `online is rejected in standby: ${on.err}`)
  const saved = JSON.parse(await readFile(path.join(h.b.stateDir, 'node-mode.json'), 'utf8')) as { mode: string }
  t.equal(saved.mode, 'standby', 'persisted')

  await h.stop()
  await h.start()
  await until(async () => (await status()).nodes[0]?.membership === 'standby', 20_000, 100, 'still in standby after a restart')
  t.equal((await h.cli('group', 'online', 'g')).code, 3, 'still rejected after the restart')

  const un = await h.cli('node', 'unstandby')
  t.equal(un.code, 0, un.err)
  await until(async () => (await status()).nodes[0]?.membership === 'up', 10_000, 100, 'up again')
  const on2 = await h.cli('group', 'online', 'g', '--wait', '--timeout', '60')
  t.equal(on2.code, 0, `online works again: ${on2.err}`)
  const op = await readFile(path.join(h.b.logDir, 'operation.log'), 'utf8')
  t.match(op, /"command":"nodeStandby","target":"n1"[^\n]*"result":"done"/, 'the operation log has the standby')
  t.match(op, /"command":"nodeUnstandby","target":"n1"/)
})

t.test('mccs node: usage and unknown nodes are refused, changing nothing', async (t) => {
  t.equal((await h.cli('node', 'sleep')).code, 2, 'unknown verb: usage')
  t.equal((await h.cli('node', 'standby', 'n1', 'extra')).code, 2, 'extra argument: usage')
  t.equal((await h.cli('node', 'standby', '--timeout', '-1')).code, 2, 'bad timeout: usage')
  const r = await h.cli('node', 'standby', 'n9')
  t.equal(r.code, 3, 'unknown node: rejected')
  t.match(r.err, /no node n9/)
  t.equal((await status()).nodes[0]?.membership, 'up', 'nothing changed')
})

t.test('a node that cannot stop what runs there does not claim standby (it stays active, exit 1)', async (t) => {
  t.equal((await h.cli('group', 'online', 'k', '--wait', '--timeout', '60')).code, 0)
  const sb = await h.cli('node', 'standby')
  t.equal(sb.code, 1, `${sb.out}${sb.err}`)
  t.match(sb.out, /n1: not in standby/)
  t.match(sb.err, /n1 stays active: stuck could not be stopped/)
  t.equal((await status()).nodes[0]?.membership, 'up', 'the node is not shown in standby')
  const saved = JSON.parse(await readFile(path.join(h.b.stateDir, 'node-mode.json'), 'utf8')) as { mode: string }
  t.equal(saved.mode, 'active', 'and does not keep it')
  await agent().pluginState.set('stuck', 'control', { offline: 'ok', clean: 'ok' }) // let the cleanup stop it
})
