// Issue 17: the console says loudly when licensing stops failover. A node without a license shows a red
// LIMITED MODE banner with the reason on the main screen; after a license is installed (Window ->
// Preferences -> Licenses: Renew License) the banner goes without a reload or an agent restart, and a
// license that ends soon shows an amber warning with the days left.
import t from 'tap'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu, pick } from '../console/browser.js'
import { issueLicense, type LicenseFields } from '../../core/license/format.js'
import { LICENSE_FILE, TRUSTED_KEYS_FILE } from '../../core/license/store.js'
import { LICENSE_SERVER_KEY_FILE } from '../../core/license/lease-protocol.js'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'

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
    t.teardown(() => c.stop(t))
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

    // Every reason, as the agent finds it in its license file (checked every 5 s), in the red banner.
    const now = Date.now()
    const iso = (d: number) => new Date(now + d * 86_400_000).toISOString()
    const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    const term = (f: Partial<LicenseFields> = {}) =>
      issueLicense({ type: 'term', node: 'n1', hostId: 'ANY', issued: iso(-60), expires: iso(300), ...f }, priv)
    const home = c.nodes[0]!.home
    await writeFile(path.join(home, 'config', LICENSE_SERVER_KEY_FILE), randomBytes(32), { mode: 0o600 })
    for (const [what, text, reason] of [
      ['expired', term({ expires: iso(-30) }), /n1: LIMITED MODE — .*expires: expired at /],
      [
        'another host',
        issueLicense({ type: 'nodelock', node: 'n1', hostId: '02:00:5e:00:53:99', issued: iso(-60) }, priv),
        /n1: LIMITED MODE — .*02:00:5e:00:53:99 is not a MAC address of this node.*\(a license for another host\)/,
      ],
      [
        'tampered',
        term().replace(/^expires=.*$/m, `expires=${iso(999)}`),
        /n1: LIMITED MODE — .*signature does not match the license fields/,
      ],
      [
        'another product',
        term().replace('product=MCCS', 'product=OTHERHA'),
        /n1: LIMITED MODE — .*a license for another product \(OTHERHA\)/,
      ],
      [
        'license server unreachable',
        issueLicense({ type: 'floating', node: 'pool', hostId: 'ANY', issued: iso(-60), server: '127.0.0.1:9', count: 2 }, priv),
        /n1: LIMITED MODE — .*license server 127\.0\.0\.1:9 cannot be reached/,
      ],
    ] as const) {
      await writeFile(path.join(home, 'config', LICENSE_FILE), text)
      await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('#license-banner')?.textContent ?? ''), reason.source, {
        timeout: 20_000,
      })
      t.pass(`${what}: the banner names the reason`)
    }

    // Renew License: a license that ends in 3 days, pasted in Preferences for n1.
    const lic = issueLicense(
      {
        type: 'term',
        node: 'n1',
        hostId: 'ANY',
        issued: new Date(now - 3600_000).toISOString(),
        expires: new Date(now + 3 * 86_400_000 - 60_000).toISOString(),
      },
      priv,
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

  t.test('limited mode stops a failover: the event banner says why, the license banner says which nodes', async (t) => {
    // Two unlicensed nodes (two-node mode: each alone is quorate). svc cannot start on n1: the operator's
    // online there faults it, and a licensed cluster would fail the group over to n2.
    const { publicKey, privateKey } = generateKeyPairSync('ed25519')
    const c = await startConsoleCluster({
      nodes: 2,
      licenses: false,
      files: { [`config/${TRUSTED_KEYS_FILE}`]: publicKey.export({ type: 'spki', format: 'pem' }) as string },
      hb: (hb) => ({ ...hb, quorum: { twoNode: true } }),
      main: (nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'app', nodes, failoverOnFailure: true, autoStart: false, autoFailback: false }],
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
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser, { width: 1280, height: 800 })
    await firstLogin(page, c.base())
    await page.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 20_000 })
    await page.waitForFunction(() => /n2: LIMITED MODE/.test(document.querySelector('#license-banner')?.textContent ?? ''), null, {
      timeout: 20_000,
    })
    t.match(await page.textContent('#license-banner'), /n1: LIMITED MODE.*n2: LIMITED MODE/s, 'both nodes in the license banner')
    await pick(page, 'group:app')
    await page.waitForSelector('#resource-state tr[data-resource=svc] td[data-node=n2] [data-state=offline]', { timeout: 20_000 })
    await page.click('#tb-online')
    await page.selectOption('#pick-node', 'n1')
    await page.click('#pick-node-ok')
    await page.waitForSelector('#event-banner [data-kind=noFailoverTarget]', { timeout: 30_000 })
    t.match(
      await page.textContent('#event-banner [data-kind=noFailoverTarget]'),
      /No failover \(group app, node n1\): no automatic failover: n1 is in limited mode \(no license is installed\)/,
      'the event banner: no failover, because n1 is in limited mode',
    )
    t.notOk(await page.$('#event-banner [data-kind=groupFailover]'), 'and no failover happened')

    // Renew License for the other node, n2, from n1's console (over the peer channel): its banner goes.
    const now = Date.now()
    const lic = issueLicense(
      {
        type: 'term',
        node: 'n2',
        hostId: 'ANY',
        issued: new Date(now - 3600_000).toISOString(),
        expires: new Date(now + 300 * 86_400_000).toISOString(),
      },
      privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    )
    await menu(page, 'window', 'preferences')
    await page.click('#preferences tr:has(td:text-is("n2")) button:has-text("Renew License")')
    t.equal(await page.inputValue('#lic-node'), 'n2', 'Renew License picks n2')
    await page.fill('#lic-text', lic)
    await page.click('#preferences button:has-text("Register license")')
    await page.waitForFunction(() => !/n2: LIMITED MODE/.test(document.querySelector('#license-banner')?.textContent ?? ''), null, {
      timeout: 20_000,
    })
    t.match(await page.textContent('#license-banner'), /n1: LIMITED MODE/, "n2's banner is gone; n1's stays")
  })
}
