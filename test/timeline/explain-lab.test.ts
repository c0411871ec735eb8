// Acceptance 2 of issue 20 in the network-namespace lab: after a kill -9 of the coordinator n1, `mccs
// explain web` on the new coordinator names the lost node, the view change, the fence and its result, and
// the placement rule, in that order (real agents from dist/, their own timelines).
import t from 'tap'
import { loadBootstrap } from '../../core/config/bootstrap.js'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'
import { explainCommand } from '../../core/cli/explain-cmd.js'
import { readTimeline } from '../../core/log/timeline-read.js'
import path from 'node:path'
import { readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'

const avail = await labAvailable()

if (!avail.ok) {
  t.test('mccs explain after a kill -9 failover', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('mccs explain after a kill -9 failover', async (t) => {
    const c = await AgentCluster.create({ prefix: `mccs${process.pid}x-` })
    t.teardown(() => c.destroy())
    c.start()
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
    await until(async () => (await c.status('n2')).membership?.role === 'follower' || undefined, 20_000, 'n2 following')
    await c.killNode('n1')
    await until(async () => (await c.status('n2')).groups[0]?.nodes.n2 === 'online' || undefined, 30_000, 'web online on n2')
    const home = c.homes.n2!
    const b = await loadBootstrap({ cwd: home, env: { MCCS_HOME: home, MCCS_NODE_NAME: 'n2' } })
    const out: string[] = []
    t.equal(await explainCommand(['web'], { out: (s) => out.push(s), err: (s) => out.push(`ERR ${s}`) }, b), 0)
    const text = out.join('\n')
    t.comment(text)
    // From the kill on: the last view without n1, the engine's start naming n1 lost, the fence, its result, the failover.
    const at = (re: RegExp, from = 0) => {
      const i = text.slice(from).search(re)
      t.ok(i >= 0, `explain says ${re}`)
      return i < 0 ? -1 : from + i
    }
    // n2's own view (with a rebuilt dist, n3's entries are merged in too, by wall time).
    const view = text.lastIndexOf('[n2] view     view: n2, n3; coordinator n2; quorate')
    t.ok(view >= 0, 'the view change without n1 (n2 coordinator)')
    const lost = at(/engine started here \(view: [^)]*n1 down[^)]*\); lost: n1|node n1 lost/, view)
    const fence = at(/fence node n1: /, lost)
    const result = at(/fence n1: done\/ok/, fence)
    // The new coordinator places the group itself (no failover notice: it never saw web on n1 as running
    // here), so the rule is named on its online decision.
    const rule = at(/placement rule: the first usable node of web's order \(n1, n2, n3\)(, n1 fenced,| other than n1) is n2/, result)
    const online = at(/online svc on n2: done\/ok/, rule)
    t.ok(view < lost && lost < fence && fence < result && result < rule && rule < online, 'in order')
    t.match(text, /Why did it move: (failover from lost node n1|to n2, away from n1)\./)
    t.match(text, /n1 was lost: /)
    t.match(text, /n1 was fenced before the group moved: fence n1: done\/ok/)
    const entries = await readTimeline(path.join(b.logDir, 'timeline.jsonl'))
    const dec = entries.find((e) => e.kind === 'decision' && e.what === 'fence' && e.target === 'n1')
    const res = entries.find((e) => e.what === 'fenceResult' && e.target === 'n1')
    t.ok(dec && res && dec.mono <= res.mono, `fence decided at mono ${dec?.mono} ms, its result at ${res?.mono} ms`)
  })
  t.test('a power cut right after n2 decided to fence n1 leaves the decision in its timeline', async (t) => {
    const c = await AgentCluster.create({ prefix: `mccs${process.pid}y-` })
    t.teardown(() => c.destroy())
    // n2's fence device first looks for the decision in n2's timeline (it must be on disk before the
    // fence starts), then hangs: the fence is in progress when n2 loses its power.
    const h2 = c.homes.n2!
    const fence = path.join(h2, 'script/fence-lab.sh')
    const orig = await readFile(fence, 'utf8')
    const [shebang, ...rest] = orig.split('\n')
    await writeFile(
      fence,
      [
        shebang,
        'if [ "$1" = fence ]; then',
        `  if grep -q '"kind":"decision","what":"fence","target":"'"$2"'"' '${h2}/logs/timeline.jsonl'; then echo present > '${h2}/fence-saw'; else echo absent > '${h2}/fence-saw'; fi`,
        '  sleep 60',
        'fi',
        ...rest,
      ].join('\n'),
    )
    c.start()
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
    await until(async () => (await c.status('n2')).membership?.role === 'follower' || undefined, 20_000, 'n2 following')
    await c.killNode('n1')
    await until(async () => existsSync(path.join(h2, 'fence-saw')) || undefined, 30_000, "n2's fence of n1 started")
    await c.killNode('n2') // the power cut, while the fence runs
    t.equal(
      (await readFile(path.join(h2, 'fence-saw'), 'utf8')).trim(),
      'present',
      'the fence decision was in the file when the fence started',
    )
    const entries = await readTimeline(path.join(h2, 'logs/timeline.jsonl'))
    const dec = entries.find((e) => e.kind === 'decision' && e.what === 'fence' && e.target === 'n1')
    t.ok(dec, `n2's timeline keeps the decision: ${dec?.text}`)
    t.notOk(
      entries.some((e) => e.what === 'fenceResult' && e.target === 'n1'),
      'and no result: the fence never finished',
    )
  })
}
