// The engine's words (core/engine/said.ts): every notice it writes in its own words carries a message key and
// parameters whose English text, from core/i18n/en.json, is exactly the English reason it stores (logs, JSON
// and older readers keep reading that), and whose Korean text has every parameter filled. Run over every
// scenario of test/scenarios, which between them fault, fail over, fence and hit limited mode.
import t from 'tap'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadScenarios, runScenario } from './scenario-lib.js'
import { say } from '../../core/i18n/messages.js'
import type { Notice } from '../../core/engine/index.js'
import { codeWord } from '../../core/engine/said.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios')

t.test('each notice said in words reads, in English, exactly as its stored reason', async (t) => {
  const notices: Notice[] = []
  const faults: Array<{ lastFault: string | null; lastFaultSaid?: Notice['said'] }> = []
  for (const { file } of loadScenarios(root)) {
    const res = runScenario(file)
    for (const s of res.steps) notices.push(...s.plan.notices)
    for (const g of Object.values(res.state.groups))
      for (const byNode of Object.values(g.resources)) for (const rs of Object.values(byNode)) if (rs.lastFault) faults.push(rs)
  }
  const said = notices.filter((n) => n.said)
  const keys = new Set(said.map((n) => n.said!.id))
  t.ok(keys.size >= 15, `the scenarios meet ${keys.size} different keys in ${said.length} of ${notices.length} notices`)
  const wrong = said
    .filter((n) => say('en', n.said, '\u0000') !== n.reason)
    .map((n) => `${n.said!.id}: ${say('en', n.said, '?')} ≠ ${n.reason}`)
  t.same([...new Set(wrong)], [], 'the English text of the key is the stored reason')
  const unfilled = said.map((n) => say('ko', n.said, '\u0000')).filter((x) => x === '\u0000' || /\{\w+\}/.test(x))
  t.same(unfilled, [], 'every Korean text is found and filled')
  // What an operator sees most: faults, failovers and fences are said in words.
  for (const kind of ['groupFailover', 'needsFence', 'nodeFenced', 'restart'] as const) {
    const of = notices.filter((n) => n.kind === kind)
    t.ok(of.length && of.every((n) => n.said), `every ${kind} notice (${of.length}) has its words`)
  }
  const faultWords = faults.filter((f) => f.lastFaultSaid)
  t.ok(faultWords.length > 0, `faults the engine words itself keep their words (${faultWords.length} of ${faults.length})`)
  t.same(
    faultWords.filter((f) => say('en', f.lastFaultSaid, '\u0000') !== f.lastFault).map((f) => f.lastFault),
    [],
    "a fault's words read, in English, as its stored reason",
  )
})

t.test('a record without words, or with a key this version lacks, reads as stored', async (t) => {
  t.equal(say('ko', undefined, 'old English'), 'old English')
  t.equal(say('ko', { id: 'said.noSuchKey' }, 'old English'), 'old English')
  t.equal(say('ko', { id: 'said.onlineFailed', params: { why: { id: 'said.nope' } } }, 'old English'), 'old English')
  t.equal(say('ko', { id: 'said.onlineFailed', params: { why: 'exit 3' } }, 'x'), '온라인 실패: exit 3')
  t.equal(
    say('ko', { id: 'said.onlineFailed', params: { why: { id: 'said.monitorTimeouts', params: { n: 3 } } } }, 'x'),
    '온라인 실패: 모니터 시간 초과 3회 연속',
    'a reason inside a reason is rendered too',
  )
})

t.test('every answer, execution status and action kind has its word in each locale', async (t) => {
  const codes = {
    answer: ['ok', 'notRunning', 'invalid', 'degraded', 'failed', 'unknown'],
    status: ['done', 'timeout', 'memoryExceeded', 'crashed', 'notSupported', 'cancelled'],
    action: ['online', 'offline', 'monitor', 'clean', 'probe', 'cancel', 'fence'],
  } as const
  for (const [of, list] of Object.entries(codes))
    for (const c of list) {
      t.equal(say('en', codeWord(of as keyof typeof codes, c), '\u0000'), c, `${of} ${c} reads as itself in English`)
      t.not(say('ko', codeWord(of as keyof typeof codes, c), '\u0000'), '\u0000', `${of} ${c} has a Korean word`)
    }
})
