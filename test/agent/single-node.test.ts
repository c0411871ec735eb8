// The single-node agent as an operator drives it through the mccs CLI: dependency order, restart in
// place, fault, clear, flush of a slow online, exit detection.
import t from 'tap'
import { readFile, writeFile, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { resourceState } from '../../core/engine/state.js'
import { startTestAgent, res, until, sleep, type TestAgent } from './helpers.js'

// The hook's online is slow (30 s) while a flag file exists; it records its pid so the test can
// check that a flush killed it.
const hookScript = (marker: string) => `#!/bin/sh
case "$1" in
 start) if [ -e '${marker}.slow' ]; then echo $$ > '${marker}.pid'; sleep 30; fi; touch '${marker}' ;;
 stop) rm -f '${marker}' ;;
 monitor) [ -e '${marker}' ] || exit 7 ;;
esac
`
const marker = `/tmp/mccs-test-marker-${process.pid}`

let a: TestAgent
t.before(async () => {
  a = await startTestAgent(
    {
      types: {},
      groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
      resources: [
        res('base', 'dummy', {}),
        res('hook', 'script', { onlineScript: 'hook.sh', offlineScript: 'hook.sh', monitorScript: 'hook.sh' }),
        res(
          'svc',
          'process',
          { argv: ['/bin/sleep', '100000'], stopGraceS: 2 },
          { policy: { monitorIntervalS: 1, restartLimit: 1, confidenceIntervalS: 3600 } },
        ),
      ],
      dependencies: [
        { parent: 'hook', child: 'base' },
        { parent: 'svc', child: 'hook' },
      ],
    },
    { scripts: { 'hook.sh': hookScript(marker) } },
  )
})
t.teardown(async () => {
  await a?.cleanup()
})

const svcPid = async (): Promise<number> => {
  const st = await a.agent.procs.status('svc', 'main')
  if (!st.pid) throw new Error('svc has no pid')
  return st.pid
}
const resState = (r: string) => resourceState(a.agent.engineState(), r, 'n1')?.state

t.test('group online --wait brings resources up children first', async (t) => {
  const r = await a.cli('group', 'online', 'g', '--wait', '--timeout', '60')
  t.equal(r.code, 0, r.err + r.out)
  t.match(r.out, /group g\s+n1:online/)
  const log = (await readFile(path.join(a.home, 'logs/mccs.log'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; time: string })
  const order = log.filter((l) => /^online \w+: done\/ok/.test(l.msg)).map((l) => l.msg.split(' ')[1]!.replace(':', ''))
  t.same(order, ['base', 'hook', 'svc'], 'base, then hook, then svc')
  const op = await readFile(path.join(a.home, 'logs/operation.log'), 'utf8')
  t.match(op, /"command":"groupOnline","target":"g"/, 'the operation log has the command with its user')
  t.equal((await a.cli('status', '--json')).code, 0)
})

t.test('a killed process is detected at once and restarted in place, the second kill faults the group', async (t) => {
  const pid1 = await svcPid()
  let seenAt = 0
  const onStep = (ev: { type: string; resource?: string; answer?: string }) => {
    if (!seenAt && ev.type === 'monitorResult' && ev.resource === 'svc' && ev.answer !== 'ok') seenAt = performance.now()
  }
  a.agent.on('step', onStep)
  const killedAt = performance.now()
  process.kill(pid1, 'SIGKILL')
  await until(() => seenAt, 5000, 2)
  a.agent.off('step', onStep)
  const ms = seenAt - killedAt
  t.ok(ms < 100, `exit reported to the engine in ${ms.toFixed(1)} ms`)
  await until(() => resState('svc') === 'online' && resourceState(a.agent.engineState(), 'svc', 'n1')!.restarts === 1, 15_000)
  const restarted = await svcPid()
  t.not(restarted, pid1, 'a new process runs')
  t.equal(a.agent.engineState().groups.g!.nodes.n1, 'online')
  process.kill(restarted, 'SIGKILL')
  // Faulted, and the fault's own stop actions done: a clear while they run is refused ("actions are in
  // progress"), and the command line now reaches the agent within milliseconds (bin/mccs-fast.pl).
  await until(
    () => a.agent.engineState().groups.g!.nodes.n1 === 'faulted' && Object.keys(a.agent.engineState().groups.g!.pending).length === 0,
    15_000,
  )
  const st = await a.cli('status')
  t.match(st.out, /n1:faulted/)
  t.match(st.out, /svc\s+process\s+faulted/)
})

t.test('clear brings the group back to normal', async (t) => {
  const r = await a.cli('group', 'clear', 'g', '--wait', '--timeout', '30')
  t.equal(r.code, 0, r.err + r.out)
  await until(() => a.agent.engineState().groups.g!.nodes.n1 !== 'faulted', 10_000)
  t.notMatch((await a.cli('status')).out, /faulted/)
  const on = await a.cli('group', 'online', 'g', '--wait', '--timeout', '60')
  t.equal(on.code, 0, on.err + on.out)
})

t.test('flush during a 30 s online returns in under 1 s and kills the hook', async (t) => {
  const off = await a.cli('group', 'offline', 'g', '--wait', '--timeout', '60')
  t.equal(off.code, 0, off.err + off.out)
  await writeFile(`${marker}.slow`, '')
  t.teardown(() => rm(`${marker}.slow`, { force: true }))
  const on = await a.cli('group', 'online', 'g')
  t.equal(on.code, 0, on.err)
  const scriptPid = await until(async () => Number(await readFile(`${marker}.pid`, 'utf8').catch(() => '')) || undefined, 10_000)
  t.equal(resState('hook'), 'onlining')
  await sleep(300)
  // Time inside the agent: from the flush command's step until the group has nothing in flight.
  let cmdAt = 0,
    quietAt = 0
  const onStep = (ev: { type: string }) => {
    if (ev.type === 'groupFlush') cmdAt = performance.now()
    if (cmdAt && !quietAt && Object.keys(a.agent.engineState().groups.g!.pending).length === 0) quietAt = performance.now()
  }
  a.agent.on('step', onStep)
  const t0 = performance.now()
  const fl = await a.cli('group', 'flush', 'g', '--wait', '--timeout', '10')
  const took = performance.now() - t0
  a.agent.off('step', onStep)
  t.equal(fl.code, 0, fl.err + fl.out)
  t.ok(quietAt - cmdAt < 1000, `the agent flushed in ${(quietAt - cmdAt).toFixed(0)} ms`)
  // The CLI's own start-up (a Node process) comes on top: 0.3 s on a quiet machine, 3.7 s seen at load 14.
  // Bounded loosely, still far under the 30 s the online would have taken.
  t.ok(took < 10_000, `mccs group flush --wait returned in ${took.toFixed(0)} ms`)
  t.not(resState('base'), 'onlining', 'no longer onlining')
  t.equal(Object.keys(a.agent.engineState().groups.g!.pending).length, 0, 'nothing in flight')
  t.notOk(existsSync(`/proc/${scriptPid}`), `the online script (pid ${scriptPid}) was killed`)
})
