// "Why did it move?" in the console (issue 20, What 1), in headless Chromium against two real agents:
// the operator brings a group online on n1, where its resource cannot start; MCCS fails it over to n2.
// The group's Timeline tab then says, in plain words, that it moved away from n1 because svc faulted,
// that it runs on n2 and by which rule, and lists the events of both nodes in time order. The view
// follows the live state: it is open before the online and updates without a reload.
import t from 'tap'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, pick, cspViolations } from './browser.js'

const why = await browserUnavailable()
if (why) {
  t.test('the timeline view', { skip: why }, async () => {})
} else {
  t.test('after a fault failover, the Timeline tab names the cause and the nodes, events in order', async (t) => {
    const c = await startConsoleCluster({
      nodes: 2,
      main: (nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'app', nodes, failoverOnFailure: true, autoStart: false, autoFailback: false }],
        // svc cannot start on n1: the online there faults it, and MCCS fails the group over to n2.
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
    const page = await newPage(browser, { width: 1400, height: 900 })
    await firstLogin(page, c.base())
    await page.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 20_000 })
    await pick(page, 'group:app')
    await page.waitForSelector('#resource-state tr[data-resource=svc] td[data-node=n2] [data-state=offline]', { timeout: 20_000 })

    // Open the Timeline before anything happened: it is live, so it must follow what comes next.
    await page.click('#tab-timeline')
    await page.waitForSelector('#tl-why .tl-answer')
    t.match(await page.textContent('#tl-why'), /no successful online of app/, 'before: never brought online')
    await page.evaluate(() => {
      ;(window as unknown as { marker: number }).marker = 7
    })

    await page.click('#tb-online')
    await page.selectOption('#pick-node', 'n1')
    await page.click('#pick-node-ok')
    await page.waitForSelector('[data-key="group:app"] > .tree-row [data-state=online]', { timeout: 30_000 })
    t.match(await page.textContent('[data-key="group:app"] > .tree-row'), /online.*n2/s, 'the group failed over to n2')

    // The explanation on top, in plain words, without a reload.
    // Both answers: the group row turns online from the live status, and the timeline's entry of that online
    // can come a moment later (ci17, at load 20: read in between, "no successful online of app").
    await page.waitForFunction(
      () => {
        const why = document.querySelector('#tl-why')?.textContent ?? ''
        return /Why did it move/.test(why) && /Why is it here: app was brought online/.test(why)
      },
      undefined,
      { timeout: 15_000 },
    )
    t.equal(
      await page.evaluate(() => (window as unknown as { marker: number }).marker),
      7,
      'no page reload: the view followed the live state',
    )
    const answers = await page.$$eval('#tl-why li', (lis) => lis.map((li) => li.textContent ?? ''))
    t.comment(answers.join('\n'))
    t.match(
      answers.find((a) => a.startsWith('Why is it here')),
      /^Why is it here: app was brought online on n2 at /,
      'where it runs',
    )
    t.match(
      answers.find((a) => a.startsWith('Why did it move')),
      /^Why did it move: failover from n1 after svc faulted\.$/,
      'the cause and the node it left',
    )
    t.ok(
      answers.some((a) => /^svc faulted on n1: online failed: dummy told to fail online \(.*, seen by n\d\)\.$/.test(a)),
      'what svc said when it failed on n1',
    )
    t.ok(
      answers.some((a) => a === "placement rule: the first usable node of app's order (n1, n2) other than n1 is n2."),
      'the rule that chose n2',
    )

    // The events below, oldest first, with wall time, node, kind and text.
    const rows = await page.$$eval('#timeline tbody tr', (trs) =>
      trs.map((tr) => ({
        wall: tr.getAttribute('data-wall') ?? '',
        node: tr.getAttribute('data-node') ?? '',
        kind: tr.getAttribute('data-kind') ?? '',
        what: tr.getAttribute('data-what') ?? '',
        cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
      })),
    )
    t.ok(rows.length >= 6, `${rows.length} events listed`)
    t.same(
      rows.map((r) => r.wall),
      rows.map((r) => r.wall).sort(),
      'in time order',
    )
    t.ok(
      rows.every((r) => r.cells.length === 4 && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/.test(r.cells[0]!) && r.cells[1] === r.node),
      'each row: wall time to the ms, node, kind, text',
    )
    const idx = (f: (r: (typeof rows)[number]) => boolean, label: string) => {
      const i = rows.findIndex(f)
      t.ok(i >= 0, `listed: ${label}`)
      return i
    }
    const text = (r: (typeof rows)[number]) => r.cells[3] ?? ''
    const order = [
      idx((r) => r.what === 'groupOnline' && /operator mcuser: groupOnline app \(node n1\)/.test(text(r)), 'the operator’s online on n1'),
      idx((r) => r.kind === 'decision' && r.what === 'online' && /online svc on n1/.test(text(r)), 'the decision to start svc on n1'),
      idx((r) => r.what === 'onlineResult' && /online svc on n1: (done|failed)\/(failed|error)/.test(text(r)), 'its failure'),
      idx((r) => r.kind === 'notice' && r.what === 'groupFailover' && /failover from n1 after svc faulted/.test(text(r)), 'the failover'),
      idx((r) => r.kind === 'decision' && r.what === 'online' && /online svc on n2/.test(text(r)), 'the decision to start svc on n2'),
      idx((r) => r.what === 'onlineResult' && /online svc on n2: done\/ok/.test(text(r)), 'its success'),
    ]
    t.same(
      [...order].sort((a, b) => a - b),
      order,
      'command, decision, failure, failover, new decision, success — in that order',
    )
    t.match(text(rows[order[3]!]!), /placement rule: .* is n2/, 'the failover row names its rule')

    // What one read of the merged timeline costs here (both nodes asked), for the report.
    const took = await page.evaluate(async () => {
      const t0 = performance.now()
      const r = await fetch('/api/timeline?group=app', { credentials: 'same-origin' })
      const j = (await r.json()) as { total: number; missing: unknown[] }
      return { ms: performance.now() - t0, total: j.total, missing: j.missing.length }
    })
    t.equal(took.missing, 0, 'both nodes answered')
    t.comment(`GET /api/timeline?group=app: ${took.total} entries from 2 nodes in ${took.ms.toFixed(1)} ms`)

    // The cluster's Timeline explains every group (here one) the same way.
    await pick(page, 'cluster')
    await page.click('#tab-timeline')
    await page.waitForSelector('#tl-why .tl-explain[data-group=app]')
    t.match(await page.textContent('#tl-why .tl-explain[data-group=app]'), /Why did it move: failover from n1 after svc faulted/)
    t.same(cspViolations(page), [], 'nothing refused by the Content-Security-Policy')
  })
}
