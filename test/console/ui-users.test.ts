// Console users in real headless Chromium (issue 18, What 4): an administrator adds a user from File →
// Users on one node (the checklist refuses the id inside the password before the server does), the user
// logs in on the other node's console (one account store, replicated), and when the administrator deletes
// the account with one confirmation, the other node's window drops to the login page saying why. "Log out
// everywhere" is a menu item; an idle session that expires shows the login with that reason.
import t from 'tap'
import { browserUnavailable, startConsoleCluster, launch, newPage, menu, firstLogin, NEW_PASSWORD, cspViolations } from './browser.js'

const USER_PW = 'wonder-Land7!x'

const why = await browserUnavailable()
if (why) {
  t.test('console users in Chromium', { skip: why }, async () => {})
} else {
  t.test('an administrator adds a user on n1, who logs in on n2; deleting it ends that session there', async (t) => {
    const c = await startConsoleCluster({ nodes: 2 })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const admin = await newPage(browser)
    await firstLogin(admin, c.base(0))
    await admin.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 30_000 })

    await menu(admin, 'file', 'users')
    await admin.waitForSelector('#users-list tr[data-user=mcuser]')
    t.ok(await admin.isDisabled('#users-list button.user-del[data-user=mcuser]'), 'one cannot delete oneself')
    t.match((await admin.getAttribute('#users-list button.user-del[data-user=mcuser]', 'title')) ?? '', /logged in with/)

    await admin.fill('#user-new-id', 'alice')
    await admin.locator('#user-new-password').pressSequentially('xalice-Pass1!')
    t.equal(await admin.getAttribute('#user-rules li[data-rule=noUser]', 'data-ok'), 'false', 'the checklist shows the id inside')
    await admin.fill('#user-new-again', 'xalice-Pass1!')
    await admin.click('#user-add-submit')
    await admin.waitForSelector('#user-error:not(:empty)')
    t.match(
      await admin.textContent('#user-error'),
      /must not contain the user id.*\[\/password\]/,
      'the refusal names the rule and the field',
    )
    t.equal(await admin.locator('#users-list tr[data-user=alice]').count(), 0, 'nothing added')

    await admin.fill('#user-new-password', USER_PW)
    await admin.fill('#user-new-again', USER_PW)
    t.equal(await admin.getAttribute('#user-rules li[data-rule=noUser]', 'data-ok'), 'true')
    await admin.click('#user-add-submit')
    await admin.waitForSelector('#users-list tr[data-user=alice]')
    t.match(await admin.textContent('#users-list tr[data-user=alice] .user-role'), /operator/, 'listed as an operator')

    // The other node's console takes the new account (the same store, replicated through the coordinator).
    const other = await newPage(browser)
    await other.goto(`${c.base(1)}/main`)
    await other.fill('#login-user', 'alice')
    await other.fill('#login-password', USER_PW)
    await other.click('#login-submit')
    await other.waitForSelector('[role=tree]')
    await other.waitForSelector('.tree')
    t.pass("alice logged in on n2's console")
    await other.click('#menubtn-file')
    t.equal(await other.getAttribute('#menu-file [data-command=users]', 'aria-disabled'), 'true', 'an operator is offered no Users dialog')
    await other.keyboard.press('Escape')

    await admin.click('#users-list button.user-del[data-user=alice]')
    await admin.locator('.backdrop').last().locator('.btn-primary').click() // the one confirmation, above the Users dialog
    const t0 = Date.now()
    await other.waitForSelector('#login-notice', { timeout: 10_000 })
    t.comment(`n2's window showed the login ${Date.now() - t0} ms after the deletion was confirmed on n1`)
    t.match(await other.textContent('#login-notice'), /account was removed/, 'the reason is shown')
    await admin.waitForSelector('#users-list tr[data-user=alice]', { state: 'detached' })
    t.pass('gone from the list')

    await other.fill('#login-user', 'alice')
    await other.fill('#login-password', USER_PW)
    await other.click('#login-submit')
    await other.waitForSelector('#login-error:not(:empty)')
    t.equal(await other.locator('[role=tree]').count(), 0, 'the deleted account no longer logs in on n2')
    t.same(cspViolations(admin), [], 'no Content-Security-Policy refusal')
  })

  t.test('Log out everywhere is a menu item; an idle session expires to the login page with the reason', async (t) => {
    const c = await startConsoleCluster({ env: { MCCS_CONSOLE_IDLE_S: '6' } })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const a = await newPage(browser)
    await firstLogin(a, c.base())
    const b = await newPage(browser)
    await b.goto(`${c.base()}/main`)
    await b.fill('#login-user', 'mcuser')
    await b.fill('#login-password', NEW_PASSWORD)
    await b.click('#login-submit')
    await b.waitForSelector('.tree')
    await a.waitForSelector('.tree')

    await menu(a, 'file', 'logout-everywhere')
    await a.click('.dlg .btn-primary')
    for (const [name, p] of [
      ['this window', a],
      ['the other window', b],
    ] as const) {
      await p.waitForSelector('#login-notice', { timeout: 5000 })
      t.match(await p.textContent('#login-notice'), /logged out everywhere/, `${name} shows the login with the reason`)
    }

    // Idle: no request for 6 s; the page's only traffic is the event stream, which does not keep it alive.
    await a.fill('#login-user', 'mcuser')
    await a.fill('#login-password', NEW_PASSWORD)
    await a.click('#login-submit')
    await a.waitForSelector('.tree')
    const t0 = Date.now()
    await a.waitForSelector('#login-notice', { timeout: 15_000 })
    t.comment(`the idle session ended ${Date.now() - t0} ms after the login (idle time 6 s)`)
    t.match(await a.textContent('#login-notice'), /idle for too long/, 'the login says the session expired')
    t.ok(Date.now() - t0 >= 5000, 'not before its idle time')
  })
}
