// The agent-to-agent channel on loopback: requests both ways, errors carried with their code; TLS 1.3
// with PSKs from the cluster key: nothing readable on the wire, a peer with another key (or of another
// cluster, or naming another node) refused at the handshake and logged, the old clear-text protocol
// refused, a server offering a certificate instead of the PSK refused by the client, tampered and
// replayed records closing the connection with nothing run; link fallback.
import t, { type Test } from 'tap'
import net from 'node:net'
import tls from 'node:tls'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { PeerChannel, type PeerChannelOptions } from '../../core/cluster/peer-channel.js'
import { derivePsk, pskAuthenticated, pskClientOptions } from '../../core/cluster/tls.js'
import { MccsError } from '../../core/errors.js'

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })

interface Logged {
  level: string
  msg: string
  data?: Record<string, unknown>
}

async function pair(t: Test, o: { keyB?: Buffer; clusterB?: string; peerPortOfB?: number } = {}) {
  const key = randomBytes(32)
  const [pa, pb] = [await freePort(), await freePort()]
  const logs: Record<'a' | 'b', Logged[]> = { a: [], b: [] }
  const seen: unknown[] = [] // requests n2 ran
  const mk = (
    node: string,
    cluster: string,
    k: Buffer,
    port: number,
    peers: PeerChannelOptions['peers'],
    onRequest: PeerChannelOptions['onRequest'],
    log: Logged[],
  ) =>
    new PeerChannel({
      cluster,
      node,
      key: k,
      listen: [{ host: '127.0.0.1', port }],
      peers,
      onRequest,
      connectTimeoutMs: 1000,
      log: {
        log: (level, msg, data) => {
          log.push({ level, msg, data })
        },
      },
    })
  const a = mk(
    'n1',
    'c1',
    key,
    pa,
    { n2: [{ host: '127.0.0.1', port: o.peerPortOfB ?? pb }] },
    async (from, body) => ({ at: 'n1', from, body }),
    logs.a,
  )
  const b = mk(
    'n2',
    o.clusterB ?? 'c1',
    o.keyB ?? key,
    pb,
    { n1: [{ host: '127.0.0.1', port: pa }] },
    async (from, body) => {
      seen.push(body)
      if ((body as { fail?: boolean })?.fail) throw new MccsError('MCCS_ERR_GROUP_LOCKED', 'group g is locked', { field: 'group' })
      return { at: 'n2', from, body }
    },
    logs.b,
  )
  await a.start()
  await b.start()
  t.teardown(async () => {
    await a.stop()
    await b.stop()
  })
  return { a, b, pa, pb, key, logs, seen }
}

/** A TCP relay to `port` that records what the client sends and can tamper with it. */
async function relay(t: Test, port: number) {
  const sent: Buffer[][] = [] // per connection, client -> server chunks
  const wire: Buffer[] = []
  const state = { tamper: false }
  const server = net.createServer((c) => {
    const chunks: Buffer[] = []
    sent.push(chunks)
    const s = net.connect(port, '127.0.0.1')
    c.on('data', (d: Buffer) => {
      chunks.push(Buffer.from(d))
      wire.push(Buffer.from(d))
      if (state.tamper && d.length > 8) {
        d = Buffer.from(d)
        d[d.length - 3]! ^= 0x01
      }
      s.write(d)
    })
    s.on('data', (d: Buffer) => {
      wire.push(Buffer.from(d))
      c.write(d)
    })
    const end = () => {
      c.destroy()
      s.destroy()
    }
    c.on('close', end)
    s.on('close', end)
    c.on('error', end)
    s.on('error', end)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  t.teardown(
    () =>
      new Promise<void>((r) => {
        server.close(() => r())
        server.unref()
      }),
  )
  return { port: (server.address() as net.AddressInfo).port, sent, wire: () => Buffer.concat(wire), state }
}

t.test('requests and replies both ways, in order', async (t) => {
  const { a, b } = await pair(t)
  t.same(await a.request('n2', { hello: 1 }), { at: 'n2', from: 'n1', body: { hello: 1 } })
  t.same(await b.request('n1', [1, 2, 3]), { at: 'n1', from: 'n2', body: [1, 2, 3] })
  const many = await Promise.all(Array.from({ length: 200 }, (_, i) => a.request<{ body: number }>('n2', i)))
  t.same(
    many.map((r) => r.body),
    Array.from({ length: 200 }, (_, i) => i),
    '200 concurrent requests all answered',
  )
  t.same({ ...a.rejected }, { handshake: 0, record: 0, malformed: 0, version: 0 })
})

t.test('a handler error comes back with its code and field', async (t) => {
  const { a } = await pair(t)
  await t.rejects(a.request('n2', { fail: true }), { code: 'MCCS_ERR_GROUP_LOCKED', field: 'group', message: /locked/ })
})

t.test('nothing of a request or its answer is readable on the wire (TLS 1.3)', async (t) => {
  const pb = await freePort()
  const r = await relay(t, pb)
  const key = randomBytes(32)
  const n2 = new PeerChannel({
    cluster: 'c1',
    node: 'n2',
    key,
    listen: [{ host: '127.0.0.1', port: pb }],
    peers: { n1: [] },
    onRequest: async (_f, body) => ({ echo: body }),
  })
  const n1 = new PeerChannel({
    cluster: 'c1',
    node: 'n1',
    key,
    listen: [],
    peers: { n2: [{ host: '127.0.0.1', port: r.port }] },
    onRequest: async () => null,
  })
  await n2.start()
  t.teardown(async () => {
    await n1.stop()
    await n2.stop()
  })
  const secret = `DB_PASS=${randomBytes(12).toString('hex')}`
  t.same(await n1.request('n2', { env: secret }), { echo: { env: secret } }, 'answered through the relay')
  const wire = r.wire()
  t.ok(wire.length > 2 * secret.length, `${wire.length} bytes crossed the relay`)
  t.equal(wire.indexOf(secret), -1, 'the secret is not on the wire (request, nor the answer that echoes it)')
  t.equal(wire.indexOf('"req"'), -1, 'no frame text on the wire')
  t.equal(wire[0], 0x16, 'the connection opens with a TLS handshake record')
})

t.test('a peer with another cluster key is refused at the handshake, and the refusal is logged', async (t) => {
  const { a, b, logs, seen } = await pair(t, { keyB: randomBytes(32) })
  await t.rejects(a.request('n2', 'x', 2000), { code: 'MCCS_ERR_PEER_UNREACHABLE' })
  await t.rejects(b.request('n1', 'y', 2000), { code: 'MCCS_ERR_PEER_UNREACHABLE' }, 'refused both ways')
  t.same(seen, [], 'n2 ran nothing')
  t.ok(a.rejected.handshake >= 1 && b.rejected.handshake >= 1, JSON.stringify({ a: a.rejected, b: b.rejected }))
  const srv = logs.b.find((l) => /peer connection refused/.test(l.msg))
  t.match(
    srv,
    { level: 'warn', msg: /does not hold this cluster's key/, data: { claimed: 'n1', address: /127\.0\.0\.1/ } },
    'the server names who tried, from where, and why',
  )
  t.match(
    logs.a.find((l) => /peer connection to n2 refused/.test(l.msg)),
    { level: 'warn', msg: /does not accept our cluster key/ },
    'the client logs it too',
  )
  // Retries are counted, not logged again and again.
  for (let i = 0; i < 5; i++) await a.request('n2', 'x', 2000).catch(() => {})
  t.equal(logs.b.filter((l) => /peer connection refused/.test(l.msg)).length, 1, 'one log line for repeated refusals')
  t.ok(b.rejected.handshake >= 6, `${b.rejected.handshake} refusals counted`)
})

t.test('the same key in another cluster, a node not in hb.json, a connection meant for another node: refused', async (t) => {
  const { a, b, logs, seen } = await pair(t, { clusterB: 'c2' })
  await t.rejects(a.request('n2', 'x', 2000), { code: 'MCCS_ERR_PEER_UNREACHABLE' })
  t.match(logs.b.find((l) => /refused/.test(l.msg))?.msg, /another cluster/)
  t.same(seen, [])
  void b
  // A raw client with the right key, naming itself n3 (not a peer of n2), asking for n3 at n2's port, or
  // n2's own connection reflected back to it.
  const x = await pair(t)
  const tryAs = (identity: string, psk: Buffer) =>
    new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: x.pb, ...pskClientOptions(identity, psk) }, () => {
        resolve('connected')
        s.destroy()
      })
      s.on('error', (e: Error & { code?: string }) => resolve(e.code ?? e.message))
    })
  t.equal(
    await tryAs('c1/n3/n2', derivePsk(x.key, 'peer-channel c1 n3>n2')),
    'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    'a node not in hb.json',
  )
  t.equal(await tryAs('c1/n1/n3', derivePsk(x.key, 'peer-channel c1 n1>n3')), 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'meant for n3')
  t.equal(
    await tryAs('c1/n2/n1', derivePsk(x.key, 'peer-channel c1 n2>n1')),
    'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
    'n2 reflected to itself',
  )
  t.equal(await tryAs('c1/n1/n2', derivePsk(x.key, 'peer-channel c1 n1>n2')), 'connected', 'the right identity and key connect')
  const msgs = x.logs.b.map((l) => l.msg).join('\n')
  t.match(msgs, /not a node of this cluster/)
  t.match(msgs, /meant for node n3/)
  t.match(msgs, /meant for node n1/)
  t.same(x.seen, [])
  t.equal(x.b.rejected.handshake, 3)
})

t.test('the old clear-text handshake is refused; nothing is answered in clear', async (t) => {
  const { b, pb, logs } = await pair(t)
  const sock = net.connect(pb, '127.0.0.1')
  const got: Buffer[] = []
  sock.on('data', (d: Buffer) => got.push(d))
  sock.on('error', () => {})
  sock.write(JSON.stringify({ t: 'hello', cluster: 'c1', from: 'n1', to: 'n2', nonce: randomBytes(16).toString('hex') }) + '\n')
  await new Promise((r) => sock.once('close', r))
  t.notOk(Buffer.concat(got).toString('latin1').includes('hello'), 'no JSON answer')
  t.equal(b.rejected.handshake, 1)
  t.match(logs.b[0], { level: 'warn', msg: /peer connection refused: not TLS \(an MCCS agent from before the encrypted channel/ })
})

t.test('a server that answers with a certificate instead of the PSK is refused by the client', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mccs-peer-cert-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      path.join(dir, 'k'),
      '-out',
      path.join(dir, 'c'),
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      '2',
    ],
    { stdio: 'ignore', env: { PATH: '/usr/bin:/bin', OPENSSL_CONF: '/dev/null' } },
  )
  const cert = readFileSync(path.join(dir, 'c'), 'utf8')
  const impostor = tls.createServer({ key: readFileSync(path.join(dir, 'k'), 'utf8'), cert, minVersion: 'TLSv1.3' }, (s) => s.end())
  impostor.on('tlsClientError', () => {})
  await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => impostor.close(() => r())))
  const port = (impostor.address() as net.AddressInfo).port
  // Even with the impostor's certificate trusted (as a publicly signed one would be), the client refuses it.
  const outcome = await new Promise<string>((resolve) => {
    const trusting = tls.createSecureContext({ ca: [cert], minVersion: 'TLSv1.3' })
    const s = tls.connect({ host: '127.0.0.1', port, ...pskClientOptions('c1/n1/n2', randomBytes(32)), secureContext: trusting }, () => {
      resolve(pskAuthenticated(s) ? 'accepted' : 'connected without PSK')
      s.destroy()
    })
    s.on('error', (e) => resolve(`refused: ${e.message}`))
  })
  t.match(outcome, /^refused: the server offered a certificate/)
  const a = new PeerChannel({
    cluster: 'c1',
    node: 'n1',
    key: randomBytes(32),
    listen: [],
    peers: { n2: [{ host: '127.0.0.1', port }] },
    onRequest: async () => null,
    connectTimeoutMs: 1000,
  })
  t.teardown(() => a.stop())
  await t.rejects(a.request('n2', 'x', 2000), { code: 'MCCS_ERR_PEER_UNREACHABLE' })
  t.equal(a.rejected.handshake, 1)
})

t.test('a tampered record closes the connection; a replayed session runs nothing', async (t) => {
  const pb = await freePort()
  const r = await relay(t, pb)
  const key = randomBytes(32)
  const ran: unknown[] = []
  const n2 = new PeerChannel({
    cluster: 'c1',
    node: 'n2',
    key,
    listen: [{ host: '127.0.0.1', port: pb }],
    peers: { n1: [] },
    onRequest: async (_f, body) => {
      ran.push(body)
      return 'ok'
    },
  })
  const n1 = new PeerChannel({
    cluster: 'c1',
    node: 'n1',
    key,
    listen: [],
    peers: { n2: [{ host: '127.0.0.1', port: r.port }] },
    onRequest: async () => null,
  })
  await n2.start()
  t.teardown(async () => {
    await n1.stop()
    await n2.stop()
  })
  t.equal(await n1.request('n2', 'first'), 'ok')
  // Replay: the first connection's client bytes (handshake and request) sent again on a new connection.
  const recorded = Buffer.concat(r.sent[0]!)
  const replay = net.connect(pb, '127.0.0.1')
  replay.on('error', () => {})
  replay.resume() // read what n2 answers (its handshake, then an alert), so that its close is seen
  replay.on('connect', () => replay.write(recorded))
  await new Promise((res) => replay.once('close', res))
  t.same(ran, ['first'], 'the replayed request did not run again')
  t.ok(n2.rejected.handshake >= 1, `replayed handshake refused: ${JSON.stringify(n2.rejected)}`)
  // Tamper: one bit of the next request's record flipped.
  r.state.tamper = true
  await t.rejects(n1.request('n2', 'second', 2000), { code: 'MCCS_ERR_PEER_UNREACHABLE', message: /closed/ })
  t.same(ran, ['first'], 'the tampered request did not run')
  t.equal(n2.rejected.record, 1, 'counted as a record that failed authentication')
  r.state.tamper = false
  t.equal(await n1.request('n2', 'third'), 'ok', 'a new connection works')
})

t.test('the next link is tried when the first is dead', async (t) => {
  const key = randomBytes(32)
  const [dead, live, pa] = [await freePort(), await freePort(), await freePort()]
  const b = new PeerChannel({
    cluster: 'c1',
    node: 'n2',
    key,
    listen: [{ host: '127.0.0.1', port: live }],
    peers: { n1: [] },
    onRequest: async () => 'pong',
  })
  const a = new PeerChannel({
    cluster: 'c1',
    node: 'n1',
    key,
    listen: [{ host: '127.0.0.1', port: pa }],
    peers: {
      n2: [
        { host: '127.0.0.1', port: dead },
        { host: '127.0.0.1', port: live },
      ],
    },
    onRequest: async () => 'x',
  })
  await b.start()
  await a.start()
  t.teardown(async () => {
    await a.stop()
    await b.stop()
  })
  t.equal(await a.request('n2', 'ping'), 'pong')
})

t.test('a link that swallows the handshake costs no connect timeout: the next link is tried after the stagger', async (t) => {
  // A new coordinator's intent gather waited 2 s per link (the connect timeout) for a member partitioned
  // away, before the next link was even tried (safety lab, partition recoveries of 4.3 s).
  const key = randomBytes(32)
  const [live, pa] = [await freePort(), await freePort()]
  const held: net.Socket[] = []
  const hole = net.createServer((sock) => held.push(sock)) // accepts, never answers
  await new Promise<void>((r) => hole.listen(0, '127.0.0.1', () => r()))
  const holePort = (hole.address() as net.AddressInfo).port
  const b = new PeerChannel({
    cluster: 'c1',
    node: 'n2',
    key,
    listen: [{ host: '127.0.0.1', port: live }],
    peers: { n1: [] },
    onRequest: async () => 'pong',
  })
  const a = new PeerChannel({
    cluster: 'c1',
    node: 'n1',
    key,
    listen: [{ host: '127.0.0.1', port: pa }],
    peers: {
      n2: [
        { host: '127.0.0.1', port: holePort },
        { host: '127.0.0.1', port: live },
      ],
    },
    onRequest: async () => 'x',
    connectTimeoutMs: 2000,
  })
  await b.start()
  await a.start()
  t.teardown(async () => {
    await a.stop()
    await b.stop()
    for (const s of held) s.destroy()
    hole.close()
  })
  const t0 = Date.now()
  t.equal(await a.request('n2', 'ping', 1500), 'pong')
  const ms = Date.now() - t0
  t.ok(ms < 1000, `answered over the second link in ${ms} ms (the first link's connect timeout is 2000 ms)`)
})

t.test("a request's deadline covers the connect: every link swallowing the handshake ends it on time", async (t) => {
  // A caller that gives a peer 300 ms (a coordinator's intent gather) waited the connect timeout of each link
  // first: the deadline started only once a session existed.
  const key = randomBytes(32)
  const pa = await freePort()
  const held: net.Socket[] = []
  const hole = net.createServer((sock) => held.push(sock)) // accepts, never answers
  await new Promise<void>((r) => hole.listen(0, '127.0.0.1', () => r()))
  const holePort = (hole.address() as net.AddressInfo).port
  const a = new PeerChannel({
    cluster: 'c1',
    node: 'n1',
    key,
    listen: [{ host: '127.0.0.1', port: pa }],
    peers: { n2: [{ host: '127.0.0.1', port: holePort }] },
    onRequest: async () => 'x',
    connectTimeoutMs: 2000,
  })
  await a.start()
  t.teardown(async () => {
    await a.stop()
    for (const s of held) s.destroy()
    hole.close()
  })
  const t0 = Date.now()
  await t.rejects(a.request('n2', 'ping', 300), { code: 'MCCS_ERR_PEER_TIMEOUT' })
  const ms = Date.now() - t0
  t.ok(ms < 800, `refused after ${ms} ms (deadline 300 ms; the link's connect timeout is 2000 ms)`)
})
