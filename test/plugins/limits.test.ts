// Issue 12, finding 7: a plugin could get its own node fenced by sending its host too much — 1,000
// concurrent exec.run calls, a 200 MiB log entry or answer stalled the host's thread past the dead time
// (600 ms) — and a hook that spun after its first await was bounded by nothing but its wall deadline.
// Each attack here runs in the real sandbox while a timer measures the host's event loop and a plugin
// of another type answers monitor calls: the loop must stay responsive, the neighbour must not notice,
// and the attacker's call must fail with MCCS_ERR_PLUGIN_LIMIT, named in the log.
import t, { type Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestHost, type TestHost } from '@mccs/plugin-kit/testing'
import { buildPlugin } from '@mccs/plugin-kit/build'
import { execProvider } from '../../core/plugins/caps/exec.js'
import type { HookResult } from '../../sdk/src/types.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = (n: string) => path.join(here, '../fixtures/plugins', n)
/** Well under the shipped dead time (600 ms): what the heartbeat could afford to lose to a plugin. */
const LOOP_LIMIT_MS = 250
const DEAD_MS = 600

/** Time the agent's (this process's main) thread has run, in ms, from the kernel's schedstat; null
 *  where the kernel does not keep it. A gap in the loop with little run time in it is the thread
 *  waiting for a core (other processes on a loaded machine), not the thread being held by a plugin. */
const mainRunMs = (): number | null => {
  try {
    return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6
  } catch {
    return null
  }
}

// Each test gets a host of its own (freshHost): the type's CPU allowance is shared by its calls.
let h: TestHost
/** `hookCpuMs`: a copy of the hostile fixture with this CPU budget. The size limits' tests use a large one:
 *  building 200 MiB in the isolate took more than the fixture's 3000 ms on a loaded machine (CI), and the
 *  CPU budget then cut the call before the size limit under test was reached. */
async function freshHost(t: Test, hookCpuMs?: number): Promise<void> {
  let pluginDir = fixture('hostile')
  if (hookCpuMs) {
    pluginDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-limits-'))
    const dir = pluginDir
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
    fs.cpSync(fixture('hostile'), dir, { recursive: true })
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'plugin.json'), 'utf8')) as { limits: Record<string, number> }
    manifest.limits.hookCpuMs = hookCpuMs
    fs.writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify(manifest))
  }
  h = await createTestHost({ pluginDir, build: false, fakes: { providers: [execProvider] } })
  const mine = h
  // Disposed isolates may still be finishing what V8 cannot interrupt (a 200 MiB JSON.stringify):
  // the process must not exit before they stop.
  t.teardown(async () => {
    mine.dispose()
    await mine.host.whenGone()
  })
  await h.host.load(fixture('greedy'))
}
t.before(async () => {
  await buildPlugin(fixture('greedy'))
  await buildPlugin(fixture('hostile'))
})

interface Attack {
  result: HookResult
  tookMs: number
  loopMaxMs: number
  heldMaxMs: number
  neighbour: { calls: number; bad: number; maxMs: number }
}

/** Runs one attack with the loop timer and the neighbour going; both keep going 300 ms after it. */
async function attack(name: string, attrs: Record<string, unknown> = {}, timeoutMs = 10_000, resource = 'h'): Promise<Attack> {
  let loopMaxMs = 0
  let heldMaxMs = 0
  let last = performance.now()
  let lastRun = mainRunMs()
  const timer = setInterval(() => {
    const now = performance.now()
    const run = mainRunMs()
    const gap = now - last
    loopMaxMs = Math.max(loopMaxMs, gap)
    // How long the thread ran between two ticks: the loop was held by work on it for that long.
    heldMaxMs = Math.max(heldMaxMs, run !== null && lastRun !== null ? Math.min(gap, run - lastRun) : gap)
    last = now
    lastRun = run
  }, 5)
  let stop = false
  const neighbour = { calls: 0, bad: 0, maxMs: 0 }
  const loop = (async () => {
    while (!stop) {
      const r = await h.host.call('greedy', 'monitor', { resource: 'neighbour', node: 'node1', attrs: {}, timeoutMs: 5000 })
      neighbour.calls++
      if (r.status !== 'done' || r.answer !== 'ok') neighbour.bad++
      neighbour.maxMs = Math.max(neighbour.maxMs, r.durationMs)
      await new Promise((res) => setTimeout(res, 20))
    }
  })()
  const t0 = Date.now()
  const result = await h.call('monitor', { resource, attrs: { attack: name, ...attrs }, timeoutMs })
  const tookMs = Date.now() - t0
  await new Promise((res) => setTimeout(res, 300))
  stop = true
  await loop
  clearInterval(timer)
  return { result, tookMs, loopMaxMs: Math.round(loopMaxMs), heldMaxMs: Math.round(heldMaxMs), neighbour }
}

function healthy(t: Test, a: Attack) {
  t.ok(
    a.heldMaxMs < LOOP_LIMIT_MS,
    `the host's thread was never held (longest stretch of work between two turns of its loop: ${a.heldMaxMs} ms)`,
  )
  t.ok(a.loopMaxMs < DEAD_MS, `the host's event loop never waited a dead time (longest gap ${a.loopMaxMs} ms)`)
  t.equal(a.neighbour.bad, 0, `the other type's ${a.neighbour.calls} monitor calls all answered ok`)
  t.ok(a.neighbour.maxMs < DEAD_MS, `the other type's slowest call took ${Math.round(a.neighbour.maxMs)} ms`)
}
const logged = (re: RegExp) =>
  h.logs.some((l) => (l.level === 'error' || l.level === 'warn') && l.data?.plugin === 'hostile' && re.test(l.msg.slice(0, 2000)))

t.test('1,000 concurrent exec.run calls: a few run, the rest are refused without crossing to the host', async (t) => {
  await freshHost(t)
  const a = await attack('execFlood', { count: 1000 })
  healthy(t, a)
  t.equal(a.result.answer, 'ok', `the hook answered (${a.result.status} ${(a.result.error ?? '').slice(0, 200)}) after ${a.tookMs} ms`)
  const tally = (a.result.data as { tally?: Record<string, number> } | undefined)?.tally ?? {}
  t.ok((tally.ran ?? 0) > 0 && (tally.ran ?? 0) <= 64, `${tally.ran} ran`)
  t.equal(
    (tally.ran ?? 0) + (tally.MCCS_ERR_PLUGIN_LIMIT ?? 0),
    1000,
    `the rest refused with MCCS_ERR_PLUGIN_LIMIT: ${JSON.stringify(tally)}`,
  )
  t.ok(logged(/concurrent/), 'the refusal is logged against the plugin')
})

t.test('a 200 MiB log message reaches the log cut, with a marker', async (t) => {
  await freshHost(t)
  const a = await attack('hugeLog')
  healthy(t, a)
  t.equal(a.result.answer, 'ok')
  // (Assertions below never hand a big string to tap: its diff of 200 MiB takes minutes.)
  const entry = h.logs.find((l) => l.data?.plugin === 'hostile' && l.msg.startsWith('xxxx'))
  t.ok(entry, 'the entry is there')
  t.ok(entry && entry.msg.length <= 8300, `cut to ${entry?.msg.length} characters`)
  t.ok(entry && /truncated/.test(entry.msg.slice(-200)), `with a marker: ${entry?.msg.slice(-80)}`)
})

// 100 MiB here: JSON.stringify of it inside the isolate takes a good part of the fixture's CPU budget.
t.test("a 100 MiB log entry's data is replaced by a marker", async (t) => {
  await freshHost(t)
  const a = await attack('hugeLogData', { mib: 100 })
  healthy(t, a)
  const entry = h.logs.find((l) => l.data?.plugin === 'hostile' && l.msg === 'data')
  t.ok(entry, `the entry is there (the call: ${a.result.status} ${(a.result.error ?? '').slice(0, 200)})`)
  const data = JSON.stringify(entry?.data ?? {})
  t.ok(data.length < 2000, `without the blob (${data.length} characters)`)
  t.ok(/truncated/.test(data.slice(0, 2000)), `with a marker: ${data.slice(0, 200)}`)
})

for (const [name, what] of [
  ['hugeAnswer', 'a 200 MiB reason'],
  ['hugeData', '200 MiB of data'],
] as const) {
  t.test(`an answer with ${what} fails the call with MCCS_ERR_PLUGIN_LIMIT, never read by the host`, async (t) => {
    await freshHost(t, 60_000)
    const a = await attack(name, {}, 60_000)
    healthy(t, a)
    t.equal(a.result.answer, 'failed')
    const size = JSON.stringify(a.result).length
    t.ok(size < 10_000, `nothing of it in the result (${size} characters)`)
    t.equal(a.result.errorCode, 'MCCS_ERR_PLUGIN_LIMIT', (a.result.error ?? '').slice(0, 300))
    t.ok(/answer/.test((a.result.error ?? '').slice(0, 1000)), 'the error says the answer is too big')
    t.ok(logged(/answer/), 'logged against the plugin')
  })
}

t.test('a thrown error with a 200 MiB message is cut', async (t) => {
  await freshHost(t)
  const a = await attack('hugeThrow')
  healthy(t, a)
  t.equal(a.result.status, 'crashed')
  t.ok((a.result.error ?? '').length < 10_000, `the error is ${(a.result.error ?? '').length} characters`)
  const inLog = h.logs.filter((l) => l.data?.plugin === 'hostile').reduce((n, l) => Math.max(n, l.msg.length), 0)
  t.ok(inLog < 10_000, `its longest log entry is ${inLog} characters`)
})

for (const [name, cap] of [
  ['hugeArgs', 'exec.run'],
  ['hugeState', 'state.set'],
] as const) {
  t.test(`200 MiB of arguments to ${cap} are refused inside the sandbox`, async (t) => {
    await freshHost(t, 60_000)
    const a = await attack(name, {}, 60_000)
    healthy(t, a)
    t.equal(a.result.status, 'crashed')
    t.equal(a.result.errorCode, 'MCCS_ERR_PLUGIN_LIMIT', (a.result.error ?? '').slice(0, 300))
    t.ok((a.result.error ?? '').slice(0, 1000).includes(cap), `the error names ${cap}`)
  })
}

for (const name of ['spinAfterAwait', 'slicedSpin'] as const) {
  t.test(`${name}: CPU after an await counts against the hook's CPU budget (3000 ms here)`, async (t) => {
    await freshHost(t)
    const a = await attack(name)
    healthy(t, a)
    t.equal(a.result.answer, 'failed')
    t.equal(a.result.errorCode, 'MCCS_ERR_PLUGIN_LIMIT', (a.result.error ?? '').slice(0, 300))
    t.ok(/CPU/.test((a.result.error ?? '').slice(0, 1000)), 'the error says CPU')
    t.ok(a.tookMs < 5000, `cut after ${a.tookMs} ms (the budget, not the 10 s deadline)`)
    t.ok(logged(/CPU budget/), 'logged against the plugin')
    const after = await h.call('monitor', { resource: 'h2', attrs: { attack: 'none' } })
    t.equal(after.answer, 'ok', 'the type answers again')
  })
}

// Each call within its budget, but many of them: the plugin's threads together may take no more than its
// CPU share (half a core on average, bursts of two budgets), or they starve the agent's thread of a core.
t.test('many resources spinning at once: the type is held to its CPU share, then stopped and named', async (t) => {
  // A copy with a 500 ms budget: bursts of 1000 ms, so the share shows within a few seconds.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-share-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.cpSync(fixture('hostile'), dir, { recursive: true })
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'plugin.json'), 'utf8')) as { limits: Record<string, number> }
  manifest.limits.hookCpuMs = 500
  fs.writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify(manifest))
  const fresh = await createTestHost({ pluginDir: dir, build: false, fakes: { providers: [execProvider] } })
  t.teardown(async () => {
    fresh.dispose()
    await fresh.host.whenGone()
  })
  const WINDOW_MS = 5000
  const cpu0 = process.cpuUsage()
  const w0 = Date.now()
  const results: HookResult[] = []
  await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      while (Date.now() - w0 < WINDOW_MS) {
        results.push(await fresh.call('monitor', { resource: `spin${i}`, attrs: { attack: 'slicedSpin' }, timeoutMs: 10_000 }))
        await new Promise((res) => setTimeout(res, 100)) // as a monitor loop would: not a busy loop of refused calls
      }
    }),
  )
  const wall = Date.now() - w0
  const used = process.cpuUsage(cpu0)
  const cpuMs = Math.round((used.user + used.system) / 1000)
  // Half a core over the window, the burst allowance (2 × hookCpuMs = 1000 ms), and this process's own
  // work (the agent's thread, GC): well under the two cores six spinning threads would take.
  const allowed = Math.round(0.5 * wall + 1000 + 1500)
  t.ok(cpuMs < allowed, `the process used ${cpuMs} ms of CPU in ${wall} ms (allowed ${allowed})`)
  const stopped = results.filter((r) => r.errorCode === 'MCCS_ERR_PLUGIN_LIMIT' && /CPU share/.test((r.error ?? '').slice(0, 500)))
  t.ok(stopped.length > 0, `calls were stopped for the type's CPU share (${stopped.length} of ${results.length})`)
  t.ok(
    fresh.logs.some((l) => l.level === 'error' && /CPU share/.test(l.msg) && l.data?.plugin === 'hostile'),
    'the stop is logged, naming the plugin',
  )
})

// Each with a host of its own: before the fix the host's thread waited forever for the isolate's lock.
const leftBehind = [
  ['backgroundSpin', 'a chain of microtasks started after an await', 'ok', /left running/],
  ['chainSpin', 'a chain of microtasks started before any await', 'failed', /CPU budget/],
  ['spinOnAnswer', 'a chain waiting on a capability call (never resumed)', 'ok', null],
] as const
for (const [name, what, own, log] of leftBehind) {
  t.test(`work a hook leaves behind (${what}) never makes the host wait`, async (t) => {
    await freshHost(t)
    const a = await attack(name)
    t.equal(a.result.answer, own, `the hook's own call: ${a.result.status} ${(a.result.error ?? '').slice(0, 200)}`)
    const t0 = Date.now()
    const next = await attack('none', {}, 5000, 'h3')
    healthy(t, next)
    t.equal(
      next.result.answer,
      'ok',
      `the next call answered (${next.result.status} ${(next.result.error ?? '').slice(0, 200)}) after ${Date.now() - t0} ms`,
    )
    if (log) t.ok(logged(log), `logged against the plugin (${log})`)
    const later = await h.call('monitor', { resource: 'h4', attrs: { attack: 'none' } })
    t.equal(later.answer, 'ok', 'and the type keeps answering')
  })
}
