// Operating the cluster through the console alone (issue 7, acceptance 2), in headless Chromium against
// two real agents in cluster mode on loopback: create a group, add a dummy and a process resource with
// the wizards, link a dependency, bring the group online and watch the states turn online live, switch
// it to the other node, read the manual operation log.
import t from 'tap'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu, pick, cspViolations } from './browser.js'

const why = await browserUnavailable()
if (why) {
  t.test('operating through the console', { skip: why }, async () => {})
} else {
  t.test('group, wizards, dependency, online live, switch, operation log — all through the console', async (t) => {
    const c = await startConsoleCluster({ nodes: 2 })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    t.teardown(async () => {
      // On failure: what the operator saw and what the agents logged, for the report.
      if (t.passing() || !process.env.MCCS_DEBUG_CONSOLE) return
      await page.screenshot({ path: `${process.env.MCCS_DEBUG_CONSOLE}/ui-operate.png` }).catch(() => {})
      const { writeFile } = await import('node:fs/promises')
      for (const [i, n] of c.nodes.entries()) await writeFile(`${process.env.MCCS_DEBUG_CONSOLE}/ui-operate-${n.name}.log`, await c.log(i))
    })
    await firstLogin(page, c.base())
    // Both nodes in the tree once the cluster has formed.
    await page.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 20_000 })

    // Edit → Add group.
    await menu(page, 'edit', 'add-group')
    await page.fill('#ag-name', 'web')
    t.ok((await page.isChecked('#ag-node-n1')) && (await page.isChecked('#ag-node-n2')), 'both nodes offered, in order')
    await page.click('#ag-add')
    await page.waitForSelector('[data-key="group:web"]')
    t.pass('group web appears in the tree')

    // Edit → Add resource: a dummy, with the suggested name.
    await menu(page, 'edit', 'add-resource')
    await page.selectOption('#ar-type', 'dummy')
    await page.waitForSelector('#wz-online')
    t.equal(await page.inputValue('#ar-name'), 'dummy1', 'a resource name is suggested')
    t.equal(await page.inputValue('#ar-group'), 'web')
    t.equal(await page.locator('th.wz-nodecol').count(), 2, 'per-node column for each node of the group')
    // The 'note' list is filled on each node by the type's discover hook: n2's column by n2, over the peer channel.
    for (const n of ['n1', 'n2']) {
      await page.waitForSelector(`#wz-note--${n}-note[data-count]`)
      t.same(
        await page.$$eval(`#wz-note--${n}-list option`, (os) => os.map((o) => (o as HTMLOptionElement).value)),
        [`on ${n}`],
        `${n}'s list discovered on ${n}`,
      )
    }
    await page.fill('#wz-note--n1', 'active side')
    await page.fill('#wz-note--n2', 'standby side')
    await page.click('#ar-add')
    await page.waitForSelector('[data-key="resource:dummy1"]')

    // A process: the wizard's list widget takes the command one item per line.
    await menu(page, 'edit', 'add-resource')
    await page.selectOption('#ar-type', 'process')
    await page.waitForSelector('#wz-argv')
    t.equal(await page.inputValue('#ar-name'), 'process1')
    // A relative program is refused under the field before anything is saved.
    await page.fill('#wz-argv', 'node\n-e\n1')
    await page.click('#ar-add')
    await page.waitForSelector('#wz-argv-err:not(:empty)')
    t.match(
      await page.textContent('#wz-argv-err'),
      /first item must be an absolute path/,
      'the schema rule is shown under the Command field',
    )
    await page.fill('#wz-argv', [process.execPath, '-e', 'setInterval(() => {}, 1000)'].join('\n'))
    await page.fill('#wz-stopGraceS', '1')
    await page.click('#ar-add')
    await page.waitForSelector('[data-key="resource:process1"]')

    // The dependency: process1 depends on dummy1, drawn in the group's graph.
    await pick(page, 'group:web')
    await page.click('#tab-deps')
    await page.selectOption('#dep-parent', 'process1')
    await page.selectOption('#dep-child', 'dummy1')
    await page.click('#dep-link')
    await page.waitForSelector('[data-edge="process1->dummy1"]', { state: 'attached' })
    t.pass('the graph draws process1 -> dummy1')

    // Action → Manual detection (the manual's "manual detection": probe the group's resources on every
    // node). The new resources were probed when they were added (members get a change before the
    // coordinator's engine plans for it); asking again must leave them offline on both nodes.
    await pick(page, 'group:web')
    await menu(page, 'action', 'probe')
    await page.click('#tab-state')
    for (const r of ['dummy1', 'process1']) {
      for (const n of ['n1', 'n2'])
        await page.waitForSelector(`#resource-state tr[data-resource=${r}] td[data-node=${n}] [data-state=offline]`)
    }

    // Online from the toolbar; the page watches the group's state change without reloading.
    await page.evaluate(() => {
      const w = window as unknown as { seen: string[]; marker: number }
      w.seen = []
      w.marker = 42
      new MutationObserver(() => {
        const s = document.querySelector('[data-key="group:web"] > .tree-row [data-state]')?.getAttribute('data-state')
        if (s && w.seen.at(-1) !== s) w.seen.push(s)
      }).observe(document.body, { subtree: true, childList: true, attributes: true })
    })
    t.equal(await page.isDisabled('#tb-offline'), true, 'Offline is disabled while the group is offline')
    await page.click('#tb-online')
    await page.selectOption('#pick-node', 'n1')
    await page.click('#pick-node-ok')
    await page.waitForSelector('[data-key="group:web"] > .tree-row [data-state=online]', { timeout: 30_000 })
    await page.waitForSelector('[data-key="resource:process1"] > .tree-row [data-state=online]')
    await page.waitForSelector('[data-key="resource:dummy1"] > .tree-row [data-state=online]')
    const seen = await page.evaluate(() => {
      const w = window as unknown as { seen: string[]; marker: number }
      return { seen: w.seen, marker: w.marker }
    })
    t.equal(seen.marker, 42, 'no page reload: the states came over the live stream')
    t.equal(seen.seen.at(-1), 'online', `states the tree showed: ${seen.seen.join(' → ')}`)
    t.match(await page.textContent('[data-key="group:web"] > .tree-row'), /n1/, 'online on n1')
    await page.click('#tab-state')
    t.equal(await page.getAttribute('#resource-state tr[data-resource=process1] td[data-node=n1] [data-state]', 'data-state'), 'online')
    t.equal(await page.getAttribute('#resource-state tr[data-resource=process1] td[data-node=n2] [data-state]', 'data-state'), 'offline')
    t.equal(await page.isDisabled('#tb-online'), true, 'Online is disabled once the group runs')

    // Manual failover to n2.
    await page.click('#tb-switch')
    await page.selectOption('#pick-node', 'n2')
    await page.click('#pick-node-ok')
    await page.waitForSelector('#resource-state tr[data-resource=process1] td[data-node=n2] [data-state=online]', { timeout: 30_000 })
    await page.waitForSelector('#resource-state tr[data-resource=process1] td[data-node=n1] [data-state=offline]')
    t.match(await page.textContent('[data-key="group:web"] > .tree-row'), /online.*n2/s, 'the tree shows the group online on n2')

    // Action → View manual operation logs: the console's operations, by this user.
    await menu(page, 'action', 'oplog')
    await page.waitForSelector('#oplog tbody tr:not(:has(td[colspan]))')
    const rows = await page.$$eval('#oplog tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    )
    const ops = rows.map((r) => `${r[1]} ${r[3]} ${r[4]}`)
    t.ok(
      ops.some((o) => /^mcuser groupOnline web$/.test(o)),
      `online of web by mcuser is logged: ${ops.join(' | ')}`,
    )
    t.ok(
      ops.some((o) => /^mcuser groupSwitch web$/.test(o)),
      'the switch is logged',
    )
    t.same(cspViolations(page), [], 'nothing the Content-Security-Policy had to refuse')
  })
}
