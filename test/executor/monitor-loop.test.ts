// The monitor loop (core/executor/monitor-loop.ts) with a fake clock: a resource whose interval changes while
// its own monitor is running must be monitored again (issue 14, finding 10: on the coordinator a monitor
// result is dispatched before the monitor settles, and it may change that resource's interval — unknown ->
// offline at start, offline -> online on adoption — which left the resource unmonitored for good).
import t from 'tap'
import { MonitorLoop } from '../../core/executor/monitor-loop.js'

function rig() {
  let now = 0
  const runs: string[] = []
  const pending: Array<() => void> = []
  const loop = new MonitorLoop({
    now: () => now,
    random: () => 0,
    run: (key) => {
      runs.push(`${key}@${now}`)
      return new Promise<void>((r) => pending.push(r))
    },
  })
  const settle = async () => {
    while (pending.length) pending.shift()!()
    await new Promise((r) => setImmediate(r))
  }
  return {
    loop,
    runs,
    settle,
    at: (ms: number) => {
      now = ms
    },
  }
}

t.test('an interval changed while the monitor runs: the resource is monitored again at the new interval', async (t) => {
  const { loop, runs, settle, at } = rig()
  loop.set('oip', 2000)
  at(0)
  loop.tick()
  t.same(runs, ['oip@0'], 'first monitor')
  // Its result is reported (and the schedule re-timed) before the monitor settles.
  loop.set('oip', 4000)
  await settle()
  at(4000)
  loop.tick()
  at(8000)
  loop.tick()
  await settle()
  t.same(runs, ['oip@0', 'oip@4000'], 'monitored again after the re-time')
  at(12_000)
  loop.tick()
  await settle()
  t.same(runs, ['oip@0', 'oip@4000', 'oip@12000'], 'and from then on at its new interval')
})

t.test('a re-time never starts a second monitor of the same resource while one runs', async (t) => {
  const { loop, runs, settle, at } = rig()
  loop.set('r', 1000)
  at(0)
  loop.tick()
  loop.set('r', 500)
  at(600)
  loop.tick()
  t.same(runs, ['r@0'], 'still running: not started again')
  await settle()
  at(700)
  loop.tick()
  await settle()
  t.same(runs, ['r@0', 'r@700'], 'due since 500 ms: runs at the next tick once the first settled')
})
