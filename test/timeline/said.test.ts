// The timeline's entries keep their words (core/engine/said.ts): every entry written with a key and parameters
// reads, in English, exactly as its stored text (what older readers and the log show), and in Korean with every
// parameter filled. Every scenario of test/scenarios is stepped through a real Timeline file and read back.
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path, { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadScenarios, runScenario } from '../engine/scenario-lib.js'
import { Timeline } from '../../core/log/timeline.js'
import { readTimeline } from '../../core/log/timeline-read.js'
import { say } from '../../core/i18n/messages.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios')

t.test("a timeline entry's words read in English as its text, and in Korean filled", async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-said-tl-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'timeline.jsonl')
  const tl = new Timeline(file, 'n1')
  for (const { file: f } of loadScenarios(root)) {
    const res = runScenario(f)
    for (const s of res.steps) tl.step(s.event, { state: res.state, plan: s.plan })
  }
  tl.view({ coordinator: 'n1', partition: ['n1'], quorate: false, reason: 'no majority' })
  await tl.close()
  const entries = await readTimeline(file)
  const said = entries.filter((e) => e.said)
  const byWhat = new Set(entries.filter((e) => e.said).map((e) => `${e.kind}:${e.what}`))
  t.ok(said.length > entries.length * 0.8, `${said.length} of ${entries.length} entries have their words (${byWhat.size} kinds)`)
  for (const kind of ['decision:fence', 'decision:online', 'notice:groupFailover', 'view:nodeChange', 'input:monitorResult', 'view:view'])
    t.ok(byWhat.has(kind), `${kind} entries have words`)
  const wrong = said.filter((e) => say('en', e.said, '\u0000') !== e.text).map((e) => `${e.text} ≠ ${say('en', e.said, '?')}`)
  t.same([...new Set(wrong)].slice(0, 10), [], 'the English of the words is the stored text')
  const unfilled = said.map((e) => say('ko', e.said, '\u0000')).filter((x) => x === '\u0000' || /\{\w+\}/.test(x))
  t.same(unfilled.slice(0, 10), [], 'every Korean text found and filled')
  const quorum = entries.find((e) => e.what === 'view' && !e.data?.quorate)!
  t.equal(
    say('ko', quorum.said, ''),
    '뷰: n1; 코디네이터 n1; 쿼럼 없음 (no majority)',
    "a lost quorum in Korean (the cluster's reason as it gave it)",
  )
})
