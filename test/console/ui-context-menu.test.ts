// The manual's interaction model in real headless Chromium (issue 18, What 5): a right click on a group, a
// resource or a node opens its menu with the same commands as the menu bar and the detail view's buttons
// (a disabled one says why); "Delete group" on a group with resources, or a running one, offers the fix as
// the button of its one confirmation ("Delete the group with its resources", "Take offline and delete")
// instead of CLI advice; "Rename node" in the node's menu only, disabled while the node runs.
import t from 'tap'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu, pick, cspViolations } from './browser.js'

const dummy = (name: string, group: string) => ({
  name,
  type: 'dummy',
  group,
  critical: true,
  attrs: {},
  nodeAttrs: {},
  policy: {},
  monitored: true,
})
const main = () => ({
  generation: 1,
  types: {},
  groups: [
    { name: 'web', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false },
    { name: 'spare', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false },
  ],
  resources: [dummy('vip', 'web'), dummy('app', 'web'), dummy('s1', 'spare'), dummy('s2', 'spare')],
  dependencies: [{ parent: 'app', child: 'vip' }],
})

const why = await browserUnavailable()
if (why) {
  t.test('right-click menus in Chromium', { skip: why }, async () => {})
} else {
  t.test('right-click menus on group, resource and node run the same commands', async (t) => {
    const c = await startConsoleCluster({ main })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base())
    const row = (key: string) => page.locator(`[role=treeitem][data-key="${key}"] > .tree-row`)
    const items = () =>
      page.$$eval('#context-menu [role=menuitem]', (ls) => ls.map((l) => [l.getAttribute('data-command'), l.getAttribute('aria-disabled')]))

    await row('group:web').click({ button: 'right' })
    await page.waitForSelector('#context-menu')
    t.equal(await page.getAttribute('[role=treeitem][data-key="group:web"]', 'aria-selected'), 'true', 'the item is selected')
    const g = Object.fromEntries(await items())
    t.same(
      Object.keys(g),
      ['online', 'offline', 'switch', 'lock', 'unlock', 'clear', 'flush', 'probe', 'add-resource', 'failover-on-failure', 'delete-group'],
      "the group's commands",
    )
    t.equal(g.online, 'false', 'Online enabled on an offline group')
    t.equal(g.offline, 'true', 'Offline disabled')
    t.match((await page.getAttribute('#context-menu [data-command=offline]', 'title')) ?? '', /offline/, 'a disabled entry says why')
    await page.keyboard.press('Escape')
    await page.waitForSelector('#context-menu', { state: 'detached' })
    t.pass('Escape closes it')

    // Online from the menu brings the group online (one node: no node to choose).
    await row('group:web').click({ button: 'right' })
    await page.click('#context-menu [data-command=online]')
    await page.waitForSelector('[role=treeitem][data-key="group:web"] [data-state=online]', { timeout: 30_000 })
    t.pass('Online from the right-click menu: the group runs')

    await row('resource:vip').click({ button: 'right' })
    await page.waitForSelector('#context-menu')
    const r = Object.fromEntries(await items())
    t.same(Object.keys(r), ['online', 'offline', 'probe', 'activate', 'delete-resource'], "the resource's commands")
    t.equal(r.offline, 'false', 'Offline enabled on an online resource')
    await page.keyboard.press('Escape')

    // The keyboard opens it too: Shift+F10 on the focused tree item.
    await pick(page, 'node:n1')
    await page.focus('[role=treeitem][data-key="node:n1"]')
    await page.keyboard.press('Shift+F10')
    await page.waitForSelector('#context-menu')
    const n = Object.fromEntries(await items())
    t.same(
      n,
      {
        'node-standby': 'false',
        'node-unstandby': 'true',
        'node-maintenance': 'false',
        'node-unmaintenance': 'true',
        'node-rename': 'true', // the running node: stop it first (test/console/ui-node-rename.test.ts renames a stopped one)
      },
      "the node's planned work, as its detail buttons",
    )
    await page.keyboard.press('Escape')

    // The group runs: Delete group offers "Take offline and delete" in its one confirmation.
    await row('group:web').click({ button: 'right' })
    await page.click('#context-menu [data-command=delete-group]')
    await page.waitForSelector('.dlg')
    t.match(await page.textContent('.dlg'), /Take it offline, then delete it with its resources \(vip, app\)|resources \(app, vip\)/)
    t.equal(await page.locator('.dlg').count(), 1, 'one confirmation')
    await page.click('.dlg .btn-primary:text("Take offline and delete")')
    await page.waitForSelector('[role=treeitem][data-key="group:web"]', { state: 'detached', timeout: 30_000 })
    t.equal(await page.locator('[role=treeitem][data-key="resource:vip"]').count(), 0, 'its resources are gone with it')
    t.equal(await page.locator('.toast-error').count(), 0, 'no refusal shown')

    await menu(page, 'file', 'logout').catch(() => {})
    t.same(cspViolations(page), [], 'no Content-Security-Policy refusal')
  })

  t.test('Delete group on a group with resources: one confirmation, no CLI advice; no Rename node in Edit', async (t) => {
    const c = await startConsoleCluster({ main })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base())
    await pick(page, 'group:spare')
    await menu(page, 'edit', 'delete-group')
    await page.waitForSelector('.dlg')
    t.match(await page.textContent('.dlg'), /with its resources \(s1, s2\)/, 'the confirmation names what goes')
    await page.click('.dlg .btn-primary:text("Delete the group with its resources")')
    await page.waitForSelector('[role=treeitem][data-key="group:spare"]', { state: 'detached', timeout: 15_000 })
    t.pass('deleted after one confirmation')
    t.equal(await page.locator('[role=treeitem][data-key="resource:s1"]').count(), 0)
    t.notMatch((await page.textContent('#toasts')) ?? '', /--force|mccs /, 'no CLI advice shown')

    await page.click('#menubtn-edit')
    t.equal(await page.locator('#menu-edit [data-command=rename-node]').count(), 0, "Rename node is in the node's own menu, not Edit")
  })
}
