// Protocol versions of the heartbeat and the peer channel (issue 16, What 4): each node advertises the range
// it speaks, a pair uses the highest version in common, a peer with none in common is refused with both
// ranges named (and is never up), and a peer that advertises nothing (a release before this) is version 1.
// Heartbeats over loopback with real Heartbeat instances and, for the release before, a responder that sends
// packets exactly as that release did (no `ext.pv`); the channel with real PeerChannels and, for the release
// before, raw TLS ends that behave as that release's did.
import { randomBytes } from 'node:crypto'
import dgram from 'node:dgram'
import net from 'node:net'
import tls from 'node:tls'
import t, { type Test } from 'tap'
import { Heartbeat } from '../../core/cluster/heartbeat.js'
import { decodePacket, encodePacket, encodeView, newIncarnation, type HbPacketFields } from '../../core/cluster/packet.js'
import { PROTOCOL, negotiate, type ProtocolRange } from '../../core/cluster/protocol-version.js'
import { PeerChannel } from '../../core/cluster/peer-channel.js'
import { derivePsk, pskClientOptions, pskServerOptions } from '../../core/cluster/tls.js'
import { advertisedRange } from '../../core/agent/protocol-range.js'
import { isMccsError } from '../../core/errors.js'
import type { HbConfig } from '../../core/config/hb-model.js'

const key = randomBytes(32)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const port = 21000 + (process.pid % 19000)
const timing = { intervalMs: 20, deadMs: 120 }
const cfg: HbConfig = {
  generation: 1,
  cluster: 'pv',
  nodes: [
    { name: 'n1', addresses: { a: '127.0.3.1' } },
    { name: 'n2', addresses: { a: '127.0.3.2' } },
  ],
  links: [{ name: 'a', priority: 0 }],
  timing,
  port,
}
interface Logged {
  level: string
  msg: string
  data?: Record<string, unknown>
}
const logger = (into: Logged[]) => ({
  log: (level: string, msg: string, data?: Record<string, unknown>) => void into.push({ level, msg, data }),
})

async function until(fn: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now()
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${what}`)
    await sleep(5)
  }
}

function codeOf(fn: () => unknown): { code: string; field?: string; message: string } | null {
  try {
    fn()
    return null
  } catch (e) {
    if (!isMccsError(e)) throw e
    return { code: e.code, ...(e.field ? { field: e.field } : {}), message: e.message }
  }
}

t.test('negotiation: the highest version in common, or a refusal naming both ranges', async (t) => {
  t.same(negotiate({ min: 1, max: 2 }, { min: 1, max: 3 }, 'n2'), { version: 2 }, 'overlap: the highest common')
  t.same(negotiate({ min: 2, max: 4 }, { min: 1, max: 2 }, 'n2'), { version: 2 }, 'overlap at one end')
  t.same(negotiate(PROTOCOL, { min: 1, max: 1 }, 'n2'), { version: 1 }, 'a peer from before the advertisement: 1')
  const r = negotiate({ min: 1, max: 2 }, { min: 3, max: 4 }, 'n2')
  t.ok('refused' in r, 'no overlap: refused')
  if ('refused' in r) {
    t.match(r.refused, /n2 speaks protocol versions 3\.\.4, this node 1\.\.2/, `names both ranges: ${r.refused}`)
    t.match(r.refused, /not a member/)
  }
  t.ok('refused' in negotiate({ min: 2, max: 2 }, { min: 1, max: 1 }, 'n2'), 'a release that dropped 1 refuses the oldest')
})

t.test('heartbeat packet: the range travels in ext.pv; missing is 1..1; a malformed one is refused by name', async (t) => {
  const base: HbPacketFields = {
    cluster: 'pv',
    sender: 'n2',
    to: 'n1',
    link: 'a',
    incarnation: newIncarnation(),
    seq: 1,
    sentAt: 1_700_000_000_000,
    echo: null,
    payload: { generation: 3, ext: { vc: { e: 1 } } },
  }
  const d = decodePacket(encodePacket({ ...base, protocol: { min: 1, max: 2 } }, key), key, { cluster: 'pv' })
  t.same(d.protocol, { min: 1, max: 2 }, 'the advertised range')
  t.same(d.payload, { generation: 3, ext: { vc: { e: 1 } } }, 'the view as the sender set it (pv taken out)')
  const only = decodePacket(encodePacket({ ...base, payload: {}, protocol: { min: 2, max: 5 } }, key), key, { cluster: 'pv' })
  t.same(only.payload, {}, 'an ext that held only pv is gone')
  const old = decodePacket(encodePacket(base, key), key, { cluster: 'pv' })
  t.same(old.protocol, { min: 1, max: 1 }, 'no field (a release before this): version 1 only')
  for (const [pv, why] of [
    [[2], 'one number'],
    [[1, 2, 3], 'three numbers'],
    [{ min: 1, max: 2 }, 'an object'],
    [[0, 2], 'version 0'],
    [[3, 2], 'min > max'],
    [[1, 2.5], 'not an integer'],
    [[1, 256], 'beyond 255'],
    [['1', 2], 'a string'],
  ] as const) {
    const buf = encodePacket({ ...base, payload: encodeView({ ext: { pv } }) }, key)
    const e = codeOf(() => decodePacket(buf, key, { cluster: 'pv' }))
    t.same(e && { code: e.code, field: e.field }, { code: 'MCCS_ERR_HB_PACKET', field: 'payload/ext/pv' }, `${why}: ${e?.message}`)
  }
})

async function pairOf(t: Test, r1: ProtocolRange, r2: ProtocolRange) {
  const logs: Logged[] = []
  const h1 = new Heartbeat({ config: cfg, self: 'n1', key, protocol: r1, log: logger(logs) })
  const h2 = new Heartbeat({ config: cfg, self: 'n2', key, protocol: r2 })
  t.teardown(() => Promise.all([h1.stop(), h2.stop()]))
  await Promise.all([h1.start(), h2.start()])
  return { h1, h2, logs }
}

t.test('heartbeat: ranges that overlap make the peers up, on the highest common version', async (t) => {
  const { h1, h2 } = await pairOf(t, { min: 1, max: 2 }, { min: 2, max: 3 })
  await until(() => h1.isUp('n2') && h2.isUp('n1'), 3000, 'both up')
  t.same(h1.status().peers[0]!.protocol, { version: 2, range: { min: 2, max: 3 }, refused: null })
  t.same(h2.status().peers[0]!.protocol, { version: 2, range: { min: 1, max: 2 }, refused: null })
  t.same(h1.status().protocol, { min: 1, max: 2 })
})

t.test('heartbeat: ranges that do not overlap keep both down, with the reason logged once and in status', async (t) => {
  const { h1, h2, logs } = await pairOf(t, { min: 1, max: 2 }, { min: 3, max: 4 })
  await until(() => h1.status().rejected.version > 10 && h2.status().rejected.version > 10, 3000, 'refusals')
  await sleep(timing.deadMs * 2)
  t.notOk(h1.isUp('n2'), 'n1 never takes n2 for up')
  t.notOk(h2.isUp('n1'), 'n2 never takes n1 for up')
  const p = h1.status().peers[0]!.protocol
  t.equal(p.version, null)
  t.same(p.range, { min: 3, max: 4 })
  t.match(p.refused, /n2 speaks protocol versions 3\.\.4, this node 1\.\.2/, `status says why: ${p.refused}`)
  const lines = logs.filter((l) => l.msg === 'peer refused: no protocol version in common')
  t.equal(lines.length, 1, 'logged once, not per packet')
  t.same(lines[0]?.data && { ours: lines[0].data.ours, theirs: lines[0].data.theirs }, { ours: '1..2', theirs: '3..4' })
})

/** A peer of the release before this one: answers every packet of n1 as that release did (no ext.pv). */
async function oldPeer(t: Test) {
  const sock = dgram.createSocket('udp4')
  await new Promise<void>((r) => sock.bind(port, '127.0.3.2', () => r()))
  t.teardown(() => new Promise<void>((r) => sock.close(() => r())))
  const incarnation = newIncarnation()
  let seq = 0
  sock.on('message', (msg) => {
    let p
    try {
      p = decodePacket(msg, key, { cluster: 'pv' })
    } catch {
      return
    }
    const out = encodePacket(
      {
        cluster: 'pv',
        sender: 'n2',
        to: 'n1',
        link: 'a',
        incarnation,
        seq: ++seq,
        sentAt: Date.now(),
        echo: { sentAt: p.sentAt, holdMs: 0 },
        payload: { generation: 1 },
      },
      key,
    )
    sock.send(out, port, '127.0.3.1')
  })
}

t.test('heartbeat: a peer that advertises nothing (the release before) is version 1', async (t) => {
  await oldPeer(t)
  const h1 = new Heartbeat({ config: cfg, self: 'n1', key })
  t.teardown(() => h1.stop())
  await h1.start()
  await until(() => h1.isUp('n2'), 3000, 'the old peer up')
  t.same(h1.status().peers[0]!.protocol, { version: 1, range: { min: 1, max: 1 }, refused: null })
  t.same(h1.views().n2, { generation: 1 })
})

t.test('heartbeat: a release that no longer speaks 1 refuses a peer that advertises nothing', async (t) => {
  await oldPeer(t)
  const h1 = new Heartbeat({ config: cfg, self: 'n1', key, protocol: { min: 2, max: 2 } })
  t.teardown(() => h1.stop())
  await h1.start()
  await until(() => h1.status().rejected.version > 5, 3000, 'refusals')
  t.notOk(h1.isUp('n2'))
  t.match(h1.status().peers[0]!.protocol.refused, /n2 speaks protocol versions 1\.\.1, this node 2\.\.2/)
})

t.test('the advertised range is checked where it is set', async (t) => {
  t.equal(codeOf(() => new Heartbeat({ config: cfg, self: 'n1', key, protocol: { min: 3, max: 2 } }))?.field, 'protocol')
  t.same(advertisedRange({}, '/tmp/x'), { range: PROTOCOL, testHook: false }, 'no hook: the build range')
  t.same(advertisedRange({ MCCS_TEST_PROTOCOL_RANGE: '7..9' }, '/tmp/x'), { range: { min: 7, max: 9 }, testHook: true })
  const prod = codeOf(() => advertisedRange({ MCCS_TEST_PROTOCOL_RANGE: '7..9' }, '/opt/MCCS'))
  t.same(
    prod && { code: prod.code, field: prod.field },
    { code: 'MCCS_ERR_INVALID', field: 'MCCS_TEST_PROTOCOL_RANGE' },
    `production: ${prod?.message}`,
  )
  for (const v of ['7', '9..7', '0..1', 'a..b', '1..300'])
    t.equal(codeOf(() => advertisedRange({ MCCS_TEST_PROTOCOL_RANGE: v }, '/tmp/x'))?.field, 'MCCS_TEST_PROTOCOL_RANGE', `'${v}' refused`)
})

// ------------------------------------------------------------------------------------------ peer channel

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })

async function channels(t: Test, r1: ProtocolRange, r2: ProtocolRange) {
  const [p1, p2] = [await freePort(), await freePort()]
  const logs: Record<'a' | 'b', Logged[]> = { a: [], b: [] }
  const ran: unknown[] = []
  const mk = (node: string, p: number, peer: string, pp: number, protocol: ProtocolRange, log: Logged[]) =>
    new PeerChannel({
      cluster: 'pv',
      node,
      key,
      listen: [{ host: '127.0.0.1', port: p }],
      peers: { [peer]: [{ host: '127.0.0.1', port: pp }] },
      onRequest: async (from, body) => {
        ran.push(body)
        return { from, body }
      },
      connectTimeoutMs: 1000,
      protocol,
      log: logger(log),
    })
  const a = mk('n1', p1, 'n2', p2, r1, logs.a)
  const b = mk('n2', p2, 'n1', p1, r2, logs.b)
  await a.start()
  await b.start()
  t.teardown(async () => {
    await a.stop()
    await b.stop()
  })
  return { a, b, p1, p2, logs, ran }
}

t.test('channel: the hello settles the highest common version both ways', async (t) => {
  const { a, b } = await channels(t, { min: 1, max: 2 }, { min: 2, max: 3 })
  t.same(await a.request('n2', { x: 1 }), { from: 'n1', body: { x: 1 } })
  t.same(a.protocols().n2, { version: 2, range: { min: 2, max: 3 }, refused: null }, 'client side')
  t.same(b.protocols().n1, { version: 2, range: { min: 1, max: 2 }, refused: null }, 'server side')
})

t.test('channel: no version in common: refused both ways with both ranges named, nothing run', async (t) => {
  const { a, b, logs, ran } = await channels(t, { min: 1, max: 2 }, { min: 3, max: 4 })
  await t.rejects(a.request('n2', { x: 1 }), {
    code: 'MCCS_ERR_PEER_VERSION',
    message: /n1 speaks protocol versions 1\.\.2, this node 3\.\.4/,
  })
  await t.rejects(b.request('n1', { x: 2 }), {
    code: 'MCCS_ERR_PEER_VERSION',
    message: /n2 speaks protocol versions 3\.\.4, this node 1\.\.2/,
  })
  t.same(ran, [], 'no request ran on either side')
  t.match(a.protocols().n2?.refused, /3\.\.4/)
  t.match(b.protocols().n1?.refused, /1\.\.2/)
  t.ok(a.rejected.version >= 1 && b.rejected.version >= 1)
  const refusal = logs.b.find((l) => l.msg === 'peer connection refused: no protocol version in common')
  t.same(
    refusal?.data && { ours: refusal.data.ours, theirs: refusal.data.theirs },
    { ours: '3..4', theirs: '1..2' },
    'the server logs both ranges',
  )
})

/** A TLS end of the release before the hello, as the server: answers any request as its agent did one of an unknown type. */
async function oldServer(t: Test): Promise<{ port: number; got: unknown[] }> {
  const got: unknown[] = []
  const server = tls.createServer(
    pskServerOptions(() => derivePsk(key, 'peer-channel pv n1>n2'), 1000),
    (sock) => {
      let buf = ''
      sock.on('data', (d: Buffer) => {
        buf += d.toString()
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const m = JSON.parse(buf.slice(0, i)) as { id: number; b: { t?: string } }
          buf = buf.slice(i + 1)
          got.push(m.b)
          if (m.b.t === 'ping') sock.write(JSON.stringify({ k: 'res', id: m.id, b: 'pong' }) + '\n')
          else
            sock.write(
              JSON.stringify({
                k: 'err',
                id: m.id,
                b: { message: `unknown peer message "${m.b.t}"`, code: 'MCCS_ERR_INVALID', field: 't' },
              }) + '\n',
            )
        }
      })
    },
  )
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return { port: (server.address() as net.AddressInfo).port, got }
}

t.test('channel: a server from before the hello is version 1 (or refused by a release without 1)', async (t) => {
  const old = await oldServer(t)
  const mk = (protocol: ProtocolRange) => {
    const c = new PeerChannel({
      cluster: 'pv',
      node: 'n1',
      key,
      listen: [],
      peers: { n2: [{ host: '127.0.0.1', port: old.port }] },
      onRequest: async () => null,
      protocol,
    })
    t.teardown(() => c.stop())
    return c
  }
  const a = mk(PROTOCOL)
  t.equal(await a.request('n2', { t: 'ping' }), 'pong', 'requests go through')
  t.same(a.protocols().n2, { version: 1, range: { min: 1, max: 1 }, refused: null })
  t.equal((old.got[0] as { t: string }).t, 'channel.hello', 'the hello went first')
  const b = mk({ min: 2, max: 2 })
  await t.rejects(b.request('n2', { t: 'ping' }), { code: 'MCCS_ERR_PEER_VERSION', message: /1\.\.1/ })
})

t.test('channel: a client from before the hello is version 1 (or refused by a release without 1)', async (t) => {
  for (const [range, ok] of [
    [PROTOCOL, true],
    [{ min: 2, max: 3 }, false],
  ] as const) {
    const p = await freePort()
    const ran: unknown[] = []
    const srv = new PeerChannel({
      cluster: 'pv',
      node: 'n2',
      key,
      listen: [{ host: '127.0.0.1', port: p }],
      peers: { n1: [] },
      onRequest: async (_f, b) => (ran.push(b), 'done'),
      protocol: range,
    })
    await srv.start()
    t.teardown(() => srv.stop())
    const sock = tls.connect({ host: '127.0.0.1', port: p, ...pskClientOptions('pv/n1/n2', derivePsk(key, 'peer-channel pv n1>n2')) })
    t.teardown(() => sock.destroy())
    await new Promise<void>((r) => sock.once('secureConnect', () => r()))
    const answer = new Promise<Record<string, unknown>>((r) =>
      sock.once('data', (d: Buffer) => r(JSON.parse(d.toString().split('\n')[0]!))),
    )
    sock.write(JSON.stringify({ k: 'req', id: 1, b: { t: 'status' } }) + '\n')
    const m = await answer
    if (ok) {
      t.same(m, { k: 'res', id: 1, b: 'done' }, `server ${range.min}..${range.max}: the request runs`)
      t.same(srv.protocols().n1, { version: 1, range: { min: 1, max: 1 }, refused: null })
    } else {
      t.equal(m.k, 'err', `server ${range.min}..${range.max}: refused`)
      t.equal((m.b as { code: string }).code, 'MCCS_ERR_PEER_VERSION')
      t.match((m.b as { message: string }).message, /n1 speaks protocol versions 1\.\.1, this node 2\.\.3/)
      t.same(ran, [], 'nothing ran')
      await new Promise<void>((r) => (sock.closed ? r() : sock.once('close', () => r())))
      t.pass('and the connection is closed')
    }
  }
})

t.test('channel: a malformed hello is refused naming the field', async (t) => {
  const p = await freePort()
  const srv = new PeerChannel({
    cluster: 'pv',
    node: 'n2',
    key,
    listen: [{ host: '127.0.0.1', port: p }],
    peers: { n1: [] },
    onRequest: async () => null,
  })
  await srv.start()
  t.teardown(() => srv.stop())
  const sock = tls.connect({ host: '127.0.0.1', port: p, ...pskClientOptions('pv/n1/n2', derivePsk(key, 'peer-channel pv n1>n2')) })
  t.teardown(() => sock.destroy())
  await new Promise<void>((r) => sock.once('secureConnect', () => r()))
  const answer = new Promise<Record<string, unknown>>((r) => sock.once('data', (d: Buffer) => r(JSON.parse(d.toString().split('\n')[0]!))))
  sock.write(JSON.stringify({ k: 'req', id: 1, b: { t: 'channel.hello', protocol: { min: 'x', max: 2 } } }) + '\n')
  const m = (await answer) as { k: string; b: { code: string; field: string } }
  t.same({ k: m.k, code: m.b.code, field: m.b.field }, { k: 'err', code: 'MCCS_ERR_PEER_PROTOCOL', field: 'protocol' })
})
