// The Mirror tab on a node that holds no copy of the mirror disk (issue 15): the console of n3, the volume
// on n1 and n2. /api/mirror there answers MCCS_ERR_NOT_FOUND (no volume on this node); the tab said
// "Cannot read the mirror's state" as an error. It is not one: the tab says this node holds no copy.
import t from 'tap'
import path from 'node:path'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, pick } from './browser.js'
import { createLabMirror } from '../../scripts/lab/mirror-group.js'
import { missingTools } from '../mirror/lab-nodes.js'

const why = (await browserUnavailable()) ?? (missingTools().length ? `missing ${missingTools().join(', ')}` : null)
if (why) {
  t.test('the mirror view on a node without a copy', { skip: why }, async () => {})
} else {
  t.test('the Mirror tab on a node that holds no copy says so, not an error', async (t) => {
    const lm = createLabMirror(['n1', 'n2'], 64 * 1024 * 1024)
    t.teardown(() => lm.release())
    const port = 20000 + Math.floor(Math.random() * 20000)
    let addrs: string[] = []
    const c = await startConsoleCluster({
      nodes: 3,
      hb: (hb) => {
        addrs = (hb.nodes as Array<{ addresses: { lo: string } }>).map((n) => n.addresses.lo)
        return hb
      },
      main: (nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'db', nodes: nodes.slice(0, 2), failoverOnFailure: false, autoStart: false, autoFailback: false }],
        resources: [
          {
            name: 'md',
            type: 'mirror-disk',
            group: 'db',
            critical: true,
            monitored: true,
            attrs: { port, mode: 'sync', mountPoint: lm.mountPoint, fs: 'ext4' },
            nodeAttrs: Object.fromEntries(
              nodes
                .slice(0, 2)
                .map((n, i) => [n, { backing: path.join(lm.dir, `${n}.img`), replicationAddress: addrs[i], peerAddress: addrs[1 - i] }]),
            ),
          },
        ],
        dependencies: [],
      }),
    })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser, { width: 1400, height: 900 })
    await firstLogin(page, c.base(2))
    await page.waitForSelector('[data-key="node:n1"] [data-state=up]', { timeout: 30_000 })
    await pick(page, 'resource:md')
    await page.click('#tab-mirror')
    await page.waitForSelector('#mirror-body #mirror-no-copy, #mirror-body #mirror-error', { timeout: 15_000 })
    const err = await page.textContent('#mirror-error', { timeout: 500 }).catch(() => null)
    t.equal(err, null, `no error is shown (${err})`)
    const note = await page.textContent('#mirror-no-copy').catch(() => null)
    t.match(note ?? '', /n3.*no copy of md/s, `the tab says this node holds no copy (${note})`)
  })
}
