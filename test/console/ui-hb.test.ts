// The console's heartbeat dialog edits the timing live (issue 16, What 3), in headless Chromium against two
// real agents on loopback: a timing out of range is refused with its field on screen and changes nothing; a
// valid one is in force on both nodes' hb.json and heartbeats, and is in the operation log.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu } from './browser.js'

const toast = (page: Page, re: RegExp) =>
  page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#toasts')?.textContent ?? ''), re.source, {
    timeout: 30_000,
  })
const hbOf = async (home: string) =>
  JSON.parse(await readFile(path.join(home, 'config/hb.json'), 'utf8')) as {
    generation: number
    timing: { intervalMs: number; deadMs: number }
  }

const why = await browserUnavailable()
if (why) {
  t.test('heartbeat timing from the console', { skip: why }, async () => {})
} else {
  t.test('Edit → heartbeat configuration: a refused timing changes nothing, a valid one reaches both nodes', async (t) => {
    const c = await startConsoleCluster({ nodes: 2, hb: (hb) => ({ ...hb, quorum: { twoNode: true } }) })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base(1)) // n2's console: a follower forwards the change to the coordinator
    const [n1, n2] = c.nodes.map((n) => n.home) as [string, string]
    // Both agents in one view before a change (a change needs a quorate coordinator).
    const start = Date.now()
    while (!(await c.log(0)).includes('following coordinator') && !(await c.log(1)).includes('following coordinator')) {
      if (Date.now() - start > 60_000) throw new Error('no view of both nodes within 60 s')
      await new Promise((r) => setTimeout(r, 200))
    }
    const g = (await hbOf(n1)).generation

    await menu(page, 'edit', 'heartbeat')
    await page.waitForSelector('#hb-apply')
    t.equal(await page.inputValue('#hb-interval'), '100', 'the interval in force')
    await page.fill('#hb-dead', '150')
    await page.click('#hb-apply')
    await toast(page, /Not changed: deadMs: .*at least twice intervalMs/)
    t.equal((await hbOf(n1)).generation, g, 'n1: nothing changed')
    t.equal((await hbOf(n2)).generation, g, 'n2: nothing changed')

    await page.fill('#hb-interval', '200')
    await page.fill('#hb-dead', '1200')
    await page.click('#hb-apply')
    await toast(page, new RegExp(`heartbeat timing 200 / 1200 ms: hb.json generation ${g + 1} on every member`))
    for (const home of [n1, n2]) {
      const f = await hbOf(home)
      t.equal(f.generation, g + 1, `${path.basename(home)}: next generation`)
      t.same(f.timing, { intervalMs: 200, deadMs: 1200 }, 'the new timing in the file')
    }
    const log = await readFile(path.join(n2, 'logs/operation.log'), 'utf8')
    t.match(log, /"command":"hb\.setTiming".*"result":"done"/, 'in the operation log of the node it was given on')
  })
}
