// Random-fault seed 15: the coordinator started a resource while its membership was being re-checked for a
// moment (a peer fenced a few ms earlier); the online was refused at once for "quorum is no longer certain",
// which the engine reads as a resource fault, and the group moved. An online now waits (quorumWaitMs) for
// quorum to be confirmed and runs then; it is refused only if quorum stays uncertain, and a cancel ends the
// wait.
import t from 'tap'
import { LocalActions } from '../../core/agent/local-actions.js'
import type { EngineInput } from '../../core/engine/index.js'
import type { Action } from '../../core/engine/plan.js'
import type { MainConfig } from '../../core/engine/model.js'
import type { Log } from '../../core/log/logger.js'
import type { PluginHost } from '../../core/plugins/host.js'

const config = {
  generation: 1,
  groups: [{ name: 'g1', nodes: ['n1', 'n2'], failoverOnFailure: false, autoStart: false, autoFailback: false }],
  resources: [{ name: 'a', type: 'dummy', group: 'g1', critical: true, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true }],
  dependencies: [],
  types: {},
} as unknown as MainConfig
const input: EngineInput = { config, types: {}, nodes: ['n1', 'n2'] }
const quiet = { log: () => {} } as unknown as Log
const online: Action = { id: 'x1', kind: 'online', resource: 'a', group: 'g1', node: 'n1', timeoutMs: 1000 } as Action

function local(fresh: () => boolean, calls: string[]): LocalActions {
  const host = {
    call: async (_type: string, hook: string) => {
      calls.push(hook)
      return { status: 'done', answer: 'ok', recoverable: true, durationMs: 1 }
    },
  } as unknown as PluginHost
  return new LocalActions({
    node: 'n1',
    log: quiet,
    host,
    input: () => input,
    report: () => {},
    quorumFresh: fresh,
    quorumWaitMs: 500,
    diverged: () => null,
    monitorTickMs: 1000,
  })
}

t.test('quorum confirmed 150 ms later: the online runs', async (t) => {
  const calls: string[] = []
  const t0 = Date.now()
  const out = await local(() => Date.now() - t0 > 150, calls).run(online, new AbortController().signal)
  t.equal(out.answer, 'ok', 'the resource started')
  t.same(calls, ['online'], 'the hook ran once')
  t.ok(Date.now() - t0 >= 150, 'after quorum was confirmed')
})

t.test('quorum never confirmed within the wait: refused with the code, the hook never ran', async (t) => {
  const calls: string[] = []
  const t0 = Date.now()
  const out = await local(() => false, calls).run(online, new AbortController().signal)
  t.equal(out.code, 'MCCS_ERR_NO_QUORUM')
  t.same(calls, [], 'nothing started')
  t.ok(Date.now() - t0 >= 500, `refused after the wait (${Date.now() - t0} ms)`)
})

t.test('cancelled while waiting (quorum lost: the role self-fences): refused at once, nothing started', async (t) => {
  const calls: string[] = []
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 50)
  const t0 = Date.now()
  const out = await local(() => false, calls).run(online, ac.signal)
  t.equal(out.code, 'MCCS_ERR_NO_QUORUM')
  t.same(calls, [])
  t.ok(Date.now() - t0 < 400, `ended by the cancel (${Date.now() - t0} ms)`)
})
