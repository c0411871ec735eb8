// Issue 18, What 6 in headless Chromium against real agents: the log level changed from the log web console
// is in the operation log and still in force after the agent restarts; Help → Help shows the console guide;
// the Quorum state tab shows the tie-breaker — a warning when neither a quorum server nor two-node mode is
// set, and the quorum server's connection, vote and holder when one is, live as the server goes away; the
// manual operation log shows every node's records with a node filter, on a follower's console too.
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu, pick, NEW_PASSWORD } from './browser.js'
import { addCluster, QuorumServer } from '../../core/cluster/quorum-server.js'
import { ensureTlsMaterial } from '../../core/cluster/tls.js'

const toast = (page: Page, re: RegExp) =>
  page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#toasts')?.textContent ?? ''), re.source)

async function quorumTab(page: Page): Promise<void> {
  await pick(page, 'cluster')
  await page.click('#tab-quorum')
  await page.waitForSelector('#quorum-server')
}

const why = await browserUnavailable()
if (why) {
  t.test('log level, help and quorum state in the console', { skip: why }, async () => {})
} else {
  t.test('two nodes, no tie-breaker: log level kept across a restart, Help, the quorum warning', async (t) => {
    const c = await startConsoleCluster({ nodes: 2 })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base(1)) // n2's console: the log level is per node

    await t.test('the log level: at once, in the operation log, kept across a restart', async (t) => {
      await page.waitForSelector('#log-level:not([disabled])')
      t.equal(await page.inputValue('#log-level'), 'info', 'info at start')
      await page.selectOption('#log-level', 'debug')
      await toast(page, /log level of n2: debug/)
      await menu(page, 'action', 'oplog')
      const row = page.locator('#oplog tr[data-op=logLevel][data-target=n2]')
      await row.waitFor()
      t.equal(await row.getAttribute('data-result'), 'done')
      t.match(await row.textContent(), /mcuser.*"level":"debug".*"before":"info"/)
      await page.keyboard.press('Escape')
      t.match(await c.log(1), /log level set to debug \(was info\)/)

      await c.restart(1)
      await page.goto(`${c.base(1)}/main`)
      // The session may outlive the restart; if not, the login form.
      await page.waitForSelector('#login-user, [role=tree]')
      if (await page.locator('#login-user').count()) {
        await page.fill('#login-user', 'mcuser')
        await page.fill('#login-password', NEW_PASSWORD)
        await page.click('#login-submit')
      }
      await page.waitForSelector('#log-level:not([disabled])')
      t.equal(await page.inputValue('#log-level'), 'debug', 'still debug after the agent restarted')
      t.match(await c.log(1), /log level debug \(set by an operator; kept across restarts\)/)
    })

    await t.test('Help → Help shows the console guide', async (t) => {
      await menu(page, 'help', 'help')
      await page.waitForSelector('#help-guide:not([aria-busy]) h2')
      t.equal(await page.textContent('#help-guide h2'), 'The MCCS web console', "the guide's title")
      t.ok(await page.locator('#help-guide h3', { hasText: 'The screen (manual 5.3)' }).count(), 'its sections')
      t.match(
        await page.textContent('#help-guide table'),
        /log web console.*keeps it across restarts/s,
        'the screen table, from the current guide',
      )
      t.ok(await page.locator('#help-guide pre code', { hasText: 'ssh -L 11080:127.0.0.1:11080' }).count(), 'code as code')
      t.notMatch(await page.textContent('#help-guide'), /not served|console-guide\.md in the MCCS distribution/)
      await page.keyboard.press('Escape')
    })

    await t.test('Quorum state says that neither a quorum server nor two-node mode is set', async (t) => {
      await page.waitForSelector('[data-key="node:n1"] [data-state=up]', { timeout: 30_000 })
      await quorumTab(page)
      t.match(await page.textContent('#quorum-server'), /Neither a quorum server nor two-node mode is set/)
    })

    await t.test("the operation logs of every node, with a node filter, on a follower's console", async (t) => {
      // Monitor all from n2's console: n1 (the coordinator) decides it and logs it, given on n2. First n2
      // follows n1 again (it restarted above).
      await page.waitForFunction(
        () => /Role of this node\s*follower\s*Coordinator\s*n1/.test(document.querySelector('.tabpanel')?.textContent ?? ''),
        undefined,
        {
          timeout: 30_000,
        },
      )
      await menu(page, 'edit', 'monitor-all')
      await toast(page, /monitor all resources: accepted/)
      await menu(page, 'action', 'oplog')
      const forwarded = page.locator('#oplog tr[data-op=monitorAll][data-node=n1][data-via=n2]')
      await forwarded.waitFor()
      t.match(await forwarded.textContent(), /n1\s*given on n2/, "the coordinator's record, shown on n2's console")
      const own = page.locator('#oplog tr[data-op=logLevel][data-node=n2]')
      t.equal(await own.count(), 1, "n2's own record beside it")
      await page.selectOption('#oplog-node', 'n1')
      t.equal(await forwarded.count(), 1, 'n1: what n1 logged')
      t.equal(await own.count(), 0, "n1: not n2's own")
      await page.selectOption('#oplog-node', 'n2')
      t.equal(await forwarded.count(), 1, 'n2: also what was given on n2')
      t.equal(await own.count(), 1)
      t.equal(await page.locator('#oplog tbody tr[data-node=n1]:not([data-via=n2])').count(), 0, 'n2: nothing else of n1')
      t.equal(await page.textContent('#oplog-missing'), '', 'every node answered')
      await page.keyboard.press('Escape')
    })
  })

  t.test('two nodes with a quorum server: connected, vote and holder, live', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-ui-qs-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const key = await addCluster(dir, 'console-test')
    const tls = await ensureTlsMaterial(path.join(dir, 'tls'), { label: 'quorum server', hosts: ['127.0.0.1'] })
    const qs = await QuorumServer.start({
      dir,
      port: 0,
      host: '127.0.0.1',
      intervalMs: 200,
      timeoutMs: 1000,
      tls: { key: tls.key, cert: tls.cert },
      controlSocket: false,
    })
    let closed = false
    t.teardown(async () => {
      if (!closed) await qs.close()
    })
    const c = await startConsoleCluster({
      nodes: 2,
      hb: (hb) => ({
        ...hb,
        quorum: { server: { host: '127.0.0.1', port: qs.port, caFile: 'quorum/ca.crt', keyFile: 'quorum/console-test.key' } },
      }),
      files: { 'config/quorum/ca.crt': tls.caCert, 'config/quorum/console-test.key': key },
    })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base())
    await quorumTab(page)
    const text = () => page.textContent('#quorum-server')
    await page.waitForFunction(() => /Holder\s*n1, n2/.test(document.querySelector('#quorum-server')?.textContent ?? ''), undefined, {
      timeout: 30_000,
    })
    t.match(await text(), new RegExp(`Quorum server\\s*127\\.0\\.0\\.1:${qs.port}`), 'which server')
    t.match(await text(), /Connected\s*\S?\s*connected/, 'connected')
    t.match(await text(), /Vote\s*granted to this partition/, 'the vote')

    await qs.close()
    closed = true
    await page.waitForFunction(() => /not connected/.test(document.querySelector('#quorum-server')?.textContent ?? ''), undefined, {
      timeout: 20_000,
    })
    t.match(await text(), /Vote\s*none/, 'no vote without the server')
  })
}
