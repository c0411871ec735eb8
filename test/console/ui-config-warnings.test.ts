// The configuration warnings reach the console (issue 18, What 7), in headless Chromium against a real
// agent: an operator adds a virtual IP before its NIC — against the manual's order address -> nic — and sees
// the warning the CLI would print, on screen and staying; once the address is linked to its NIC the
// warning goes away.
import t from 'tap'
import type { Page } from 'playwright-core'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu, pick } from './browser.js'

/** The first network card the type's wizard discovered on n1 (what an operator picks from the list). */
async function firstDiscovered(page: Page, field: string): Promise<string> {
  await page.waitForSelector(`#wz-${field}--n1-note[data-count]`)
  const values = await page.$$eval(`#wz-${field}--n1-list option`, (os) => os.map((o) => (o as HTMLOptionElement).value))
  if (!values[0])
    throw new Error(`the wizard found no network card for ${field} on this host: ${await page.textContent(`#wz-${field}--n1-note`)}`)
  return values[0]
}

const why = await browserUnavailable()
if (why) {
  t.test('configuration warnings in the console', { skip: why }, async () => {})
} else {
  t.test('an address added before its NIC shows the manual-order warning until it is linked', async (t) => {
    const c = await startConsoleCluster({
      nodes: 1,
      main: (nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'web', nodes, failoverOnFailure: true, autoStart: false, autoFailback: false }],
        resources: [],
        dependencies: [],
      }),
    })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base())
    await pick(page, 'group:web')

    // Edit → Add resource: the virtual IP first.
    await menu(page, 'edit', 'add-resource')
    await page.selectOption('#ar-type', 'address')
    await page.waitForSelector('#wz-address')
    await page.fill('#ar-name', 'vip')
    await page.fill('#wz-address', '192.0.2.10/24')
    const card = await firstDiscovered(page, 'nic')
    await page.fill('#wz-nic--n1', card)
    await page.click('#ar-add')
    await page.waitForSelector('[data-key="resource:vip"]')
    const warning = page.locator('#config-warnings')
    await warning.waitFor({ state: 'visible' })
    t.equal(await warning.getAttribute('role'), 'alert', 'announced as an alert')
    t.match(await warning.textContent(), /resource 'vip' added: saved, with a warning/)
    t.match(
      await warning.locator('li[data-resource=vip]').textContent(),
      /address 'vip' does not depend on a nic resource of group 'web': the manual's order is address -> nic/,
      'the warning the CLI prints',
    )
    // A warning stays (the "added" notice beside it goes after 6 s).
    await page.waitForTimeout(6500)
    t.ok(await warning.isVisible(), 'still on screen after 6.5 s')
    const box = await warning.boundingBox()
    const view = page.viewportSize()!
    t.ok(box && box.x >= 0 && box.y >= 0 && box.x + box.width <= view.width && box.y + box.height <= view.height, 'inside the window')

    // The NIC on the same card: still no dependency, so the warning stays.
    await menu(page, 'edit', 'add-resource')
    await page.selectOption('#ar-type', 'nic')
    await page.waitForSelector('#wz-device--n1')
    await page.fill('#ar-name', 'public')
    await page.fill('#wz-device--n1', await firstDiscovered(page, 'device'))
    await page.click('#ar-add')
    await page.waitForSelector('[data-key="resource:public"]')
    await page.waitForSelector("#config-warnings >> text=resource 'public' added")
    t.match(await warning.locator('li[data-resource=vip]').textContent(), /does not depend on a nic/, 'the order is still wrong')

    // Linking in the manual's order (vip depends on public) leaves nothing to warn of.
    await pick(page, 'group:web')
    await page.click('#tab-deps')
    await page.selectOption('#dep-parent', 'vip')
    await page.selectOption('#dep-child', 'public')
    await page.click('#dep-link')
    await page.waitForSelector('[data-edge="vip->public"]', { state: 'attached' })
    await warning.waitFor({ state: 'detached' })
    t.pass('the warning is gone once the address depends on its NIC')
  })
}
