// Heartbeat.reconfigure() (issue 16, What 3): a running heartbeat takes a new hb.json — a node and a link
// added and removed, the timing changed — without a restart, and a peer that stays heard is never
// declared down on the way. One process, over loopback; the cluster-wide two phases are in hb-live.test.ts.
// Also the edge checks of a live change (core/agent/hb-change.ts): each refusal names its field.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { Heartbeat, type PeerEvent } from '../../core/cluster/heartbeat.js'
import { transitional } from '../../core/cluster/role.js'
import { applyHbChange, checkHbChange } from '../../core/agent/hb-change.js'
import { isMccsError } from '../../core/errors.js'
import type { HbConfig } from '../../core/config/hb-model.js'
import type { MainConfig } from '../../core/engine/index.js'

const port = 21000 + (process.pid % 20000)
const key = randomBytes(32)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function config(names: string[], links: string[], timing = { intervalMs: 20, deadMs: 120 }): HbConfig {
  return {
    generation: 1,
    cluster: 'unit',
    nodes: names.map((n) => ({
      name: n,
      addresses: Object.fromEntries(links.map((l) => [l, `127.0.${l === 'a' ? 1 : l === 'b' ? 2 : 3}.${Number(n.slice(1))}`])),
    })),
    links: links.map((l, i) => ({ name: l, priority: i, port: port + i })),
    timing,
    port,
  }
}

async function until(fn: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const t0 = Date.now()
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${what}`)
    await sleep(5)
  }
}

t.test('nodes, links and timing change live; a peer still heard is never declared down', async (t) => {
  const c1 = config(['n1', 'n2'], ['a'])
  const h1 = new Heartbeat({ config: c1, self: 'n1', key })
  const h2 = new Heartbeat({ config: c1, self: 'n2', key })
  const downs: string[] = []
  for (const h of [h1, h2]) h.on('peer', (e: PeerEvent) => void (!e.up && downs.push(`${h.self}: ${e.node}`)))
  t.teardown(async () => {
    await Promise.all([h1, h2, h3].map((h) => h?.stop()))
  })
  let h3: Heartbeat | undefined
  await h1.start()
  await h2.start()
  await until(() => h1.isUp('n2') && h2.isUp('n1'), 3000, 'n1 and n2 up')

  // A node added: unheard (down, no event) until it runs; then up everywhere.
  const c2 = config(['n1', 'n2', 'n3'], ['a'])
  h1.reconfigure(c2)
  h2.reconfigure(c2)
  t.equal(h1.status().peers.find((p) => p.node === 'n3')?.up, false, 'n3 known and not up before it runs')
  await sleep(300)
  t.same(downs, [], 'no peer-down event for a node that never ran')
  h3 = new Heartbeat({ config: c2, self: 'n3', key })
  await h3.start()
  await until(() => h1.isUp('n3') && h2.isUp('n3') && h3!.isUp('n1') && h3!.isUp('n2'), 3000, 'n3 up everywhere')

  // A link added: bound and heard on every peer.
  const c3 = config(['n1', 'n2', 'n3'], ['a', 'b'])
  for (const h of [h1, h2, h3]) h.reconfigure(c3)
  await until(() => h1.status().peers.every((p) => p.links.b?.up === true), 3000, 'n1 hears n2 and n3 on b')
  t.ok(h1.status().links.find((l) => l.name === 'b')?.bound, 'link b bound')

  // Timing: the transitional one first (shorter interval, longer dead time), then the new one.
  const slow = { intervalMs: 60, deadMs: 400 }
  t.same(transitional(c3.timing, slow), { intervalMs: 20, deadMs: 400 }, 'transitional timing: shorter interval, longer dead time')
  for (const h of [h1, h2, h3]) h.reconfigure({ ...c3, timing: transitional(c3.timing, slow) })
  t.equal(h1.deadMs, 400, 'dead time raised first')
  // One node at the new interval while the others still run the transitional timing: nobody goes down.
  h1.reconfigure({ ...c3, timing: slow })
  await sleep(600)
  h2.reconfigure({ ...c3, timing: slow })
  h3.reconfigure({ ...c3, timing: slow })
  await sleep(600)
  t.equal(h1.intervalMs, 60, 'interval in force')
  t.same(downs, [], 'nobody declared down through the timing change')

  // The link removed, then the node: peers stay up on the remaining link; the removed node is forgotten.
  const c4 = { ...config(['n1', 'n2', 'n3'], ['a'], slow) }
  for (const h of [h1, h2, h3]) h.reconfigure(c4)
  await sleep(500)
  t.same(Object.keys(h1.status().peers[0]!.links), ['a'], 'link b gone')
  t.notOk(
    h1.status().links.some((l) => l.name === 'b'),
    'its socket closed',
  )
  await h3.stop()
  const c5 = config(['n1', 'n2'], ['a'], slow)
  h1.reconfigure(c5)
  h2.reconfigure(c5)
  t.same(
    h1.status().peers.map((p) => p.node),
    ['n2'],
    'n3 forgotten',
  )
  await sleep(600)
  t.ok(h1.isUp('n2') && h2.isUp('n1'), 'n1 and n2 still up')
  t.same(downs, [], 'no peer-down event at any step')
})

t.test('a live change is checked at the edge: field and reason', async (t) => {
  const refused = (v: unknown, field: string) => {
    try {
      checkHbChange(v)
      t.fail(`accepted: ${JSON.stringify(v)}`)
    } catch (e) {
      t.ok(isMccsError(e) && e.code === 'MCCS_ERR_INVALID' && e.field === field, `${field}: ${(e as Error).message}`)
    }
  }
  refused({ op: 'setTiming', intervalMs: 100, deadMs: 150 }, 'deadMs')
  refused({ op: 'setTiming', intervalMs: 10, deadMs: 600 }, 'intervalMs')
  refused({ op: 'setTiming', intervalMs: 100, deadMs: 5000 }, 'deadMs')
  refused({ op: 'setTiming', intervalMs: '100', deadMs: 600 }, 'intervalMs')
  refused({ op: 'grow' }, 'op')
  refused({ op: 'addLink', name: 'l2', priority: 1, addresses: { n1: 'not-an-ip' } }, 'addresses.n1')
  refused({ op: 'addNode', name: '3x', addresses: {} }, 'name')
  refused({ op: 'removeNode', name: 'n3', extra: 1 }, 'extra')

  const hb = config(['n1', 'n2', 'n3'], ['a'])
  const main = {
    generation: 1,
    types: {},
    groups: [{ name: 'g', nodes: ['n1', 'n3'], failoverOnFailure: true, autoStart: true, autoFailback: false }],
    resources: [],
    dependencies: [],
  } as unknown as MainConfig
  const apply = (c: unknown) => applyHbChange({ hb, main }, checkHbChange(c), 'hb.json')
  const conflict = (c: unknown, code: string) => {
    try {
      apply(c)
      t.fail(`accepted: ${JSON.stringify(c)}`)
    } catch (e) {
      t.ok(isMccsError(e) && e.code === code, `${code}: ${(e as Error).message}`)
    }
  }
  conflict({ op: 'removeNode', name: 'n3' }, 'MCCS_ERR_CONFIG_INVALID') // group g still names n3
  conflict({ op: 'addNode', name: 'n2', addresses: { a: '127.0.9.9' } }, 'MCCS_ERR_CONFLICT')
  conflict({ op: 'addNode', name: 'n4', addresses: { a: '127.0.1.2' } }, 'MCCS_ERR_CONFLICT') // n2's address
  conflict({ op: 'removeLink', name: 'a' }, 'MCCS_ERR_CONFLICT') // the only link
  conflict({ op: 'addLink', name: 'b', priority: 1, addresses: { n1: '127.0.2.1', n2: '127.0.2.2' } }, 'MCCS_ERR_INVALID') // n3 missing
  const next = apply({ op: 'setTiming', intervalMs: 200, deadMs: 1000 })
  t.equal(next.generation, 2, 'the next generation')
  t.same(next.timing, { intervalMs: 200, deadMs: 1000 })
  t.equal(hb.generation, 1, 'the configuration in force is not touched')
  const fenced = structuredClone(hb)
  fenced.nodes[0]!.fencing = [{ type: 'fence-script', attrs: { script: 'fence.sh' } }]
  const added = applyHbChange(
    { hb: fenced, main },
    checkHbChange({ op: 'addNode', name: 'n4', addresses: { a: '127.0.1.4' }, fencingLike: 'n1' }),
    'hb.json',
  )
  t.same(added.nodes.find((n) => n.name === 'n4')?.fencing, fenced.nodes[0]!.fencing, "an added node gets n1's fence devices (fencingLike)")
  t.equal(added.quorum?.twoNode, undefined, 'four nodes: no two-node mode')
})
