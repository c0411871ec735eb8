// The console's state at a glance is true (issue 18, What 1), in headless Chromium against real agents:
// - after a resource fault fails a group over, the group reads online on n2 with a fault mark on n1, and
//   Switch is enabled; the node columns are labelled by where the group runs, not by configured order;
// - a fault and a failover raise a banner (and the log web console shows them);
// - when the node the group runs on is lost and not yet fenced, the group reads "unknown / fencing…",
//   not "offline", and Online is disabled; the banner names the lost node;
// - lost quorum raises a banner for as long as it lasts (and the log web console shows it);
// - when the console's own agent stops answering (SIGSTOP), the view is greyed within 2 s and says why.
import t from 'tap'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, pick } from './browser.js'

const why = await browserUnavailable()
if (why) {
  t.test('truthful state', { skip: why }, async () => {})
} else {
  t.test('fault failover, live roles, banner, node loss before the fence', async (t) => {
    const c = await startConsoleCluster({
      nodes: 2,
      // Two-node mode: n1 alone stays quorate when n2 is lost, so it is the one waiting to fence n2.
      hb: (hb) => ({ ...hb, quorum: { twoNode: true } }),
      main: (nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'app', nodes, failoverOnFailure: true, autoStart: false, autoFailback: false }],
        // svc cannot start on n1: the group's online there faults it, and MCCS fails the group over to n2.
        resources: [
          {
            name: 'svc',
            type: 'dummy',
            group: 'app',
            critical: true,
            attrs: {},
            nodeAttrs: { n1: { online: 'fail' } },
            policy: { restartLimit: 0 },
            monitored: true,
          },
        ],
        dependencies: [],
      }),
    })
    const n2 = c.nodes[1]!.proc
    const resume = () => {
      if (n2.exitCode === null) n2.kill('SIGCONT')
    }
    t.teardown(async () => {
      resume()
      await c.stop()
    })
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser, { width: 1280, height: 800 })
    await firstLogin(page, c.base())
    await page.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 20_000 })
    await pick(page, 'group:app')
    await page.waitForSelector('#resource-state tr[data-resource=svc] td[data-node=n2] [data-state=offline]', { timeout: 20_000 })

    await page.click('#tb-online')
    await page.selectOption('#pick-node', 'n1')
    await page.click('#pick-node-ok')
    // The group ends online on n2; the tree says so, with the fault on n1 as a separate mark.
    const groupRow = '[data-key="group:app"] > .tree-row'
    await page.waitForSelector(`${groupRow} [data-state=online]`, { timeout: 30_000 })
    t.match(await page.textContent(groupRow), /online.*n2/s, 'the tree: online on n2')
    await page.waitForSelector(`${groupRow} .fault-mark`)
    t.match(await page.textContent(`${groupRow} .fault-mark`), /n1/, 'a fault mark naming n1')
    t.equal(await page.isDisabled('#tb-switch'), false, 'Switch is enabled while the group runs on n2')
    t.equal(await page.isDisabled('#tb-clear'), false, 'Remove fault indication is enabled too')
    t.match(await page.textContent('#resource-state thead'), /n2.*running/s, "n2's column is labelled as where the group runs")
    t.notMatch(await page.textContent('#resource-state thead'), /\(active\)|\(standby\)/, 'no labels by configured order')
    t.match(await page.textContent('.group-line'), /online on n2/, 'the group line: online on n2')
    t.match(await page.textContent('.group-line'), /fault.*n1/s, 'the group line: a fault left on n1')

    // A banner for the fault and the failover, and the log web console shows the failover too.
    await page.waitForSelector('#event-banner [data-kind=groupFailover]')
    t.match(await page.textContent('#event-banner'), /svc.*n1/s, 'the banner names the faulted resource and node')
    t.ok(
      await page.$('#event-banner [data-kind=resourceFaulted], #event-banner [data-kind=groupFaulted]'),
      'the fault has its own banner line',
    )
    await page.waitForFunction(() => /notice=groupFailover|failover/i.test(document.querySelector('#log-lines')?.textContent ?? ''))
    t.pass('the log web console shows the failover')
    // One fault gives several event lines (fault, group fault, failover): one button dismisses them all.
    t.ok((await page.locator('#event-banner .ev-line').count()) > 1, 'more than one event line')
    await page.getByRole('button', { name: /^Dismiss all \d+ events$/ }).click()
    await page.waitForFunction(() => !document.querySelector('#event-banner .ev-line'))
    t.pass('Dismiss all: no event line left')

    // n2 (where the group runs) stops answering: lost after the dead time, not fenced (no fence device).
    n2.kill('SIGSTOP')
    await page.waitForSelector(`${groupRow} [data-state=unknown]`, { timeout: 15_000 })
    t.match(await page.textContent(groupRow), /fencing/, 'the tree: unknown / fencing…')
    t.notMatch(await page.textContent(groupRow), /offline/, 'never "offline" while its node is not fenced')
    t.equal(await page.isDisabled('#tb-online'), true, "Online is disabled while the group's node is being fenced")
    t.match((await page.getAttribute('#tb-online', 'title')) ?? '', /fenc|unknown/, 'and the tooltip says why')
    await page.waitForSelector('#event-banner [data-kind=nodeLost]')
    t.match(await page.textContent('#event-banner [data-kind=nodeLost]'), /n2/, 'the banner names the lost node')
    await page.waitForSelector('#event-banner [data-kind=needsFence]')
    t.match(await page.textContent('#event-banner [data-kind=needsFence]'), /Fence needed.*n2/s, 'and that n2 must be fenced')
    resume()
  })

  t.test('lost quorum: a banner while it lasts, and the log says so', async (t) => {
    // Two nodes, no quorum server and no two-node mode: n1 alone holds one vote of two.
    const c = await startConsoleCluster({ nodes: 2 })
    const n2 = c.nodes[1]!.proc
    const resume = () => {
      if (n2.exitCode === null) n2.kill('SIGCONT')
    }
    t.teardown(async () => {
      resume()
      await c.stop()
    })
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser, { width: 1280, height: 800 })
    await firstLogin(page, c.base())
    await page.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 20_000 })
    t.equal(await page.$('#event-banner [data-kind=noQuorum]'), null, 'no quorum banner while both nodes are up')
    n2.kill('SIGSTOP')
    await page.waitForSelector('#event-banner [data-kind=noQuorum]', { timeout: 15_000 })
    // For a moment (n2's lease lapsed, n2 not yet declared down) n1's view is marked stale, without votes;
    // once n1 has decided again the banner gives them.
    await page
      .waitForFunction(() => /1\/2/.test(document.querySelector('#event-banner [data-kind=noQuorum]')?.textContent ?? ''), null, {
        timeout: 5000,
      })
      .catch(() => {})
    t.match(await page.textContent('#event-banner [data-kind=noQuorum]'), /No quorum.*1\/2/s, 'the banner says no quorum, with the votes')
    t.match(await page.textContent('#event-banner'), /n2 is lost/, 'and names the lost node')
    await page.waitForSelector('[data-key="node:n2"] > .tree-row [data-state=lost]', { timeout: 5000 }).catch(() => {})
    t.equal(
      await page.getAttribute('[data-key="node:n2"] > .tree-row [data-state]', 'data-state'),
      'lost',
      "the tree shows n2 lost (not the engine's last word, up)",
    )
    await page.waitForFunction(() => /quorum/i.test(document.querySelector('#log-lines')?.textContent ?? ''), undefined, {
      timeout: 10_000,
    })
    t.pass('the log web console shows the quorum change')
    resume()
    await page.waitForSelector('#event-banner:not(:has([data-kind=noQuorum]))', { state: 'attached', timeout: 20_000 })
    t.pass('the banner goes once quorum is back')
  })

  t.test('a console whose own agent does not answer greys out within 2 s and says why', async (t) => {
    const c = await startConsoleCluster({ nodes: 1 })
    const agent = c.nodes[0]!.proc
    const resume = () => {
      if (agent.exitCode === null) agent.kill('SIGCONT')
    }
    t.teardown(async () => {
      resume()
      await c.stop()
    })
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser, { width: 1280, height: 800 })
    await firstLogin(page, c.base())
    await page.waitForSelector('#conn [data-state=up]')
    t.equal(await page.$('.app.stale'), null, 'not greyed while the agent answers')
    // When the page saw the view go stale, by the wall clock the test shares with the browser.
    await page.evaluate(() => {
      const w = window as unknown as { staleAt: number }
      w.staleAt = 0
      new MutationObserver(() => {
        if (!w.staleAt && document.querySelector('.app.stale')) w.staleAt = Date.now()
      }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['class'] })
    })
    const stoppedAt = Date.now()
    agent.kill('SIGSTOP')
    await page.waitForSelector('.app.stale', { timeout: 10_000 })
    const staleAt = await page.evaluate(() => (window as unknown as { staleAt: number }).staleAt)
    t.ok(staleAt - stoppedAt <= 2000, `greyed ${staleAt - stoppedAt} ms after the agent stopped (at most 2000)`)
    t.match(await page.textContent('#stale-reason'), /n1.*not answer/s, 'says the agent is not answering')
    t.equal(await page.isDisabled('#tb-add-group'), true, 'commands are disabled on a stale view')
    resume()
    await page.waitForSelector('.app:not(.stale)', { timeout: 15_000 })
    t.equal(await page.isDisabled('#tb-add-group'), false, 'live again once the agent answers')
  })
}
