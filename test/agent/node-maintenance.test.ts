// Issue 14, What 7: `mccs node maintenance|unmaintenance` (Pacemaker's node maintenance mode) on a single
// node. In maintenance what runs there is left as it is: a service that dies is neither noticed as a fault
// nor restarted, the operator cannot stop or move the group, a graceful stop of the agent (SIGTERM's leave)
// leaves the services running, and the maintenance outlives an agent restart. Unmaintenance probes the node
// and the engine goes on from what it finds (it starts what is wanted and missing, adopts what runs).
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { makeHome, until, type AgentHome } from './agent-home.js'
import type { MainConfig } from '../../core/engine/model.js'
import type { AgentStatus } from '../../core/agent/status.js'

t.setTimeout(180_000)

const MAIN: Omit<MainConfig, 'generation'> = {
  types: {},
  groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
  resources: [
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
  await h?.cli('node', 'unmaintenance')
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('in maintenance a dead service is not acted on; the group cannot be stopped; unmaintenance restarts it', async (t) => {
  t.equal((await h.cli('group', 'online', 'g', '--wait', '--timeout', '60')).code, 0)
  const pid = (await svcPid())!
  t.ok(alive(pid), 'svc runs')
  const m = await h.cli('node', 'maintenance')
  t.equal(m.code, 0, m.err)
  t.match(m.out, /n1: in maintenance; what runs there is left as it is/)
  t.equal((await status()).nodes.find((n) => n.name === 'n1')?.membership, 'maintenance', 'status shows it')

  process.kill(pid, 'SIGKILL')
  await sleep(4000) // monitors every 1 s: unmanaged, it would be seen and restarted within about 2 s
  t.notOk(alive(pid), 'the killed service stays dead')
  const g = agent().engineState().groups['g']!
  t.equal(g.resources['svc']!['n1']!.state, 'online', 'not judged: the engine still holds what it knew')
  t.equal(g.resources['svc']!['n1']!.restarts, 0, 'no restart')
  t.notOk((await svcPid()) && alive((await svcPid())!), 'nothing started it again')
  t.notOk(
    (await status()).notices.some((n) => n.kind === 'resourceFaulted'),
    'no fault',
  )

  const off = await h.cli('group', 'offline', 'g')
  t.equal(off.code, 3, 'the operator cannot stop the group while its node is in maintenance')
  t.match(off.err, /n1 is in maintenance/)

  const u = await h.cli('node', 'unmaintenance')
  t.equal(u.code, 0, u.err)
  t.match(u.out, /n1: out of maintenance/)
  await until(
    async () => {
      const p = await svcPid()
      return p && p !== pid && alive(p) ? p : undefined
    },
    20_000,
    50,
    'svc probed, found dead and started again',
  )
  t.equal((await status()).nodes.find((n) => n.name === 'n1')?.membership, 'up')
  const ops = await readFile(path.join(h.home, 'logs/operation.log'), 'utf8')
  t.match(ops, /"command":"nodeMaintenance","target":"n1","args":\{"node":"n1","on":true\},"result":"accepted"/)
  t.match(ops, /"command":"nodeMaintenance","target":"n1","args":\{"node":"n1","on":false\},"result":"accepted"/)
})

t.test('a graceful stop in maintenance leaves the services running; the maintenance outlives a restart', async (t) => {
  const pid = (await svcPid())!
  t.ok(alive(pid))
  t.equal((await h.cli('node', 'maintenance')).code, 0)
  const r = await agent().leave(30_000)
  t.same([r.moved, r.stopped, r.failed], [{}, [], []], 'nothing moved or stopped')
  t.ok(alive(pid), 'the service still runs after the leave')
  await h.stop()
  t.ok(alive(pid), 'and after the agent stopped')
  await h.start()
  await sleep(2000)
  t.equal((await status()).nodes.find((n) => n.name === 'n1')?.membership, 'maintenance', 'still in maintenance after the restart')
  t.equal(agent().engineState().groups['g']!.resources['svc']!['n1']!.state, 'unknown', 'not probed while in maintenance')
  t.equal((await h.cli('node', 'unmaintenance')).code, 0)
  await until(() => agent().engineState().groups['g']!.nodes['n1'] === 'online', 20_000, 50, 'g probed and adopted')
  t.equal(await svcPid(), pid, 'the same service process was adopted, not restarted')
})

t.test('mccs node maintenance validates its input', async (t) => {
  const bad = await h.cli('node', 'maintenance', 'nX')
  t.equal(bad.code, 3)
  t.match(bad.err, /no node nX/)
  const extra = await h.cli('node', 'maintenance', 'n1', 'extra')
  t.equal(extra.code, 2)
  t.match(extra.err, /usage: mccs node standby\|unstandby\|maintenance\|unmaintenance/)
})
