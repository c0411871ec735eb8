// What the agent says in words reaches a Korean operator in Korean (issue 18, What 8; docs/i18n.md): after a
// real fault — svc cannot start on n1, so the group's online there faults it and MCCS fails the group over to
// n2 — the console's banner says the failover and the fault in Korean, the resource's fault reason reads in
// Korean (the plugin's own words stay as it wrote them), and `mccs status --lang ko` / `mccs explain --lang ko`
// on the same agents say the same. The same records read in English for an English reader.
import t from 'tap'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu, pick, type ConsoleNode } from './browser.js'

/** The mccs command as the node's operator runs it (the agent's home, its language flag). */
function mccs(node: ConsoleNode, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--no-node-snapshot', path.join(packageRoot(), 'dist/mccs.js'), ...args], { env: node.env })
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    p.on('close', (code) => resolve({ code, out, err }))
  })
}

const why = await browserUnavailable()
if (why) {
  t.test('Korean fault and failover words', { skip: why }, async () => {})
} else {
  t.test('a fault and its failover, in Korean in the console and the CLI', async (t) => {
    const setup = { language: 'ko', mode: 'cluster', at: new Date().toISOString() }
    const c = await startConsoleCluster({
      nodes: 2,
      files: { 'config/setup.json': JSON.stringify(setup) },
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
            policy: { restartLimit: 0, onlineRetryLimit: 0 },
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
    t.equal(await page.getAttribute('html', 'lang'), 'ko', 'the console speaks the product language, Korean')
    await page.waitForSelector('[data-key="node:n2"] [data-state=up]', { timeout: 20_000 })
    await pick(page, 'group:app')
    await page.waitForSelector('#resource-state tr[data-resource=svc] td[data-node=n2] [data-state=offline]', { timeout: 20_000 })
    await page.click('#tb-online')
    await page.selectOption('#pick-node', 'n1')
    await page.click('#pick-node-ok')
    await page.waitForSelector('[data-key="group:app"] > .tree-row [data-state=online]', { timeout: 30_000 })

    // The banner: the failover's reason and the fault's, in Korean.
    const failover = page.locator('#event-banner [data-kind=groupFailover]').first()
    await failover.waitFor({ timeout: 10_000 })
    t.match(await failover.textContent(), /페일오버 .*: svc 장애로 노드 n1에서 페일오버✕?$/, 'the failover line says why in Korean')
    const fault = page.locator('#event-banner [data-kind=resourceFaulted]').first()
    t.match(
      await fault.textContent(),
      /: 온라인 실패: dummy told to fail online✕?$/,
      "the fault line: the engine's words in Korean, the plugin's own reason as it wrote it",
    )
    t.notMatch(await page.textContent('#event-banner'), /failover from|online failed/, 'no English the agent wrote is left in the banner')
    // The resource's fault reason where the state is shown.
    const cell = page.locator('#resource-state tr[data-resource=svc] td[data-node=n1] .fault')
    await cell.waitFor()
    t.equal((await cell.textContent())?.trim(), '온라인 실패: dummy told to fail online', "the resource's fault reason in Korean")

    // The operation log: the command's final result, with what happened on the way, in Korean.
    await menu(page, 'action', 'oplog')
    const op = page.locator('#oplog tbody tr[data-op=groupOnline][data-target=app][data-result=done] .op-result')
    await op.waitFor({ timeout: 30_000 })
    t.match(
      await op.textContent(),
      /노드 n2에서 온라인 \(그 전에: 온라인 실패: dummy told to fail online/,
      "the operation log's record in Korean",
    )
    await page.keyboard.press('Escape')

    // The CLI on the same agents, in Korean; the stored English is unchanged (the JSON and the English reader).
    const st = await mccs(c.nodes[0]!, ['status', '--lang', 'ko'])
    t.equal(st.code, 0, st.err)
    t.match(st.out, /n1: 온라인 실패: dummy told to fail online/, 'mccs status: the fault reason in Korean')
    const ex = await mccs(c.nodes[0]!, ['explain', 'app', '--lang', 'ko'])
    t.equal(ex.code, 0, ex.err)
    t.match(ex.out, /알림 svc 장애로 노드 n1에서 페일오버/, 'mccs explain: the failover entry in Korean')
    t.match(ex.out, /왜 옮겨졌는가: svc 장애로 노드 n1에서 페일오버\./, "mccs explain: why it moved, in the agent's words, in Korean")
    const en = await mccs(c.nodes[0]!, ['status', '--lang', 'en'])
    t.match(en.out, /n1: online failed: dummy told to fail online/, 'mccs status --lang en: the stored English')
    const js = JSON.parse((await mccs(c.nodes[0]!, ['status', '--json'])).out) as {
      groups: Array<{ resources: Array<{ nodes: Record<string, { fault: string | null; faultSaid?: { id: string } }> }> }>
    }
    const n1 = js.groups[0]!.resources[0]!.nodes.n1!
    t.equal(n1.fault, 'online failed: dummy told to fail online', '--json keeps the English fault')
    t.equal(n1.faultSaid?.id, 'said.onlineFailed', 'and its words beside it')
  })
}
