// Rename node in the console (issue 16), in real headless Chromium against three real agents: the node's
// menu offers it disabled while the node runs (saying to stop it first); once n3 is stopped, its dialog
// refuses a taken name naming the field and changing nothing, then renames n3 to db3 on every node and
// tells the one command to run on the renamed host.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, pick } from './browser.js'

const why = await browserUnavailable()
if (why) {
  t.test('rename node in Chromium', { skip: why }, async () => {})
} else {
  t.test('Rename node: disabled while the node runs; a stopped node renamed through its dialog', async (t) => {
    const c = await startConsoleCluster({ nodes: 3 })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base())
    const hbNames = async (i: number) =>
      (JSON.parse(await readFile(path.join(c.nodes[i]!.home, 'config/hb.json'), 'utf8')) as { nodes: Array<{ name: string }> }).nodes.map(
        (n) => n.name,
      )
    const renameItem = async (node: string) => {
      await pick(page, `node:${node}`)
      await page.focus(`[role=treeitem][data-key="node:${node}"]`)
      await page.keyboard.press('Shift+F10')
      await page.waitForSelector('#context-menu [data-command=node-rename]')
      return {
        disabled: await page.getAttribute('#context-menu [data-command=node-rename]', 'aria-disabled'),
        title: await page.getAttribute('#context-menu [data-command=node-rename]', 'title'),
      }
    }

    await page.waitForSelector('[role=treeitem][data-key="node:n3"]')
    let it = await renameItem('n3')
    t.equal(it.disabled, 'true', 'disabled while n3 runs')
    t.match(it.title ?? '', /stop n3 first/)
    await page.keyboard.press('Escape')

    // n3 stops (a planned stop); once the others see it gone, its Rename is offered.
    const n3 = c.nodes[2]!
    const gone = new Promise((r) => n3.proc.once('exit', r))
    n3.proc.kill('SIGTERM')
    await gone
    for (let i = 0; ; i++) {
      it = await renameItem('n3')
      await page.keyboard.press('Escape')
      if (it.disabled === 'false') break
      if (i > 60) throw new Error(`Rename node still disabled for the stopped n3: ${it.title}`)
      await new Promise((r) => setTimeout(r, 500))
    }
    t.pass('enabled once n3 is stopped')

    await renameItem('n3')
    await page.click('#context-menu [data-command=node-rename]')
    await page.waitForSelector('#rename-new')
    // A taken name: refused with the field, the dialog stays, nothing changed.
    await page.fill('#rename-new', 'n2')
    await page.click('#rename-save')
    await page.waitForSelector('.toast-error')
    t.match((await page.textContent('.toast-error')) ?? '', /already taken.*\[\/name\]/, 'refused naming the field')
    t.same(await hbNames(0), ['n1', 'n2', 'n3'], 'hb.json unchanged')
    t.equal(await page.locator('#rename-new').count(), 1, 'the dialog stays open to correct it')

    await page.fill('#rename-new', 'db3')
    await page.click('#rename-save')
    await page.waitForSelector('.dlg-message')
    t.match((await page.textContent('.dlg-message')) ?? '', /mccs setup --rename db3/, 'the one command for the renamed host')
    for (const i of [0, 1]) t.same(await hbNames(i), ['n1', 'n2', 'db3'], `${c.nodes[i]!.name}'s hb.json says db3`)
    await page.waitForSelector('[role=treeitem][data-key="node:db3"]', { timeout: 15_000 })
    t.equal(await page.locator('[role=treeitem][data-key="node:n3"]').count(), 0, 'the tree shows db3, no n3')
  })
}
