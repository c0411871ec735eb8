// Screenshots of the console's main screens for docs/screenshots/: login, main (tree + detail), the
// add-resource wizard, the log console, the dependency graph. Runs a real two-node cluster on loopback
// with a demo group, as the browser tests do.   node --no-node-snapshot --import tsx scripts/console-screenshots.ts
import { spawnSync } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { packageRoot } from '../core/paths.js'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu, pick } from '../test/console/browser.js'

const out = path.join(packageRoot(), 'docs/screenshots')
const why = await browserUnavailable()
if (why) {
  console.error(`cannot take screenshots: ${why}`)
  process.exit(1)
}
// Without a Korean font Chromium draws every Hangul glyph as a box (seen 2026-12-07 on a fresh machine): refuse
// rather than write such screenshots. Debian: fonts-nanum (or fonts-noto-cjk).
const ko = spawnSync('fc-list', [':lang=ko', 'family'], { encoding: 'utf8' })
if (ko.status !== 0 || !ko.stdout.trim()) {
  console.error('cannot take the Korean screenshots: no font for Korean (fc-list :lang=ko is empty); install fonts-nanum')
  process.exit(1)
}
await mkdir(out, { recursive: true })
const c = await startConsoleCluster({
  nodes: 2,
  main: (nodes) => ({
    generation: 1,
    types: {},
    groups: [
      { name: 'web', nodes, failoverOnFailure: true, autoStart: false, autoFailback: false },
      { name: 'batch', nodes: [...nodes].reverse(), failoverOnFailure: false, autoStart: false, autoFailback: false },
    ],
    resources: [
      { name: 'vip-marker', type: 'dummy', group: 'web', critical: true, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true },
      { name: 'config-check', type: 'dummy', group: 'web', critical: false, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true },
      {
        name: 'app',
        type: 'process',
        group: 'web',
        critical: true,
        attrs: { argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], stopGraceS: 1 },
        nodeAttrs: {},
        policy: {},
        monitored: true,
      },
      { name: 'worker', type: 'dummy', group: 'batch', critical: true, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true },
    ],
    dependencies: [
      { parent: 'app', child: 'vip-marker' },
      { parent: 'app', child: 'config-check' },
    ],
  }),
})
const browser = await launch()
try {
  const page = await newPage(browser, { width: 1400, height: 900 })
  await page.goto(`${c.base()}/main`)
  await page.waitForSelector('#login-password')
  await page.screenshot({ path: path.join(out, 'login.png') })
  await firstLogin(page, c.base())
  await page.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 20_000 })
  await pick(page, 'group:web')
  await menu(page, 'action', 'probe')
  await page.click('#tab-state')
  await page.waitForSelector('#resource-state tr[data-resource=app] td[data-node=n2] [data-state=offline]')
  await page.click('#tb-online')
  await page.selectOption('#pick-node', 'n1')
  await page.click('#pick-node-ok')
  await page.waitForSelector('[data-key="group:web"] > .tree-row [data-state=online]', { timeout: 30_000 })
  await page.waitForTimeout(300)
  await page.screenshot({ path: path.join(out, 'main.png') })
  await page.click('#tab-deps')
  await page.waitForSelector('[data-edge="app->vip-marker"]', { state: 'attached' })
  await page.screenshot({ path: path.join(out, 'dependency-graph.png') })
  await menu(page, 'edit', 'add-resource')
  await page.selectOption('#ar-type', 'process')
  await page.waitForSelector('#wz-argv')
  await page.fill('#wz-argv', 'node\n-e')
  await page.click('#ar-add')
  await page.waitForSelector('#wz-argv-err:not(:empty)')
  await page.screenshot({ path: path.join(out, 'add-resource-wizard.png') })
  // An error the agent answers: a resource name that is taken (the same error in Korean below).
  await page.fill('#wz-argv', `${process.execPath}\n-e\nsetInterval(() => {}, 1000)`)
  await page.fill('#ar-name', 'app')
  await page.click('#ar-add')
  await page.waitForSelector('#ar-error:not(:empty)', { state: 'attached' })
  await page.locator('#ar-error').scrollIntoViewIfNeeded()
  await page.screenshot({ path: path.join(out, 'error.png') })
  await page.keyboard.press('Escape')
  await page.click('#log-clear')
  await pick(page, 'group:batch')
  await page.click('#tb-online')
  await page.selectOption('#pick-node', 'n2')
  await page.click('#pick-node-ok')
  await page.waitForSelector('[data-key="group:batch"] > .tree-row [data-state=online]', { timeout: 30_000 })
  await page.waitForTimeout(500)
  await page.locator('.logconsole').screenshot({ path: path.join(out, 'log-console.png') })
  await menu(page, 'action', 'oplog')
  await page.waitForSelector('#oplog tbody tr')
  await page.screenshot({ path: path.join(out, 'operation-log.png') })
  await page.keyboard.press('Escape')

  // The same screens in Korean (issue 18, What 8): Window → Preferences → 한국어.
  await menu(page, 'window', 'preferences')
  await page.selectOption('#pref-lang', 'ko')
  await page.click('#preferences .btn-primary')
  await page.waitForFunction(() => document.documentElement.lang === 'ko')
  await pick(page, 'group:web')
  await page.click('#tab-state')
  await page.waitForTimeout(500)
  await page.screenshot({ path: path.join(out, 'main-ko.png') })
  await menu(page, 'edit', 'add-resource')
  await page.selectOption('#ar-type', 'process')
  await page.waitForSelector('#wz-argv')
  await page.fill('#wz-argv', 'node\n-e')
  await page.click('#ar-add')
  await page.waitForSelector('#wz-argv-err:not(:empty)')
  await page.screenshot({ path: path.join(out, 'add-resource-wizard-ko.png') })
  // An error the agent answers, in Korean: a resource name that is taken.
  await page.fill('#wz-argv', `${process.execPath}\n-e\nsetInterval(() => {}, 1000)`)
  await page.fill('#ar-name', 'app')
  await page.click('#ar-add')
  await page.waitForSelector('#ar-error:not(:empty)', { state: 'attached' })
  await page.locator('#ar-error').scrollIntoViewIfNeeded()
  await page.screenshot({ path: path.join(out, 'error-ko.png') })
  console.log(`screenshots in ${out}`)
} finally {
  await browser.close()
  await c.stop()
}
