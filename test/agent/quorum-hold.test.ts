// Issue 14, finding 1: an event that arrives while the agent re-checks quorum is never dropped. The
// coordinator of a real cluster-mode agent (n1 holds every vote; n2 has none and never answers) runs a
// slow online; while it runs, quorum is made "not certain" (Role.quorumFresh() false, as after a pause
// or while a lost member is being re-decided). The action's result arrives meanwhile: it must wait, in
// order, and be applied once quorum is confirmed — before the fix it was logged as "engine step skipped"
// and the group stayed "onlining, 1 action running" for good. An operator command sent meanwhile waits
// too and is answered once applied.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeHome, until, sleep, jsonLines, type AgentHome } from './agent-home.js'
import { createClusterKey } from '../../core/cluster/cluster-key.js'
import type { Role } from '../../core/cluster/role.js'
import type { Agent } from '../../core/agent/agent.js'
import type { MainConfig } from '../../core/engine/model.js'

t.setTimeout(120_000)

const MAIN: Omit<MainConfig, 'generation'> = {
  types: {},
  groups: [
    { name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false },
    { name: 'h', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false },
  ],
  resources: [
    {
      name: 'slow',
      type: 'dummy',
      group: 'g',
      critical: true,
      monitored: true,
      attrs: { online: 'slow', delayMs: 1500 },
      nodeAttrs: {},
      policy: { monitorIntervalS: 1 },
    },
    {
      name: 'quick',
      type: 'dummy',
      group: 'h',
      critical: true,
      monitored: true,
      attrs: {},
      nodeAttrs: {},
      policy: { monitorIntervalS: 1 },
    },
  ],
  dependencies: [],
}

let h: AgentHome
t.before(async () => {
  h = await makeHome(MAIN, { nodes: ['n1', 'n2'] })
  const hbFile = path.join(h.b.configDir, 'hb.json')
  const hb = JSON.parse(await readFile(hbFile, 'utf8')) as { port?: number; nodes: Array<{ name: string; votes?: number }> }
  // A port of its own (other tests run agents at the same time); n2 holds no vote, so n1 alone is quorate.
  hb.port = 20_000 + Math.floor(Math.random() * 20_000)
  for (const n of hb.nodes) n.votes = n.name === 'n1' ? 1 : 0
  await writeFile(hbFile, JSON.stringify(hb, null, 2))
  await createClusterKey(path.join(h.b.configDir, 'cluster.key'))
  await h.start()
})
t.teardown(async () => {
  await h?.cleanup()
})

const agent = (): Agent => h.running!.agent
const role = (): Role => (agent() as unknown as { role: Role }).role
const groupOn = (g: string) => agent().engineState().groups[g]?.nodes['n1']
const pending = (g: string) => Object.keys(agent().engineState().groups[g]?.pending ?? {}).length

t.test('an action result that arrives while quorum is re-checked is applied once quorum is confirmed', async (t) => {
  // n2 is never heard: the role settles after its wait for all (10 s), then n1 coordinates alone.
  await until(() => role().isCoordinator(), 30_000, 50, 'n1 coordinator')
  // Probed offline and idle: a command while the start's probes are still pending is refused as busy.
  await until(
    () => groupOn('g') === 'offline' && groupOn('h') === 'offline' && pending('g') === 0 && pending('h') === 0,
    20_000,
    50,
    'groups probed offline',
  )

  const on = await agent().command({ type: 'groupOnline', group: 'g', user: 'test' })
  t.equal(on.outcome.status, 'accepted')
  await until(() => groupOn('g') === 'onlining', 5000, 10, 'g onlining')
  // Quorum becomes uncertain while the online runs; its result (after 1.5 s) arrives in that window.
  const r = role()
  let fresh = false
  const real = r.quorumFresh.bind(r)
  r.quorumFresh = () => fresh && real()
  t.teardown(() => {
    r.quorumFresh = real
  })
  await sleep(2000)
  t.equal(groupOn('g'), 'onlining', 'nothing is applied while quorum is not certain')
  t.equal(pending('g'), 1, 'the online is still awaited by the engine')
  // An operator command sent meanwhile waits in order behind the held events.
  const cmd = agent().command({ type: 'groupOnline', group: 'h', user: 'test' })
  let answered = false
  void cmd.then(() => {
    answered = true
  })
  await sleep(300)
  t.equal(answered, false, 'the command is not answered while quorum is re-checked')

  fresh = true // quorum confirmed
  await until(() => groupOn('g') === 'online', 5000, 10, 'g online').catch((e: Error) =>
    t.fail(`${e.message}: g is ${groupOn('g')}, ${pending('g')} action(s) pending`),
  )
  t.equal(groupOn('g'), 'online', 'the held result was applied: g is online')
  t.equal(pending('g'), 0, 'no action left pending')
  const reply = await cmd
  t.equal(reply.outcome.status, 'accepted', 'the held command was applied and answered')
  await until(() => groupOn('h') === 'online', 5000, 10, 'h online')

  await h.running!.agent.log.flush?.()
  const log = jsonLines<{ msg: string; event?: string }>(await readFile(path.join(h.b.logDir, 'mccs.log'), 'utf8'))
  t.same(
    log.filter((l) => /engine step skipped/.test(l.msg)),
    [],
    'no event was skipped',
  )
  t.ok(
    log.some((l) => /held while quorum is re-checked/.test(l.msg)),
    'the wait is logged',
  )
})

t.test('if quorum is lost instead, what waited goes to the self-fence path: a waiting command is answered "no quorum"', async (t) => {
  const r = role()
  const real = r.quorumFresh.bind(r)
  r.quorumFresh = () => false
  t.teardown(() => {
    r.quorumFresh = real
  })
  const cmd = agent().command({ type: 'groupOffline', group: 'h', user: 'test' })
  await sleep(200)
  // What the role does when its partition is no longer quorate.
  await (agent() as unknown as { selfFence(reason: string): Promise<void> }).selfFence('test: quorum lost')
  const reply = await cmd
  t.match(reply.outcome, { status: 'rejected', code: 'MCCS_ERR_NO_QUORUM' }, 'the waiting command is rejected, not lost')
  const log = jsonLines<{ msg: string }>(await readFile(path.join(h.b.logDir, 'mccs.log'), 'utf8'))
  t.ok(
    log.some((l) => /held engine event\(s\) not applied here: self-fencing/.test(l.msg)),
    'the release is logged',
  )
  t.ok(
    log.some((l) => /self-fenced: local resources taken offline/.test(l.msg)),
    'local resources were taken offline',
  )
})
