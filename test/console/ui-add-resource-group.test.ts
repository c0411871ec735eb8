// Add resource preselects the group of what is selected, even before the live status has the resource the
// user just added (test/console/new-user-journey.test.ts failed once at its second resource: the wizard selects
// the new resource, whose group was looked up only in the last status event; when that event had not come yet,
// the dialog offered the first group, and the resource went there). The status events are held here, as a
// slow event stream would: the configuration, which the wizard reloads after Add, says the group.
import t from 'tap'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu, pick } from './browser.js'

const why = await browserUnavailable()
if (why) {
  t.test('Add resource preselects the group of a just-added resource', { skip: why }, async () => {})
} else {
  t.test('Add resource preselects the group of a just-added resource before its status event', async (t) => {
    const c = await startConsoleCluster({
      nodes: 1,
      main: (nodes) => ({
        generation: 1,
        types: {},
        groups: ['first', 'app'].map((name) => ({ name, nodes, failoverOnFailure: true, autoStart: false, autoFailback: false })),
        resources: [],
        dependencies: [],
      }),
    })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    // window.holdStatus drops the status events the page receives while it is true.
    await page.addInitScript(() => {
      const w = window as unknown as { holdStatus: boolean }
      w.holdStatus = false
      const add = EventSource.prototype.addEventListener
      EventSource.prototype.addEventListener = function (this: EventSource, type: string, f: unknown, o?: unknown) {
        const g = type === 'status' ? (e: Event) => (w.holdStatus ? undefined : (f as (e: Event) => void)(e)) : f
        return add.call(this, type, g as EventListener, o as boolean)
      } as typeof EventSource.prototype.addEventListener
    })
    await firstLogin(page, c.base())
    await page.waitForSelector('[role=treeitem][data-key="group:app"]')
    await pick(page, 'group:app')

    const addDummy = async (name: string) => {
      await menu(page, 'edit', 'add-resource')
      const first = await page.$eval('#ar-group option', (o) => (o as HTMLOptionElement).value)
      t.not(first, 'app', "the dialog's first group is another one (else the check below proves nothing)")
      t.equal(await page.inputValue('#ar-group'), 'app', `${name}: the selected resource's group is preselected`)
      await page.selectOption('#ar-type', 'dummy')
      await page.fill('#ar-name', name)
      await page.click('#ar-add')
      await page.waitForSelector('#add-resource', { state: 'detached' })
    }
    // The status stream is held from here: d1, selected once added, is in the configuration only.
    await page.evaluate(() => ((window as unknown as { holdStatus: boolean }).holdStatus = true))
    await addDummy('d1')
    await addDummy('d2')
    await addDummy('d3')
    // Where they went, as the configuration says (no status event comes while nothing changes).
    const placed = await page.evaluate(async () => {
      const c = (await (await fetch('/api/config', { credentials: 'include' })).json()) as { text: string }
      const parsed = JSON.parse(c.text) as {
        main?: { resources: { name: string; group: string }[] }
        resources?: { name: string; group: string }[]
      }
      return Object.fromEntries((parsed.main ?? parsed).resources!.map((r) => [r.name, r.group]))
    })
    t.same(placed, { d1: 'app', d2: 'app', d3: 'app' }, 'each resource went into group app')
  })
}
