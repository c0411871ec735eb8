import t from 'tap'
import {
  computeMembership,
  connectivity,
  maximalCliquesWith,
  quorum,
  type MembershipInput,
  type MembershipNode,
  type QuorumServerVote,
} from '../../core/cluster/membership.js'

const names = (n: number) => Array.from({ length: n }, (_, i) => `n${String(i + 1).padStart(2, '0')}`)
const nodesOf = (ns: string[], votes: Record<string, number> = {}): MembershipNode[] =>
  ns.map((name) => (votes[name] === undefined ? { name } : { name, votes: votes[name] }))

/** Seeded PRNG (mulberry32): reproducible random cases. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** `sees[a]` = whom a sees up. Builds node a's input: its own up set and the views of those peers. */
function inputFor(
  self: string,
  all: string[],
  sees: Record<string, string[]>,
  qs: QuorumServerVote = 'none',
  votes: Record<string, number> = {},
): MembershipInput {
  const up = sees[self] ?? []
  return {
    self,
    nodes: nodesOf(all, votes),
    up,
    views: Object.fromEntries(up.map((p) => [p, { up: sees[p] ?? [] }])),
    quorumServerVote: qs,
  }
}

/** Fully connected inside each group, nothing across. */
function groupsGraph(groups: string[][]): Record<string, string[]> {
  const sees: Record<string, string[]> = {}
  for (const g of groups) for (const a of g) sees[a] = g.filter((b) => b !== a)
  return sees
}

t.test('everyone connected: one partition, quorate, lowest name coordinates', async (t) => {
  const all = ['b', 'a', 'c']
  for (const self of all) {
    const r = computeMembership(inputFor(self, all, groupsGraph([all])))
    t.same(r.partition, ['a', 'b', 'c'])
    t.equal(r.quorate, true)
    t.equal(r.coordinator, 'a')
    t.equal(r.votes, 3)
    t.equal(r.needed, 2)
  }
})

t.test('single-node cluster is quorate by itself', async (t) => {
  const r = computeMembership({ self: 'solo', nodes: [{ name: 'solo' }], up: [], views: {} })
  t.same(r.partition, ['solo'])
  t.equal(r.quorate, true)
  t.equal(r.coordinator, 'solo')
})

t.test('three nodes, partition {n1} | {n2,n3}', async (t) => {
  const all = ['n1', 'n2', 'n3']
  const sees = groupsGraph([['n1'], ['n2', 'n3']])
  const r1 = computeMembership(inputFor('n1', all, sees))
  t.same(r1.partition, ['n1'])
  t.equal(r1.quorate, false)
  t.equal(r1.coordinator, null)
  t.match(r1.reason, /minority/)
  for (const n of ['n2', 'n3']) {
    const r = computeMembership(inputFor(n, all, sees))
    t.same(r.partition, ['n2', 'n3'])
    t.equal(r.quorate, true)
    t.equal(r.coordinator, 'n2')
  }
  // The quorum server cannot rescue a minority, nor sink a majority.
  t.equal(computeMembership(inputFor('n1', all, sees, 'granted')).quorate, false)
  t.equal(computeMembership(inputFor('n2', all, sees, 'denied')).quorate, true)
})

t.test('two nodes need the quorum server in a split', async (t) => {
  const all = ['a', 'b']
  const both = groupsGraph([all])
  t.equal(computeMembership(inputFor('a', all, both)).quorate, true, 'both up: majority 2 of 2')
  const split = groupsGraph([['a'], ['b']])
  for (const [qs, want] of [
    ['granted', true],
    ['denied', false],
    ['none', false],
  ] as const) {
    const r = computeMembership(inputFor('a', all, split, qs))
    t.equal(r.tie, true)
    t.equal(r.quorate, want, `quorum server ${qs}`)
    t.equal(r.coordinator, want ? 'a' : null)
    t.match(r.reason, /tie/)
  }
  // Four nodes split 2|2: a tie as well.
  const four = ['a', 'b', 'c', 'd']
  const s22 = groupsGraph([
    ['a', 'b'],
    ['c', 'd'],
  ])
  t.equal(computeMembership(inputFor('c', four, s22, 'granted')).quorate, true)
  t.equal(computeMembership(inputFor('a', four, s22, 'denied')).quorate, false)
})

t.test('votes: weighted nodes and zero-vote nodes', async (t) => {
  const all = ['a', 'b', 'c']
  const votes = { a: 3, b: 1, c: 1 }
  const sees = groupsGraph([['a'], ['b', 'c']])
  t.equal(computeMembership(inputFor('a', all, sees, 'none', votes)).quorate, true, 'a alone holds 3 of 5')
  t.equal(computeMembership(inputFor('b', all, sees, 'none', votes)).quorate, false)
  const zero = { a: 0, b: 0, c: 0 }
  const r = computeMembership(inputFor('a', all, groupsGraph([all]), 'granted', zero))
  t.equal(r.quorate, false)
  t.match(r.reason, /no node has a vote/)
  t.same(
    quorum(['a', 'a', 'zzz'], nodesOf(all)),
    { votes: 1, totalVotes: 3, needed: 2, tie: false, quorate: false },
    'duplicates and unknown names count nothing extra',
  )
})

t.test('asymmetric: one-way visibility is not a connection', async (t) => {
  const all = ['n1', 'n2', 'n3']
  // n1 hears n2, but n2 does not hear n1 (one-way loss); n2 and n3 fine; n1 and n3 fine.
  const sees = { n1: ['n2', 'n3'], n2: ['n3'], n3: ['n1', 'n2'] }
  const r1 = computeMembership(inputFor('n1', all, sees))
  t.same(r1.partition, ['n1', 'n3'], 'n1 picks {n1,n3} (smallest names among equal cliques)')
  t.same(r1.excluded, ['n2'])
  const r3 = computeMembership(inputFor('n3', all, sees))
  t.same(r3.partition, ['n1', 'n3'], 'n3 agrees with n1')
  const r2 = computeMembership(inputFor('n2', all, sees))
  t.same(r2.partition, ['n2', 'n3'], 'n2 has only n3')
  // Two quorate claims that overlap in n3 — the overlap is what quorum guarantees; n3 follows one of them.
  t.ok(r1.quorate && r2.quorate)
})

t.test('a stale view of a peer we no longer see is ignored', async (t) => {
  const all = ['n1', 'n2', 'n3']
  const input: MembershipInput = {
    self: 'n1',
    nodes: nodesOf(all),
    up: ['n2'],
    views: { n2: { up: ['n1'] }, n3: { up: ['n1', 'n2'] } },
  }
  t.same(computeMembership(input).partition, ['n1', 'n2'])
  t.same(computeMembership({ ...input, up: ['n2', 'stranger', 'n1'] }).partition, ['n1', 'n2'], 'unknown names and self in up are ignored')
  t.same(computeMembership({ ...input, views: {} }).partition, ['n1'], 'a peer without a view yet is not a member')
})

t.test('clique search', async (t) => {
  const g = new Map([
    ['a', new Set(['b', 'c'])],
    ['b', new Set(['a', 'c'])],
    ['c', new Set(['a', 'b', 'd'])],
    ['d', new Set(['c'])],
  ])
  t.same(maximalCliquesWith(g, 'c').sort(), [
    ['a', 'b', 'c'],
    ['c', 'd'],
  ])
  t.same(maximalCliquesWith(g, 'd'), [['c', 'd']])
  t.same(maximalCliquesWith(g, 'zz'), [['zz']])
})

// ------------------------------------------------------------------------------------ random cases

function randomCase(r: () => number) {
  const n = 1 + Math.floor(r() * 9)
  const all = names(n)
  const mode = r()
  let sees: Record<string, string[]>
  let groups: string[][] | null = null
  if (mode < 0.4) {
    // symmetric partition into random groups
    const k = 1 + Math.floor(r() * Math.min(n, 4))
    const gs: string[][] = Array.from({ length: k }, () => [])
    for (const a of all) gs[Math.floor(r() * k)]!.push(a)
    groups = gs.filter((g) => g.length)
    sees = groupsGraph(groups)
  } else {
    // arbitrary, possibly asymmetric visibility
    const p = r()
    sees = Object.fromEntries(all.map((a) => [a, all.filter((b) => b !== a && r() < p)]))
  }
  const votes: Record<string, number> = {}
  if (r() < 0.3) for (const a of all) votes[a] = Math.floor(r() * 3)
  const qs = (['granted', 'denied', 'none'] as const)[Math.floor(r() * 3)]!
  return { all, sees, groups, votes, qs }
}

t.test('random views: invariants', async (t) => {
  const r = rng(20240611)
  let cases = 0
  let checks = 0
  for (let i = 0; i < 3000; i++) {
    const c = randomCase(r)
    const results = new Map(c.all.map((a) => [a, computeMembership(inputFor(a, c.all, c.sees, 'none', c.votes))]))
    const g = new Map(c.all.map((a) => [a, new Set((c.sees[a] ?? []).filter((b) => (c.sees[b] ?? []).includes(a)))]))
    for (const [self, res] of results) {
      const fail = (what: string) => t.fail(`case ${i} ${self}: ${what} ${JSON.stringify({ c, res })}`)
      checks++
      if (!res.partition.includes(self)) fail('partition lacks self')
      if ([...res.partition].sort().join() !== res.partition.join()) fail('partition not sorted')
      // a clique of mutual connections
      for (const a of res.partition) for (const b of res.partition) if (a !== b && !g.get(a)!.has(b)) fail(`${a}-${b} not mutual`)
      // maximal: nobody outside is mutually connected with every member
      for (const x of c.all) {
        if (res.partition.includes(x)) continue
        if (res.partition.every((m) => g.get(m)!.has(x))) fail(`${x} could join`)
      }
      // coordinator: lowest name of a quorate partition
      if (res.quorate !== (res.coordinator !== null)) fail('coordinator iff quorate')
      if (res.coordinator !== null && res.coordinator !== [...res.partition].sort()[0]) fail('coordinator not lowest')
      // determinism: input order does not matter
      const shuffled = inputFor(self, [...c.all].reverse(), c.sees, 'none', c.votes)
      shuffled.up = [...shuffled.up].reverse()
      if (JSON.stringify(computeMembership(shuffled)) !== JSON.stringify(res)) fail('depends on input order')
    }
    // Without the quorum server, two quorate partitions always share a voting member.
    const quorate = [...results.values()].filter((x) => x.quorate)
    for (const a of quorate)
      for (const b of quorate) {
        if (!a.partition.some((m) => b.partition.includes(m) && (c.votes[m] ?? 1) > 0)) {
          t.fail(`case ${i}: disjoint quorate partitions ${a.partition} / ${b.partition}`)
        }
      }
    // Symmetric partitions: every member of a group computes exactly its group, and at most one group is quorate.
    if (c.groups) {
      for (const grp of c.groups) {
        const sorted = [...grp].sort()
        for (const m of grp) {
          checks++
          if (results.get(m)!.partition.join() !== sorted.join())
            t.fail(`case ${i}: ${m} computed ${results.get(m)!.partition} not ${sorted}`)
          if (results.get(m)!.coordinator !== (results.get(m)!.quorate ? sorted[0] : null)) t.fail(`case ${i}: coordinator`)
        }
      }
      const quorateGroups = c.groups.filter((grp) => results.get(grp[0]!)!.quorate)
      if (quorateGroups.length > 1) t.fail(`case ${i}: ${quorateGroups.length} quorate groups`)
      // With a quorum server that grants its vote to one tied group only, still at most one.
      const tied = c.groups.filter((grp) => results.get(grp[0]!)!.tie)
      if (tied.length) {
        const winner = tied[0]!
        const withQs = c.groups.filter(
          (grp) => computeMembership(inputFor(grp[0]!, c.all, c.sees, grp === winner ? 'granted' : 'denied', c.votes)).quorate,
        )
        if (withQs.length > 1) t.fail(`case ${i}: quorum server made ${withQs.length} quorate`)
      }
    }
    cases++
  }
  t.equal(cases, 3000)
  t.ok(checks > 10000, `${checks} node views checked`)
})

t.test('random views: members that agree on the graph agree on the result', async (t) => {
  const r = rng(7)
  for (let i = 0; i < 1000; i++) {
    const c = randomCase(r)
    for (const a of c.all) {
      const ra = computeMembership(inputFor(a, c.all, c.sees))
      for (const b of ra.partition) {
        const rb = computeMembership(inputFor(b, c.all, c.sees))
        // b sees at least a's partition as a clique containing b; it may choose a bigger or better one,
        // never a worse one: compare by votes then size.
        if (rb.votes < ra.votes || (rb.votes === ra.votes && rb.partition.length < ra.partition.length)) {
          t.fail(`case ${i}: ${b} chose a worse partition than ${a}: ${rb.partition} vs ${ra.partition}`)
        }
      }
    }
  }
  t.pass('1000 cases')
})

t.test('speed: 16 nodes, dense random views', async (t) => {
  const r = rng(3)
  const all = names(16)
  const t0 = performance.now()
  for (let i = 0; i < 200; i++) {
    const sees = Object.fromEntries(all.map((a) => [a, all.filter((b) => b !== a && r() < 0.9)]))
    computeMembership(inputFor(all[i % 16]!, all, sees))
  }
  const ms = (performance.now() - t0) / 200
  t.ok(ms < 5, `${ms.toFixed(3)} ms per membership computation`)
  t.equal(connectivity({ self: 'x', nodes: [], up: ['y'], views: {} }).size, 1, 'unknown peers are not members')
})

t.test('speed: 32 nodes, the worst graph (each node deaf to exactly one other) and dense random views', async (t) => {
  // Each node missing exactly one partner: 2^15 maximal cliques contain any one node. Ranking stops at
  // MAX_CLIQUES, in a fixed order, so a decision stays fast and every node of the same graph gets the same.
  const all = names(32)
  const partner = (a: string) => all[all.indexOf(a) ^ 1]!
  const sees = Object.fromEntries(all.map((a) => [a, all.filter((b) => b !== a && b !== partner(a))]))
  const t0 = performance.now()
  const m1 = computeMembership(inputFor(all[0]!, all, sees))
  const worstMs = performance.now() - t0
  t.ok(worstMs < 250, `worst graph: ${worstMs.toFixed(1)} ms`)
  t.equal(m1.partition.length, 16, 'a maximal clique: one of each pair')
  t.notOk(m1.quorate, '16 of 32 votes: a tie, not a majority')
  t.same(computeMembership(inputFor(all[2]!, all, sees)).partition.includes(all[2]!), true)
  const r = rng(5)
  const t1 = performance.now()
  for (let i = 0; i < 100; i++) {
    const dense = Object.fromEntries(all.map((a) => [a, all.filter((b) => b !== a && r() < 0.95)]))
    computeMembership(inputFor(all[i % 32]!, all, dense))
  }
  const ms = (performance.now() - t1) / 100
  t.ok(ms < 20, `${ms.toFixed(3)} ms per membership computation (dense random, 32 nodes)`)
})

t.test('equal cliques: the one keeping the members of the current view wins (issue 14)', async (t) => {
  // n1 is back from a partition: n1–n3 and n2–n3 are connected, n1–n2 not yet. The view was {n2, n3}.
  const all = ['n1', 'n2', 'n3']
  const sees = { n1: ['n3'], n2: ['n3'], n3: ['n1', 'n2'] }
  t.same(computeMembership(inputFor('n3', all, sees)).partition, ['n1', 'n3'], 'without a view: the smallest names')
  t.same(computeMembership({ ...inputFor('n3', all, sees), prefer: ['n2', 'n3'] }).partition, ['n2', 'n3'], 'the installed view is kept')
  t.same(
    computeMembership({ ...inputFor('n3', all, groupsGraph([all])), prefer: ['n2', 'n3'] }).partition,
    all,
    'a bigger clique still wins',
  )
})

t.test('equal cliques that keep as much of the view: the one whose members hear more wins (issue 14, finding 4)', async (t) => {
  // 90 % of the packets into n1 dropped: n1 hears only n2 now and then; n2 and n3 hear everyone. {n1, n2} and
  // {n2, n3} have the same votes, size and members of the view {n1, n2, n3}; the name rule kept {n1, n2}
  // and the healthy n3 was fenced (the random-fault run, seed 1: n1 fenced n3 twice). n1 hears 1 node,
  // n2 and n3 hear 2: {n2, n3} is kept and n1, the node that cannot hear, is left out.
  const all = ['n1', 'n2', 'n3']
  const sees = { n1: ['n2'], n2: ['n1', 'n3'], n3: ['n1', 'n2'] }
  const view = { prefer: all }
  t.same(computeMembership({ ...inputFor('n2', all, sees), ...view }).partition, ['n2', 'n3'], 'n2 keeps n3, not the deaf n1')
  t.same(computeMembership({ ...inputFor('n3', all, sees), ...view }).partition, ['n2', 'n3'], 'n3 agrees')
  t.same(
    computeMembership({ ...inputFor('n1', all, sees), ...view }).partition,
    ['n1', 'n2'],
    'n1 can only see {n1, n2}: it is outvoted by the view change',
  )
  // The view still comes first: a returning node that hears everyone does not displace an installed member.
  const back = { n1: ['n2', 'n3'], n2: ['n3'], n3: ['n1', 'n2'] }
  t.same(computeMembership({ ...inputFor('n3', all, back), prefer: ['n2', 'n3'] }).partition, ['n2', 'n3'], 'the installed view is kept')
})

t.test('equal in everything else: the clique whose members receive each other better wins (issue 14, one-way loss)', async (t) => {
  // 90 % of the packets into n2 (the active node) dropped (random-fault run, seed 7, episode 2). "Up" needs
  // the peer's echo, so n2 and n3 each see the other down although n3 receives all of n2's packets; n1
  // (just restarted, no installed view) sees both. {n1, n2} and {n1, n3}: same votes, size, hearing (n2 and
  // n3 each hear 1). The name rule chose {n1, n2} and n1 fenced n3, which no fault touched. What each
  // receives tells them apart: n2 receives little (0) of n1 and n3; everyone else receives well (2).
  const all = ['n1', 'n2', 'n3']
  const sees = { n1: ['n2', 'n3'], n2: ['n1'], n3: ['n1'] }
  const received = { n1: { n2: 2, n3: 2 }, n2: { n1: 0, n3: 0 }, n3: { n1: 2, n2: 2 } }
  t.same(computeMembership(inputFor('n1', all, sees)).partition, ['n1', 'n2'], 'without what they receive: the smallest names')
  t.same(computeMembership({ ...inputFor('n1', all, sees), received }).partition, ['n1', 'n3'], 'n1 leaves out n2, which receives little')
  t.same(computeMembership({ ...inputFor('n3', all, sees), received }).partition, ['n1', 'n3'], 'n3 agrees')
  // Not known (a peer of an earlier release sends no levels): counted as received well, as before.
  t.same(
    computeMembership({ ...inputFor('n1', all, sees), received: { n1: { n2: 2, n3: 2 } } }).partition,
    ['n1', 'n2'],
    'unknown: as before',
  )
  // What they receive never outranks the installed view (stability first) nor the size of a clique.
  t.same(
    computeMembership({ ...inputFor('n1', all, sees), received, prefer: ['n1', 'n2'] }).partition,
    ['n1', 'n2'],
    'the installed view is kept',
  )
  t.same(computeMembership({ ...inputFor('n1', all, groupsGraph([all])), received }).partition, all, 'a bigger clique still wins')
})

t.test('what a peer says it receives (ext.rq) is checked at the edge: a bad one is refused naming the field', async (t) => {
  const { ViewCodec, receivedLevel } = await import('../../core/cluster/view-messages.js')
  const codec = new ViewCodec(['n1', 'n2', 'n3'])
  t.equal(codec.encodeReceived({ n2: 2, n3: 0 }), '-20', 'one character per node of the sorted list; "-" for itself')
  t.same(codec.decodeReceived('2-0', 'n2'), { n1: 2, n3: 0 }, 'read back, its own entry left out')
  t.same(codec.decodeReceived('222', 'n2'), { n1: 2, n3: 2 }, 'what it says of itself is ignored')
  for (const bad of ['22', '2222', '2x0', '230', 7, null, ['2', '2', '2']]) {
    try {
      codec.decodeReceived(bad, 'n2')
      t.fail(`accepted ${JSON.stringify(bad)}`)
    } catch (e) {
      t.match(e, { code: 'MCCS_ERR_HB_PAYLOAD', field: 'payload/ext/rq', subject: 'n2' }, `refused ${JSON.stringify(bad)}`)
    }
  }
  t.same([null, 0, 0.29, 0.3, 0.69, 0.7, 1].map(receivedLevel), [undefined, 0, 0, 1, 1, 2, 2], 'levels: under 30 %, under 70 %, above')
})
