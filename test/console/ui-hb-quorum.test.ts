// The console's heartbeat dialog edits the quorum settings live (issue 16, What 3), in headless Chromium
// against two real agents on loopback: a quorum server address that is not one is refused with its field
// named on screen and changes nothing on either node; a mode change from two-node to majority and back is
// in force on both nodes' hb.json, in GET /api/hb, and in the dialog after a reload.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu } from './browser.js'

interface HbFile {
  generation: number
  quorum?: { twoNode?: boolean; server?: unknown; fenceDelayMs?: number }
}
const hbOf = async (home: string) => JSON.parse(await readFile(path.join(home, 'config/hb.json'), 'utf8')) as HbFile
const toast = (page: Page, re: RegExp) =>
  page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#toasts')?.textContent ?? ''), re.source, {
    timeout: 30_000,
  })
/** GET /api/hb with the page's session, as the console's own calls are made. */
const apiHb = async (page: Page) => {
  const r = await page.request.get(new URL('/api/hb', page.url()).href)
  if (!r.ok()) throw new Error(`GET /api/hb: ${r.status()} ${await r.text()}`)
  return (await r.json()) as HbFile
}
const openDialog = async (page: Page) => {
  await menu(page, 'edit', 'heartbeat')
  await page.getByRole('group', { name: 'Quorum' }).waitFor()
}

const why = await browserUnavailable()
if (why) {
  t.test('quorum settings from the console', { skip: why }, async () => {})
} else {
  t.test('Edit → heartbeat configuration → Quorum: a bad server refused by field, a mode change in force everywhere', async (t) => {
    const c = await startConsoleCluster({ nodes: 2, hb: (hb) => ({ ...hb, quorum: { twoNode: true } }) })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base(1)) // n2's console: a follower forwards the change to the coordinator
    const [n1, n2] = c.nodes.map((n) => n.home) as [string, string]
    // Both agents in one quorate view with a coordinator, as the node's own status says (a change needs one).
    const start = Date.now()
    for (;;) {
      const st = (await (await page.request.get(new URL('/api/status', page.url()).href)).json()) as {
        membership?: { coordinator: string | null; quorate: boolean; partition?: string[] }
        nodes?: Array<{ membership: string }>
      }
      if (st.membership?.coordinator && st.membership.quorate && st.nodes?.every((n) => n.membership === 'up')) break
      if (Date.now() - start > 60_000) throw new Error(`no view of both nodes within 60 s: ${JSON.stringify(st.membership)}`)
      await new Promise((r) => setTimeout(r, 200))
    }
    const g = (await hbOf(n1)).generation
    t.same((await apiHb(page)).quorum, { twoNode: true }, 'GET /api/hb: two-node mode before')

    await openDialog(page)
    const mode = page.getByLabel('Quorum mode')
    t.equal(await mode.inputValue(), 'two-node', 'the dialog shows the mode in force')
    t.notOk(await page.getByLabel('Quorum server address').isVisible(), 'no server fields unless server mode')

    await t.test('a quorum server address that is not one: refused with the field named, nothing changed', async (t) => {
      await mode.selectOption('server')
      await page.getByLabel('Quorum server address').fill('qs bad!')
      await page.getByLabel('Server CA certificate file').fill('quorum/ca.crt')
      await page.getByLabel('Cluster quorum key file').fill('quorum/cluster.key')
      await page.getByRole('button', { name: 'Apply quorum' }).click()
      const err = page.locator('#hb-q-error')
      await err.filter({ hasText: 'server.host' }).waitFor()
      t.match(await err.textContent(), /Not changed: server\.host: .*must be the quorum server's address/, 'the field and reason')
      t.equal(await page.getByLabel('Quorum server address').getAttribute('aria-invalid'), 'true', 'the field is marked')
      await page.getByLabel('Quorum server address').fill('qs_bad.example')
      await page.getByRole('button', { name: 'Apply quorum' }).click()
      await err.filter({ hasText: /neither an IP address nor a host name/ }).waitFor()
      for (const home of [n1, n2]) t.equal((await hbOf(home)).generation, g, `${path.basename(home)}: hb.json unchanged`)
      t.same((await apiHb(page)).quorum, { twoNode: true }, 'GET /api/hb: still two-node mode')
    })

    await t.test('majority: in force on both nodes, in GET /api/hb and in the dialog after a reload', async (t) => {
      await mode.selectOption('majority')
      await page.getByRole('button', { name: 'Apply quorum' }).click()
      await toast(page, new RegExp(`no quorum server, two-node mode off: hb\\.json generation ${g + 1} on every member`))
      for (const home of [n1, n2]) {
        const f = await hbOf(home)
        t.equal(f.generation, g + 1, `${path.basename(home)}: next generation`)
        t.equal(f.quorum, undefined, `${path.basename(home)}: no quorum section (a majority decides)`)
      }
      const api = await apiHb(page)
      t.equal(api.generation, g + 1, 'GET /api/hb: the new generation')
      t.equal(api.quorum, undefined, 'GET /api/hb: majority')
      await page.reload()
      await page.waitForSelector('[role=tree]')
      await openDialog(page)
      t.equal(await page.getByLabel('Quorum mode').inputValue(), 'majority', 'after a reload the dialog shows majority')
      t.match(await page.locator('#hb-q-now').textContent(), /In force: Majority/)
    })

    await t.test('back to two-node mode with a fence delay', async (t) => {
      await page.getByLabel('Quorum mode').selectOption('two-node')
      await page.getByLabel('Fence delay (ms)').fill('3000')
      await page.getByRole('button', { name: 'Apply quorum' }).click()
      await toast(page, /two-node mode on, fence delay 3000 ms/)
      for (const home of [n1, n2]) t.same((await hbOf(home)).quorum, { twoNode: true, fenceDelayMs: 3000 }, path.basename(home))
      t.same((await apiHb(page)).quorum, { twoNode: true, fenceDelayMs: 3000 }, 'GET /api/hb')
      const log = await readFile(path.join(n2, 'logs/operation.log'), 'utf8')
      t.match(log, /"command":"hb\.setQuorum".*"result":"done"/, 'in the operation log of the node it was given on')
    })
  })
}
