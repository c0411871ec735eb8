// Issue 13, What 4: an action outcome carries its code as a field, not as a prefix in its text. An online
// this node refuses (no quorum, parked, diverged configuration) answers {code, reason}; the executor hands
// the code to the engine, whose notice and fault text name it as before (what `mccs status` shows is unchanged).
import t from 'tap'
import { LocalActions } from '../../core/agent/local-actions.js'
import { Executor, type ActionOutcome } from '../../core/executor/executor.js'
import { initialState, step, type EngineInput } from '../../core/engine/index.js'
import { resourceState } from '../../core/engine/state.js'
import type { Action } from '../../core/engine/plan.js'
import type { ActionResultEvent } from '../../core/engine/events.js'
import type { MainConfig, ResourceConfig } from '../../core/engine/model.js'
import type { Log } from '../../core/log/logger.js'
import type { PluginHost } from '../../core/plugins/host.js'

const res = (name: string): ResourceConfig => ({
  name,
  type: 'dummy',
  group: 'g1',
  critical: true,
  attrs: {},
  nodeAttrs: {},
  policy: {},
  monitored: true,
})
const config: MainConfig = {
  generation: 1,
  groups: [{ name: 'g1', nodes: ['n1', 'n2'], failoverOnFailure: false, autoStart: false, autoFailback: false }],
  resources: [res('a')],
  dependencies: [],
  types: {},
}
const input: EngineInput = { config, types: {}, nodes: ['n1', 'n2'] }
const quiet = { log: () => {} } as unknown as Log
const online: Action = { id: 'x1', kind: 'online', resource: 'a', group: 'g1', node: 'n1', timeoutMs: 1000 } as Action

function local(o: { quorum?: boolean; diverged?: string | null } = {}): LocalActions {
  return new LocalActions({
    node: 'n1',
    log: quiet,
    host: {} as PluginHost,
    input: () => input,
    report: () => {},
    quorumFresh: () => o.quorum ?? true,
    quorumWaitMs: 0, // refused at once (the wait is test/agent/online-quorum-wait.test.ts)
    diverged: () => o.diverged ?? null,
    monitorTickMs: 1000,
  })
}

t.test('a refused online answers a code and a reason, not a code inside the reason', async (t) => {
  const cases: Array<[string, LocalActions, string, RegExp]> = [
    ['no quorum', local({ quorum: false }), 'MCCS_ERR_NO_QUORUM', /quorum is no longer certain/],
    ['diverged', local({ diverged: "generation 4 differs from the cluster's" }), 'MCCS_ERR_CONFIG_DIVERGED', /generation 4 differs/],
  ]
  const parked = local()
  parked.park('node n1 is in standby')
  cases.push(['parked', parked, 'MCCS_ERR_NODE_UNAVAILABLE', /standby/])
  for (const [what, la, code, reason] of cases) {
    const o = (await la.run(online, new AbortController().signal)) as ActionOutcome & { code?: string }
    t.equal(o.code, code, `${what}: the code`)
    t.match(o.reason, reason, `${what}: the reason`)
    t.notMatch(o.reason, /MCCS_ERR_/, `${what}: no code in the text`)
    t.match(o, { status: 'done', answer: 'failed' })
  }
})

t.test('the executor passes the code on; the engine names it in the fault as before', async (t) => {
  const results: ActionResultEvent[] = []
  const ex = new Executor(
    (a) => local({ quorum: false }).run(a, new AbortController().signal),
    (ev) => {
      results.push(ev as ActionResultEvent)
    },
  )
  // The engine plans the online; its result (refused: no quorum) goes back through step().
  let state = initialState(input)
  let r = step(input, state, { type: 'start' }, 0)
  state = r.state
  for (const a of r.plan.actions)
    state = step(input, state, { type: 'actionResult', actionId: a.id, status: 'done', answer: 'notRunning', recoverable: true }, 0).state
  r = step(input, state, { type: 'groupOnline', group: 'g1', node: 'n1', user: 'u' }, 0)
  const on = r.plan.actions.find((a) => a.kind === 'online')!
  t.ok(on, 'an online is planned')
  ex.submit({ actions: [on], notices: [] })
  for (let i = 0; i < 100 && !results.length; i++) await new Promise((res) => setTimeout(res, 5))
  t.match(results[0], {
    type: 'actionResult',
    actionId: on.id,
    code: 'MCCS_ERR_NO_QUORUM',
    reason: 'quorum is no longer certain on this node',
  })
  const after = step(input, r.state, results[0]!, 0)
  const failed = after.plan.notices.find((n) => n.kind === 'actionFailed') as { reason?: string } | undefined
  t.equal(failed?.reason, 'online failed: MCCS_ERR_NO_QUORUM: quorum is no longer certain on this node', 'the notice text is as before')
  t.match(resourceState(after.state, 'a', 'n1'), { state: 'faulted' })
})
