// The heartbeat's cost as the cluster grows (issue 19, What 4): N heartbeats (core/cluster/heartbeat.ts) in
// this one process over loopback, 2 links, the shipped timing, each sending the view a member of an N-node
// cluster sends (heartbeatView: every peer heard, the announcement, the received levels). Rows per N: CPU per
// node (this process's CPU / N, % of one core), packets and bytes sent per node per second, and whether every
// node kept hearing every other. One process, so what it measures is the protocol's own work per node (crypto,
// encoding, silence checks), not an agent's wakeups; the lab's agent rows (scale.ts) measure whole agents,
// which a 2-core machine cannot host 32 of.
//   node --import tsx scripts/bench/hb-scale.ts [--sizes 3,8,16,32] [--idle 10]
import { randomBytes } from 'node:crypto'
import { DEFAULT_TIMING, Heartbeat } from '../../core/cluster/heartbeat.js'
import { ViewCodec, heartbeatView } from '../../core/cluster/view-messages.js'
import { MIN_PACKET_BYTES, encodeView } from '../../core/cluster/packet.js'
import { PROTOCOL } from '../../core/cluster/protocol-version.js'
import type { HbConfig } from '../../core/config/hb-model.js'

const arg = (n: string, d: string) => {
  const i = process.argv.indexOf(`--${n}`)
  return i >= 0 ? process.argv[i + 1]! : d
}
const sizes = arg('sizes', '3,8,16,32').split(',').map(Number)
const idleS = Number(arg('idle', '10'))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function measure(n: number, port: number) {
  const key = randomBytes(32)
  const names = Array.from({ length: n }, (_, i) => `node${String(i + 1).padStart(2, '0')}`)
  const config: HbConfig = {
    generation: 1,
    cluster: 'scale',
    nodes: names.map((name, i) => ({ name, addresses: { a: `127.0.5.${i + 1}`, b: `127.0.6.${i + 1}` } })),
    links: [
      { name: 'a', priority: 0 },
      { name: 'b', priority: 1, port: port + 1 },
    ],
    timing: { ...DEFAULT_TIMING },
    port,
  }
  const codec = new ViewCodec(names)
  const vc = codec.encode({ epoch: 12, members: names, ready: names, joined: true, rd: true, floor: 12 })
  const received = codec.encodeReceived(Object.fromEntries(names.map((x) => [x, 2 as const])))
  const viewOf = (self: string) =>
    heartbeatView({
      up: names.filter((x) => x !== self),
      coordinator: names[0]!,
      generation: 3,
      digest: '0123456789abcdef',
      quorate: true,
      mode: 'active',
      vc,
      hbGeneration: 1,
      held: null,
      received,
      selfFences: 0,
    })
  const hbs = names.map((self) => {
    const hb = new Heartbeat({ config, self, key })
    hb.setPayload(viewOf(self))
    return hb
  })
  try {
    await Promise.all(hbs.map((h) => h.start()))
    const t0 = Date.now()
    while (!hbs.every((h) => h.upPeers().length === n - 1)) {
      if (Date.now() - t0 > 30_000) throw new Error(`${n} heartbeats: not every node heard every other within 30 s`)
      await sleep(50)
    }
    await sleep(2000)
    const sent = () => hbs.map((h) => h.status().links.reduce((s, l) => s + l.tx, 0))
    let downEvents = 0
    for (const h of hbs) h.on('peer', (e) => void (e.up ? 0 : downEvents++))
    const tx0 = sent()
    const c0 = process.cpuUsage()
    const w0 = performance.now()
    await sleep(idleS * 1000)
    const c = process.cpuUsage(c0)
    const secs = (performance.now() - w0) / 1000
    const tx = sent().map((x, i) => (x - tx0[i]!) / secs)
    // One packet's size (UDP payload): the fixed fields, the echo and the MAC, the names (cluster, sender,
    // receiver, link) and the view node01 sends node02.
    const bytes =
      MIN_PACKET_BYTES + config.cluster.length + names[0]!.length + names[1]!.length + 1 + encodeView(viewOf(names[0]!), PROTOCOL).length
    const perNodePkts = tx.reduce((s, x) => s + x, 0) / n
    return {
      nodes: n,
      cpuPctPerNode: Number((((c.user + c.system) / 1e6 / secs / n) * 100).toFixed(3)),
      packetsPerNodePerS: Math.round(perNodePkts),
      expectedPacketsPerNodePerS: (n - 1) * 2 * (1000 / DEFAULT_TIMING.intervalMs),
      bytesPerNodePerS: Math.round(perNodePkts * bytes),
      packetBytes: bytes,
      peerDownEvents: downEvents,
    }
  } finally {
    await Promise.all(hbs.map((h) => h.stop()))
  }
}

const out = []
for (const [i, n] of sizes.entries()) out.push(await measure(n, 23000 + ((process.pid + i * 7) % 9000) * 2))
console.log(JSON.stringify({ idleS, sizes: out }))
process.exit(0)
