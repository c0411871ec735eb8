// The console's Add Resource wizard for type ocf, in Chromium (issue 20, acceptance 1): the agent list
// comes from the installed agents, and the parameter fields of ocf:heartbeat:IPaddr2 and
// ocf:heartbeat:Dummy render from each agent's meta-data (titles, required, choices with the default,
// numbers, descriptions); a required parameter left empty is refused under its field; the Dummy resource
// added from the wizard really runs (its state file).
import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu, cspViolations } from '../console/browser.js'

const why =
  (await browserUnavailable()) ??
  (existsSync('/usr/lib/ocf/resource.d/heartbeat/IPaddr2') ? null : "Debian's resource-agents is not installed (scripts/test-deps.sh)")
if (why) {
  t.test('ocf wizard', { skip: why }, async () => {})
} else {
  t.test('ocf: agent list, fields from meta-data, required refused, a working Dummy', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-ocf-ui-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const c = await startConsoleCluster({
      main: (nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'og', nodes, failoverOnFailure: true, autoStart: false, autoFailback: false }],
        resources: [],
        dependencies: [],
      }),
    })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base())
    await page.waitForSelector('[data-key="type:ocf"]')

    await menu(page, 'edit', 'add-resource')
    await page.selectOption('#ar-type', 'ocf')
    await page.waitForSelector('#wz-agent-note[data-count]')
    const agents = await page.$$eval('#wz-agent-list option', (os) => os.map((o) => (o as HTMLOptionElement).value))
    t.ok(agents.includes('heartbeat:Dummy') && agents.includes('heartbeat:IPaddr2'), `the installed agents are offered (${agents.length})`)

    // IPaddr2: its parameters from its meta-data.
    await page.fill('#wz-agent', 'heartbeat:IPaddr2')
    await page.waitForSelector('#wz-params_ip')
    t.equal(
      (await page.textContent('tr[data-prop=ip] label'))?.trim(),
      'IPv4 or IPv6 address (ip) *',
      'title from shortdesc, required marked',
    )
    t.match(await page.textContent('tr[data-prop=ip] .wz-desc'), /dotted quad notation/, 'longdesc shown')
    t.equal(await page.getAttribute('#wz-params_arp_count', 'type'), 'number', 'an integer parameter is a number field')
    t.same(
      await page.$$eval('#wz-params_lvs_support option', (os) => os.map((o) => o.textContent)),
      ['(default: false)', 'true', 'false'],
      'a boolean is a choice showing its default',
    )
    t.match(await page.textContent('tr[data-prop=preferred_lft] .wz-desc'), /Default: forever/)
    t.equal(
      await page.inputValue('#wz-params_preferred_lft'),
      '',
      'defaults are not prefilled (nothing saved that the agent computes itself)',
    )
    t.match(await page.textContent('.wz-sub-head'), /ocf:heartbeat:IPaddr2 — Manages virtual IPv4 and IPv6 addresses/)
    t.match(await page.textContent('.wz-sub-head'), /Advised timeouts: start 20 s, stop 20 s, monitor 20 s/)
    const groups = await page.$$eval('#wz-params-sub .wz-group-head th', (ths) => ths.map((x) => x.textContent))
    t.same(groups, ['Required', 'Optional'], 'required parameters first, under their own heading')

    if (process.env.MCCS_OCF_SCREENSHOT) await page.screenshot({ path: process.env.MCCS_OCF_SCREENSHOT, fullPage: true })
    await page.click('#ar-add')
    await page.waitForSelector('#wz-params_ip-err:not(:empty)')
    t.match(await page.textContent('#wz-params_ip-err'), /required/, 'an empty required parameter is refused under its field')

    // Another agent: its own fields replace IPaddr2's.
    await page.fill('#wz-agent', 'heartbeat:Dummy')
    await page.waitForSelector('#wz-params_state')
    t.equal(await page.locator('#wz-params_ip').count(), 0, "IPaddr2's fields are gone")
    t.match(await page.textContent('tr[data-prop=state] .wz-desc'), /Location to store the resource state in/)
    const state = path.join(dir, 'ui.state')
    await page.fill('#wz-params_state', state)
    await page.fill('#ar-name', 'd1')
    await page.click('#ar-add')
    await page.waitForSelector('[data-key="resource:d1"]')
    await page.click('[role=treeitem][data-key="group:og"] > .tree-row')
    await page.click('#tb-online')
    await page.waitForSelector('[data-key="resource:d1"] > .tree-row [data-state=online]', { timeout: 30_000 })
    t.ok(existsSync(state), 'the Dummy agent made its state file where the wizard said')
    t.same(cspViolations(page), [], 'nothing the Content-Security-Policy had to refuse')
  })
}
