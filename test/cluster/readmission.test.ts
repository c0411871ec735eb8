// The readmission hold (core/cluster/readmission.ts): a peer lost in this run counts again only after it has
// been heard without a break for a hold that doubles with each loss (issue 14, finding 4: a flapping node
// must not displace a healthy one from the partition).
import t from 'tap'
import { Readmission } from '../../core/cluster/readmission.js'

t.test('never lost: counts at once; lost: counts after the hold, which doubles with each new loss', async (t) => {
  const r = new Readmission({ baseMs: 1200, maxMs: 4800, forgetMs: 60_000 })
  t.same(r.filter(0, ['b', 'c']), ['b', 'c'], 'cluster start: everyone heard counts')
  t.same(r.filter(100, ['c']), ['c'], 'b lost')
  t.same(r.filter(200, ['b', 'c']), ['c'], 'b heard again: on hold')
  t.equal(r.nextAt(), 200 + 1200)
  t.same(r.held(), [{ node: 'b', at: 1400 }])
  t.same(r.filter(1399, ['b', 'c']), ['c'])
  t.same(r.filter(1400, ['b', 'c']), ['b', 'c'], 'heard without a break for the hold: counts')
  t.same(r.filter(1500, ['c']), ['c'], 'lost again')
  t.same(r.filter(1600, ['b', 'c']), ['c'])
  t.same(r.filter(1600 + 2399, ['b', 'c']), ['c'], 'second loss: twice the hold')
  t.same(r.filter(1600 + 2400, ['b', 'c']), ['b', 'c'])
  // A break during the hold starts it again (and counts as a loss).
  r.filter(4100, ['c'])
  r.filter(4200, ['b', 'c'])
  r.filter(4300, ['c'])
  t.same(r.filter(4400, ['b', 'c']), ['c'])
  t.equal(r.nextAt(), 4400 + 4800, 'capped at maxMs')
  t.equal(r.nextAt() !== null, true)
})

t.test('a loss long after the previous one starts the count again', async (t) => {
  const r = new Readmission({ baseMs: 1000, maxMs: 8000, forgetMs: 10_000 })
  r.filter(0, ['b'])
  r.filter(10, [])
  r.filter(20, ['b'])
  t.same(r.filter(1020, ['b']), ['b'])
  r.filter(30_000, [])
  r.filter(30_010, ['b'])
  t.same(r.filter(31_010, ['b']), ['b'], 'the base hold again')
  t.equal(r.nextAt(), null, 'nobody held')
})

t.test('finding 6: a member of the installed view back within quickMs counts at once, and the blip is no loss', async (t) => {
  const r = new Readmission({ baseMs: 1200, maxMs: 4800, forgetMs: 60_000, quickMs: 600 })
  const view = new Set(['b', 'c'])
  r.filter(0, ['b', 'c'], view)
  for (let i = 1; i <= 12; i++) {
    const at = i * 1500
    t.same(r.filter(at, ['c'], view), ['c'], `pause ${i}: b lost`)
    t.same(r.filter(at + 150, ['b', 'c'], view), ['b', 'c'], `pause ${i}: b back 150 ms later counts at once`)
  }
  t.same(r.held(), [], 'nobody held')
  // Back too late: held, and the hold is the first one (the blips were not counted).
  r.filter(30_000, ['c'], view)
  t.same(r.filter(30_700, ['b', 'c'], view), ['c'], 'back 700 ms after the loss (> quickMs): held')
  t.equal(r.nextAt(), 30_700 + 1200, 'the base hold: the twelve blips did not double it')
})

t.test('a peer lost while not in the installed view (a flapping NIC left out) is held as before', async (t) => {
  const r = new Readmission({ baseMs: 1200, maxMs: 4800, forgetMs: 60_000, quickMs: 600 })
  r.filter(0, ['b', 'c'], new Set(['b', 'c']))
  r.filter(100, ['c'], new Set(['c']))
  t.same(r.filter(150, ['b', 'c'], new Set(['c'])), ['c'], 'b back at once, but it was not in the view: held')
  // Lost while on hold (not admitted): no quick return either, even if a view lists it.
  r.filter(200, ['c'], new Set(['b', 'c']))
  t.same(r.filter(250, ['b', 'c'], new Set(['b', 'c'])), ['c'], 'lost again while held: held')
})
