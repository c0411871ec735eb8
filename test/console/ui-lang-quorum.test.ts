// Why there is no quorum, in the reader's language (issue 18, What 8): the cluster layer's reason (core/cluster
// membership and view: said.q.*) reaches a Korean operator in Korean — the console's no-quorum banner and its
// Quorum state tab, `mccs status --lang ko` — and reads exactly as before in English and in --json.
// One agent of a two-node cluster whose peer never starts: one vote of two, no quorum server, no quorum.
import t from 'tap'
import { spawn } from 'node:child_process'
import path from 'node:path'
import os from 'node:os'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createClusterKey } from '../../core/cluster/cluster-key.js'
import { packageRoot } from '../../core/paths.js'
import { say } from '../../core/i18n/messages.js'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, pick, type ConsoleNode } from './browser.js'

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
  t.test('the quorum reason in Korean', { skip: why }, async () => {})
} else {
  t.test('no quorum, and why, in Korean in the console and the CLI; English as before', async (t) => {
    const setup = { language: 'ko', mode: 'cluster', at: new Date().toISOString() }
    // The cluster key a node of two needs (startConsoleCluster writes one only for two running nodes).
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-key-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    await createClusterKey(path.join(dir, 'cluster.key'))
    const c = await startConsoleCluster({
      nodes: 1,
      files: { 'config/setup.json': JSON.stringify(setup), 'config/cluster.key': await readFile(path.join(dir, 'cluster.key')) },
      // A second node that never runs: its address is a loopback address nobody listens on.
      hb: (hb) => {
        const nodes = hb.nodes as Array<{ name: string; addresses: Record<string, string> }>
        const other = nodes[0]!.addresses.lo!.replace(/\.\d+$/, '.2')
        return { ...hb, nodes: [...nodes, { name: 'n2', addresses: { lo: other } }] }
      },
    })
    t.teardown(() => c.stop(t))
    const n1 = c.nodes[0]!

    // The CLI first: the stored English, its words, and both renderings.
    type Js = { membership: { quorate: boolean; quorum: { reason: string; said?: { id: string } } } }
    let js: Js | undefined
    const end = Date.now() + 20_000
    while (Date.now() < end) {
      const r = await mccs(n1, ['status', '--json'])
      if (r.code === 0) {
        js = JSON.parse(r.out) as Js
        if (js.membership?.quorum?.said && js.membership.quorum.reason !== 'starting') break
      }
      await new Promise((r) => setTimeout(r, 300))
    }
    const q = js!.membership.quorum
    t.equal(js!.membership.quorate, false, 'no quorum')
    t.match(q.reason, /1 of 2 votes/, `--json keeps the English reason: ${q.reason}`)
    t.match(q.said?.id, /^said\.q\./, 'and its words beside it')
    t.equal(say('en', q.said, '\u0000'), q.reason, 'the words read in English exactly as the reason')
    const koReason = say('ko', q.said, '')
    t.match(koReason, /투표 2표 중 1표/, `in Korean: ${koReason}`)

    const ko = await mccs(n1, ['status', '--lang', 'ko'])
    t.equal(ko.code, 0, ko.err)
    t.match(ko.out, /\n {2}쿼럼 없음: .*투표 2표 중 1표/, 'mccs status --lang ko: why, in Korean')
    t.notMatch(ko.out, /votes|quorum server|view change/, 'no English reason left')
    const en = await mccs(n1, ['status', '--lang', 'en'])
    t.match(en.out, /\n {2}no quorum: .*1 of 2 votes/, 'mccs status --lang en: the English reason')

    // The console in Korean: the banner and the Quorum state tab.
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser, { width: 1280, height: 800 })
    await firstLogin(page, c.base())
    t.equal(await page.getAttribute('html', 'lang'), 'ko')
    const banner = page.locator('#event-banner [data-kind=noQuorum]').first()
    await banner.waitFor({ timeout: 20_000 })
    const text = (await banner.textContent()) ?? ''
    t.match(text, /쿼럼 없음\(투표 1\/2\): .* — .*투표 2표 중 1표/, `the banner says why in Korean: ${text}`)
    t.notMatch(text, /votes|quorum server|view change|minority|tie/, 'no English left in the banner')
    await pick(page, 'cluster')
    await page.click('#tab-quorum')
    await page.waitForFunction(() => [...document.querySelectorAll('#tabpanel dl.kv dt')].some((d) => d.textContent === '이유'))
    const reason = await page.$$eval(
      '#tabpanel dl.kv dt',
      (dts) => dts.find((d) => d.textContent === '이유')?.nextElementSibling?.textContent ?? null,
    )
    t.match(reason, /투표 2표 중 1표/, `the Quorum state tab: why, in Korean: ${reason}`)
  })
}
