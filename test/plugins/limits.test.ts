// Issue 12, finding 7: a plugin could get its own node fenced by sending its host too much — 1,000
// concurrent exec.run calls, a 200 MiB log entry or answer stalled the host's thread past the dead time
// (600 ms) — and a hook that spun after its first await was bounded by nothing but its wall deadline.
// Each attack here runs in the real sandbox while a timer measures the host's event loop and a plugin
// of another type answers monitor calls: the loop must stay responsive, the neighbour must not notice,
// and the attacker's call must fail with MCCS_ERR_PLUGIN_LIMIT, named in the log.
import t, { type Test } from 'tap'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestHost, type TestHost } from '../../sdk/src/testing.js'
import { buildPlugin } from '../../sdk/src/build.js'
import { execProvider } from '../../core/plugins/caps/exec.js'
import type { HookResult } from '../../sdk/src/types.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = (n: string) => path.join(here, '../fixtures/plugins', n)
/** Well under the shipped dead time (600 ms): what the heartbeat could afford to lose to a plugin. */
const LOOP_LIMIT_MS = 250

let h: TestHost
t.before(async () => {
  await buildPlugin(fixture('greedy'))
  h = await createTestHost({ pluginDir: fixture('hostile'), fakes: { providers: [execProvider] } })
  await h.host.load(fixture('greedy'))
})
t.teardown(() => h?.dispose())

interface Attack { result: HookResult; tookMs: number; loopMaxMs: number; neighbour: { calls: number; bad: number; maxMs: number } }

/** Runs one attack with the loop timer and the neighbour going; both keep going 300 ms after it. */
async function attack(name: string, attrs: Record<string, unknown> = {}, timeoutMs = 10_000, resource = 'h'): Promise<Attack> {
  let loopMaxMs = 0
  let last = performance.now()
  const timer = setInterval(() => { const now = performance.now(); loopMaxMs = Math.max(loopMaxMs, now - last); last = now }, 5)
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
  return { result, tookMs, loopMaxMs: Math.round(loopMaxMs), neighbour }
}

function healthy(t: Test, a: Attack) {
  t.ok(a.loopMaxMs < LOOP_LIMIT_MS, `the host's event loop stayed responsive (longest gap ${a.loopMaxMs} ms)`)
  t.equal(a.neighbour.bad, 0, `the other type's ${a.neighbour.calls} monitor calls all answered ok`)
  t.ok(a.neighbour.maxMs < LOOP_LIMIT_MS, `the other type's slowest call took ${Math.round(a.neighbour.maxMs)} ms`)
}
const logged = (re: RegExp) => h.logs.some((l) => (l.level === 'error' || l.level === 'warn') && l.data?.plugin === 'hostile' && re.test(l.msg.slice(0, 2000)))

t.test('1,000 concurrent exec.run calls: a few run, the rest are refused without crossing to the host', async (t) => {
  const a = await attack('execFlood', { count: 1000 })
  healthy(t, a)
  t.equal(a.result.answer, 'ok', `the hook answered (${a.result.status} ${(a.result.error ?? '').slice(0, 200)}) after ${a.tookMs} ms`)
  const tally = (a.result.data as { tally?: Record<string, number> } | undefined)?.tally ?? {}
  t.ok((tally.ran ?? 0) > 0 && (tally.ran ?? 0) <= 64, `${tally.ran} ran`)
  t.equal((tally.ran ?? 0) + (tally.MCCS_ERR_PLUGIN_LIMIT ?? 0), 1000, `the rest refused with MCCS_ERR_PLUGIN_LIMIT: ${JSON.stringify(tally)}`)
  t.ok(logged(/concurrent/), 'the refusal is logged against the plugin')
})

t.test('a 200 MiB log message reaches the log cut, with a marker', async (t) => {
  const a = await attack('hugeLog')
  healthy(t, a)
  t.equal(a.result.answer, 'ok')
  // (Assertions below never hand a big string to tap: its diff of 200 MiB takes minutes.)
  const entry = h.logs.find((l) => l.data?.plugin === 'hostile' && l.msg.startsWith('xxxx'))
  t.ok(entry, 'the entry is there')
  t.ok(entry && entry.msg.length <= 8300, `cut to ${entry?.msg.length} characters`)
  t.ok(entry && /truncated/.test(entry.msg.slice(-200)), `with a marker: ${entry?.msg.slice(-80)}`)
})

t.test("a 200 MiB log entry's data is replaced by a marker", async (t) => {
  const a = await attack('hugeLogData')
  healthy(t, a)
  const entry = h.logs.find((l) => l.data?.plugin === 'hostile' && l.msg === 'data')
  t.ok(entry, 'the entry is there')
  const data = JSON.stringify(entry?.data ?? {})
  t.ok(data.length < 2000, `without the blob (${data.length} characters)`)
  t.ok(/truncated/.test(data.slice(0, 2000)), `with a marker: ${data.slice(0, 200)}`)
})

for (const [name, what] of [['hugeAnswer', 'a 200 MiB reason'], ['hugeData', '200 MiB of data']] as const) {
  t.test(`an answer with ${what} fails the call with MCCS_ERR_PLUGIN_LIMIT, never read by the host`, async (t) => {
    const a = await attack(name)
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
  const a = await attack('hugeThrow')
  healthy(t, a)
  t.equal(a.result.status, 'crashed')
  t.ok((a.result.error ?? '').length < 10_000, `the error is ${(a.result.error ?? '').length} characters`)
  const inLog = h.logs.filter((l) => l.data?.plugin === 'hostile').reduce((n, l) => Math.max(n, l.msg.length), 0)
  t.ok(inLog < 10_000, `its longest log entry is ${inLog} characters`)
})

for (const [name, cap] of [['hugeArgs', 'exec.run'], ['hugeState', 'state.set']] as const) {
  t.test(`200 MiB of arguments to ${cap} are refused inside the sandbox`, async (t) => {
    const a = await attack(name)
    healthy(t, a)
    t.equal(a.result.status, 'crashed')
    t.equal(a.result.errorCode, 'MCCS_ERR_PLUGIN_LIMIT', (a.result.error ?? '').slice(0, 300))
    t.ok((a.result.error ?? '').slice(0, 1000).includes(cap), `the error names ${cap}`)
  })
}

for (const name of ['spinAfterAwait', 'slicedSpin'] as const) {
  t.test(`${name}: CPU after an await counts against the hook's CPU budget (1000 ms here)`, async (t) => {
    const a = await attack(name)
    healthy(t, a)
    t.equal(a.result.answer, 'failed')
    t.equal(a.result.errorCode, 'MCCS_ERR_PLUGIN_LIMIT', (a.result.error ?? '').slice(0, 300))
    t.ok(/CPU/.test((a.result.error ?? '').slice(0, 1000)), 'the error says CPU')
    t.ok(a.tookMs < 2500, `cut after ${a.tookMs} ms (the budget, not the 10 s deadline)`)
    t.ok(logged(/CPU budget/), 'logged against the plugin')
    const after = await h.call('monitor', { resource: 'h2', attrs: { attack: 'none' } })
    t.equal(after.answer, 'ok', 'the type answers again')
  })
}

// Each with a host of its own: before the fix the host's thread waited forever for the isolate's lock.
const leftBehind = [
  ['backgroundSpin', 'a chain of microtasks started after an await', 'ok', /left running/],
  ['chainSpin', 'a chain of microtasks started before any await', 'failed', /CPU budget/],
  ['spinOnAnswer', 'a chain waiting on a capability call (never resumed)', 'ok', null],
] as const
for (const [name, what, own, log] of leftBehind) {
  t.test(`work a hook leaves behind (${what}) never makes the host wait`, async (t) => {
    const fresh = await createTestHost({ pluginDir: fixture('hostile'), build: false, fakes: { providers: [execProvider] } })
    t.teardown(() => fresh.dispose())
    await fresh.host.load(fixture('greedy'))
    const saved = h
    h = fresh
    t.teardown(() => { h = saved })
    const a = await attack(name)
    t.equal(a.result.answer, own, `the hook's own call: ${a.result.status} ${(a.result.error ?? '').slice(0, 200)}`)
    const t0 = Date.now()
    const next = await attack('none', {}, 5000, 'h3')
    healthy(t, next)
    t.equal(next.result.answer, 'ok', `the next call answered (${next.result.status} ${(next.result.error ?? '').slice(0, 200)}) after ${Date.now() - t0} ms`)
    if (log) t.ok(logged(log), `logged against the plugin (${log})`)
    const later = await h.call('monitor', { resource: 'h4', attrs: { attack: 'none' } })
    t.equal(later.answer, 'ok', 'and the type keeps answering')
  })
}
