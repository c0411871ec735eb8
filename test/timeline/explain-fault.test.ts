// The explanation after a fault failover (core/log/timeline-explain.ts, shared by `mccs explain` and the
// console): it names the resource that faulted, the node it left and what the resource said there; a
// fault that was repaired on that node (a later successful online there) is not given as the cause.
import t from 'tap'
import path from 'node:path'
import os from 'node:os'
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises'
import { initialState, step, type EngineInput, type EngineState, type Action } from '../../core/engine/index.js'
import type { MainConfig } from '../../core/engine/model.js'
import { Timeline, TIMELINE_FILE } from '../../core/log/timeline.js'
import { readTimeline } from '../../core/log/timeline-read.js'
import { explainGroup } from '../../core/log/timeline-explain.js'
import { explainCommand } from '../../core/cli/explain-cmd.js'
import type { Bootstrap } from '../../core/config/bootstrap.js'

const config: MainConfig = {
  generation: 1,
  groups: [{ name: 'web', nodes: ['n1', 'n2', 'n3'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
  resources: [{ name: 'ip', type: 'ip', group: 'web', critical: true, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true }],
  dependencies: [],
  types: {},
}
const input: EngineInput = { config, types: { ip: { monitorIntervalS: 5, offlineMonitorIntervalS: 50 } }, nodes: ['n1', 'n2', 'n3'] }

/** The real engine, each step into the timeline as the agent writes it; every action answered ok (probes: notRunning). */
function drive(tl: Timeline, state: EngineState, ev: Parameters<typeof step>[2]): EngineState {
  let r = step(input, state, ev, 0)
  tl.step(ev, r)
  const queue: Action[] = [...r.plan.actions]
  while (queue.length) {
    const a = queue.shift()!
    if (a.kind === 'cancel') continue
    const e = {
      type: 'actionResult' as const,
      actionId: a.id,
      status: 'done' as const,
      answer: a.kind === 'probe' ? ('notRunning' as const) : ('ok' as const),
      recoverable: true,
    }
    r = step(input, r.state, e, 0)
    tl.step(e, r)
    queue.push(...r.plan.actions)
  }
  return r.state
}

const monitorFailed = (node: string) =>
  ({
    type: 'monitorResult',
    resource: 'ip',
    node,
    status: 'done',
    answer: 'failed',
    recoverable: true,
    reason: 'address gone from eth0',
  }) as const

t.test('a fault failover: the cause, the node left, what the resource said, the rule — mccs explain prints it', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-tlf-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const b = { home: dir, configDir: path.join(dir, 'config'), logDir: path.join(dir, 'logs'), nodeName: 'n1' } as Bootstrap
  await mkdir(b.configDir, { recursive: true })
  await mkdir(b.logDir, { recursive: true })
  await writeFile(path.join(b.configDir, 'main.json'), JSON.stringify(config))
  const tl = new Timeline(path.join(b.logDir, TIMELINE_FILE), 'n1')
  let st = initialState(input)
  st = drive(tl, st, { type: 'start' })
  st = drive(tl, st, { type: 'groupOnline', group: 'web', node: 'n1', user: 'ops' })
  t.equal(st.groups.web!.activeNode, 'n1')
  st = drive(tl, st, monitorFailed('n1'))
  t.equal(st.groups.web!.activeNode, 'n2', 'the engine failed web over to n2')
  await tl.close()

  const x = explainGroup(config.groups[0]!, ['ip'], await readTimeline(path.join(b.logDir, TIMELINE_FILE)))
  t.match(x.summary[0], /^Why is it here: web was brought online on n2 at /)
  t.equal(x.summary[1], 'Why did it move: failover from n1 after ip faulted.')
  t.match(x.summary[2], /^ {2}ip faulted on n1: address gone from eth0 \(\d{4}-.*Z, seen by n1\)\.$/, 'what the resource said on n1')
  t.equal(x.summary[3], "  placement rule: the first usable node of web's order (n1, n2, n3) other than n1 is n2.")

  const out: string[] = []
  t.equal(await explainCommand(['web'], { out: (s) => out.push(s), err: (s) => out.push(s) }, b, async () => null), 0)
  t.match(
    out.join('\n'),
    /Why did it move: failover from n1 after ip faulted\.\n {2}ip faulted on n1: address gone from eth0/,
    'mccs explain says it too',
  )
})

t.test('a fault repaired where it happened is not named as the cause of a later move', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-tlf-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const tl = new Timeline(path.join(dir, TIMELINE_FILE), 'n1')
  let st = initialState(input)
  st = drive(tl, st, { type: 'start' })
  st = drive(tl, st, { type: 'groupOnline', group: 'web', node: 'n1', user: 'ops' })
  st = drive(tl, st, monitorFailed('n1')) // to n2
  st = drive(tl, st, { type: 'groupClear', group: 'web', node: 'n1', user: 'ops' } as Parameters<typeof step>[2])
  st = drive(tl, st, { type: 'groupSwitch', group: 'web', to: 'n1', user: 'ops' } as Parameters<typeof step>[2]) // back, started fine on n1
  t.equal(st.groups.web!.activeNode, 'n1', 'switched back to n1')
  st = drive(tl, st, { type: 'nodeChange', node: 'n1', membership: 'down' }) // n1 lost: web moves on
  t.equal(st.groups.web!.activeNode, 'n2', 'web moved off the lost n1')
  await tl.close()
  const x = explainGroup(config.groups[0]!, ['ip'], await readTimeline(path.join(dir, TIMELINE_FILE)))
  t.ok(
    [...x.rules.values()].includes("placed on n1 by the operator's command (operator ops: groupSwitch web (node n1))"),
    'the switch back is told as the operator’s placement',
  )
  const text = x.summary.join('\n')
  t.match(text, /Why did it move: failover from lost node n1\./)
  t.notMatch(text, /ip faulted on n1/, 'the old fault on n1 is not the cause: ip started there again since')
})
