// Bench: time from a state change in the agent to the browser showing it. One real agent with the
// console, headless Chromium logged in and watching the tree. Each run takes a one-dummy group online
// or offline through the control socket (as the CLI does); the change's moment is the agent's log line
// of the finished action (ms timestamps, same clock as the browser on this machine), and the display's
// is when a MutationObserver sees the group's badge show the new state.
//   node --no-node-snapshot --import tsx scripts/bench/console.ts [runs]
import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { rpc } from '../../core/cli/control-client.js'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, pick } from '../../test/console/browser.js'

const runs = Number(process.argv[2] ?? 30)
const why = await browserUnavailable()
if (why) {
  console.log(JSON.stringify({ skipped: why }))
  process.exit(0)
}
const c = await startConsoleCluster({
  main: (nodes) => ({
    generation: 1,
    types: {},
    groups: [{ name: 'b', nodes, failoverOnFailure: true, autoStart: false, autoFailback: false }],
    resources: [{ name: 'bd', type: 'dummy', group: 'b', critical: true, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true }],
    dependencies: [],
  }),
})
const browser = await launch()
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!
}
try {
  const page = await newPage(browser)
  await firstLogin(page, c.base())
  await pick(page, 'group:b')
  await page.evaluate(() => {
    const w = window as unknown as { shown: Array<{ state: string; at: number }> }
    w.shown = []
    let last = ''
    new MutationObserver(() => {
      const s = document.querySelector('[data-key="group:b"] > .tree-row [data-state]')?.getAttribute('data-state') ?? ''
      if (s !== last) {
        last = s
        w.shown.push({ state: s, at: Date.now() })
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true })
  })
  const sock = path.join(c.nodes[0]!.home, 'state/mccs.sock')
  const logFile = path.join(c.nodes[0]!.home, 'logs/mccs.log')
  const fromChange: number[] = []
  const fromCommand: number[] = []
  for (let i = 0; i < runs; i++) {
    const target = i % 2 === 0 ? 'online' : 'offline'
    const sent = Date.now()
    await rpc(sock, 'command', { cmd: { type: target === 'online' ? 'groupOnline' : 'groupOffline', group: 'b', user: 'bench' } }, 10_000)
    const seen = await page
      .waitForFunction(
        (t: string) => {
          const w = window as unknown as { shown: Array<{ state: string; at: number }> }
          return w.shown.at(-1)?.state === t ? w.shown.at(-1)!.at : false
        },
        target,
        { timeout: 10_000, polling: 5 },
      )
      .then((h) => h.jsonValue() as Promise<number>)
    // The agent's record of the action that made the change (the last one for this resource).
    const lines = (await readFile(logFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => {
        try {
          return JSON.parse(l) as { time: string; msg: string }
        } catch {
          return null
        }
      })
    const done = lines.filter((l) => l && l.msg.startsWith(`${target} bd: done/ok`)).at(-1)
    if (!done) throw new Error(`no '${target} bd: done/ok' line in the agent's log`)
    fromChange.push(seen - Date.parse(done.time))
    fromCommand.push(seen - sent)
    await new Promise((r) => setTimeout(r, 150))
  }
  const result = {
    runs,
    medianMs: q(fromChange, 0.5),
    p95Ms: q(fromChange, 0.95),
    maxMs: Math.max(...fromChange),
    fromCommandMedianMs: q(fromCommand, 0.5),
    fromCommandP95Ms: q(fromCommand, 0.95),
  }
  console.error(
    `state change → browser: median ${result.medianMs} ms, p95 ${result.p95Ms} ms, max ${result.maxMs} ms; command → browser median ${result.fromCommandMedianMs} ms (${runs} runs)`,
  )
  console.log(JSON.stringify(result))
} finally {
  await browser.close()
  await c.stop()
}
