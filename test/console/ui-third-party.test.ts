// A third party's resource type gets its wizard with no console change (issue 7, acceptance 3): the
// example plugin examples/hello-file, loaded from a plugin folder, renders from its schema (groups,
// per-node column, defaults), fills its `dir` list from its discover hook (refreshable), shows its
// validate hook's message under the field, and the resource it adds really works (the marker file).
import t from 'tap'
import { cp, mkdtemp, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildPlugin } from '@mccs/plugin-kit/build'
import { packageRoot } from '../../core/paths.js'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu, cspViolations } from './browser.js'

const why = await browserUnavailable()
if (why) {
  t.test('third-party wizard', { skip: why }, async () => {})
} else {
  t.test('hello-file: wizard from its schema, discover list, inline validation, a working resource', async (t) => {
    const src = path.join(packageRoot(), 'examples/hello-file')
    await buildPlugin(src)
    const plugins = await mkdtemp(path.join(os.tmpdir(), 'mccs-console-plugins-'))
    t.teardown(() => rm(plugins, { recursive: true, force: true }))
    await cp(path.join(src, 'plugin.json'), path.join(plugins, 'hello-file/plugin.json'))
    await cp(path.join(src, 'dist'), path.join(plugins, 'hello-file/dist'), { recursive: true })
    await cp(path.join(src, 'locales'), path.join(plugins, 'hello-file/locales'), { recursive: true }) // its ko/en texts
    const markerDir = await mkdtemp(path.join(os.tmpdir(), 'mccs-console-marker-'))
    t.teardown(() => rm(markerDir, { recursive: true, force: true }))

    const c = await startConsoleCluster({
      pluginDirs: [plugins],
      main: (nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'files', nodes, failoverOnFailure: true, autoStart: false, autoFailback: false }],
        resources: [],
        dependencies: [],
      }),
    })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base())
    await page.waitForSelector('[data-key="type:hello-file"]')

    await menu(page, 'edit', 'add-resource')
    await page.selectOption('#ar-type', 'hello-file')
    await page.waitForSelector('#wz-dir--n1')
    t.equal(await page.inputValue('#ar-name'), 'hello-file1', 'a name is suggested from the type')
    t.match(await page.textContent('.ar-typeinfo'), /marker file/, "the plugin's description is shown")
    t.same(
      await page.$$eval('.wz-group-head th', (ths) => ths.map((x) => x.textContent)),
      ['Marker', 'Advanced'],
      "fields under the schema's x-mccs groups",
    )
    t.equal(await page.textContent('tr[data-prop=dir] label'), 'Directory *', 'title from the schema, required marked')
    t.match(await page.textContent('tr[data-prop=dir] .scope-tag'), /per node/, 'dir is a per-node field')
    t.match(await page.getAttribute('#wz-fileName', 'placeholder'), /hello\.marker/, 'the default is shown')
    t.equal(await page.getAttribute('#wz-commandTimeoutMs', 'type'), 'number')

    // The discover hook fills the list (directories that exist on this node).
    await page.waitForSelector('#wz-dir--n1-note[data-count]')
    const options = await page.$$eval('#wz-dir--n1-list option', (os) => os.map((o) => (o as HTMLOptionElement).value))
    t.ok(options.includes('/tmp'), `discovered: ${options.join(', ')}`)
    // Refresh asks again.
    await page.$eval('#wz-dir--n1-note', (e) => {
      e.removeAttribute('data-count')
      e.textContent = ''
    })
    await page.click('[data-refresh="wz-dir--n1"]')
    await page.waitForSelector('#wz-dir--n1-note[data-count]')
    t.match(await page.textContent('#wz-dir--n1-note'), /\d+ found/)

    // The plugin's validate hook: '..' passes the schema (pattern ^/) but the plugin refuses it, under the field.
    await page.fill('#wz-dir--n1', '/tmp/../etc')
    await page.waitForSelector('#wz-dir--n1-err:not(:empty)')
    t.match(await page.textContent('#wz-dir--n1-err'), /must not contain '\.\.'/, "the plugin's message is under the n1 Directory field")
    await page.click('#ar-add')
    await page.waitForSelector('#ar-error:not(:empty)')
    t.match(await page.textContent('#ar-error'), /refused/, 'nothing is added while the plugin refuses')
    t.equal(await page.locator('[data-key="resource:hello-file1"]').count(), 0)

    // Fixed: added, brought online, the marker exists.
    await page.fill('#wz-dir--n1', markerDir)
    await page.fill('#wz-fileName', `ui-${process.pid}.marker`)
    await page.waitForFunction(() => document.querySelector('#wz-dir--n1-err')?.textContent === '')
    await page.click('#ar-add')
    await page.waitForSelector('[data-key="resource:hello-file1"]')
    await page.click('[role=treeitem][data-key="group:files"] > .tree-row')
    await page.click('#tb-online')
    await page.waitForSelector('[data-key="resource:hello-file1"] > .tree-row [data-state=online]', { timeout: 30_000 })
    t.ok((await stat(path.join(markerDir, `ui-${process.pid}.marker`))).isFile(), 'the third-party resource created its marker file')
    t.same(cspViolations(page), [], 'nothing the Content-Security-Policy had to refuse')
  })
}
