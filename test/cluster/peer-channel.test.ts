// The agent-to-agent channel on loopback: requests both ways, errors carried with their code, a wrong
// key refused at the handshake, tampered and replayed frames close the connection, link fallback.
import t, { type Test } from 'tap'
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import { PeerChannel, type PeerChannelOptions } from '../../core/cluster/peer-channel.js'
import { MccsError } from '../../core/errors.js'

const freePort = () => new Promise<number>((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)) })
})

async function pair(t: Test, o: { keyB?: Buffer } = {}) {
  const key = randomBytes(32)
  const [pa, pb] = [await freePort(), await freePort()]
  const mk = (node: string, k: Buffer, port: number, peers: PeerChannelOptions['peers'], onRequest: PeerChannelOptions['onRequest']) =>
    new PeerChannel({ cluster: 'c1', node, key: k, listen: [{ host: '127.0.0.1', port }], peers, onRequest, connectTimeoutMs: 1000 })
  const a = mk('n1', key, pa, { n2: [{ host: '127.0.0.1', port: pb }] }, async (from, body) => ({ at: 'n1', from, body }))
  const b = mk('n2', o.keyB ?? key, pb, { n1: [{ host: '127.0.0.1', port: pa }] }, async (from, body) => {
    if ((body as { fail?: boolean })?.fail) throw new MccsError('MCCS_ERR_GROUP_LOCKED', 'group g is locked', { field: 'group' })
    return { at: 'n2', from, body }
  })
  await a.start()
  await b.start()
  t.teardown(async () => { await a.stop(); await b.stop() })
  return { a, b, pa, pb, key }
}


t.test('requests and replies both ways, in order', async (t) => {
  const { a, b } = await pair(t)
  t.same(await a.request('n2', { hello: 1 }), { at: 'n2', from: 'n1', body: { hello: 1 } })
  t.same(await b.request('n1', [1, 2, 3]), { at: 'n1', from: 'n2', body: [1, 2, 3] })
  const many = await Promise.all(Array.from({ length: 200 }, (_, i) => a.request<{ body: number }>('n2', i)))
  t.same(many.map((r) => r.body), Array.from({ length: 200 }, (_, i) => i), '200 concurrent requests all answered')
})

t.test('a handler error comes back with its code and field', async (t) => {
  const { a } = await pair(t)
  await t.rejects(a.request('n2', { fail: true }), { code: 'MCCS_ERR_GROUP_LOCKED', field: 'group', message: /locked/ })
})

t.test('a peer without the cluster key is refused at the handshake', async (t) => {
  const { a, b } = await pair(t, { keyB: randomBytes(32) })
  await t.rejects(a.request('n2', 'x', 2000), { code: 'MCCS_ERR_PEER_UNREACHABLE' })
  t.ok(a.rejected.handshake + b.rejected.handshake >= 1, 'counted')
})

t.test('forged, tampered and replayed frames close the connection', async (t) => {
  const { b, pb, key } = await pair(t)
  // A raw client that knows the key does the handshake, then misbehaves.
  const { createHmac } = await import('node:crypto')
  const mac = (k: Buffer, s: string) => createHmac('sha256', k).update(s).digest('hex')
  const session = async () => {
    const sock = net.connect(pb, '127.0.0.1')
    sock.setEncoding('utf8')
    const nA = randomBytes(16).toString('hex')
    sock.write(JSON.stringify({ t: 'hello', cluster: 'c1', from: 'n1', to: 'n2', nonce: nA }) + '\n')
    const hello = await new Promise<{ nonce: string }>((r) => sock.once('data', (d: string) => r(JSON.parse(d.split('\n')[0]!))))
    sock.write(JSON.stringify({ t: 'auth', mac: mac(key, `cli|c1|n1|n2|${nA}|${hello.nonce}`) }) + '\n')
    const skey = createHmac('sha256', key).update(`session|${nA}|${hello.nonce}`).digest()
    const frame = (seq: number, id: number, body: unknown, tamper = false) => {
      const b = JSON.stringify(body)
      const m = mac(skey, `n1>n2|${seq}|req|${id}|${tamper ? '"other"' : b}`)
      return `{"s":${seq},"k":"req","id":${id},"b":${b},"m":"${m}"}\n`
    }
    const closed = new Promise<boolean>((r) => sock.once('close', () => r(true)))
    const reply = () => new Promise<string>((r) => sock.once('data', (d: string) => r(d)))
    return { sock, frame, closed, reply }
  }
  const ok = await session()
  ok.sock.write(ok.frame(1, 1, 'fine'))
  t.match(await ok.reply(), /"k":"res"/, 'a well-formed frame is answered')
  ok.sock.write(ok.frame(1, 2, 'again')) // replay of sequence 1
  t.ok(await ok.closed, 'a replayed sequence number closes the connection')
  const tampered = await session()
  tampered.sock.write(tampered.frame(1, 1, 'x', true))
  t.ok(await tampered.closed, 'a frame whose MAC does not match closes the connection')
  t.ok(b.rejected.sequence >= 1 && b.rejected.mac >= 1, JSON.stringify(b.rejected))
})

t.test('the next link is tried when the first is dead', async (t) => {
  const key = randomBytes(32)
  const [dead, live, pa] = [await freePort(), await freePort(), await freePort()]
  const b = new PeerChannel({ cluster: 'c1', node: 'n2', key, listen: [{ host: '127.0.0.1', port: live }], peers: { n1: [] }, onRequest: async () => 'pong' })
  const a = new PeerChannel({ cluster: 'c1', node: 'n1', key, listen: [{ host: '127.0.0.1', port: pa }], peers: { n2: [{ host: '127.0.0.1', port: dead }, { host: '127.0.0.1', port: live }] }, onRequest: async () => 'x' })
  await b.start()
  await a.start()
  t.teardown(async () => { await a.stop(); await b.stop() })
  t.equal(await a.request('n2', 'ping'), 'pong')
})
