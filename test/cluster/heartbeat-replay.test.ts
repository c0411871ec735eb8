// Issue 12, finding 5: heartbeats recorded from an earlier boot of a node, replayed after the receiver
// restarted, must not make a dead node look alive. Two real Heartbeat instances per node "boot" on loopback
// (two links); the receiver's tap records the sender's real packets; the receiver restarts (a new instance
// on the same state file), the sender restarts with a new incarnation and dies, and the capture is replayed
// from the sender's addresses at the pace it was recorded.
import { randomBytes } from 'node:crypto'
import dgram from 'node:dgram'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { Heartbeat, type HeartbeatOptions, type PeerEvent } from '../../core/cluster/heartbeat.js'
import { decodePacket, encodePacket, incarnationTime, newIncarnation } from '../../core/cluster/packet.js'
import type { HbConfig } from '../../core/config/hb-model.js'

const port = 20000 + (process.pid % 20000)
const key = randomBytes(32)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
// Slower than heartbeat-unit's 20/120: several instances share this process and the machine runs other tests.
const timing = { intervalMs: 50, deadMs: 300 }
const SLACK = 200
const cfg: HbConfig = {
  generation: 1,
  cluster: 'replay',
  nodes: [1, 2].map((i) => ({ name: `n${i}`, addresses: { a: `127.0.5.${i}`, b: `127.0.6.${i}` } })),
  links: [
    { name: 'a', priority: 0 },
    { name: 'b', priority: 1, port: port + 1 },
  ],
  timing,
  port,
}
const portOf = (link: string) => (link === 'b' ? port + 1 : port)
const addrOf = (node: string, link: string) => cfg.nodes.find((n) => n.name === node)!.addresses[link]!

async function until(fn: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const t0 = Date.now()
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${what}`)
    await sleep(5)
  }
}

interface Captured {
  raw: Buffer
  link: string
}

/** One boot of a node, on its state file; `capture` records every datagram it receives (its tap). */
function boot(self: string, stateFile: string, capture?: Captured[]): Heartbeat {
  const opts: HeartbeatOptions = { config: cfg, self, key, stateFile }
  if (capture) opts.onPacket = (raw, link) => capture.push({ raw: Buffer.from(raw), link })
  return new Heartbeat(opts)
}

/** An attacker on both heartbeat networks, sending from the sender's own addresses. */
async function attacker(t: Test, node: string): Promise<(c: Captured, to: string) => Promise<void>> {
  const socks = new Map<string, dgram.Socket>()
  for (const link of ['a', 'b']) {
    const s = dgram.createSocket('udp4')
    await new Promise<void>((r) => s.bind(0, addrOf(node, link), () => r()))
    socks.set(link, s)
  }
  t.teardown(() => {
    for (const s of socks.values()) s.close()
  })
  return (c, to) => new Promise<void>((r) => socks.get(c.link)!.send(c.raw, portOf(c.link), addrOf(to, c.link), () => r()))
}

/** Replays the capture in order, one packet per link per interval (the pace it was recorded at). */
async function replay(send: (c: Captured, to: string) => Promise<void>, capture: Captured[], to: string): Promise<number> {
  let n = 0
  for (let i = 0; i < capture.length; i += 2) {
    for (const c of capture.slice(i, i + 2)) {
      await send(c, to)
      n++
    }
    await sleep(timing.intervalMs)
  }
  return n
}

t.test('replay of an earlier boot after the receiver and the sender restarted: rejected, the peer goes down', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mccs-hb-replay-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const f1 = path.join(dir, 'n1.json'),
    f2 = path.join(dir, 'n2.json')
  const running = new Set<Heartbeat>()
  t.teardown(() => Promise.all([...running].map((h) => h.stop())))
  const run = async (h: Heartbeat) => {
    running.add(h)
    await h.start()
    return h
  }
  const halt = async (h: Heartbeat) => {
    await h.stop()
    running.delete(h)
  }

  // Boot 1 of both nodes: n1 records what n2 sends it for ~1.5 s.
  const capture: Captured[] = []
  const r1 = await run(boot('n1', f1, capture))
  const s1 = await run(boot('n2', f2))
  await until(() => r1.isUp('n2') && s1.isUp('n1'), 3000, 'boot 1 up')
  capture.length = 0
  await sleep(1500)
  const recorded = capture.filter((c) => decodePacket(c.raw, key, { cluster: 'replay' }).incarnation === s1.incarnation)
  t.ok(recorded.length >= 30, `${recorded.length} real packets of n2's first boot recorded`)

  // The receiver restarts, then the sender restarts (new incarnation) and is seen by the new receiver.
  await halt(r1)
  const r2 = await run(boot('n1', f1))
  await halt(s1)
  const s2 = await run(boot('n2', f2))
  t.ok(s2.incarnation > s1.incarnation, 'the new boot has a newer incarnation')
  await until(() => r2.status().peers[0]!.incarnation === s2.incarnation.toString() && r2.isUp('n2'), 3000, 'n2 boot 2 up at n1')
  const events: PeerEvent[] = []
  r2.on('peer', (e) => events.push(e))
  const before = r2.status().rejected.replay

  // n2 dies; at the same moment the attacker starts replaying n2's first boot.
  const send = await attacker(t, 'n2')
  const t0 = Date.now()
  await halt(s2)
  const sent = await replay(send, recorded, 'n1')
  const replayMs = Date.now() - t0
  await sleep(100)

  const down = events.find((e) => e.node === 'n2' && !e.up)
  t.ok(down, `n2 declared down during the ${replayMs} ms replay`)
  if (down)
    t.ok(down.at - t0 <= timing.deadMs + timing.intervalMs + SLACK, `n2 down ${down.at - t0} ms after it died (dead time ${timing.deadMs})`)
  t.same(
    events.filter((e) => e.up).map((e) => e.incarnation),
    [],
    'the replay never brought n2 back up',
  )
  t.notOk(r2.isUp('n2'), 'n2 is down at the end of the replay')
  const rejected = r2.status().rejected.replay - before
  t.ok(rejected >= sent - 2, `replayed packets counted as replay: ${rejected} of ${sent}`)
})

t.test('replay after a receiver restart that never saw the newer incarnation: stale, rejected', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mccs-hb-replay-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const f1 = path.join(dir, 'n1.json'),
    f2 = path.join(dir, 'n2.json')
  const running = new Set<Heartbeat>()
  t.teardown(() => Promise.all([...running].map((h) => h.stop())))
  const run = async (h: Heartbeat) => {
    running.add(h)
    await h.start()
    return h
  }
  const halt = async (h: Heartbeat) => {
    await h.stop()
    running.delete(h)
  }

  const capture: Captured[] = []
  const r1 = await run(boot('n1', f1, capture))
  const s1 = await run(boot('n2', f2))
  await until(() => r1.isUp('n2') && s1.isUp('n1'), 3000, 'boot 1 up')
  capture.length = 0
  await sleep(1000)
  const recorded = capture.slice()
  t.ok(recorded.length >= 20, `${recorded.length} real packets of n2's first boot recorded`)

  // n1 goes down. Meanwhile n2 restarts, runs (its packets to n1 are recorded by the attacker, who listens on
  // n1's addresses) and dies. n1 never saw n2's second boot.
  await halt(r1)
  await halt(s1)
  const sniffed: Captured[] = []
  const sniffers = await Promise.all(
    ['a', 'b'].map(async (link) => {
      const s = dgram.createSocket('udp4')
      s.on('message', (raw) => sniffed.push({ raw: Buffer.from(raw), link }))
      await new Promise<void>((r) => s.bind(portOf(link), addrOf('n1', link), () => r()))
      return s
    }),
  )
  const s2 = await run(boot('n2', f2))
  await sleep(600)
  await halt(s2)
  await Promise.all(sniffers.map((s) => new Promise<void>((r) => s.close(() => r()))))
  t.ok(sniffed.length >= 10, `${sniffed.length} packets of n2's second boot sniffed while n1 was down`)

  // n1 restarts; the attacker replays both captures.
  const r2 = await run(boot('n1', f1))
  const events: PeerEvent[] = []
  r2.on('peer', (e) => events.push(e))
  const send = await attacker(t, 'n2')
  const sent = await replay(send, recorded, 'n1')
  await replay(send, sniffed, 'n1')
  await sleep(timing.deadMs)
  t.same(events, [], 'n2 never seen up')
  t.notOk(r2.isUp('n2'))
  t.ok(r2.status().rejected.replay >= sent - 2, `the first boot's packets counted as replay: ${r2.status().rejected.replay} of ${sent}`)
})

t.test('an older incarnation is refused after a restart of the receiver, even with a fresh echo', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mccs-hb-replay-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const f1 = path.join(dir, 'n1.json'),
    f2 = path.join(dir, 'n2.json')
  const running = new Set<Heartbeat>()
  t.teardown(() => Promise.all([...running].map((h) => h.stop())))
  const run = async (h: Heartbeat) => {
    running.add(h)
    await h.start()
    return h
  }
  const halt = async (h: Heartbeat) => {
    await h.stop()
    running.delete(h)
  }

  const r1 = await run(boot('n1', f1))
  const s1 = await run(boot('n2', f2))
  await until(() => r1.isUp('n2'), 3000, 'boot 1 up')
  await halt(s1)
  const s2 = await run(boot('n2', f2))
  await until(() => r1.status().peers[0]!.incarnation === s2.incarnation.toString() && r1.isUp('n2'), 3000, 'n2 boot 2 seen')
  await halt(s2)
  await halt(r1) // stop() waits for the state file's pending write
  const r2 = await run(boot('n1', f1))
  // Someone holding the key (the test) forges a packet of n2's first incarnation that echoes what n2's
  // address just received from the new n1: fresh by every clock, but older than an incarnation seen before.
  const listen = dgram.createSocket('udp4')
  t.teardown(() => listen.close())
  const heard: Buffer[] = []
  listen.on('message', (m) => heard.push(Buffer.from(m)))
  await new Promise<void>((r) => listen.bind(port, addrOf('n2', 'a'), () => r()))
  await until(() => heard.length > 0, 2000, 'a packet of the new n1')
  const fromR2 = decodePacket(heard.at(-1)!, key, { cluster: 'replay' })
  const rejects: string[] = []
  r2.on('reject', (e) => rejects.push(`${e.reason}:${e.field}`))
  const forged = encodePacket(
    {
      cluster: 'replay',
      sender: 'n2',
      to: 'n1',
      link: 'a',
      incarnation: s1.incarnation,
      seq: 1e6,
      sentAt: fromR2.sentAt,
      echo: { sentAt: fromR2.sentAt, holdMs: 1 },
      payload: {},
    },
    key,
  )
  await new Promise<void>((r) => listen.send(forged, port, addrOf('n1', 'a'), () => r()))
  await until(() => rejects.length > 0, 2000, 'rejection')
  t.same(rejects, ['replay:incarnation'], 'refused: an incarnation older than one seen before the restart')
  t.notOk(r2.isUp('n2'))
})

t.test("a node's own incarnation never goes back, even when its clock did", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mccs-hb-replay-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const f = path.join(dir, 'n1.json')
  // The last boot ran with a clock one hour ahead (then corrected by NTP, or set back by hand).
  const ahead = newIncarnation(Date.now() + 3_600_000)
  const a = boot('n1', f)
  await a.start()
  await a.stop()
  const saved = JSON.parse(await readFile(f, 'utf8')) as { incarnation: string }
  t.equal(saved.incarnation, a.incarnation.toString(), 'the incarnation in use is persisted at start')
  saved.incarnation = ahead.toString()
  await writeFile(f, JSON.stringify(saved))
  const b = boot('n1', f)
  t.ok(b.incarnation > ahead, `next incarnation ${b.incarnation} > last used ${ahead}`)
  t.ok(incarnationTime(b.incarnation) >= incarnationTime(ahead) + 1)
  await b.start()
  await b.stop()
  t.equal((JSON.parse(await readFile(f, 'utf8')) as { incarnation: string }).incarnation, b.incarnation.toString())
})
