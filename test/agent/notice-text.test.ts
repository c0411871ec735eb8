// The words of a nodeFenced notice (issue 14): a node the agent declared to run nothing (it left) is marked
// fenced without a fence, and says so; a node that came back and was then really fenced must not read "no
// fence needed" although the agent's park reason for it may still be the old "left". The last session's
// notes found that wrong text after a rejoined node was fenced. Real engine steps; the agent's rule on top.
import t from 'tap'
import { step, initialState, type EngineInput, type EngineEvent, type Notice, type Action } from '../../core/engine/index.js'
import { noticeText } from '../../core/agent/notice-text.js'
import { say } from '../../core/i18n/messages.js'

const input: EngineInput = {
  nodes: ['n1', 'n2'],
  types: {},
  config: {
    generation: 1,
    types: {},
    dependencies: [],
    groups: [{ name: 'g', nodes: ['n1', 'n2'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
    resources: [{ name: 'r', type: 'dummy', group: 'g', critical: true, monitored: true, policy: {}, attrs: {}, nodeAttrs: {} }],
  },
}

t.test('declared to run nothing vs really fenced', async (t) => {
  const parked = new Map([['n2', 'left' as const]])
  let state = step(input, initialState(input), { type: 'start' }, 1).state
  const words = (ev: EngineEvent, now: number): { notices: Notice[]; actions: Action[] } => {
    const r = step(input, state, ev, now)
    state = r.state
    return { notices: r.plan.notices.map((n) => noticeText(n, ev, parked)), actions: r.plan.actions as Action[] }
  }
  // The leave: the agent declares n2 fenced (it runs nothing).
  const declared = words({ type: 'nodeChange', node: 'n2', membership: 'fenced' }, 2).notices.find((n) => n.kind === 'nodeFenced')
  t.equal(declared?.reason, 'n2 runs nothing (it left the cluster): no fence needed')
  // Its words say the same (not the engine's "n2 fenced"), in English as stored, and in Korean.
  t.equal(say('en', declared?.said, '\u0000'), declared?.reason)
  t.equal(say('ko', declared?.said, ''), '노드 n2는 아무것도 실행하지 않음(클러스터를 떠남): 펜싱 필요 없음')
  // Back, then lost: the engine asks for a real fence; its success is a fence, whatever the stale park says.
  words({ type: 'nodeChange', node: 'n2', membership: 'up' }, 3)
  const fence = words({ type: 'nodeChange', node: 'n2', membership: 'down' }, 4).actions.find((a) => a.kind === 'fence')
  t.ok(fence, 'a fence of n2 is planned')
  const done = words({ type: 'actionResult', actionId: fence!.id, status: 'done', answer: 'ok', recoverable: true }, 5).notices
  const fenced = done.find((n) => n.kind === 'nodeFenced')
  t.ok(fenced, 'the fence result is a nodeFenced notice')
  t.notMatch(fenced!.reason, /no fence needed|runs nothing/, `a real fence reads as one: "${fenced!.reason}"`)
  t.equal(say('ko', fenced!.said, ''), '노드 n2 펜싱됨', 'and its words too')
})
