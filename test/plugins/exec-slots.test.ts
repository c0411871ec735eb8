// The exec slots (core/plugins/caps/exec-slots.ts): a few processes at a time per resource, per type
// and in all; the rest wait in order until a slot frees or their call ends; beyond the queue, refused.
import t from 'tap'
import { ExecSlots } from '../../core/plugins/caps/exec-slots.js'
import { isMccsError } from '../../core/errors.js'

const limits = { perResource: 2, perType: 3, global: 4, queuePerType: 2 }
const never = new AbortController().signal
const settled = async <T>(p: Promise<T>): Promise<'granted' | 'waiting' | string> => {
  const r = await Promise.race([
    p.then(
      () => 'granted',
      (e: unknown) => (isMccsError(e) ? e.code : String(e)),
    ),
    new Promise<string>((res) => setTimeout(() => res('waiting'), 10)),
  ])
  return r
}

t.test('per resource, per type and in all', async (t) => {
  const s = new ExecSlots(limits)
  const a1 = await s.acquire('A', 'r1', never)
  await s.acquire('A', 'r1', never)
  const a3 = s.acquire('A', 'r1', never)
  t.equal(await settled(a3), 'waiting', 'a third for the same resource waits')
  const other = s.acquire('A', 'r2', never)
  t.equal(await settled(other), 'granted', 'another resource of the type still gets one (3 of the type now)')
  t.equal(await settled(s.acquire('A', 'r3', never)), 'waiting', 'the type is at its 3')
  t.equal(await settled(s.acquire('B', 'x', never)), 'granted', 'another type: the 4th in all')
  t.equal(await settled(s.acquire('C', 'y', never)), 'waiting', 'in all: 4, so a third type waits')
  t.equal(s.active, 4)
  a1()
  t.equal(await settled(a3), 'granted', 'a freed slot goes to the first waiter that fits')
})

t.test('the queue is bounded per type; a call that ends stops waiting', async (t) => {
  const s = new ExecSlots({ ...limits, perResource: 1 })
  await s.acquire('A', 'r', never)
  const ac = new AbortController()
  const w1 = s.acquire('A', 'r', ac.signal)
  const w2 = s.acquire('A', 'r', never)
  const w3 = await settled(s.acquire('A', 'r', never))
  t.equal(w3, 'MCCS_ERR_PLUGIN_LIMIT', 'a third waiter of the type is refused at once')
  ac.abort()
  t.equal(await settled(w1), 'MCCS_ERR_CANCELLED', 'the aborted waiter leaves the queue')
  t.equal(await settled(s.acquire('A', 'r', never)), 'waiting', 'which makes room for another')
  t.equal(await settled(w2), 'waiting')
})

// core/plugins/caps/spawn-gate.ts: one spawn per turn of the event loop, spaced by what the last cost.
t.test('spawns take turns of the event loop, spaced by what the last one held it', async (t) => {
  const { spawnTurn, spawned } = await import('../../core/plugins/caps/spawn-gate.js')
  let turn = 0
  let ticking = true
  const tick = () => {
    turn++
    if (ticking) setImmediate(tick)
  }
  setImmediate(tick)
  const turns = await Promise.all([spawnTurn(), spawnTurn(), spawnTurn()].map((p) => p.then(() => turn)))
  t.equal(new Set(turns).size, 3, `three spawns, three different turns (${turns.join(', ')})`)
  spawned(40)
  const t0 = performance.now()
  await spawnTurn()
  const waited = performance.now() - t0
  ticking = false
  t.ok(waited >= 35, `after a spawn that held the loop 40 ms, the next waited ${waited.toFixed(1)} ms`)
})
