// The event timeline (core/log/timeline.ts) and mccs explain: a node lost, its fence and the failover
// told in order with the placement rule; a decision on disk before its online starts (a real agent);
// a line cut by a power loss does not hide the rest.
import t from 'tap'
import path from 'node:path'
import os from 'node:os'
import { mkdtemp, mkdir, writeFile, readFile, appendFile, rm } from 'node:fs/promises'
import { readFileSync, existsSync } from 'node:fs'
import { initialState, step, type EngineInput, type EngineState, type Action } from '../../core/engine/index.js'
import type { MainConfig } from '../../core/engine/model.js'
import { Timeline, TIMELINE_FILE } from '../../core/log/timeline.js'
import { readTimeline, readTimelineTail } from '../../core/log/timeline-read.js'
import { gatherTimelines } from '../../core/agent/timeline-peers.js'
import type { PeerRpc } from '../../core/agent/peer-rpc.js'
import { explainCommand } from '../../core/cli/explain-cmd.js'
import type { Bootstrap } from '../../core/config/bootstrap.js'
import { startTestAgent, res, until } from '../agent/helpers.js'

const config: MainConfig = {
  generation: 1,
  groups: [{ name: 'web', nodes: ['n1', 'n2', 'n3'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
  resources: [{ name: 'ip', type: 'ip', group: 'web', critical: true, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true }],
  dependencies: [],
  types: {},
}
const input: EngineInput = { config, types: { ip: { monitorIntervalS: 5, offlineMonitorIntervalS: 50 } }, nodes: ['n1', 'n2', 'n3'] }

/** Runs events through the real engine as the agent does: each step into the timeline, every action
 *  answered (probe: notRunning, others ok) until the plan is empty. */
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

async function home(t: { teardown(f: () => unknown): void }): Promise<Bootstrap> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-tl-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const b = {
    home: dir,
    configDir: path.join(dir, 'config'),
    logDir: path.join(dir, 'logs'),
    stateDir: path.join(dir, 'state'),
    nodeName: 'n2',
  } as Bootstrap
  await mkdir(b.configDir, { recursive: true })
  await mkdir(b.logDir, { recursive: true })
  await writeFile(path.join(b.configDir, 'main.json'), JSON.stringify(config))
  return b
}

t.test(
  'after a node loss, mccs explain names the lost node, the view change, the fence and its result, and the placement rule, in order',
  async (t) => {
    const b = await home(t)
    const tl = new Timeline(path.join(b.logDir, TIMELINE_FILE), 'n2')
    let st = initialState(input)
    st = drive(tl, st, { type: 'start' })
    st = drive(tl, st, { type: 'groupOnline', group: 'web', node: 'n1', user: 'ops' })
    t.equal(st.groups.web!.activeNode, 'n1')
    // n1 is killed: this node's cluster layer installs a view without it, the engine hears it is lost.
    tl.view({ coordinator: 'n2', partition: ['n2', 'n3'], quorate: true, reason: 'majority' })
    tl.view({ coordinator: 'n2', partition: ['n2', 'n3'], quorate: true, reason: 'majority' }) // the same view again: not repeated
    st = drive(tl, st, { type: 'nodeChange', node: 'n1', membership: 'down' })
    t.equal(st.groups.web!.activeNode, 'n2', 'the engine failed over to n2')
    await tl.close()
    const entries = await readTimeline(path.join(b.logDir, TIMELINE_FILE))
    t.equal(entries.filter((e) => e.what === 'view').length, 1, 'one view change recorded')
    t.ok(
      entries.every((e, i) => i === 0 || (e.seq > entries[i - 1]!.seq && e.mono >= entries[i - 1]!.mono)),
      'seq and monotonic time only grow',
    )
    const out: string[] = []
    const code = await explainCommand(['web'], { out: (s) => out.push(s), err: (s) => out.push('ERR ' + s) }, b, async () => null)
    t.equal(code, 0)
    const text = out.join('\n')
    const at = (re: RegExp) => {
      const m = re.exec(text)
      t.ok(m, `explain says ${re}`)
      return m ? m.index : -1
    }
    const order = [
      at(/operator ops: groupOnline web/),
      at(/view: n2, n3; coordinator n2; quorate/),
      at(/node n1 lost/),
      at(/fence node n1: /),
      at(/fence n1: done\/ok/),
      at(/n1 fenced/),
      at(/failover from lost node n1 → placement rule: the first usable node of web's order \(n1, n2, n3\) other than n1 is n2/),
      at(/online ip on n2/),
    ]
    t.same(
      [...order].sort((a, b) => a - b),
      order,
      'in order',
    )
    t.match(text, /Why is it here: web was brought online on n2/)
    t.match(
      text,
      /Why did it move: failover from lost node n1\.\n {2}n1 was lost: node n1 lost .*\n {2}n1 was fenced before the group moved: fence n1: done\/ok/,
    )
    // --since in the future: nothing; a bad --since is refused naming the flag.
    const o2: string[] = []
    await explainCommand(
      ['web', '--since', new Date(Date.now() + 60_000).toISOString()],
      { out: (s) => o2.push(s), err: (s) => o2.push(s) },
      b,
      async () => null,
    )
    t.match(o2.join(''), /nothing in the timeline since/)
    const o3: string[] = []
    t.equal(
      await explainCommand(['web', '--since', 'yesterday'], { out: (s) => o3.push(s), err: (s) => o3.push(s) }, b, async () => null),
      2,
    )
    t.match(o3.join(''), /--since: 'yesterday'/)
    t.equal(await explainCommand(['nope'], { out: () => {}, err: (s) => o3.push(s) }, b, async () => null), 3)
    t.match(o3.join(''), /no group named 'nope'/)
    // A power loss cut the last line: everything before it is still read.
    await appendFile(path.join(b.logDir, TIMELINE_FILE), '{"v":1,"node":"n2","seq":99')
    t.equal((await readTimeline(path.join(b.logDir, TIMELINE_FILE))).length, entries.length, 'a torn last line is skipped')
  },
)

t.test('a real agent: the online decision is in the timeline file before the online hook runs', async (t) => {
  let tlFile = '',
    seenFile = ''
  const ta = await startTestAgent(
    {
      groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
      resources: [res('s', 'script', { onlineScript: 'probe-tl.sh', offlineScript: 'probe-tl.sh', monitorScript: 'probe-tl.sh' })],
      dependencies: [],
      types: {},
    },
    {
      prepare: async (h) => {
        tlFile = path.join(h, 'logs', TIMELINE_FILE)
        seenFile = path.join(h, 'seen')
        await mkdir(path.join(h, 'script'), { recursive: true })
        // The online hook looks for its own decision in the file (written and fsync'd before it may start).
        await writeFile(
          path.join(h, 'script', 'probe-tl.sh'),
          `#!/bin/sh
case "$1" in
  start|online) if grep -q '"kind":"decision","what":"online","group":"g","resource":"s"' '${tlFile}'; then echo present > '${seenFile}'; else echo absent > '${seenFile}'; fi; touch '${h}/up'; exit 0 ;;
  stop|offline) rm -f '${h}/up'; exit 0 ;;
  *) [ -e '${h}/up' ] && exit 0 || exit 7 ;;
esac
`,
          { mode: 0o755 },
        )
      },
    },
  )
  t.teardown(() => ta.cleanup())
  await until(() => ta.agent.status().groups[0]!.busy === 0, 20_000) // the start probe done
  const r = await ta.agent.command({ type: 'groupOnline', group: 'g', user: 'test' }, { wait: true, timeoutMs: 30_000 })
  t.equal(r.reached, true, 'g online')
  t.equal((await readFile(seenFile, 'utf8')).trim(), 'present', 'the online hook found its decision on disk')
  const entries = await readTimeline(tlFile)
  const dec = entries.find((e) => e.kind === 'decision' && e.what === 'online' && e.resource === 's')
  const res0 = entries.find((e) => e.what === 'onlineResult' && e.resource === 's')
  t.ok(dec && res0 && dec.seq < res0.seq, 'decision, then its result')
  t.ok(
    entries.some((e) => e.what === 'groupOnline' && /operator test: groupOnline g/.test(e.text)),
    'the operator command is an input',
  )
})

t.test(
  'timelines merged across nodes: each answers its own entries, a silent node is named, the story is in wall-clock order',
  async (t) => {
    const b = await home(t)
    // n2 (this node) decided; n3 saw the same loss from its side a moment later; n1 is gone.
    const mine = new Timeline(path.join(b.logDir, TIMELINE_FILE), 'n2')
    let st = initialState(input)
    st = drive(mine, st, { type: 'start' })
    st = drive(mine, st, { type: 'groupOnline', group: 'web', node: 'n1', user: 'ops' })
    await new Promise((r) => setTimeout(r, 5))
    const n3file = path.join(b.logDir, 'n3.jsonl')
    const theirs = new Timeline(n3file, 'n3')
    theirs.view({ coordinator: 'n2', partition: ['n2', 'n3'], quorate: true, reason: 'seen from n3' })
    await theirs.close()
    await new Promise((r) => setTimeout(r, 5))
    drive(mine, st, { type: 'nodeChange', node: 'n1', membership: 'down' })
    await mine.close()
    const asked: string[] = []
    const rpc = {
      request: async (node: string, msg: { t: string; since: string | null }) => {
        asked.push(`${node}:${msg.t}`)
        if (node === 'n1') throw new Error('peer n1 not reachable')
        const own = await readTimelineTail(n3file, 1 << 20, msg.since)
        return [...own, { ...own[0]!, node: 'n1', text: 'forged by n3' }]
      },
    } as unknown as PeerRpc
    const got = await gatherTimelines(rpc, ['n1', 'n2', 'n3'], 'n2', mine, null)
    t.same(asked.sort(), ['n1:timeline', 'n3:timeline'])
    t.same(
      got.missing.map((m) => m.node),
      ['n1'],
      'the silent node is named',
    )
    t.notOk(
      got.lists.flat().some((e) => e.text === 'forged by n3'),
      "a node's answer carries only its own entries",
    )
    await t.rejects(gatherTimelines(rpc, ['n3'], 'n2', mine, 'yesterday'), /since/, 'a bad since is refused, naming the field')
    const out: string[] = []
    await explainCommand(['web'], { out: (s) => out.push(s), err: (s) => out.push(s) }, b, async () => got)
    const text = out.join('\n')
    t.match(text, /nodes that answered; not: n1 \(peer n1 not reachable\)/)
    const i3 = text.indexOf('[n3] view     view: n2, n3; coordinator n2; quorate (seen from n3)')
    t.ok(
      i3 > text.indexOf('operator ops: groupOnline web') && i3 < text.indexOf('node n1 lost'),
      "n3's view sits between n2's entries by wall time",
    )
  },
)

t.test('durable(): the step is queued at once and on disk when durable() resolves', async (t) => {
  const b = await home(t)
  const file = path.join(b.logDir, TIMELINE_FILE)
  const tl = new Timeline(file, 'n2')
  const r = step(input, initialState(input), { type: 'start' }, 0)
  tl.step({ type: 'start' }, r)
  t.equal(existsSync(file) ? readFileSync(file, 'utf8') : '', '', 'nothing written on the step path itself')
  // A long bound: the default (DURABLE_BOUND_MS, so that a hung disk cannot hold an action) was shorter than
  // one fdatasync in a loaded full run, and durable() then resolved before the decisions were written.
  await tl.durable(30_000)
  const text = readFileSync(file, 'utf8')
  t.match(text, /"what":"start"/, 'after durable(): the input is in the file')
  t.match(text, /"kind":"decision","what":"probe"/, 'and the decisions')
  await tl.close()
})
