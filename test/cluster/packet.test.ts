import { createHmac, randomBytes } from 'node:crypto'
import t from 'tap'
import { isMccsError, type ErrorCode } from '../../core/errors.js'
import {
  HB_VERSION,
  MAX_PAYLOAD_BYTES,
  ReplayGuard,
  decodePacket,
  encodePacket,
  encodeView,
  incarnationTime,
  newIncarnation,
  type HbPacketFields,
  type PayloadCache,
} from '../../core/cluster/packet.js'

const key = randomBytes(32)
const base = (over: Partial<HbPacketFields> = {}): HbPacketFields => ({
  cluster: 'prod',
  sender: 'n2',
  to: 'n1',
  link: 'l0',
  incarnation: newIncarnation(),
  seq: 7,
  sentAt: 1_700_000_000_123.5,
  echo: { sentAt: 1_700_000_000_100.25, holdMs: 3.5 },
  payload: { up: ['n1', 'n3'], coordinator: 'n1', generation: 12, quorum: 'quorate' },
  ...over,
})
const expect = { cluster: 'prod' }

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type T = { equal(a: any, b: any, m: string): unknown; fail(m: string): unknown }
function rejects(t: T, fn: () => unknown, code: ErrorCode, field?: string, msg?: string) {
  try {
    fn()
    t.fail(`${msg ?? 'decode'}: expected ${code}`)
  } catch (e) {
    if (!isMccsError(e)) throw e
    t.equal(e.code, code, `${msg ?? ''} code`)
    if (field !== undefined) t.equal(e.field, field, `${msg ?? ''} field (${e.message})`)
  }
}

/** Re-MACs a packet after editing it, so the edit reaches the field checks behind the MAC. */
function remac(buf: Buffer, k = key): Buffer {
  const end = buf.length - 32
  createHmac('sha256', k).update(buf.subarray(0, end)).digest().copy(buf, end)
  return buf
}

t.test('round trip keeps every field', async (t) => {
  const p = base()
  const d = decodePacket(encodePacket(p, key), key, expect)
  t.same(d, { ...p, version: HB_VERSION, protocol: { min: 1, max: 1 } }, 'no range advertised: version 1 only')
  const noEcho = decodePacket(encodePacket(base({ echo: null, payload: {} }), key), key, expect)
  t.equal(noEcho.echo, null)
  t.same(noEcho.payload, {})
  const big = decodePacket(encodePacket(base({ seq: Number.MAX_SAFE_INTEGER, incarnation: 0xffffffffffffffffn }), key), key, expect)
  t.equal(big.seq, Number.MAX_SAFE_INTEGER)
  t.equal(big.incarnation, 0xffffffffffffffffn)
  const pre = encodeView({ up: ['n9'] })
  t.same(decodePacket(encodePacket(base({ payload: pre }), key), key, expect).payload, { up: ['n9'] })
})

t.test('a known view is not decoded again: same bytes, same object; only authentic packets fill the cache', async (t) => {
  const views: PayloadCache = new Map()
  const ex = { cluster: 'prod', views }
  const a = decodePacket(encodePacket(base({ seq: 1 }), key), key, ex)
  const b = decodePacket(encodePacket(base({ seq: 2, sentAt: 1_700_000_000_200 }), key), key, ex)
  t.equal(b.payload, a.payload, 'the same payload bytes give the same view object')
  t.same(b.protocol, a.protocol)
  const c = decodePacket(encodePacket(base({ seq: 3, payload: { up: ['n1'], generation: 13 } }), key), key, ex)
  t.not(c.payload, a.payload, 'new bytes, a new view')
  t.same(c.payload, { up: ['n1'], generation: 13 })
  const other = decodePacket(encodePacket(base({ seq: 4, sender: 'n3' }), key), key, ex)
  t.not(other.payload, c.payload, 'per sender')
  t.same([...views.keys()].sort(), ['n2', 'n3'])
  // A forged packet (wrong key) with a new payload changes nothing in the cache.
  const forged = encodePacket(base({ seq: 5, payload: { up: [], generation: 99 } }), randomBytes(32))
  rejects(t, () => decodePacket(forged, key, ex), 'MCCS_ERR_HB_AUTH', 'mac')
  t.same(views.get('n2')!.payload, { up: ['n1'], generation: 13 }, 'the cached view is untouched')
  // A cached view does not excuse a bad payload: other bytes are parsed and checked again.
  const bad = encodePacket(base({ seq: 6, payload: Buffer.from('{"up":"n1"}') }), key)
  rejects(t, () => decodePacket(bad, key, ex), 'MCCS_ERR_HB_PACKET', 'payload/up')
})

t.test('incarnations are ordered by start time and unique', async (t) => {
  const a = newIncarnation(1_000_000)
  const b = newIncarnation(1_000_001)
  t.ok(b > a)
  t.equal(incarnationTime(a), 1_000_000)
  const same = new Set(Array.from({ length: 200 }, () => newIncarnation(5)))
  t.ok(same.size > 190, 'random low bits')
  // Monotonic per node: after the last one used, even when the clock went back since.
  const last = newIncarnation(2_000_000)
  const next = newIncarnation(1_000_000, last)
  t.ok(next > last, 'newer than the last used although the clock is earlier')
  t.equal(incarnationTime(next), 2_000_001)
  t.equal(incarnationTime(newIncarnation(3_000_000, last)), 3_000_000, 'the clock when it is ahead of the last used')
  for (let i = 0; i < 50; i++) t.ok(newIncarnation(2_000_000, last) > last)
})

t.test('wrong key, altered bytes and any truncation are rejected', async (t) => {
  const buf = encodePacket(base(), key)
  rejects(t, () => decodePacket(buf, randomBytes(32), expect), 'MCCS_ERR_HB_AUTH', 'mac', 'wrong key')
  // Flip every byte in turn: each must be refused (structure, cluster name or MAC).
  let refused = 0
  for (let i = 0; i < buf.length; i++) {
    const b = Buffer.from(buf)
    b[i] = b[i]! ^ 0x41
    try {
      decodePacket(b, key, expect)
    } catch (e) {
      if (isMccsError(e)) refused++
    }
  }
  t.equal(refused, buf.length, 'every single-byte change is refused')
  for (let n = 0; n < buf.length; n++) {
    try {
      decodePacket(buf.subarray(0, n), key, expect)
      t.fail(`truncated to ${n} accepted`)
    } catch (e) {
      if (!isMccsError(e) || !['MCCS_ERR_HB_PACKET', 'MCCS_ERR_HB_AUTH'].includes(e.code)) throw e
    }
  }
  rejects(t, () => decodePacket(buf.subarray(0, 20), key, expect), 'MCCS_ERR_HB_PACKET', 'length', 'short')
  rejects(t, () => decodePacket(buf.subarray(0, buf.length - 40), key, expect), 'MCCS_ERR_HB_PACKET', 'payload', 'payload cut')
  rejects(t, () => decodePacket(Buffer.concat([buf, Buffer.alloc(3)]), key, expect), 'MCCS_ERR_HB_PACKET', 'mac', 'trailing bytes')
  rejects(t, () => decodePacket(Buffer.alloc(2000), key, expect), 'MCCS_ERR_HB_PACKET', 'length', 'oversize')
})

t.test('header fields: magic, version, flags, cluster', async (t) => {
  const buf = encodePacket(base(), key)
  const m = Buffer.from(buf)
  m.write('XXXX', 0)
  rejects(t, () => decodePacket(m, key, expect), 'MCCS_ERR_HB_PACKET', 'magic')
  const v = Buffer.from(buf)
  v[4] = 9
  rejects(t, () => decodePacket(remac(v), key, expect), 'MCCS_ERR_HB_VERSION', 'version')
  const f = Buffer.from(buf)
  f[5] = 0x81
  rejects(t, () => decodePacket(remac(f), key, expect), 'MCCS_ERR_HB_PACKET', 'flags')
  rejects(t, () => decodePacket(buf, key, { cluster: 'test' }), 'MCCS_ERR_HB_FOREIGN', 'cluster')
  const z = Buffer.from(buf)
  z[6] = 0 // cluster name length 0
  rejects(t, () => decodePacket(remac(z), key, expect), 'MCCS_ERR_HB_PACKET', 'cluster')
})

/** Offsets of the fixed fields after the four names. */
function offsets(p: HbPacketFields) {
  let o = 6
  for (const n of [p.cluster, p.sender, p.to, p.link]) o += 1 + n.length
  return { inc: o, seq: o + 8, sentAt: o + 16, echo: o + 24, hold: o + 32, plen: o + 40, payload: o + 42 }
}

t.test('fields behind the MAC are validated and named', async (t) => {
  const p = base()
  const off = offsets(p)
  const edit = (fn: (b: Buffer) => void, q = p) => {
    const b = encodePacket(q, key)
    fn(b)
    return remac(b)
  }
  rejects(
    t,
    () =>
      decodePacket(
        edit((b) => b.writeBigUInt64BE(0n, off.seq)),
        key,
        expect,
      ),
    'MCCS_ERR_HB_PACKET',
    'seq',
  )
  rejects(
    t,
    () =>
      decodePacket(
        edit((b) => b.writeBigUInt64BE(1n << 60n, off.seq)),
        key,
        expect,
      ),
    'MCCS_ERR_HB_PACKET',
    'seq',
  )
  rejects(
    t,
    () =>
      decodePacket(
        edit((b) => b.writeDoubleBE(NaN, off.sentAt)),
        key,
        expect,
      ),
    'MCCS_ERR_HB_PACKET',
    'sentAt',
  )
  rejects(
    t,
    () =>
      decodePacket(
        edit((b) => b.writeDoubleBE(-1, off.echo)),
        key,
        expect,
      ),
    'MCCS_ERR_HB_PACKET',
    'echo/sentAt',
  )
  rejects(
    t,
    () =>
      decodePacket(
        edit((b) => b.writeDoubleBE(Infinity, off.hold)),
        key,
        expect,
      ),
    'MCCS_ERR_HB_PACKET',
    'echo/holdMs',
  )
  const ne = base({ echo: null })
  rejects(
    t,
    () =>
      decodePacket(
        edit((b) => b.writeDoubleBE(5, offsets(ne).echo), ne),
        key,
        expect,
      ),
    'MCCS_ERR_HB_PACKET',
    'echo',
  )
  // sender name with a space (same length)
  rejects(
    t,
    () =>
      decodePacket(
        edit((b) => {
          b[6 + 1 + 4 + 1] = 0x20
        }),
        key,
        expect,
      ),
    'MCCS_ERR_HB_PACKET',
    'sender',
  )
  rejects(
    t,
    () =>
      decodePacket(
        edit((b) => b.writeUInt16BE(2000, off.plen)),
        key,
        expect,
      ),
    'MCCS_ERR_HB_PACKET',
    'payloadLength',
  )
  // payload that is not JSON / not an object / with bad members
  const withPayload = (json: string) => {
    const q = base({ payload: Buffer.from(json) })
    return decodePacket(encodePacket(q, key), key, expect)
  }
  rejects(t, () => withPayload('{"up":'), 'MCCS_ERR_HB_PACKET', 'payload')
  rejects(t, () => withPayload('[1]'), 'MCCS_ERR_HB_PACKET', 'payload')
  rejects(t, () => withPayload('{"up":["n1","n1"]}'), 'MCCS_ERR_HB_PACKET', 'payload/up/1')
  rejects(t, () => withPayload('{"up":[3]}'), 'MCCS_ERR_HB_PACKET', 'payload/up/0')
  rejects(t, () => withPayload('{"generation":-1}'), 'MCCS_ERR_HB_PACKET', 'payload/generation')
  rejects(t, () => withPayload('{"quorum":"maybe"}'), 'MCCS_ERR_HB_PACKET', 'payload/quorum')
  rejects(t, () => withPayload('{"coordinator":"bad name"}'), 'MCCS_ERR_HB_PACKET', 'payload/coordinator')
  rejects(t, () => withPayload('{"ext":[]}'), 'MCCS_ERR_HB_PACKET', 'payload/ext')
  rejects(t, () => withPayload('{"surprise":1}'), 'MCCS_ERR_HB_PACKET', 'payload/surprise')
  const bin = Buffer.from('{"ext":{"a":"\xff"}}', 'latin1')
  rejects(t, () => decodePacket(encodePacket(base({ payload: bin }), key), key, expect), 'MCCS_ERR_HB_PACKET', 'payload', 'not UTF-8')
  t.same(withPayload('{"coordinator":null,"ext":{"x":[1,2]}}').payload, { coordinator: null, ext: { x: [1, 2] } })
})

t.test('encode refuses what decode would refuse', async (t) => {
  rejects(t, () => encodePacket(base({ sender: 'not a name' }), key), 'MCCS_ERR_INVALID', 'sender')
  rejects(t, () => encodePacket(base({ seq: 0 }), key), 'MCCS_ERR_INVALID', 'seq')
  rejects(t, () => encodePacket(base({ sentAt: NaN }), key), 'MCCS_ERR_INVALID', 'sentAt')
  rejects(t, () => encodePacket(base({ incarnation: -1n }), key), 'MCCS_ERR_INVALID', 'incarnation')
  rejects(t, () => encodePacket(base(), Buffer.alloc(16)), 'MCCS_ERR_CLUSTER_KEY_INVALID', 'key')
  rejects(t, () => decodePacket(Buffer.alloc(100), Buffer.alloc(31), expect), 'MCCS_ERR_CLUSTER_KEY_INVALID', 'key')
  rejects(t, () => encodeView({ ext: { blob: 'x'.repeat(MAX_PAYLOAD_BYTES) } }), 'MCCS_ERR_HB_PAYLOAD', 'payload')
  rejects(t, () => encodePacket(base({ payload: Buffer.alloc(MAX_PAYLOAD_BYTES + 1) }), key), 'MCCS_ERR_HB_PAYLOAD', 'payload')
  rejects(t, () => encodeView({ up: Array.from({ length: 33 }, (_, i) => `n${i}`) }), 'MCCS_ERR_HB_PAYLOAD', 'payload/up')
  t.ok(encodeView({ up: Array.from({ length: 32 }, (_, i) => `n${i}`) }).length > 0, '32 names accepted')
  // The largest payload still fits one packet.
  const max = encodePacket(base({ payload: Buffer.from(JSON.stringify({ ext: { b: 'x'.repeat(MAX_PAYLOAD_BYTES - 16) } })) }), key)
  t.ok(max.length <= 1400, `max packet ${max.length} bytes`)
  t.ok(decodePacket(max, key, expect))
})

t.test('random garbage never throws anything but a coded error', async (t) => {
  const good = encodePacket(base(), key)
  for (let i = 0; i < 3000; i++) {
    const b = i % 2 ? randomBytes(Math.floor(Math.random() * 1500)) : Buffer.from(good)
    if (i % 2 === 0) for (let k = 0; k < 1 + (i % 5); k++) b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256)
    try {
      decodePacket(b, key, expect)
    } catch (e) {
      if (!isMccsError(e)) {
        t.fail(`non-coded error: ${String(e)}`)
        return
      }
    }
  }
  t.pass('3000 random inputs')
})

t.test('replay guard: sequence per (sender, link), incarnation order', async (t) => {
  const g = new ReplayGuard()
  const inc1 = newIncarnation(1_000_000)
  const inc2 = newIncarnation(2_000_000)
  const acc = (sender: string, link: string, incarnation: bigint, seq: number) => g.accept({ sender, link, incarnation, seq })
  t.same(acc('n2', 'l0', inc1, 1), { newIncarnation: true })
  t.same(acc('n2', 'l0', inc1, 2), { newIncarnation: false })
  t.same(acc('n2', 'l1', inc1, 1), { newIncarnation: false }, 'links count separately')
  rejects(t, () => acc('n2', 'l0', inc1, 2), 'MCCS_ERR_HB_REPLAY', 'seq', 'duplicate')
  rejects(t, () => acc('n2', 'l0', inc1, 1), 'MCCS_ERR_HB_REPLAY', 'seq', 'older seq')
  t.ok(acc('n2', 'l0', inc1, 5), 'gaps are fine')
  rejects(t, () => acc('n2', 'l0', inc1, 4), 'MCCS_ERR_HB_REPLAY', 'seq', 'reordered by one is dropped too')
  t.ok(acc('n3', 'l0', inc1, 1), 'senders count separately')
  // restart: newer incarnation; sequence numbers start over
  t.same(acc('n2', 'l0', inc2, 1), { newIncarnation: true })
  t.equal(g.incarnationOf('n2'), inc2)
  rejects(t, () => acc('n2', 'l0', inc1, 6), 'MCCS_ERR_HB_REPLAY', 'incarnation', 'previous boot')
  rejects(t, () => acc('n2', 'l1', inc1, 99), 'MCCS_ERR_HB_REPLAY', 'incarnation', 'previous boot, even much later')
  // Issue 12, finding 5: a never-seen older incarnation was accepted once the newest had gone silent. A node's
  // incarnations only grow (persisted), so an older one is a recording: refused, however long the newest is silent.
  const inc0 = newIncarnation(500_000)
  rejects(t, () => acc('n2', 'l0', inc0, 1), 'MCCS_ERR_HB_REPLAY', 'incarnation', 'unseen older incarnation')
  rejects(t, () => acc('n2', 'l0', inc0, 2), 'MCCS_ERR_HB_REPLAY', 'incarnation', 'still refused')
  for (let i = 0; i < 40; i++)
    rejects(
      t,
      () => acc('n2', 'l0', newIncarnation(100_000 + i), 1),
      'MCCS_ERR_HB_REPLAY',
      'incarnation',
      `older #${i}: no list that could overflow`,
    )
  t.same(acc('n2', 'l0', inc2, 2), { newIncarnation: false }, 'the newest is still the newest')
})

t.test('replay guard: seeded from the state file, as after a restart of the receiver', async (t) => {
  const inc1 = newIncarnation(1_000_000)
  const inc2 = newIncarnation(2_000_000)
  const g = new ReplayGuard()
  g.seed('n2', inc2)
  g.seed('n2', inc1) // an older seed never lowers it
  t.equal(g.incarnationOf('n2'), inc2)
  rejects(
    t,
    () => g.accept({ sender: 'n2', link: 'l0', incarnation: inc1, seq: 1e9 }),
    'MCCS_ERR_HB_REPLAY',
    'incarnation',
    'older than the persisted one',
  )
  t.same(g.accept({ sender: 'n2', link: 'l0', incarnation: inc2, seq: 1 }), { newIncarnation: false }, 'the persisted one itself: not new')
  const inc3 = newIncarnation(3_000_000)
  t.same(g.accept({ sender: 'n2', link: 'l1', incarnation: inc3, seq: 1 }), { newIncarnation: true })
})
