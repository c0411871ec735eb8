// Issue 4, acceptance 4: forged, replayed, truncated and random heartbeat packets (>= 100,000) change
// nothing and crash nothing. Three live Heartbeat instances on loopback; a fuzzer sends mutated copies
// of real packets, foreign-key packets, replays and random bytes at n1 while the cluster runs.
import { randomBytes } from 'node:crypto'
import dgram from 'node:dgram'
import t from 'tap'
import { Heartbeat, type PeerEvent } from '../../core/cluster/heartbeat.js'
import { decodePacket, encodePacket } from '../../core/cluster/packet.js'
import { isMccsError } from '../../core/errors.js'
import type { HbConfig } from '../../core/config/hb-model.js'

const port = 30000 + (process.pid % 20000)
const key = randomBytes(32)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const cfg: HbConfig = {
  // A long dead time: the three nodes and the fuzzer share this process's event loop (and CI runs two test
  // files at once), so a slow turn must not look like a lost node. Detection speed is tested elsewhere.
  generation: 1,
  cluster: 'fuzz',
  port,
  timing: { intervalMs: 100, deadMs: 3000 },
  links: [{ name: 'a', priority: 0 }],
  nodes: [1, 2, 3].map((i) => ({ name: `n${i}`, addresses: { a: `127.0.3.${i}` } })),
}

// Deterministic PRNG: a failure names its seed.
function prng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = s
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32
  }
}

t.test('the decoder never crashes and never accepts a changed packet', async (t) => {
  const rnd = prng(42)
  const real = encodePacket(
    {
      cluster: 'fuzz',
      sender: 'n2',
      to: 'n1',
      link: 'a',
      incarnation: 7n,
      seq: 1,
      sentAt: Date.now(),
      echo: null,
      payload: { up: ['n1', 'n3'], coordinator: 'n1', generation: 3 },
    },
    key,
  )
  let accepted = 0,
    refused = 0,
    other = 0
  for (let i = 0; i < 100_000; i++) {
    let b: Buffer
    const kind = i % 4
    if (kind === 0) {
      b = Buffer.from(real)
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) b[Math.floor(rnd() * b.length)]! ^= 1 << Math.floor(rnd() * 8)
    } else if (kind === 1) b = real.subarray(0, Math.floor(rnd() * real.length))
    else if (kind === 2) b = randomBytes(Math.floor(rnd() * 1500))
    else {
      b = Buffer.concat([real, randomBytes(1 + Math.floor(rnd() * 40))])
    }
    if (b.equals(real)) {
      b = Buffer.concat([b, Buffer.from([0])])
    } // two flips of one bit restore it: keep it altered
    try {
      decodePacket(b, key, { cluster: 'fuzz' })
      accepted++
    } catch (e) {
      if (isMccsError(e)) refused++
      else other++
    }
  }
  t.equal(accepted, 0, 'no altered, truncated, extended or random packet decodes')
  t.equal(other, 0, 'every refusal is a catalogued error (no crash, no stray exception)')
  t.equal(refused, 100_000)
  t.ok(decodePacket(real, key, { cluster: 'fuzz' }), 'the real packet still decodes')
})

t.test('100,000 bad datagrams at a live node change no membership', async (t) => {
  const hbs = cfg.nodes.map((n) => new Heartbeat({ config: cfg, self: n.name, key }))
  const changes: PeerEvent[] = []
  let captured: Buffer | undefined
  const hb1 = new Heartbeat({
    config: cfg,
    self: 'n1',
    key,
    onPacket: (raw) => {
      captured ??= Buffer.from(raw)
    },
  })
  hbs[0] = hb1
  for (const h of hbs) await h.start()
  t.teardown(() => {
    for (const h of hbs) h.stop()
  })
  const t0 = Date.now()
  while (!hb1.status().peers.every((p) => p.up)) {
    if (Date.now() - t0 > 5000) throw new Error('peers did not come up')
    await sleep(20)
  }
  hb1.on('peer', (e) => changes.push(e))
  const before = hb1.status().rejected
  const rnd = prng(7)
  const real = captured!
  const foreign = encodePacket(
    { cluster: 'fuzz', sender: 'n2', to: 'n1', link: 'a', incarnation: 1n, seq: 1e9, sentAt: Date.now(), echo: null, payload: {} },
    randomBytes(32),
  )
  // Sent from n2's address, as an attacker on the heartbeat network would, at ~20,000 packets/s: the
  // batches are sent between two turns of this process's event loop (the nodes live in it too).
  const sock = dgram.createSocket('udp4')
  await new Promise<void>((r) => sock.bind(0, '127.0.3.2', () => r()))
  t.teardown(() => sock.close())
  // More than 100,000 are sent: the kernel drops some when the socket buffer is full.
  const N = 160_000
  for (let i = 0; i < N; i++) {
    let b: Buffer
    switch (i % 5) {
      case 0:
        b = Buffer.from(real)
        b[Math.floor(rnd() * b.length)]! ^= 1 << Math.floor(rnd() * 8)
        break
      case 1:
        b = real.subarray(0, Math.floor(rnd() * real.length))
        break
      case 2:
        b = randomBytes(1 + Math.floor(rnd() * 1400))
        break
      case 3:
        b = real
        break // a replay
      default:
        b = foreign
    }
    sock.send(b, port, '127.0.3.1')
    if (i % 100 === 99) await sleep(5)
  }
  await sleep(800)
  const after = hb1.status()
  const rejected = Object.entries(after.rejected).reduce((a, [k, v]) => a + v - (before[k as keyof typeof before] ?? 0), 0)
  t.equal(changes.length, 0, `no peer went down or up (${changes.map((c) => `${c.node}:${c.up}`).join(',')})`)
  t.ok(
    after.peers.every((p) => p.up),
    'every peer still up',
  )
  t.ok(rejected >= 100_000, `${rejected} of ${N} datagrams received and rejected (the rest dropped by the kernel's socket buffer)`)
  t.equal(after.rejected.auth - before.auth > 0 && after.rejected.replay - before.replay > 0, true, JSON.stringify(after.rejected))
})
