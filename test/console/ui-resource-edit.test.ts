// Issue 18, What 5 (the rest), in headless Chromium against two real agents: resource activation toggled per
// resource in its group's state table and per node in the resource's detail (the manual's activation, undone
// as easily as done, whatever changed it); per-node attribute overrides shown in the attribute tab, kept by a
// Save and editable there — added, changed and removed (before, they were not shown, and a Save could neither
// change nor remove one: an edit merges, and the form sent no removals); the EIP wizard's suggested name
// AWS_EIP_<public ip> (the manual's naming), from the Elastic IPs the plugin lists from an EC2 endpoint.
import t from 'tap'
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu, pick } from './browser.js'
import { startEc2Sim, seedForNodes } from '../../core/ec2sim/server.js'

const dummy = (name: string, nodeAttrs: Record<string, Record<string, unknown>> = {}) => ({
  name,
  type: 'dummy',
  group: 'g',
  critical: true,
  attrs: {},
  nodeAttrs,
  policy: { monitorIntervalS: 2 },
  monitored: true,
})

const toast = (page: Page, re: RegExp) =>
  page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#toasts')?.textContent ?? ''), re.source)

const why = await browserUnavailable()
if (why) {
  t.test('resource activation, per-node overrides, EIP name in the console', { skip: why }, async () => {})
} else {
  t.test('activation toggles, per-node overrides, the EIP suggested name', async (t) => {
    const awsDir = await mkdtemp(path.join(os.tmpdir(), 'mccs-ui-res-aws-'))
    t.teardown(() => rm(awsDir, { recursive: true, force: true }))
    const ec2 = await startEc2Sim({ stateFile: path.join(awsDir, 'ec2.json'), seed: seedForNodes(['n1', 'n2']) })
    t.teardown(() => ec2.close())
    await mkdir(path.join(awsDir, 'aws'))
    await writeFile(path.join(awsDir, 'aws/credentials'), '[sim]\naws_access_key_id = test\naws_secret_access_key = test\n')
    await writeFile(path.join(awsDir, 'aws/config'), '[profile sim]\nregion = us-east-1\n')
    const c = await startConsoleCluster({
      nodes: 2,
      main: (nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'g', nodes, failoverOnFailure: true, autoStart: false, autoFailback: false }],
        resources: [dummy('d0', { n2: { delayMs: 2500 } }), dummy('d1')],
        dependencies: [],
      }),
      files: { 'config/aws.json': JSON.stringify({ profile: 'sim', region: 'us-east-1', endpoint: ec2.url }) },
      env: { AWS_CONFIG_FILE: path.join(awsDir, 'aws/config'), AWS_SHARED_CREDENTIALS_FILE: path.join(awsDir, 'aws/credentials') },
    })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base())
    await page.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 30_000 })
    const mainJson = async () => JSON.parse(await readFile(path.join(c.nodes[0]!.home, 'config/main.json'), 'utf8'))
    const nodeAttrsOf = async (r: string) => (await mainJson()).resources.find((x: { name: string }) => x.name === r).nodeAttrs
    /** main.json's nodeAttrs of d0 once they are `want` (the save's answer and toast may pass quickly). */
    const savedAs = async (want: unknown) => {
      const end = Date.now() + 10_000
      while (JSON.stringify(await nodeAttrsOf('d0')) !== JSON.stringify(want) && Date.now() < end)
        await new Promise((r) => setTimeout(r, 100))
      return nodeAttrsOf('d0')
    }

    await t.test('activation: a toggle per resource in its group, per node in its detail', async (t) => {
      await pick(page, 'group:g')
      const groupToggle = (r: string, on: string) => `#resource-state tr[data-resource=${r}] input.act-toggle[data-on=${on}]`
      await page.waitForSelector(groupToggle('d1', 'on'))
      await page.waitForSelector(groupToggle('d0', 'on'))
      await page.click(groupToggle('d1', 'on'))
      await page.waitForSelector(groupToggle('d1', 'off'))
      t.match(await page.textContent('#resource-state tr[data-resource=d1] td[data-node=n1]'), /not monitored/)
      t.match(
        await page.textContent('#resource-state tr[data-resource=d1] td[data-node=n2]'),
        /not monitored/,
        'on every node of the group',
      )
      t.ok(await page.isChecked(groupToggle('d0', 'on')), 'the other resource is untouched')

      // The Edit menu offers the way back for this one resource (it read the configuration before: never).
      await pick(page, 'resource:d1')
      await page.click('#menubtn-edit')
      t.match(await page.textContent('#menu-edit [data-command=activate]'), /activation \(start monitoring\)/)
      await page.keyboard.press('Escape')

      // Per node in the resource's state tab: monitoring back on n2 only.
      const nodeToggle = (n: string, on: string) => `#one-resource-state tr[data-node=${n}] input.act-toggle[data-on=${on}]`
      await page.waitForSelector(nodeToggle('n1', 'off'))
      await page.click(nodeToggle('n2', 'off'))
      await page.waitForSelector(nodeToggle('n2', 'on'))
      t.ok(await page.locator(nodeToggle('n1', 'off')).count(), 'n1 still off')
      t.match(await page.textContent('#one-resource-state'), /Monitoring/)

      await pick(page, 'group:g')
      await page.waitForSelector(groupToggle('d1', 'mixed'))
      t.ok(await page.$eval(groupToggle('d1', 'mixed'), (e) => (e as HTMLInputElement).indeterminate), 'mixed shows as indeterminate')
      await page.click(groupToggle('d1', 'mixed'))
      await page.waitForSelector(groupToggle('d1', 'on'))
      t.notMatch(await page.textContent('#resource-state tr[data-resource=d1]'), /not monitored/, 'monitored everywhere again')
      const ops = await readFile(path.join(c.nodes[0]!.home, 'logs/operation.log'), 'utf8')
      t.match(ops, /"command":"resourceActivate".*"target":"d1"/, 'each toggle is an operator command in the operation log')
    })

    await t.test('per-node overrides: shown, kept by a Save, editable', async (t) => {
      await pick(page, 'resource:d0')
      await page.click('#tab-attrs')
      await page.waitForSelector('#wz-delayMs')
      // A change of the common value only: n2's override stays.
      await page.fill('#wz-delayMs', '1500')
      await page.click('#ra-save')
      await toast(page, /resource 'd0' saved/)
      t.equal((await mainJson()).resources.find((x: { name: string }) => x.name === 'd0').attrs.delayMs, 1500)
      t.same(await nodeAttrsOf('d0'), { n2: { delayMs: 2500 } }, 'a Save keeps the override')

      await page.waitForSelector('#wz-delayMs--n2-ovr:checked')
      t.equal(await page.inputValue('#wz-delayMs--n2'), '2500', "n2's override is shown")
      t.notOk(await page.isChecked('#wz-delayMs--n1-ovr'), 'n1 has none')
      t.ok(await page.isDisabled('#wz-delayMs--n1'), 'an input without an override is off')
      t.match(await page.textContent('tr[data-prop=delayMs]'), /overridden on n2/)
      await page.fill('#wz-delayMs--n2', '3000')
      await page.check('#wz-delayMs--n1-ovr')
      await page.fill('#wz-delayMs--n1', '100')
      await page.click('#ra-save')
      t.same(
        await savedAs({ n1: { delayMs: 100 }, n2: { delayMs: 3000 } }),
        { n1: { delayMs: 100 }, n2: { delayMs: 3000 } },
        'edited and added',
      )

      await page.waitForSelector('#wz-delayMs--n1-ovr:checked')
      await page.uncheck('#wz-delayMs--n2-ovr')
      await page.fill('#wz-delayMs--n1', '')
      await page.click('#ra-save')
      await page.waitForSelector('#ra-error:has-text("Fix the fields")')
      t.match(await page.textContent('[id="wz-delayMs--n1-err"]'), /value.*or clear the override/, 'an empty override is named, not sent')
      t.same(await nodeAttrsOf('d0'), { n1: { delayMs: 100 }, n2: { delayMs: 3000 } }, 'nothing saved')
      await page.uncheck('#wz-delayMs--n1-ovr')
      await page.click('#ra-save')
      t.same(await savedAs({}), {}, 'both removed')
      t.equal(await page.textContent('#ra-error'), '', 'no error')
    })

    await t.test("the EIP wizard suggests AWS_EIP_<public ip>, the manual's name", async (t) => {
      await pick(page, 'group:g')
      await menu(page, 'edit', 'add-resource')
      await page.selectOption('#ar-type', 'aws-eip')
      await page.waitForSelector('#wz-allocationId-note[data-count]', { timeout: 30_000 })
      const offered = await page.$$eval('#wz-allocationId-list option', (os) => os.map((o) => (o as HTMLOptionElement).value))
      t.ok(offered.includes('eipalloc-0demo1'), `the endpoint's Elastic IPs are listed: ${offered.join(', ')}`)
      await page.fill('#wz-allocationId', 'eipalloc-0demo1')
      t.equal(await page.inputValue('#ar-name'), 'AWS_EIP_203.0.113.10', 'named after its public IP')
      await page.fill('#wz-allocationId', 'eipalloc-0demo2')
      t.equal(await page.inputValue('#ar-name'), 'AWS_EIP_203.0.113.11', 'follows the choice')
      await page.fill('#ar-name', 'mine')
      await page.fill('#wz-allocationId', 'eipalloc-0demo1')
      t.equal(await page.inputValue('#ar-name'), 'mine', 'a name typed by hand is kept')
    })
  })
}
