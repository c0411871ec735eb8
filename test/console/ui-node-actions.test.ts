// Issue 14, What 7: the console gets the node actions of `mccs node` — standby, end standby, maintenance,
// end maintenance — as a route (POST /api/nodes/:node/actions/:verb) and as buttons on the node's panel.
// API part on one agent (input checked, the maintenance logged and shown); browser part in headless
// Chromium against two real agents in cluster mode: n2 is put in standby and back, then in maintenance and
// back, by clicking the node's buttons, and the tree shows each state live.
import t from 'tap'
import { harness, readyClient } from './api-helpers.js'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, pick } from './browser.js'

t.test('POST /api/nodes/:node/actions/:verb', async (t) => {
  const h = await harness({ groups: true })
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const bad = await c.req('POST', '/api/nodes/n1/actions/explode', {})
  t.equal(bad.status, 400)
  t.match(bad.body.error.field, /verb/)
  const badBody = await c.req('POST', '/api/nodes/n1/actions/standby', { timeoutS: 'soon' })
  t.equal(badBody.status, 400)
  t.match(badBody.body.error.field, /timeoutS/)
  const unknown = await c.req('POST', '/api/nodes/nX/actions/maintenance', {})
  t.equal(unknown.status, 200)
  t.same([unknown.body.accepted, unknown.body.outcome.code], [false, 'MCCS_ERR_NOT_FOUND'], 'an unknown node is refused by the engine')
  const m = await c.req('POST', '/api/nodes/n1/actions/maintenance', {})
  t.equal(m.status, 200)
  t.equal(m.body.accepted, true)
  const st = await c.req('GET', '/api/status')
  t.equal(st.body.nodes.find((n: { name: string }) => n.name === 'n1')?.membership, 'maintenance')
  const u = await c.req('POST', '/api/nodes/n1/actions/unmaintenance', {})
  t.equal(u.body.accepted, true)
  const sb = await c.req('POST', '/api/nodes/n1/actions/standby', {})
  t.equal(sb.status, 200)
  t.equal(sb.body.accepted, true, JSON.stringify(sb.body))
  t.match(sb.body.message, /n1 is in standby/)
  t.equal((await c.req('POST', '/api/nodes/n1/actions/unstandby', {})).body.accepted, true)
  const ops = await c.req('GET', '/api/oplog?limit=50')
  t.ok(Array.isArray(ops.body), 'the operation log')
  const cmds = (ops.body as Array<{ op: string; target: string | null }>).map((e) => `${e.op} ${e.target}`)
  for (const want of ['nodeMaintenance n1', 'nodeStandby n1', 'nodeUnstandby n1']) t.ok(cmds.includes(want), `operation log: ${want}`)
})

const why = await browserUnavailable()
if (why) {
  t.test('node actions in the console', { skip: why }, async () => {})
} else {
  t.test('standby and maintenance of a node through its panel buttons', async (t) => {
    const c = await startConsoleCluster({ nodes: 2 })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base())
    await page.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 30_000 })
    await pick(page, 'node:n2')
    // Timed out once in ci2 with the cluster formed: what the panel and the stale bar said is kept.
    await page.waitForSelector('#node-standby:not([disabled])').catch(async (e: Error) => {
      const said = await page.evaluate(() => ({
        detail: document.querySelector('#detail')?.textContent?.slice(0, 600),
        standby: document.querySelector('#node-standby')?.getAttribute('title'),
        stale: document.querySelector('#stale-reason')?.textContent,
        url: location.href,
      }))
      throw new Error(`${e.message}\n${JSON.stringify(said)}`)
    })
    t.ok(await page.isDisabled('#node-unstandby'), 'end standby is disabled while n2 is active')
    t.match((await page.getAttribute('#node-unstandby', 'title')) ?? '', /not in standby/)

    await page.click('#node-standby')
    await page.waitForSelector('[data-key="node:n2"] [data-state=standby]', { timeout: 60_000 })
    t.pass('the tree shows n2 in standby')
    await page.waitForSelector('#node-unstandby:not([disabled])')
    await page.click('#node-unstandby')
    await page.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 30_000 })
    t.pass('n2 is up again')

    await page.waitForSelector('#node-maintenance:not([disabled])')
    await page.click('#node-maintenance')
    await page.waitForSelector('[data-key="node:n2"] [data-state=maintenance]', { timeout: 30_000 })
    t.pass('the tree shows n2 in maintenance')
    t.ok(await page.isDisabled('#node-standby'), 'standby is disabled in maintenance')
    await page.click('#node-unmaintenance')
    await page.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 30_000 })
    t.pass('n2 is out of maintenance')
  })
}
