// A node that speaks no protocol version in common with the others is kept out, and nobody is fenced
// (issue 16, What 4): three agents in the namespace lab form a cluster; n3 is stopped as for an upgrade
// (SIGTERM: it leaves), then started advertising versions 7..9 (MCCS_TEST_PROTOCOL_RANGE, a test-only hook)
// — an agent of a release too far ahead. n1 and n2 refuse its heartbeats and its channel, say why (both
// ranges) in `mccs status --json`, keep quorum and the service; n3 is not a member, holds no quorum alone,
// and is not fenced. Started again with this build's range, it rejoins.
import t from 'tap'
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'
import type { AgentStatus } from '../../core/agent/status.js'
import { packageRoot } from '../../core/paths.js'

const run = promisify(execFile)
const avail = await labAvailable()

if (!avail.ok) {
  t.test('protocol versions in the lab', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('an agent with no protocol version in common is kept out with the reason in status; nobody is fenced', async (t) => {
    let far = false // n3 advertises 7..9 when set
    const c = await AgentCluster.create({
      prefix: `mccs${process.pid}p-`,
      nodes: 3,
      env: (n): Record<string, string> => (n === 'n3' && far ? { MCCS_TEST_PROTOCOL_RANGE: '7..9' } : {}),
    })
    t.teardown(() => c.destroy())
    c.start()
    const inView = async () => {
      for (const m of c.nodes) {
        const s = await c.status(m)
        if (!['coordinator', 'follower'].includes(s.membership?.role ?? '') || s.membership?.partition.length !== 3) return undefined
      }
      return true
    }
    await until(inView, 60_000, 'all three in one view')
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
    for (const n of c.nodes) {
      const p = (await c.status(n)).membership!
      t.same(p.protocol, { min: 1, max: 2 }, `${n} speaks 1..2`)
      t.ok(
        p.peers.every((x) => x.protocol?.version === 2 && x.protocol.refused === null),
        `${n} uses version 2 with every peer`,
      )
    }

    // n3 stops as for an upgrade, and comes back speaking 7..9 only.
    const exited = new Promise<number | null>((r) => c.agents.n3!.once('exit', (code) => r(code)))
    c.agents.n3!.kill('SIGTERM')
    t.equal(await exited, 0, 'n3 stopped on SIGTERM')
    const from = c.rounds.length
    far = true
    c.startAgent('n3')
    const refusedBy = (n: string) => async () => {
      const p = (await c.status(n)).membership?.peers.find((x) => x.node === 'n3')
      return (p?.protocol?.refused && p) || undefined
    }
    for (const n of ['n1', 'n2']) await until(refusedBy(n), 30_000, `${n} refusing n3`)
    // Several dead times with n3 running and sending.
    await new Promise((r) => setTimeout(r, 5000))

    const mccs = path.join(packageRoot(), 'dist/mccs.js')
    for (const n of ['n1', 'n2']) {
      const { stdout } = await run(process.execPath, [mccs, 'status', '--json'], {
        env: { ...process.env, MCCS_HOME: c.homes[n]!, MCCS_NODE_NAME: n },
      })
      const s = JSON.parse(stdout) as AgentStatus
      const p3 = s.membership!.peers.find((x) => x.node === 'n3')!
      t.equal(p3.up, false, `${n}: n3 is not up`)
      t.match(
        p3.protocol?.refused,
        /n3 speaks protocol versions 7\.\.9, this node 1\.\.2/,
        `${n}'s mccs status --json: ${p3.protocol?.refused}`,
      )
      t.same(p3.protocol?.range, { min: 7, max: 9 })
      t.same(s.membership!.partition, ['n1', 'n2'], `${n}: the partition is n1, n2`)
      t.equal(s.membership!.quorate, true, `${n}: quorate`)
      t.ok(
        (s.membership!.rejected.version ?? 0) > 0,
        `${n}: n3's heartbeats counted as version rejections (${s.membership!.rejected.version})`,
      )
      t.notOk(
        s.nodes.find((x) => x.name === 'n3')?.needsFence,
        `${n}: n3 does not await a fence (${s.nodes.find((x) => x.name === 'n3')?.membership})`,
      )
    }
    const s3 = await c.status('n3')
    t.notOk(s3.membership?.quorate, 'n3 alone holds no quorum')
    t.ok(
      s3.membership?.peers.every((x) => /speaks protocol versions 1\.\.2, this node 7\.\.9/.test(x.protocol?.refused ?? '')),
      'n3 refuses both others, naming both ranges',
    )
    t.equal(c.agents.n3!.exitCode, null, 'n3 still runs (not fenced)')
    t.match(await c.log('n1'), /"msg":"peer refused: no protocol version in common"/, 'n1 logged the refusal')

    const rounds = c.rounds.slice(from)
    t.ok(rounds.length > 100, `probe rounds meanwhile: ${rounds.length}`)
    t.ok(
      rounds.every((r) => r.who.every((w) => w === 'n1') && r.who.length <= 1),
      'the service answered from n1 alone throughout',
    )
    let last = rounds.find((r) => r.who.length)?.at ?? 0
    let worst = 0
    for (const r of rounds) {
      if (!r.who.length) continue
      worst = Math.max(worst, r.at - last)
      last = r.at
    }
    t.ok(worst < 1000, `longest silence of the service meanwhile: ${worst} ms`)

    // Back with this build's range: a member again.
    const exited2 = new Promise<number | null>((r) => c.agents.n3!.once('exit', (code) => r(code)))
    c.agents.n3!.kill('SIGTERM')
    t.equal(await exited2, 0, 'n3 (7..9) stopped on SIGTERM')
    far = false
    c.startAgent('n3')
    await until(inView, 60_000, 'n3 back in the view')
    const p = (await c.status('n1')).membership!.peers.find((x) => x.node === 'n3')!
    t.same(
      p.protocol && { version: p.protocol.version, refused: p.protocol.refused },
      { version: 2, refused: null },
      'n1 uses version 2 with n3 again',
    )

    const fences = (await Promise.all(c.nodes.map((n) => c.log(n))))
      .join('\n')
      .split('\n')
      .filter((l) => /"msg":"fence n\d+ \(level|"msg":"fencing n\d+ with/.test(l))
    t.same(fences, [], 'nobody was fenced')
  })
}
