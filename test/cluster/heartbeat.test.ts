// Heartbeats between real processes in the network-namespace lab: 3 nodes, 2 links, one
// scripts/lab/heartbeat-node.ts per node inside its namespace. Link failure, node failure (link down and
// kill -9, with detection times), forged / replayed / truncated packets, 30 % loss, a stalled process,
// a true partition.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { encodePacket } from '../../core/cluster/packet.js'
import { labAvailable } from '../../scripts/lab/lab.js'
import { createHbCluster, median, sleep, type Ev, type HbCluster, type HbProc } from '../../scripts/lab/hb-cluster.js'

const avail = await labAvailable()
if (!avail.ok) {
  t.test('heartbeats in the lab', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  const timing = { intervalMs: 100, deadMs: 600 }
  const bound = timing.deadMs + timing.intervalMs
  const SLACK = 100 // scheduling on a busy 2-vCPU test machine
  let c!: HbCluster
  const P = (n: string): HbProc => c.proc(n)
  type Status = {
    status: {
      peers: { node: string; up: boolean; received: number | null; links: Record<string, { up: boolean; rttMs: number | null }> }[]
      rejected: Record<string, number>
    }
  }
  const status = async (n: string) => (await P(n).request<Status>({ cmd: 'status' })).status
  const isDown = (node: string, mark: Record<string, number>) => (obs: string) =>
    P(obs).waitFor((e: Ev) => e.ev === 'peer' && e.node === node && e.up === false, 5000, `${node} down at ${obs}`, mark[obs] ?? 0)
  const marks = () => Object.fromEntries(c.nodes.map((n) => [n, P(n).events.length]))

  t.before(async () => {
    c = await createHbCluster({ prefix: `mccs${process.pid}-`, nodes: 3, links: 2, timing, tap: true })
    await Promise.all(c.nodes.map((n) => c.start(n)))
  })
  t.teardown(() => c?.destroy())

  t.test('every node sees every other up on both links', async (t) => {
    await c.allUp()
    await sleep(300)
    for (const n of c.nodes) {
      const st = await status(n)
      for (const p of st.peers) {
        t.equal(p.up, true, `${n} sees ${p.node}`)
        t.same(
          Object.values(p.links).map((l) => l.up),
          [true, true],
          `${n} sees both links of ${p.node}`,
        )
        // Measured on every link; under the dead time (a loaded CI machine delays the echo past a few ms).
        const rtts = Object.values(p.links).map((l) => l.rttMs)
        t.ok(
          rtts.every((r) => r !== null && r >= 0 && r < timing.deadMs),
          `${n}->${p.node} rtt measured: ${rtts.join(', ')} ms`,
        )
      }
    }
  })

  t.test('one link down keeps the peer up and shows the link down', async (t) => {
    const m = marks()
    await c.lab.linkDown('n3', 1)
    for (const obs of ['n1', 'n2']) {
      await P(obs).waitFor((e) => e.ev === 'link' && e.node === 'n3' && e.link === 'l1' && !e.up, bound + 1000, 'l1 down', m[obs])
      const p3 = (await status(obs)).peers.find((p) => p.node === 'n3')!
      t.equal(p3.up, true, `${obs} still sees n3 up`)
      t.same({ l0: p3.links.l0!.up, l1: p3.links.l1!.up }, { l0: true, l1: false }, `${obs} shows n3's l1 down`)
    }
    await sleep(timing.deadMs)
    for (const n of c.nodes)
      t.notOk(
        P(n)
          .events.slice(m[n])
          .some((e) => e.ev === 'peer' && !e.up),
        `${n}: no peer down`,
      )
    const m2 = marks()
    await c.lab.linkUp('n3', 1)
    for (const obs of ['n1', 'n2']) {
      await P(obs).waitFor((e) => e.ev === 'link' && e.node === 'n3' && e.link === 'l1' && e.up, 3000, 'l1 up', m2[obs])
    }
    t.pass('link back up')
  })

  t.test('both links down: the peer is down within deadMs + interval', async (t) => {
    const m = marks()
    const t0 = Date.now()
    await Promise.all([c.lab.linkDown('n3', 0), c.lab.linkDown('n3', 1)])
    const evs = await Promise.all(['n1', 'n2'].map(isDown('n3', m)))
    const took = evs.map((e) => e.at - t0)
    t.ok(Math.max(...took) <= bound + SLACK, `n3 lost after ${took.join(' / ')} ms (bound ${bound} + ${SLACK})`)
    t.same(evs[0]!.links, { l0: false, l1: false })
    const m2 = marks()
    await Promise.all([c.lab.linkUp('n3', 0), c.lab.linkUp('n3', 1)])
    await Promise.all(['n1', 'n2'].map((o) => P(o).waitFor((e) => e.ev === 'peer' && e.node === 'n3' && e.up, 3000, 'n3 back', m2[o])))
    await c.allUp()
  })

  // 6 trials (12 observations) here; `npm run bench` measures detection over many more.
  t.test('kill -9: detection time over 6 trials', async (t) => {
    const samples: number[] = []
    for (let i = 0; i < 6; i++) {
      const victim = i % 2 ? 'n2' : 'n3'
      const observers = c.nodes.filter((n) => n !== victim)
      const m = marks()
      const t0 = Date.now()
      P(victim).kill('SIGKILL')
      const evs = await Promise.all(observers.map(isDown(victim, m)))
      for (const e of evs) samples.push(e.at - t0)
      await P(victim).exited
      await c.start(victim)
      await c.allUp()
    }
    const med = median(samples)
    const max = Math.max(...samples)
    t.ok(
      max <= bound + SLACK,
      `kill -9 detection at intervalMs ${timing.intervalMs} / deadMs ${timing.deadMs}: median ${med} ms, max ${max} ms, min ${Math.min(...samples)} ms over ${samples.length} observations`,
    )
    t.ok(med >= timing.deadMs - timing.intervalMs - 20, `not faster than the dead time allows (median ${med})`)
  })

  t.test('forged, replayed and truncated packets are rejected and counted', async (t) => {
    const before = (await status('n1')).rejected
    const captured = (await P('n1').request<{ packet: string | null }>({ cmd: 'captured', from: 'n2', link: 'l0' })).packet
    t.ok(captured, 'n1 captured a packet of n2')
    const real = Buffer.from(captured!, 'base64')
    const forged = encodePacket(
      {
        cluster: 'lab',
        sender: 'n2',
        to: 'n1',
        link: 'l0',
        incarnation: 1n,
        seq: 1e12,
        sentAt: Date.now(),
        echo: null,
        payload: { up: [] },
      },
      randomBytes(32),
    )
    const truncated = real.subarray(0, real.length - 10)
    // Sent from inside n2's namespace, from n2's own address.
    const SEND =
      `const d=require('dgram').createSocket('udp4');const [a,...b]=process.argv.slice(1);let k=0;` +
      `d.bind(0,'${c.lab.addr('n2', 0)}',()=>{for(const x of b)d.send(Buffer.from(x,'base64'),14321,a,()=>{if(++k===b.length)d.close()})})`
    const m = marks()
    await c.lab.exec('n2', [
      process.execPath,
      '-e',
      SEND,
      c.lab.addr('n1', 0),
      forged.toString('base64'),
      real.toString('base64'),
      truncated.toString('base64'),
    ])
    await P('n1').waitFor((e) => e.ev === 'reject' && e.reason === 'malformed', 3000, 'truncated rejected', m.n1)
    await sleep(200)
    const rej = P('n1')
      .events.slice(m.n1)
      .filter((e) => e.ev === 'reject')
      .map((e) => `${e.reason}:${e.field}`)
      .sort()
    // The truncated packet fails the first length check it reaches: which one depends on the payload's size.
    t.equal(rej.length, 3, `three rejections: ${rej.join(', ')}`)
    t.equal(rej[0], 'auth:mac', 'the forged packet fails its MAC')
    t.match(rej[1], /^malformed:(payload|length)$/, 'the truncated packet is malformed')
    t.equal(rej[2], 'replay:seq', 'the replayed packet is a replay')
    const after = (await status('n1')).rejected
    t.equal(after.auth! - before.auth!, 1, 'forged counted')
    t.equal(after.replay! - before.replay!, 1, 'replay counted')
    t.equal(after.malformed! - before.malformed!, 1, 'truncated counted')
    t.notOk(
      P('n1')
        .events.slice(m.n1)
        .some((e) => e.ev === 'peer'),
      'membership unchanged',
    )
  })

  t.test('30 % loss causes no false down', async (t) => {
    const m = marks()
    await c.lab.loss('n1', 30, { link: 1 }) // both directions on n1's l1
    await sleep(6000)
    await c.lab.clearLoss('n1')
    const lFlaps = c.nodes.flatMap((n) =>
      P(n)
        .events.slice(m[n])
        .filter((e) => e.ev === 'link' && !e.up),
    )
    await c.lab.loss('n1', 30) // every link, both directions
    await sleep(5000)
    await c.lab.clearLoss('n1')
    const downs = c.nodes.flatMap((n) =>
      P(n)
        .events.slice(m[n])
        .filter((e) => e.ev === 'peer' && !e.up),
    )
    t.same(downs, [], 'no peer declared down')
    t.ok(lFlaps.length <= 2, `link flaps on the lossy link over 6 s: ${lFlaps.length} (P(6 losses in a row) = 0.07 %)`)
    await c.allUp()
  })

  t.test('one-way loss: what each node receives tells which side loses (membership ranks by it)', async (t) => {
    // 90 % of the packets into n1 dropped: n1 and its peers may each see the other down (up needs an
    // echo), but only n1 receives little; n2 and n3 receive all of n1's packets.
    await c.lab.loss('n1', 90, { direction: 'in' })
    await sleep(2500)
    const [s1, s2, s3] = await Promise.all(['n1', 'n2', 'n3'].map(status))
    await c.lab.clearLoss('n1')
    const rcv = (s: Awaited<ReturnType<typeof status>>, n: string) => s.peers.find((p) => p.node === n)?.received ?? null
    const into1 = [rcv(s1!, 'n2'), rcv(s1!, 'n3')]
    const from1 = [rcv(s2!, 'n1'), rcv(s3!, 'n1')]
    // The share is counted over 12 packets per link, the best link counting: with 10 % getting through, 4 or
    // more of 12 on one of two links happens ~5 % of the time per peer (ci17 failed on 5/12 = 0.42 with a
    // bound of 0.3); 6 or more ~0.1 %. The bound stays well under what n2 and n3 receive (≥ 0.7).
    t.ok(
      into1.every((r) => r !== null && r < 0.5),
      `n1 receives under half of n2's and n3's packets: ${JSON.stringify(into1)}`,
    )
    t.ok(
      from1.every((r) => r !== null && r >= 0.7),
      `n2 and n3 receive n1's packets: ${JSON.stringify(from1)}`,
    )
    await c.allUp()
  })

  t.test('a stalled process (SIGSTOP 1.5 s) is seen down by its peers, and does not blame them on resume', async (t) => {
    await c.allUp()
    const m = marks()
    P('n1').kill('SIGSTOP')
    await Promise.all(['n2', 'n3'].map(isDown('n1', m)))
    await sleep(1000)
    P('n1').kill('SIGCONT')
    await Promise.all(['n2', 'n3'].map((o) => P(o).waitFor((e) => e.ev === 'peer' && e.node === 'n1' && e.up, 3000, 'n1 back', m[o])))
    await sleep(timing.deadMs)
    const blamed = P('n1')
      .events.slice(m.n1)
      .filter((e) => (e.ev === 'peer' || e.ev === 'link') && !e.up)
    t.same(blamed, [], 'n1 declared nobody down after its own stall')
    await c.allUp()
  })

  t.test('partition {n1} | {n2,n3}: seen as such; quorum for {n2,n3} only', async (t) => {
    const m = marks()
    await c.lab.partition([['n1'], ['n2', 'n3']])
    await Promise.all([isDown('n2', m)('n1'), isDown('n3', m)('n1'), isDown('n1', m)('n2'), isDown('n1', m)('n3')])
    t.notOk(
      P('n2')
        .events.slice(m.n2)
        .some((e) => e.ev === 'peer' && e.node === 'n3' && !e.up),
      'n2 keeps n3',
    )
    type M = { membership: { partition: string[]; quorate: boolean; coordinator: string | null } }
    const want: Record<string, M['membership']> = {
      n1: { partition: ['n1'], quorate: false, coordinator: null },
      n2: { partition: ['n2', 'n3'], quorate: true, coordinator: 'n2' },
      n3: { partition: ['n2', 'n3'], quorate: true, coordinator: 'n2' },
    }
    const membership = async (n: string) => {
      const r = (await P(n).request<M>({ cmd: 'membership', qs: 'none' })).membership
      return { partition: r.partition, quorate: r.quorate, coordinator: r.coordinator }
    }
    const settle = async (expect: Record<string, M['membership']>) => {
      const t0 = Date.now()
      for (;;) {
        const got = Object.fromEntries(await Promise.all(c.nodes.map(async (n) => [n, await membership(n)] as const)))
        if (JSON.stringify(got) === JSON.stringify(expect) || Date.now() - t0 > 3000) return got
        await sleep(50)
      }
    }
    t.same(await settle(want), want, 'membership in the partition')
    await c.lab.heal()
    await c.allUp()
    const all = { partition: ['n1', 'n2', 'n3'], quorate: true, coordinator: 'n1' }
    t.same(await settle({ n1: all, n2: all, n3: all }), { n1: all, n2: all, n3: all }, 'healed: one quorate partition')
  })
}
