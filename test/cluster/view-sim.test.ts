// Agreed membership (issue 14, finding 4 and 5; acceptance 4): the view-change protocol of
// core/cluster/view.ts in a deterministic simulation (test/cluster/view-sim.ts) and in unit cases.
//
// Schedules: MCCS_VIEW_SIM_SCHEDULES (default 2000, the npm test share, ~25 s of CPU; the acceptance run is
// 10000+: `MCCS_VIEW_SIM_SCHEDULES=10000 npx tap --timeout=1800 test/cluster/view-sim.test.ts`).
// MCCS_VIEW_SIM_SEED moves the first seed (default 1), so other runs cover other schedules.
import t from 'tap'
import { simulate, type Fault, type SimResult } from './view-sim.js'
import { ViewNode, type Announce, type PeerFacts } from '../../core/cluster/view.js'
import { ViewCodec } from '../../core/cluster/view-messages.js'
import { encodeView } from '../../core/cluster/packet.js'
import { isMccsError } from '../../core/errors.js'

const SCHEDULES = Number(process.env.MCCS_VIEW_SIM_SCHEDULES ?? 2000)
const FIRST = Number(process.env.MCCS_VIEW_SIM_SEED ?? 1)
/** One view everywhere within this long after the network heals (restarted nodes included: they become
 *  ready 0.1–1.5 s after their start in the simulation). */
const CONVERGE_BOUND_MS = 3000

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN

t.test(
  `random schedules (${SCHEDULES}): never two installed quorate views acting at once; one view everywhere after the heal`,
  async (t) => {
    const t0 = Date.now()
    const bad: SimResult[] = []
    const slow: SimResult[] = []
    const conv: number[] = []
    let packets = 0
    let views = 0
    for (let seed = FIRST; seed < FIRST + SCHEDULES; seed++) {
      const r = simulate({ seed, wire: seed % 20 === 0 })
      packets += r.packets
      views += r.views
      if (r.violations.length) bad.push(r)
      if (r.convergedMs === null || r.convergedMs > CONVERGE_BOUND_MS) slow.push(r)
      else conv.push(r.convergedMs)
    }
    conv.sort((a, b) => a - b)
    t.comment(
      `${SCHEDULES} schedules in ${Date.now() - t0} ms: ${packets} heartbeats, ${views} views installed; ` +
        `after the heal one view everywhere in median ${Math.round(pct(conv, 0.5))} ms, p99 ${Math.round(pct(conv, 0.99))} ms, max ${Math.round(conv.at(-1) ?? NaN)} ms`,
    )
    t.same(
      bad.map((r) => ({ seed: r.seed, nodes: r.nodes, first: r.violations[0] })),
      [],
      'no instant with two quorate views acting',
    )
    t.same(
      slow.map((r) => ({ seed: r.seed, nodes: r.nodes, convergedMs: r.convergedMs })),
      [],
      `converged within ${CONVERGE_BOUND_MS} ms of the heal`,
    )
  },
)

t.test('the checker catches the decision rule before issue 14 (computed partition held 3 heartbeats) on the same schedules', async (t) => {
  let hit = 0
  let first: SimResult | undefined
  for (let seed = FIRST; seed < FIRST + 200; seed++) {
    const r = simulate({ seed, policy: 'legacy' })
    if (r.violations.length) {
      hit++
      first ??= r
    }
  }
  t.comment(
    `legacy rule: two quorate partitions acting at once in ${hit} of 200 schedules; first: seed ${first?.seed} ${JSON.stringify(first?.violations[0])}`,
  )
  t.ok(hit > 0, 'the same schedules break the unagreed rule')
})

t.test('the checker catches a weakened protocol: grants held longer than the grantor keeps its promise', async (t) => {
  let hit = 0
  for (let seed = FIRST; seed < FIRST + 300; seed++) if (simulate({ seed, leaseMs: 1500, holdMs: 600 }).violations.length) hit++
  t.comment(`lease 1500 ms > hold 600 ms: two views acting at once in ${hit} of 300 schedules`)
  t.ok(hit > 0)
})

t.test('finding 4: 90 % of the heartbeats into n2 dropped for 3 s (3 nodes)', async (t) => {
  const faults: Fault[] = [
    { kind: 'loss', from: 'n1', to: 'n2', p: 0.9, at: 1000, ms: 3000 },
    { kind: 'loss', from: 'n3', to: 'n2', p: 0.9, at: 1000, ms: 3000 },
  ]
  let legacy = 0
  let example = ''
  for (let seed = 1; seed <= 100; seed++) {
    const old = simulate({ seed, nodes: 3, policy: 'legacy', faults, faultMs: 4000, afterMs: 3000 })
    if (old.violations.length) {
      legacy++
      example ||= JSON.stringify(old.violations[0])
    }
    const r = simulate({ seed, nodes: 3, faults, faultMs: 4000, afterMs: 3000, wire: true })
    t.same(r.violations, [], `seed ${seed}: never two views acting`)
    t.ok(
      r.convergedMs !== null && r.convergedMs < CONVERGE_BOUND_MS,
      `seed ${seed}: one view everywhere after the loss ends (${r.convergedMs} ms)`,
    )
  }
  t.comment(`before (computed partitions, no agreement): two partitions acting at once in ${legacy} of 100 runs, e.g. ${example}`)
  t.ok(legacy > 0, 'the old rule shows the finding on this schedule')
})

t.test('more nodes, harder faults: 7 nodes, many overlapping faults', async (t) => {
  let worst = 0
  for (let seed = 5000; seed < 5050; seed++) {
    const r = simulate({ seed, nodes: 7, faultMs: 8000, afterMs: 5000 })
    t.same(r.violations, [], `seed ${seed}`)
    t.ok(r.convergedMs !== null && r.convergedMs <= CONVERGE_BOUND_MS, `seed ${seed} converged (${r.convergedMs} ms)`)
    worst = Math.max(worst, r.convergedMs ?? Infinity)
  }
  t.comment(`7 nodes: worst convergence ${Math.round(worst)} ms`)
})

// ------------------------------------------------------------------------------------------- unit cases

const L = 400
const H = 600
const quorate = (n: number) => (ms: readonly string[]) => ms.length * 2 > n

/** Facts as a peer's heartbeat would give them: `ann` received at `at`, echoing our send at `echo`. */
const fact = (ann: Announce | null, at: number, echo = at, grantAt: number | null = at): PeerFacts => ({
  ann,
  annAt: ann ? at : null,
  leaseAt: ann ? echo : null,
  grantAt,
})

t.test('a view is installed only once every member announced it joined; coordinator = lowest ready member', async (t) => {
  const a = new ViewNode({ self: 'a', leaseMs: L, holdMs: H, quorate: quorate(3), now: 0 })
  const all = ['a', 'b', 'c']
  const before = a.step(100, { members: all, ready: true }, {})
  t.equal(before.joined, false, 'no join during the start hold (grants of a previous run)')
  const mine = a.step(H, { members: all, ready: true }, {})
  t.equal(mine.joined, true)
  t.same(mine.ready, ['a'], 'peers have not announced readiness yet')
  // b and c propose the same members; b is ready, c is not (restarting).
  const b: Announce = { epoch: mine.epoch, members: all, ready: ['a', 'b'], joined: true, rd: true, floor: mine.epoch }
  const c: Announce = { epoch: mine.epoch, members: all, ready: ['a', 'b'], joined: false, rd: false, floor: 0 }
  let now = H + 10
  let ann = a.step(now, { members: all, ready: true }, { b: fact(b, now), c: fact(c, now) })
  t.same(ann.ready, ['a', 'b'], 'ready members come from the announcements')
  t.equal(ann.joined, true)
  t.ok(ann.epoch > mine.epoch, 'a changed proposal is a new epoch')
  const b2 = { ...b, epoch: ann.epoch, floor: ann.epoch }
  t.equal(a.installed(now, { b: fact(b2, now), c: fact({ ...c, epoch: ann.epoch }, now) }), null, 'c has not joined: not installed')
  const c2 = { ...c, epoch: ann.epoch, joined: true, floor: ann.epoch }
  const inst = a.acting(now, { b: fact(b2, now), c: fact(c2, now) })
  t.ok(inst, 'installed once all joined')
  t.equal(inst?.coordinator, 'a')
  t.equal(a.acting(now + L, { b: fact(b2, now), c: fact(c2, now) }), null, 'a grant older than the lease does not count')
  // installedUntil (readmission's quick return, finding 6): the earliest lease expiry, in the past too.
  t.equal(a.installedUntil({ b: fact(b2, now - 50), c: fact(c2, now) }), now - 50 + L, 'installed until the oldest lease runs out')
  t.equal(a.installedUntil({ b: fact(b2, now - 5000), c: fact(c2, now) }), now - 5000 + L, 'a lease that ran out: a time in the past')
  t.equal(a.installedUntil({ b: fact(b2, now), c: fact({ ...c, epoch: ann.epoch }, now) }), null, 'a member not joined: null')

  // finding 5: a restarted lowest-named node is a member but not the coordinator until it is ready.
  const z = new ViewNode({ self: 'b', leaseMs: L, holdMs: H, quorate: quorate(3), now: 0 })
  now = 1000
  const aNotReady: Announce = { epoch: 1, members: all, ready: [], joined: false, rd: false, floor: 0 }
  const cReady: Announce = { epoch: 1, members: all, ready: [], joined: false, rd: true, floor: 0 }
  const zb = z.step(now, { members: all, ready: true }, { a: fact(aNotReady, now), c: fact(cReady, now) })
  t.same(zb.ready, ['b', 'c'])
  const peers = { a: fact({ ...zb, rd: false, joined: true }, now), c: fact({ ...zb, rd: true, joined: true }, now) }
  t.equal(z.acting(now, peers)?.coordinator, 'b', 'the lowest *ready* member coordinates')
})

t.test('leaving out a member waits until every grant it may hold has expired, unless it said it left', async (t) => {
  const a = new ViewNode({ self: 'a', leaseMs: L, holdMs: H, quorate: quorate(3), now: -H })
  const all = ['a', 'b', 'c']
  let now = 0
  const v1 = a.step(now, { members: all, ready: true }, {})
  const joinedBy = (x: string, v: Announce): Announce => ({ ...v, joined: true, rd: true, floor: v.epoch, ready: v.ready })
  const b1 = joinedBy('b', { ...v1, ready: ['a'] })
  // c is still heard (one-way fault: we hear it, it may hear us): our last grant echoed its packet at 1000.
  now = 1000
  a.step(now, { members: all, ready: true }, { b: fact(b1, now), c: fact(b1, now) })
  now = 1100
  const peersAt = (t: number, cAnn: Announce | null, cAt: number, grantC: number) => ({ b: fact(b1, t), c: fact(cAnn, cAt, cAt, grantC) })
  const v2 = a.step(now, { members: ['a', 'b'], ready: true }, peersAt(now, b1, 1000, 1000))
  t.equal(v2.joined, false, 'c may still act in the old view: wait')
  t.match(a.waitingFor(), /c may still hold a grant/)
  t.equal(a.wakeAt(peersAt(now, b1, 1000, 1000)), 1000 + H)
  t.equal(a.step(1000 + H - 1, { members: ['a', 'b'], ready: true }, peersAt(1000 + H - 1, b1, 1000, 1000)).joined, false)
  t.equal(
    a.step(1000 + H, { members: ['a', 'b'], ready: true }, peersAt(1000 + H, b1, 1000, 1000)).joined,
    true,
    'joined once the grant expired',
  )

  // The same, but c announced (after our last grant) that it left the view: no wait.
  const x = new ViewNode({ self: 'a', leaseMs: L, holdMs: H, quorate: quorate(3), now: -H })
  const w1 = x.step(0, { members: all, ready: true }, {})
  const bw = joinedBy('b', { ...w1, ready: ['a'] })
  const w2 = x.step(1000, { members: all, ready: true }, { b: fact(bw, 1000), c: fact(bw, 1000) })
  t.equal(w2.joined, true)
  const cLeft: Announce = { epoch: w2.epoch + 1, members: ['b', 'c'], ready: [], joined: false, rd: true, floor: w2.epoch }
  t.equal(
    x.step(1100, { members: ['a', 'b'], ready: true }, { b: fact(bw, 1100), c: fact(cLeft, 1050, 1050, 1000) }).joined,
    true,
    'released by its floor',
  )
  // ... but not when a grant went out after what it said.
  const y = new ViewNode({ self: 'a', leaseMs: L, holdMs: H, quorate: quorate(3), now: -H })
  const u1 = y.step(0, { members: all, ready: true }, {})
  const bu = joinedBy('b', { ...u1, ready: ['a'] })
  y.step(1000, { members: all, ready: true }, { b: fact(bu, 1000), c: fact(bu, 1000) })
  t.equal(
    y.step(1100, { members: ['a', 'b'], ready: true }, { b: fact(bu, 1100), c: fact(cLeft, 1000, 1000, 1090) }).joined,
    false,
    'a later grant: wait',
  )
  t.equal(
    y.step(1100, { members: ['a', 'b'], ready: true }, { b: fact(bu, 1100), c: fact(cLeft, 1000, 1000, 1090) }, false).joined,
    false,
    'not while grants are not final',
  )
})

t.test('a leaving node joins nothing more', async (t) => {
  const a = new ViewNode({ self: 'a', leaseMs: L, holdMs: H, quorate: quorate(3), now: -H })
  t.equal(a.step(0, { members: ['a', 'b', 'c'], ready: true }, {}).joined, true)
  a.leave()
  t.equal(a.step(10, { members: ['a', 'b', 'c'], ready: true }, {}).joined, false)
  t.equal(a.joinedView(), null)
})

// ------------------------------------------------------------------------------------------- the wire

t.test('announcements on the wire: compact, validated field by field', async (t) => {
  // 16 nodes of 40-character names (the `up` list of the view is what limits longer names).
  const names = Array.from({ length: 16 }, (_, i) => `node-${String(i).padStart(2, '0')}-${'x'.repeat(32)}`)
  const codec = new ViewCodec(names)
  const ann: Announce = { epoch: 2 ** 40, members: names, ready: names.slice(0, 7), joined: true, rd: true, floor: 2 ** 40 }
  const w = codec.encode(ann)
  t.same(codec.decode(JSON.parse(JSON.stringify(w)), names[3]!), ann, 'round trip')
  t.ok(
    encodeView({ up: names.slice(1), coordinator: names[0], generation: 12, quorum: 'quorate', ext: { vc: w, mode: 'standby' } }).length <=
      1024,
    '16 nodes fit the 1 KiB view with the announcement',
  )
  const refuse = (v: unknown, field: string, sender = names[0]!) => {
    try {
      codec.decode(v, sender)
      t.fail(`accepted ${JSON.stringify(v)}`)
    } catch (e) {
      t.ok(isMccsError(e) && e.code === 'MCCS_ERR_HB_PAYLOAD', 'MCCS_ERR_HB_PAYLOAD')
      t.equal(isMccsError(e) ? e.field : undefined, `payload/ext/vc${field}`, `field ${field || '(root)'}`)
    }
  }
  refuse(null, '')
  refuse([], '')
  refuse({ ...w, x: 1 }, '/x')
  refuse({ ...w, h: '00000000' }, '/h')
  refuse({ ...w, e: -1 }, '/e')
  refuse({ ...w, e: 1.5 }, '/e')
  refuse({ ...w, e: '3' }, '/e')
  refuse({ ...w, m: 2 ** 16 }, '/m') // 16 nodes: bits 0..15
  refuse({ ...w, m: 2 }, '/m') // leaves out its sender
  refuse({ ...w, r: 1, m: 1 | 0 }, '', 'someone-else')
  refuse({ ...w, m: 1, r: 3 }, '/r')
  refuse({ ...w, j: true }, '/j')
  refuse({ ...w, rd: 2 }, '/rd')
  refuse({ ...w, f: 1 }, '/f') // joined: the floor is the epoch
  refuse({ ...w, j: 0, f: w.e + 1 }, '/f')
  t.throws(() => new ViewCodec([]), { code: 'MCCS_ERR_HB_CONFIG' })
  t.throws(() => new ViewCodec(Array.from({ length: 33 }, (_, i) => `n${i}`)), { code: 'MCCS_ERR_HB_CONFIG' })
  t.not(new ViewCodec(['a', 'b']).digest, new ViewCodec(['a', 'c']).digest, 'another node list, another digest')
})
