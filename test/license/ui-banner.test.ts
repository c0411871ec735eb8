// Issue 17: the console says loudly when licensing stops failover. A node without a license shows a red
// LIMITED MODE banner with the reason on the main screen; after a license is installed (Window ->
// Preferences -> Licenses: Renew License) the banner goes without a reload or an agent restart, and a
// license that ends soon shows an amber warning with the days left.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu } from '../console/browser.js'
import { issueLicense } from '../../core/license/format.js'
import { TRUSTED_KEYS_FILE } from '../../core/license/store.js'

const why = await browserUnavailable()
if (why) {
  t.test('license banner in Chromium', { skip: why }, async () => {})
} else {
  t.test('limited mode banner; Renew License in Preferences; expiry warning', async (t) => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519')
    const c = await startConsoleCluster({
      licenses: false,
      files: { [`config/${TRUSTED_KEYS_FILE}`]: publicKey.export({ type: 'spki', format: 'pem' }) as string },
    })
    t.teardown(() => c.stop())
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)
    await firstLogin(page, c.base())
    await page.waitForSelector('#license-banner .lic-limited')
    const text = await page.textContent('#license-banner')
    t.match(
      text,
      /n1: LIMITED MODE — no automatic failover or auto-start\. no license is installed/,
      'the banner names the node, the mode and the reason',
    )

    // Renew License: a license that ends in 3 days, pasted in Preferences for n1.
    const now = Date.now()
    const lic = issueLicense(
      {
        type: 'term',
        node: 'n1',
        hostId: 'ANY',
        issued: new Date(now - 3600_000).toISOString(),
        expires: new Date(now + 3 * 86_400_000 - 60_000).toISOString(),
      },
      privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    )
    await menu(page, 'window', 'preferences')
    await page.click('#preferences button:has-text("Renew License")')
    await page.fill('#lic-text', lic)
    await page.click('#preferences button:has-text("Register license")')
    await page.waitForSelector('#license-banner .lic-warning', { timeout: 20_000 })
    t.equal(await page.locator('#license-banner .lic-limited').count(), 0, 'the limited-mode banner is gone without a reload')
    t.match(
      await page.textContent('#license-banner'),
      /n1: license warning — license expires in 3 days .* \(3 days left\)/,
      'an expiry warning with the days left',
    )
  })
}
