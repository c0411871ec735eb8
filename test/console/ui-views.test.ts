// Every view works at 1280×800 and on a wide screen (issue 18, What 2), in headless Chromium against a
// real agent:
// - "View full log" opens with more than 10,000 lines in the log and pages back to the first one;
// - the manual operation log shows its Result column on screen and each group command's final result
//   (done, or failed with the reason), not only "accepted";
// - the dependency graph draws no edge under an unrelated box, and every label fits inside its box.
import t from 'tap'
import { appendFile, readFile } from 'node:fs/promises'
import { packageRoot } from '../../core/paths.js'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu, pick } from './browser.js'

const SEED = 12_000

/** Every edge point that lies inside a box other than its two ends, and every label wider than its box. */
function graphFaults(page: Page) {
  return page.evaluate(() => {
    const boxes = [...document.querySelectorAll<SVGGElement>('#dep-graph g.dep-node')].map((g) => {
      const r = g.querySelector('rect')!
      const m = /translate\(([-\d.]+),\s*([-\d.]+)\)/.exec(g.getAttribute('transform') ?? '')!
      return {
        name: g.dataset.resource!,
        x: Number(m[1]),
        y: Number(m[2]),
        w: Number(r.getAttribute('width')),
        h: Number(r.getAttribute('height')),
        g,
      }
    })
    const crossings: string[] = []
    for (const e of document.querySelectorAll<SVGPathElement>('#dep-graph path.dep-edge')) {
      const [from, to] = e.dataset.edge!.split('->')
      const len = e.getTotalLength()
      for (let l = 0; l <= len; l += 2) {
        const p = e.getPointAtLength(l)
        for (const b of boxes) {
          if (b.name === from || b.name === to) continue
          if (p.x > b.x + 1 && p.x < b.x + b.w - 1 && p.y > b.y + 1 && p.y < b.y + b.h - 1) {
            crossings.push(`${from}->${to} under ${b.name}`)
            break
          }
        }
      }
    }
    const overflows: string[] = []
    for (const b of boxes) {
      for (const tx of b.g.querySelectorAll<SVGTextElement>('text')) {
        const bb = tx.getBBox()
        if (bb.x < 0 || bb.x + bb.width > b.w || bb.y < 0 || bb.y + bb.height > b.h)
          overflows.push(`${b.name}: "${tx.textContent}" (${Math.round(bb.x + bb.width)} > ${b.w})`)
      }
    }
    const names = boxes.map((b) => b.g.querySelector('.dep-name')?.textContent)
    return { crossings: [...new Set(crossings)], overflows, names }
  })
}

const why = await browserUnavailable()
if (why) {
  t.test('console views', { skip: why }, async () => {})
} else {
  t.test('full log paged, operation log with final results, graph without overlaps — at 1280×800 and 2560×1440', async (t) => {
    const long = 'configuration-checker-main'
    const c = await startConsoleCluster({
      nodes: 1,
      main: () => ({
        generation: 1,
        types: {},
        groups: [
          { name: 'good', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false },
          { name: 'bad', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false },
        ],
        resources: [
          { name: 'marker', type: 'dummy', group: 'good', critical: true, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true },
          { name: 'hook', type: 'dummy', group: 'good', critical: true, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true },
          { name: long, type: 'dummy', group: 'good', critical: false, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true },
          {
            name: 'web',
            type: 'process',
            group: 'good',
            critical: true,
            attrs: { argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], stopGraceS: 1 },
            nodeAttrs: {},
            policy: {},
            monitored: true,
          },
          {
            name: 'broken',
            type: 'dummy',
            group: 'bad',
            critical: true,
            attrs: { online: 'fail' },
            nodeAttrs: {},
            policy: { restartLimit: 0 },
            monitored: true,
          },
        ],
        // web -> marker skips a level: drawn straight, it runs under hook's box.
        dependencies: [
          { parent: 'hook', child: 'marker' },
          { parent: 'web', child: 'hook' },
          { parent: 'web', child: 'marker' },
        ],
      }),
    })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser, { width: 1280, height: 800 })
    await firstLogin(page, c.base())

    // The two groups online from the toolbar: good ends online, bad fails (its resource cannot start).
    for (const g of ['good', 'bad']) {
      await pick(page, `group:${g}`)
      await page.waitForSelector(`[data-key="group:${g}"] > .tree-row [data-state=offline]`, { timeout: 20_000 })
      await page.click('#tb-online')
    }
    await page.waitForSelector('[data-key="group:good"] > .tree-row [data-state=online]', { timeout: 30_000 })
    await page.waitForSelector('[data-key="group:bad"] > .tree-row [data-state=faulted]', { timeout: 30_000 })

    await t.test('the main screen fits 1280×800', async (t) => {
      const m = await page.evaluate(() => ({
        sw: document.documentElement.scrollWidth,
        iw: innerWidth,
        sh: document.documentElement.scrollHeight,
        ih: innerHeight,
      }))
      t.ok(m.sw <= m.iw && m.sh <= m.ih, `no page scrollbars (${m.sw}×${m.sh} in ${m.iw}×${m.ih})`)
      t.ok(await page.isVisible('#log-lines'), 'the log web console is on screen')
    })

    await t.test('operation log: Result on screen, final result of each command', async (t) => {
      // Closed whatever happens, so the next views are reachable.
      t.teardown(async () => {
        if (await page.$('#oplog')) await page.keyboard.press('Escape')
      })
      await menu(page, 'action', 'oplog')
      await page.waitForSelector('#oplog tbody tr[data-op=groupOnline][data-target=good][data-result=done]', { timeout: 30_000 })
      await page.waitForSelector('#oplog tbody tr[data-op=groupOnline][data-target=bad][data-result=failed]', { timeout: 30_000 })
      const good = await page.textContent('#oplog tbody tr[data-op=groupOnline][data-target=good] .op-result')
      t.match(good, /done/, `good: ${good}`)
      const bad = await page.textContent('#oplog tbody tr[data-op=groupOnline][data-target=bad] .op-result')
      t.match(bad, /failed/, 'bad: failed')
      t.match(bad, /dummy told to fail online/, `with the reason: ${bad}`)
      // The Result column is inside the viewport, and the dialog needs no sideways scrolling to read it.
      const head = await page.locator('#oplog th', { hasText: 'Result' }).boundingBox()
      t.ok(
        head && head.x >= 0 && head.x + head.width <= 1280,
        `Result header on screen (${head ? Math.round(head.x + head.width) : '?'} of 1280)`,
      )
      const scroll = await page.$eval('#oplog .table-scroll', (el) => ({ sw: el.scrollWidth, cw: el.clientWidth }))
      t.ok(scroll.sw <= scroll.cw, `no sideways scroll in the operation log (${scroll.sw} in ${scroll.cw})`)
    })

    await t.test('dependency graph: no edge under an unrelated box, labels inside their boxes', async (t) => {
      await pick(page, 'group:good')
      await page.click('#tab-deps')
      await page.waitForSelector('[data-edge="web->marker"]', { state: 'attached' })
      await page.waitForSelector('#dep-graph g.dep-node[data-resource=web][data-state=online]')
      const f = await graphFaults(page)
      t.same(f.crossings, [], 'no edge runs under a box it does not connect')
      t.same(f.overflows, [], 'every label fits its box')
      t.ok(f.names.includes(long), `the long name is shown whole: ${f.names.join(', ')}`)
      const wrap = await page.$eval('#dep-graph .graph-wrap', (el) => ({ sw: el.scrollWidth, cw: el.clientWidth }))
      t.ok(wrap.sw <= wrap.cw, `the graph fits the pane at 1280×800 (${wrap.sw} in ${wrap.cw})`)
    })

    await t.test('the log level changes at run time, from the log web console', async (t) => {
      const probes = async () => (await c.log(0)).split('\n').filter((l) => l.includes('operator command groupProbe')).length
      await page.waitForSelector('#log-level:not([disabled])')
      t.equal(await page.inputValue('#log-level'), 'info', 'info at start')
      await page.selectOption('#log-level', 'warn')
      await page.waitForFunction(() => /log level of n1: warn/.test(document.querySelector('#toasts')?.textContent ?? ''))
      await pick(page, 'group:good')
      await menu(page, 'action', 'probe') // an info line ("operator command groupProbe accepted") the warn level drops
      await page.waitForFunction(() => /manual detection 'good'/.test(document.querySelector('#toasts')?.textContent ?? ''))
      await page.selectOption('#log-level', 'info')
      await page.waitForFunction(() => /log level of n1: info/.test(document.querySelector('#toasts')?.textContent ?? ''))
      await menu(page, 'action', 'probe')
      await page.waitForFunction(
        () => (document.querySelector('#log-lines')?.textContent?.match(/operator command groupProbe/g) ?? []).length >= 1,
        undefined,
        { timeout: 15_000 },
      )
      t.equal(await probes(), 1, 'only the probe made at level info is in the log')
      t.match(await c.log(0), /log level set to warn \(was info\)/, 'the change itself is logged')
    })

    await t.test('full log: more than 10,000 lines, paged back to the first', async (t) => {
      // More than 10,000 lines in this node's log (the agent appends its own after them). The log web
      // console below receives them all at once and must stay usable (the wide-screen test clicks on).
      const seed =
        Array.from({ length: SEED }, (_, i) => JSON.stringify({ level: 30, time: Date.now(), msg: `seed line ${i}` })).join('\n') + '\n'
      await appendFile(path.join(c.nodes[0]!.home, 'logs/mccs.log'), seed)
      await page.waitForFunction(() => /seed line 11999/.test(document.querySelector('#log-lines')?.textContent ?? ''), undefined, {
        timeout: 20_000,
      })
      const log = await page.context().newPage()
      await log.goto(`${c.base()}/main#log`)
      await log.waitForSelector('#full-log .log-line')
      t.notMatch(await log.textContent('#full-log-page'), /cannot read the log/, 'no error')
      t.match(await log.textContent('#full-log'), /seed line 11999/, 'the newest seed lines are shown')
      for (let i = 0; i < 20 && !(await log.isDisabled('#log-older')); i++) {
        const before = await log.locator('#full-log .log-line').count()
        await log.click('#log-older')
        await log.waitForFunction((n) => document.querySelectorAll('#full-log .log-line').length > n, before)
      }
      t.equal(await log.isDisabled('#log-older'), true, 'Older is disabled at the start of the log')
      const count = await log.locator('#full-log .log-line').count()
      t.ok(count > SEED, `${count} lines shown (more than ${SEED})`)
      t.match(await log.textContent('#full-log .log-line >> nth=0'), /./, 'the first line is shown')
      t.ok((await log.locator('#full-log .log-line', { hasText: /seed line 0$/ }).count()) === 1, 'seed line 0 is reached, once')
      t.match(await log.textContent('#log-range'), /\d/, 'the page says which lines it shows')
      await log.close()
    })

    await t.test('a wide screen (2560×1440) uses its width', async (t) => {
      await page.setViewportSize({ width: 2560, height: 1440 })
      await page.waitForTimeout(300)
      const m = await page.evaluate(() => ({
        sw: document.documentElement.scrollWidth,
        iw: innerWidth,
        detail: document.querySelector('#detail')!.getBoundingClientRect().width,
      }))
      t.ok(m.sw <= m.iw, 'no page scrollbar')
      t.ok(m.detail > 1800, `the detail screen takes the width (${Math.round(m.detail)} px)`)
      await menu(page, 'action', 'oplog')
      await page.waitForSelector('#oplog tbody tr[data-result]')
      const dlg = await page.locator('#oplog').boundingBox()
      t.ok(dlg && dlg.width > 1200, `the operation log uses the wide screen (${dlg ? Math.round(dlg.width) : '?'} px)`)
      await page.keyboard.press('Escape')
    })

    await t.test('Help → About shows the package version', async (t) => {
      const { version } = JSON.parse(await readFile(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
      await menu(page, 'help', 'about')
      await page.waitForSelector('#about-version')
      t.match(await page.textContent('#about-version'), `MCCS ${version}`, `About: MCCS ${version}`)
      t.notMatch(await page.textContent('.dlg-message'), /API version 1\.0\.0/, 'no hard-coded API version')
    })
  })
}
