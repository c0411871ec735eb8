// The Heartbeat class in one process, over loopback (127.0.0.x addresses, one "link" per address range).
// The real multi-host behaviour is in heartbeat.test.ts (network namespaces); this covers the class itself.
import { randomBytes } from 'node:crypto'
import dgram from 'node:dgram'
import t from 'tap'
import { Heartbeat, DEFAULT_TIMING, linkReceived, type PeerEvent } from '../../core/cluster/heartbeat.js'
import { encodePacket, newIncarnation } from '../../core/cluster/packet.js'
import { isMccsError } from '../../core/errors.js'
import type { HbConfig } from '../../core/config/hb-model.js'

const port = 20000 + (process.pid % 20000)
const key = randomBytes(32)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const timing = { intervalMs: 20, deadMs: 120 }

function config(n = 3, extra: Partial<HbConfig> = {}): HbConfig {
  return {
    generation: 1,
    cluster: 'unit',
    nodes: Array.from({ length: n }, (_, i) => ({ name: `n${i + 1}`, addresses: { a: `127.0.1.${i + 1}`, b: `127.0.2.${i + 1}` } })),
    links: [
      { name: 'a', priority: 0 },
      { name: 'b', priority: 1, port: port + 1 },
    ],
    timing,
    port,
    ...extra,
  }
}

async function until(fn: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const t0 = Date.now()
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${what}`)
    await sleep(5)
  }
}

t.test('config errors are named', async (t) => {
  const bad = (fn: () => unknown, code: string) => {
    try {
      fn()
      t.fail('accepted')
    } catch (e) {
      t.ok(isMccsError(e) && e.code === code, `${code}: ${(e as Error).message}`)
    }
  }
  bad(() => new Heartbeat({ config: config(), self: 'nx', key }), 'MCCS_ERR_HB_CONFIG')
  bad(() => new Heartbeat({ config: config(), self: 'n1', key: Buffer.alloc(8) }), 'MCCS_ERR_CLUSTER_KEY_INVALID')
  bad(() => new Heartbeat({ config: config(3, { timing: { intervalMs: 100, deadMs: 100 } }), self: 'n1', key }), 'MCCS_ERR_HB_CONFIG')
  const c = config()
  c.nodes[0]!.addresses = { other: '127.0.0.1' }
  bad(() => new Heartbeat({ config: c, self: 'n1', key }), 'MCCS_ERR_HB_CONFIG')
  const d = config()
  d.nodes[0]!.addresses = { a: 'host.example' }
  bad(() => new Heartbeat({ config: d, self: 'n1', key }), 'MCCS_ERR_HB_CONFIG')
  const hb = new Heartbeat({
    config: { cluster: 'x', nodes: [{ name: 'n1', addresses: { a: '127.0.0.1' } }], links: [{ name: 'a', priority: 0 }] },
    self: 'n1',
    key,
  })
  t.same(hb.status().timing, DEFAULT_TIMING, 'shipped timing when hb.json has none')
  t.equal(hb.status().links[0]!.port, 14321)
  bad(() => hb.setPayload({ ext: { x: 'y'.repeat(2000) } }), 'MCCS_ERR_HB_PAYLOAD')
})

t.test('three nodes on two links: up, views, link loss, node loss, restart, bad packets', async (t) => {
  const cfg = config()
  const hbs = cfg.nodes.map((n) => new Heartbeat({ config: cfg, self: n.name, key, payload: { generation: 1 } }))
  const events = new Map<string, PeerEvent[]>(hbs.map((h) => [h.self, []]))
  const links: string[] = []
  for (const h of hbs) {
    h.on('peer', (e) => events.get(h.self)!.push(e))
    h.on('link', (e) => links.push(`${h.self}:${e.node}/${e.link}:${e.up ? 'up' : 'down'}`))
  }
  t.teardown(() => Promise.all(hbs.map((h) => h.stop())))
  await Promise.all(hbs.map((h) => h.start()))
  await h0start(hbs[0]!) // start twice is harmless
  await until(() => hbs.every((h) => h.upPeers().length === 2), 3000, 'all up')
  const [h1, h2, h3] = hbs as [Heartbeat, Heartbeat, Heartbeat]
  t.same(h1.upPeers().sort(), ['n2', 'n3'])
  t.ok(h1.isUp('n2'))

  // views travel
  const seen: unknown[] = []
  h1.on('view', (v) => {
    if (v.node === 'n2') seen.push(v.payload)
  })
  h2.setPayload({ up: ['n1', 'n3'], coordinator: 'n1', generation: 5, quorum: 'quorate' })
  await until(() => h1.views().n2?.generation === 5, 2000, 'view')
  t.same(seen.at(-1), { up: ['n1', 'n3'], coordinator: 'n1', generation: 5, quorum: 'quorate' })

  // status: latency and counters
  await sleep(100)
  const st = h1.status()
  const p2 = st.peers.find((p) => p.node === 'n2')!
  t.equal(p2.up, true)
  t.ok(p2.links.a!.rttMs !== null && p2.links.a!.rttMs >= 0 && p2.links.a!.rttMs < 100, `rtt ${p2.links.a!.rttMs} ms`)
  t.ok(p2.links.b!.lastHeardMs! <= timing.deadMs)
  t.ok(st.links.every((l) => l.bound && l.tx > 0 && l.rx > 0))
  t.ok(p2.received !== null && p2.received >= 0.8, `n1 receives n2's packets: ${p2.received}`)
  t.same(st.rejected, { malformed: 0, version: 0, foreign: 0, auth: 0, replay: 0, misdirected: 0 })

  // bad packets to n1 on link a: garbage, wrong key, foreign cluster, replay, misdirected
  const s = dgram.createSocket('udp4')
  t.teardown(() => s.close())
  await new Promise<void>((r) => s.bind(0, '127.0.1.9', () => r()))
  const send = (b: Buffer) => new Promise<void>((r) => s.send(b, port, '127.0.1.1', () => r()))
  const pkt = (over: Record<string, unknown> = {}, k = key) =>
    encodePacket(
      {
        cluster: 'unit',
        sender: 'n2',
        to: 'n1',
        link: 'a',
        incarnation: BigInt(st.peers.find((p) => p.node === 'n2')!.incarnation!),
        seq: 1,
        sentAt: Date.now(),
        echo: null,
        payload: {},
        ...over,
      },
      k,
    )
  const rejects: string[] = []
  h1.on('reject', (e) => rejects.push(e.reason))
  await send(Buffer.from('hello'))
  await send(pkt({}, randomBytes(32)))
  await send(pkt({ cluster: 'other' }))
  await send(pkt({ seq: 1 })) // n2 is far past seq 1
  await send(pkt({ to: 'n3', seq: 1e9 }))
  await send(pkt({ link: 'b', seq: 1e9 }))
  await send(pkt({ sender: 'stranger' }))
  await send(pkt({ sender: 'n1', seq: 1e9 }))
  await until(() => rejects.length >= 8, 2000, 'rejections')
  t.same(h1.status().rejected, { malformed: 1, version: 0, foreign: 1, auth: 1, replay: 1, misdirected: 4 })
  t.ok(h1.isUp('n2'), 'bad packets change nothing')

  // link b of n3 fails (its socket stops): n3 stays up, the link shows down
  const s3 = h3 as unknown as { links: Map<string, unknown> }
  const lb = s3.links.get('b') as { socket: dgram.Socket }
  s3.links.delete('b') // n3 stops using link b
  lb.socket.close()
  await until(() => h1.status().peers.find((p) => p.node === 'n3')!.links.b!.up === false, 2000, 'link b down')
  t.ok(h1.isUp('n3'), 'one link left: still up')
  t.ok(links.includes('n1:n3/b:down'))
  t.notOk(events.get('n1')!.some((e) => e.node === 'n3' && !e.up))

  // n3 stops entirely: down within deadMs + interval (+ slack for a loaded test machine)
  const t0 = Date.now()
  await h3.stop()
  await until(() => !h1.isUp('n3') && !h2.isUp('n3'), 2000, 'n3 down')
  const took = Date.now() - t0
  t.ok(took <= timing.deadMs + timing.intervalMs + 150, `n3 seen down after ${took} ms`)
  const down = events.get('n1')!.find((e) => e.node === 'n3' && !e.up)!
  t.same(down.links, { a: false, b: false })
  t.same(Object.keys(h1.views()).sort(), ['n2'], 'views of down peers are not offered')

  // n3 comes back as a new incarnation
  const h3b = new Heartbeat({ config: cfg, self: 'n3', key })
  t.teardown(() => h3b.stop())
  await h3b.start()
  await until(() => h1.isUp('n3'), 2000, 'n3 back')
  const back = events
    .get('n1')!
    .filter((e) => e.node === 'n3')
    .at(-1)!
  t.equal(back.up, true)
  t.equal(back.incarnation, h3b.incarnation.toString())
  t.not(back.incarnation, down.incarnation)

  // a restart faster than the dead time is reported as such
  await h3b.stop()
  const h3c = new Heartbeat({ config: cfg, self: 'n3', key })
  t.teardown(() => h3c.stop())
  await h3c.start()
  await until(() => events.get('n1')!.some((e) => e.node === 'n3' && e.restarted), 2000, 'restart event')
  t.ok(h1.isUp('n3'))
  // The handshake of each new boot (first packets without an echo of a recent send of ours) is not a replay.
  t.equal(h1.status().rejected.replay, 1, 'restarts counted no replay')
  t.ok(h1.status().peers.find((p) => p.node === 'n3')!.links.a!.unconfirmed >= 1, 'the handshake packets are counted as unconfirmed')
})

async function h0start(h: Heartbeat) {
  await h.start()
}

t.test('a link whose address is missing is retried, and counted', async (t) => {
  const cfg = config(2)
  cfg.nodes[0]!.addresses.b = '192.0.2.77' // not on this host: bind fails
  const h = new Heartbeat({ config: cfg, self: 'n1', key })
  t.teardown(() => h.stop())
  await h.start()
  await sleep(60)
  const b = h.status().links.find((l) => l.name === 'b')!
  t.equal(b.bound, false)
  t.match(b.lastError, /bind/)
  t.equal(h.status().links.find((l) => l.name === 'a')!.bound, true)
  await h.stop()
  await h.stop()
  t.notOk(newIncarnation() === h.incarnation)
})

t.test("a peer's received share: its packets that came over the window, echo or not, and falling while it is silent", async (t) => {
  // 100 ms interval, 1200 ms window: 12 packets expected once the peer has been heard that long.
  const all = Array.from({ length: 12 }, (_, i) => 1000 + i * 100)
  t.equal(linkReceived(all, 0, 2100, 100, 1200), 1, 'every packet arrived')
  t.equal(linkReceived([1500, 2000], 0, 2100, 100, 1200), 0.17, 'two of twelve (90 % loss into this node, give or take one)')
  t.equal(linkReceived(all.slice(0, 6), 0, 2100, 100, 1200), 0.5, 'silent for the last half: half')
  t.equal(linkReceived(all, 0, 3500, 100, 1200), 0, 'silent for the whole window: nothing received')
  t.equal(linkReceived([2000, 2100], 2000, 2100, 100, 1200), null, 'heard for one interval: too soon to say')
  t.equal(linkReceived([1800, 1900, 2000, 2100], 1800, 2100, 100, 1200), 1, 'heard for 300 ms: a share of those 3 intervals')
  t.equal(linkReceived([], null, 1000, 100, 1200), null, 'never heard')
})

t.test("ticks fall on the interval's grid of the epoch-based clock, whenever a node started (issue 19)", async (t) => {
  // Two nodes started 37 ms apart at 100 ms: with setInterval their sends kept the 37 ms offset, and each
  // peer's packets woke the receiver apart. On the grid both send at the same moments.
  const cfg = config(2, { timing: { intervalMs: 100, deadMs: 600 } })
  const sent: Record<string, number[]> = {}
  const { decodePacket } = await import('../../core/cluster/packet.js')
  const onPacket = (raw: Buffer, link: string) => {
    const p = decodePacket(raw, key, { cluster: 'unit' })
    ;(sent[`${p.sender}/${link}`] ??= []).push(p.sentAt)
  }
  const a = new Heartbeat({ config: cfg, self: 'n1', key, onPacket })
  const b = new Heartbeat({ config: cfg, self: 'n2', key, onPacket })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  await a.start()
  await sleep(37)
  await b.start()
  await sleep(1500)
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!
  for (const [who, xs] of Object.entries(sent)) {
    // The first send is at start; every later one on the grid (sentAt mod 100 near 0, on either side: a timer
    // fires up to a millisecond early on this clock, or late on a busy machine).
    const later = xs.slice(1)
    t.ok(later.length >= 8, `${who}: ${later.length} packets heard`)
    const off = median(later.map((x) => Math.min(x % 100, 100 - (x % 100))))
    t.ok(off < 20, `${who}: sends ${off.toFixed(1)} ms from a grid point (median)`)
    // One tick per grid point: the next is at least a quarter interval away, even after an early timer.
    const gaps = later.map((x, i) => (i ? x - later[i - 1]! : 100))
    t.ok(Math.min(...gaps) >= 24, `${who}: sends at least ${Math.min(...gaps).toFixed(1)} ms apart`)
  }
  t.equal(Object.keys(sent).length, 4, 'both nodes heard on both links')
})
