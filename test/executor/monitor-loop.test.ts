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

t.test('the timer wakes for the monitors due, not every tick (issue 19: an idle agent woke 10 times a second)', async (t) => {
  const runs: number[] = []
  const loop = new MonitorLoop({
    tickMs: 50,
    random: () => 0.5,
    run: async () => {
      runs.push(Date.now())
    },
  })
  let ticks = 0
  const tick = loop.tick.bind(loop)
  loop.tick = () => (ticks++, tick())
  loop.set('a', 400)
  loop.start()
  await new Promise((r) => setTimeout(r, 1300))
  t.ok(runs.length >= 2 && runs.length <= 4, `monitored every 400 ms (${runs.length} runs in 1.3 s)`)
  t.ok(ticks <= runs.length + 1, `${ticks} timer ticks for ${runs.length} runs (a tick every 50 ms would be 26)`)
  // A manual probe runs at the next tick, not at the next due time.
  const before = runs.length
  const t0 = Date.now()
  loop.trigger('a')
  await new Promise((r) => setTimeout(r, 150))
  t.equal(runs.length, before + 1, 'the triggered monitor ran')
  t.ok(runs.at(-1)! - t0 <= 120, `within a tick (${runs.at(-1)! - t0} ms)`)
  loop.stop()
})

t.test('a monitor running past its due time runs again at the next tick after it settles', async (t) => {
  const runs: number[] = []
  let release: () => void = () => {}
  const loop = new MonitorLoop({
    tickMs: 20,
    random: () => 0,
    run: () => {
      runs.push(Date.now())
      return new Promise<void>((r) => (release = r))
    },
  })
  loop.set('slow', 100)
  loop.start()
  await new Promise((r) => setTimeout(r, 300))
  t.equal(runs.length, 1, 'one run while the first has not settled')
  const t0 = Date.now()
  release()
  await new Promise((r) => setTimeout(r, 80))
  t.equal(runs.length, 2, 'ran again once settled')
  t.ok(runs[1]! - t0 <= 60, `at the next tick (${runs[1]! - t0} ms)`)
  loop.stop()
  release()
})
