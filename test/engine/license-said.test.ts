// A node's license reason inside "no automatic failover: …" keeps its words (issue 18, What 8): when the
// license state gave its reason in words (EngineInput.limitedSaid, core/license's said.lic.*), the notice
// that limited mode stopped a move reads in Korean to the end; in English exactly as the stored reason.
// Without words (an older peer, a license server's own text) the English reason stays inside.
import t from 'tap'
import { autoTarget } from '../../core/engine/license.js'
import { Draft } from '../../core/engine/draft.js'
import { indexConfig, type EngineInput } from '../../core/engine/config-index.js'
import { initialState } from '../../core/engine/align.js'
import { say } from '../../core/i18n/messages.js'

const input: EngineInput = {
  config: {
    generation: 1,
    types: {},
    groups: [{ name: 'app', nodes: ['n1', 'n2', 'n3'], failoverOnFailure: true, autoStart: true, autoFailback: false }],
    resources: [],
    dependencies: [],
  } as unknown as EngineInput['config'],
  types: {},
  nodes: ['n1', 'n2', 'n3'],
}
const gi = () => indexConfig(input).groups.get('app')!
const none = { reason: 'no license is installed', said: { id: 'said.lic.none' } }

t.test('a failover from a limited node: its reason in words', async (t) => {
  const d = new Draft(indexConfig(input), initialState(input), 0, { n1: none.reason }, { n1: none.said })
  const b = autoTarget(d, gi(), 'n1').blocked!
  t.equal(b.reason, 'no automatic failover: n1 is in limited mode (no license is installed)', 'the English as before')
  t.equal(say('en', b.said, '\u0000'), b.reason, 'its words in English: the stored reason')
  t.equal(say('ko', b.said, ''), '자동 페일오버 없음: 노드 n1가 제한 모드임 (설치된 라이선스 없음)', 'in Korean to the end')
})

t.test('every target limited: each node and its reason in words', async (t) => {
  const expired = { reason: 'expired at 2026-12-01T00:00:00Z', said: { id: 'said.lic.expired', params: { at: '2026-12-01T00:00:00Z' } } }
  const d = new Draft(
    indexConfig(input),
    initialState(input),
    0,
    { n2: none.reason, n3: expired.reason },
    { n2: none.said, n3: expired.said },
  )
  for (const [from, english, korean] of [
    [
      'n1',
      'no automatic failover: n2 is in limited mode (no license is installed); n3 is in limited mode (expired at 2026-12-01T00:00:00Z)',
      '자동 페일오버 없음: 노드 n2가 제한 모드임 (설치된 라이선스 없음); 노드 n3가 제한 모드임 (2026-12-01T00:00:00Z에 만료됨)',
    ],
  ] as const) {
    const target = autoTarget(d, gi(), from)
    t.equal(target.to, null, 'no target')
    const b = target.blocked!
    t.equal(b.reason, english)
    t.equal(say('en', b.said, '\u0000'), b.reason, 'English words: the stored reason')
    const ko = say('ko', b.said, '')
    t.ok(ko.startsWith(korean), ko)
    t.notMatch(ko, /limited mode|no license|expired at|\{\w+\}/, 'no English left, every parameter filled')
  }
})

t.test('a reason without words (an older peer) stays as written inside the Korean', async (t) => {
  const d = new Draft(indexConfig(input), initialState(input), 0, { n1: 'seat refused by the server' })
  const b = autoTarget(d, gi(), 'n1').blocked!
  t.equal(say('en', b.said, '\u0000'), b.reason)
  t.equal(say('ko', b.said, ''), '자동 페일오버 없음: 노드 n1가 제한 모드임 (seat refused by the server)')
})
