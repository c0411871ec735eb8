// The Mirror tab of a mirror-disk resource (issue 15, What 4), in headless Chromium against two real
// agents on loopback with a real mirror (qemu-storage-daemon on each node, a 160 MiB volume copied at the
// resource's resync rate limit of 16 MiB/s: ~10 s, five of the tab's 2 s polls, however fast the link):
// the tab follows the state live, without a reload — SyncSource with its percent while the first full
// resync runs, then Connected with both copies UpToDate; the secondary's daemon killed: Disconnected (the
// primary goes on alone); the standby's monitor starts it again and the tab shows it Connected again.
import t from 'tap'
import path from 'node:path'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, pick, cspViolations } from './browser.js'
import { createLabMirror } from '../../scripts/lab/mirror-group.js'
import { rpc } from '../../core/cli/control-client.js'
import type { MirrorSides } from '../../core/mirror/control.js'
import { missingTools } from '../mirror/lab-nodes.js'

const why = (await browserUnavailable()) ?? (missingTools().length ? `missing ${missingTools().join(', ')}` : null)
if (why) {
  t.test('the mirror view', { skip: why }, async () => {})
} else {
  t.test("a mirror-disk's Mirror tab shows SyncSource with percent, Connected/UpToDate, Disconnected, live", async (t) => {
    const names = ['n1', 'n2']
    // The first full resync copies the whole volume at the resource's limit: 160 MiB at 16 MiB/s, ~10 s
    // (qemu counts the holes it sends as zeroes over NBD against the limit too). Without a limit a
    // copy of 768 MiB of data ended within one 2 s poll once the secondary's listener got faster
    // (SyncSource seen once).
    const RATE = 16
    const lm = createLabMirror(names, 160 << 20)
    t.teardown(() => lm.release())
    const port = 20000 + Math.floor(Math.random() * 20000)
    let addrs: string[] = []
    const c = await startConsoleCluster({
      nodes: 2,
      hb: (hb) => {
        addrs = (hb.nodes as Array<{ addresses: { lo: string } }>).map((n) => n.addresses.lo)
        return hb
      },
      main: (nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'db', nodes, failoverOnFailure: false, autoStart: false, autoFailback: false }],
        resources: [
          {
            name: 'md',
            type: 'mirror-disk',
            group: 'db',
            critical: true,
            monitored: true,
            policy: { monitorIntervalS: 2, offlineMonitorIntervalS: 2 },
            attrs: { port, mode: 'sync', mountPoint: lm.mountPoint, fs: 'ext4', resyncRateMiBs: RATE },
            nodeAttrs: Object.fromEntries(
              nodes.map((n, i) => [n, { backing: path.join(lm.dir, `${n}.img`), replicationAddress: addrs[i], peerAddress: addrs[1 - i] }]),
            ),
          },
        ],
        dependencies: [],
      }),
    })
    t.teardown(() => c.stop(t))
    const sock = (i: number) => path.join(c.nodes[i]!.home, 'state/mccs.sock')
    const status = async (): Promise<MirrorSides | undefined> =>
      (await rpc<MirrorSides[]>(sock(0), 'mirror', { op: 'status', resource: 'md' }, 10_000))[0]
    const until = async <T>(f: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> => {
      const end = Date.now() + ms
      for (;;) {
        const v = await f().catch(() => undefined)
        if (v) return v
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
        await new Promise((r) => setTimeout(r, 300))
      }
    }
    await until(
      async () => {
        const s = await status()
        return (s && s.local.role === 'secondary' && 'role' in s.peer && s.peer.role === 'secondary') || undefined
      },
      60_000,
      'both secondaries running',
    )

    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser, { width: 1400, height: 900 })
    const csp = cspViolations(page)
    await firstLogin(page, c.base())
    await page.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 30_000 })
    await pick(page, 'resource:md')
    await page.click('#tab-mirror')
    await page.waitForSelector('#mirror-sides tr[data-node=n1][data-role=secondary]', { timeout: 15_000 })
    t.match(await page.textContent('#mirror-sides'), /n1.*secondary.*n2.*secondary/s, 'before: both copies secondary')
    await page.evaluate(() => {
      ;(window as unknown as { marker: number }).marker = 7
    })
    // What the tab shows, sampled while the first resync runs.
    const seen: Array<{ state: string | null; percent: string | null; text: string }> = []
    let sampling = true
    // `mccs mirror status` once while the resync runs (the sampler's closure fills it in).
    const during: { status: MirrorSides['local'] | null } = { status: null }
    const sampler = (async () => {
      while (sampling) {
        const s = await page
          .evaluate(() => ({
            state: document.querySelector('#mirror-state')?.getAttribute('data-state') ?? null,
            percent: document.querySelector('#mirror-sync')?.getAttribute('data-percent') ?? null,
            text: document.querySelector('#mirror-state')?.textContent ?? '',
          }))
          .catch(() => null)
        if (s && (seen.length === 0 || JSON.stringify(seen.at(-1)) !== JSON.stringify(s))) seen.push(s)
        if (s?.state === 'SyncSource' && !during.status) during.status = (await status().catch(() => undefined))?.local ?? null
        await new Promise((r) => setTimeout(r, 150))
      }
    })()

    // The operator's first start of a new volume: a forced promotion on n1, then the group online there.
    await rpc(sock(0), 'mirror', { op: 'primary', resource: 'md', force: true, user: 'test' }, 10_000)
    await until(
      async () =>
        (
          await rpc<{ reached?: boolean }>(
            sock(0),
            'command',
            { cmd: { type: 'groupOnline', group: 'db', node: 'n1', user: 'test' }, wait: true, timeoutMs: 60_000 },
            70_000,
          )
        ).reached === true || undefined,
      90_000,
      'db online on n1',
    )
    await page.waitForSelector('#mirror-state[data-state=Connected]', { timeout: 90_000 })
    sampling = false
    await sampler
    t.comment(JSON.stringify(seen))
    const syncing = seen.filter((s) => s.state === 'SyncSource' && s.percent !== null && s.percent !== '')
    t.ok(syncing.length > 0, 'SyncSource with a percent was shown while the first resync ran')
    t.match(syncing[0]?.text ?? '', /\d+ % copied at [\d.?]+ MiB\/s, [\d?]+ s left/, 'with rate and ETA')
    const percents = [...new Set(syncing.map((s) => Number(s.percent)))]
    t.ok(
      percents.length >= 3 && percents.every((p, i) => i === 0 || p > percents[i - 1]!),
      `the percent moved while shown, over several polls (${syncing.map((s) => s.percent).join(' → ')} %)`,
    )
    t.ok(during.status?.replication?.resync?.limitBps === RATE << 20, '`mccs mirror status` named the limit during the resync')
    const rate = during.status?.replication?.resync?.rateBps ?? 0
    t.comment(`rate in \`mccs mirror status\` during the resync: ${(rate / 1048576).toFixed(1)} MiB/s`)
    await page.waitForSelector('#mirror-sides tr[data-node=n2][data-role=secondary][data-disk=UpToDate]', { timeout: 15_000 })
    t.ok(await page.$('#mirror-sides tr[data-node=n1][data-role=primary][data-disk=UpToDate]'), 'n1: primary, UpToDate')
    const s1 = await status()
    t.equal(s1?.local.replication?.state, 'Connected', '`mccs mirror status` says the same')

    // The secondary's daemon dies: the primary goes on alone (Disconnected); the standby's monitor starts
    // it again, the partial resync runs, and it is Connected again — all shown without a reload.
    const pid = s1 && 'daemon' in s1.peer ? s1.peer.daemon.pid : null
    t.ok(pid, "n2's daemon pid")
    process.kill(pid!, 'SIGKILL')
    await page.waitForSelector('#mirror-state[data-state=Disconnected]', { timeout: 30_000 })
    t.pass('Disconnected shown after the secondary daemon was killed')
    await page.waitForSelector('#mirror-state[data-state=Connected]', { timeout: 60_000 })
    await page.waitForSelector('#mirror-sides tr[data-node=n2][data-disk=UpToDate]', { timeout: 30_000 })
    t.pass('Connected again once the standby restarted its daemon')
    t.equal(
      await page.evaluate(() => (window as unknown as { marker: number }).marker),
      7,
      'no page reload: the tab followed the live state',
    )
    // Take the group offline before the agents stop (unmount, detach: nothing left on the host).
    await rpc(sock(0), 'command', { cmd: { type: 'groupOffline', group: 'db', user: 'test' }, wait: true, timeoutMs: 60_000 }, 70_000)
    t.same(csp, [], 'no CSP violation')
  })
}
