// The fencing runner (core/agent/fencing.ts), with a recording fence device: a fence is never issued
// against a member of this node's view (issue 14, finding 2) — checked right before each device call,
// so a target that came back during the fence delay is withdrawn; a cancel during the delay stops it;
// a device call once issued runs to its end whatever is cancelled meanwhile.
import t from 'tap'
import { Fencing } from '../../core/agent/fencing.js'
import type { HbConfig } from '../../core/config/hb-model.js'
import type { Action } from '../../core/engine/plan.js'
import type { PluginHost } from '../../core/plugins/host.js'
import type { Log } from '../../core/log/logger.js'

interface Line {
  level: string
  msg: string
}

function setup(o: { delayMs: number; runsResources?: boolean; deviceMs?: number; levels?: number; joinWaitMs?: number }) {
  const lines: Line[] = []
  const log = {
    log: (level: string, msg: string) => {
      lines.push({ level, msg })
    },
  } as unknown as Log
  const calls: Array<{ type: string; target: unknown; signal: AbortSignal | undefined; ended?: number }> = []
  const host = {
    call: async (type: string, hook: string, req: { args: unknown[]; signal?: AbortSignal }) => {
      const c = { type, target: req.args[0], signal: req.signal } as (typeof calls)[number]
      calls.push(c)
      await new Promise((r) => setTimeout(r, o.deviceMs ?? 10))
      c.ended = Date.now()
      return { status: 'done', answer: type === 'dev-fail' ? 'failed' : 'ok', recoverable: true, durationMs: o.deviceMs ?? 10, hook }
    },
  } as unknown as PluginHost
  const levels = Array.from({ length: o.levels ?? 1 }, (_, i) => ({ type: i + 1 < (o.levels ?? 1) ? 'dev-fail' : 'dev' }))
  const hb = {
    generation: 1,
    cluster: 'c',
    port: 14321,
    timing: { intervalMs: 100, deadMs: 600 },
    links: [{ name: 'l', priority: 0 }],
    quorum: { twoNode: true, fenceDelayMs: o.delayMs },
    nodes: [
      { name: 'n1', addresses: { l: '10.0.0.1' } },
      { name: 'n2', addresses: { l: '10.0.0.2' }, fencing: levels },
    ],
  } as unknown as HbConfig
  let member = false
  const f = new Fencing({
    node: 'n1',
    log,
    host,
    hb: () => hb,
    nodes: () => ['n1', 'n2'],
    runsResources: () => o.runsResources ?? false,
    inView: (n) => n === 'n2' && member,
    ...(o.joinWaitMs !== undefined ? { joinWaitMs: (n: string) => (n === 'n2' ? o.joinWaitMs! : 0) } : {}),
  })
  const action: Action = { id: 'a1', kind: 'fence', node: 'n2', timeoutMs: 30_000, after: [], reason: 'n2 was lost' }
  return {
    f,
    calls,
    lines,
    action,
    setMember: (v: boolean) => {
      member = v
    },
  }
}

t.test('a target that comes back during the fence delay is withdrawn, not fenced', async (t) => {
  const s = setup({ delayMs: 300 })
  const p = s.f.fence(s.action, new AbortController().signal)
  setTimeout(() => s.setMember(true), 100) // n2 heard again and mutually connected, within the delay
  const out = await p
  t.equal(s.calls.length, 0, 'no fence device was called')
  t.match(out, { status: 'cancelled', answer: 'failed', reason: /^withdrawn: n2 is a member of this node's view again/ })
  t.ok(
    s.lines.some((l) => l.msg === "fence of n2 withdrawn: it is back in this node's view"),
    'logged',
  )
})

t.test('a target still out of the view after the delay is fenced', async (t) => {
  const s = setup({ delayMs: 200 })
  const t0 = Date.now()
  const out = await s.f.fence(s.action, new AbortController().signal)
  t.ok(Date.now() - t0 >= 190, 'the node running nothing waited its delay')
  t.match(out, { status: 'done', answer: 'ok' })
  t.same(
    s.calls.map((c) => [c.type, c.target]),
    [['dev', 'n2']],
  )
})

t.test('a node that runs resources fences at once, but never a member of its view', async (t) => {
  const s = setup({ delayMs: 5000, runsResources: true })
  s.setMember(true)
  const out = await s.f.fence(s.action, new AbortController().signal)
  t.equal(s.calls.length, 0)
  t.match(out, { status: 'cancelled', reason: /^withdrawn/ })
})

t.test('a cancel during the delay stops the fence before any device call', async (t) => {
  const s = setup({ delayMs: 5000 })
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 50)
  const t0 = Date.now()
  const out = await s.f.fence(s.action, ac.signal)
  t.ok(Date.now() - t0 < 1000, 'it did not wait the delay out')
  t.equal(s.calls.length, 0)
  t.match(out, { status: 'cancelled', reason: /cancelled during its delay/ })
})

t.test('a device call once issued is not aborted half way; the next level is not tried after a cancel', async (t) => {
  const s = setup({ delayMs: 0, deviceMs: 300, levels: 2 })
  const ac = new AbortController()
  const p = s.f.fence(s.action, ac.signal)
  await new Promise((r) => setTimeout(r, 50))
  t.equal(s.calls.length, 1, 'level 1 issued')
  ac.abort()
  s.setMember(true)
  const out = await p
  t.equal(s.calls[0]!.signal, undefined, "the device call is not tied to the action's abort signal")
  t.ok(s.calls[0]!.ended, 'level 1 ran to its end')
  t.equal(s.calls.length, 1, 'level 2 was not tried')
  t.match(out, { status: 'cancelled', reason: /cancelled before level 2/ })
})

t.test('between levels, a target back in the view is withdrawn', async (t) => {
  const s = setup({ delayMs: 0, deviceMs: 100, levels: 2 })
  const p = s.f.fence(s.action, new AbortController().signal)
  setTimeout(() => s.setMember(true), 30)
  const out = await p
  t.equal(s.calls.length, 1, 'only level 1 (failed) was issued')
  t.match(out, { status: 'cancelled', reason: /^withdrawn/ })
})

t.test('a target whose agent restarted a moment ago and is heard gets time to join: withdrawn once it does', async (t) => {
  // A new coordinator's start fenced a node it had fenced seconds before, while that node booted (its agent
  // was heard with a new incarnation, waiting out its old grants before joining).
  const s = setup({ delayMs: 0, runsResources: true, joinWaitMs: 1000 })
  const p = s.f.fence(s.action, new AbortController().signal)
  setTimeout(() => s.setMember(true), 300)
  const out = await p
  t.equal(s.calls.length, 0, 'no fence device was called')
  t.match(out, { status: 'cancelled', reason: /^withdrawn: n2 is a member/ })
  t.ok(
    s.lines.some((l) => /its agent restarted a moment ago and is heard, waiting up to 1000 ms/.test(l.msg)),
    'the wait is logged',
  )
})

t.test('a restarted target that does not join within the wait is fenced; a cancel ends the wait', async (t) => {
  const s = setup({ delayMs: 0, runsResources: true, joinWaitMs: 300 })
  const t0 = Date.now()
  const out = await s.f.fence(s.action, new AbortController().signal)
  t.ok(Date.now() - t0 >= 290, `it waited (${Date.now() - t0} ms)`)
  t.match(out, { status: 'done', answer: 'ok' })
  t.equal(s.calls.length, 1, 'then fenced')
  const c = setup({ delayMs: 0, runsResources: true, joinWaitMs: 5000 })
  const ac = new AbortController()
  const t1 = Date.now()
  setTimeout(() => ac.abort(), 100)
  const cut = await c.f.fence(c.action, ac.signal)
  t.ok(Date.now() - t1 < 1000, 'the cancel ended the wait')
  t.match(cut, { status: 'cancelled' })
  t.equal(c.calls.length, 0, 'no device call after the cancel')
})
