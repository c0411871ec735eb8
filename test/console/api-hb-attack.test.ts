// POST /api/hb/change's new setQuorum fields (issue 16) attacked at the edge: no session, an oddly cased or
// encoded path, a deeply nested server object, a huge body. Each is refused before anything is prepared, the
// agent's hb.json is unchanged, and the event loop is not held past a dead time while it refuses.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { harness, readyClient, Client } from './api-helpers.js'

t.test('setQuorum at the edge: unauthenticated, nested, huge', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const hbFile = `${h.ta.home}/config/hb.json`
  const before = await readFile(hbFile, 'utf8')
  const body = { change: { op: 'setQuorum', server: { host: '10.0.0.9', caFile: 'q/ca.crt', keyFile: 'q/k.key' } } }

  const anon = new Client(h)
  for (const url of ['/api/hb/change', '/API/hb/change', '/api/hb%2Fchange', '/api/hb/change/'])
    t.not((await anon.req('POST', url, body)).status, 200, `no session: ${url} refused`)

  const c = await readyClient(h, 'attack-test1!ok')
  let nested: Record<string, unknown> = { host: 'x' }
  for (let i = 0; i < 2000; i++) nested = { host: nested }
  // The longest gap between ticks of a 5 ms timer while the agent refuses them (the agent runs in this process).
  let last = performance.now()
  let worst = 0
  const tick = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last)
    last = now
  }, 5)
  const deep = await c.req('POST', '/api/hb/change', { change: { op: 'setQuorum', server: nested } })
  const huge = await c.req('POST', '/api/hb/change', {
    change: { op: 'setQuorum', server: { host: 'h'.repeat(4 * 1024 * 1024), caFile: 'a', keyFile: 'b' } },
  })
  clearInterval(tick)
  worst = Math.max(worst, performance.now() - last) // the stretch since the last tick counts too
  t.ok(deep.status >= 400 && deep.status < 500, `a 2000-deep server object refused (${deep.status})`)
  t.ok(huge.status >= 400 && huge.status < 500, `a 4 MiB host refused (${huge.status})`)
  t.ok(worst > 0 && worst < 600, `the event loop was never held a dead time meanwhile (longest gap ${Math.round(worst)} ms)`)
  t.equal(await readFile(hbFile, 'utf8'), before, 'hb.json unchanged')
})
