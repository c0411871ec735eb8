// Configuration replication between agents of neighbouring versions (issue 16, What 4): n1 and n2 run this
// checkout, n3 the build of the commit before configuration schema versions (built here from git). The lab
// writes version 1 files; the new agents migrate theirs, the old one keeps its own. A change made on the new
// coordinator reaches the old member, a change made on the old member goes through the new coordinator to
// everyone, and nobody reports a divergence: the version travels beside main, and the digest ignores it.
import t from 'tap'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'
import { buildCommit, commitOf } from '../../scripts/lab/build-commit.js'
import { rpc } from '../../core/cli/control-client.js'
import { packageRoot } from '../../core/paths.js'
import type { ConfigPair } from '../../core/config/store.js'

/** The last commit before main.json and hb.json carried a schema version. */
const BEFORE = '252575c'
const root = packageRoot()

const avail = await labAvailable()
const haveCommit = (await commitOf(BEFORE)) !== null

if (!avail.ok || !haveCommit) {
  const why = !avail.ok ? `network-namespace lab unavailable: ${avail.reason}` : `commit ${BEFORE} not in this checkout (no git history)`
  t.test('configuration replication between versions', { skip: why }, async () => {})
} else {
  t.test('configuration replication between an agent from before schema versions and this one', async (t) => {
    // The earlier build: its source from git, this checkout's packages, its own dist/ and plugins.
    const old = await buildCommit(BEFORE)
    t.ok(existsSync(path.join(old, 'dist/mccs.js')), `built ${BEFORE}`)

    const c = await AgentCluster.create({ prefix: `mccs${process.pid}v-`, build: (n) => (n === 'n3' ? old : root) })
    t.teardown(() => c.destroy())
    c.start()
    const sock = (n: string) => path.join(c.homes[n]!, 'state/mccs.sock')
    const exported = (n: string) => rpc<ConfigPair>(sock(n), 'config.export', {}, 5000)
    const edit = (n: string, op: string, args: Record<string, unknown>) =>
      rpc<{ ok: boolean; generation: number; text?: string }>(sock(n), 'config.edit', { op, args, user: 'tester' }, 20_000)
    const onDisk = async (n: string) =>
      JSON.parse(await readFile(path.join(c.homes[n]!, 'config/main.json'), 'utf8')) as Record<string, unknown>
    for (const n of c.nodes)
      await until(
        async () => ['coordinator', 'follower'].includes((await c.status(n)).membership?.role ?? '') || undefined,
        30_000,
        `${n} in the cluster`,
      )
    // A first view may hold two of the three (a fresh-clone run at load 14 read n1 outside it): wait for all three.
    const m1 = await until(
      async () => {
        const m = (await c.status('n1')).membership
        return m?.partition.length === 3 && m.role === 'coordinator' ? m : undefined
      },
      30_000,
      'n1 coordinating all three',
    )
    t.equal(m1.role, 'coordinator', 'n1 (this version) coordinates')
    t.equal((await onDisk('n1')).schemaVersion, 2, 'n1 migrated its main.json to version 2')
    t.notOk('schemaVersion' in (await onDisk('n3')), 'n3 (the earlier agent) keeps version 1')

    const r1 = await edit('n1', 'groupAdd', { group: 'extra', nodes: ['n1', 'n2', 'n3'], autoStart: false })
    t.ok(r1.ok, `a change on the coordinator: ${r1.text ?? ''}`)
    const e3 = await exported('n3')
    t.equal(e3.main.generation, 2, 'the earlier agent took generation 2 before the answer')
    t.ok(
      e3.main.groups.some((g) => g.name === 'extra'),
      'with the new group',
    )
    t.notOk('schemaVersion' in (await onDisk('n3')), 'and wrote it in its own format')

    const r2 = await edit('n3', 'groupEdit', { group: 'extra', autoFailback: true })
    t.ok(r2.ok, `a change on the earlier agent, through the coordinator: ${r2.text ?? ''}`)
    t.equal(r2.generation, 3)
    for (const n of c.nodes) {
      const e = await exported(n)
      t.equal(e.main.generation, 3, `${n} runs generation 3`)
      t.equal(e.main.groups.find((g) => g.name === 'extra')?.autoFailback, true, `${n} has the change`)
    }
    t.same((await exported('n3')).main, (await exported('n1')).main, 'one configuration on both versions')
    // Heartbeats carry (generation, digest): a few rounds later nobody sees another configuration.
    await new Promise((r) => setTimeout(r, 2000))
    for (const n of c.nodes) t.equal((await c.status(n)).membership?.configDiverged, null, `${n}: not diverged`)
    // Protocol versions: the earlier agent advertises nothing (heartbeat) and knows no hello (channel): version 1.
    const peers = Object.fromEntries((await c.status('n1')).membership!.peers.map((p) => [p.node, p.protocol]))
    t.same(
      peers.n3 && { hb: peers.n3.version, range: peers.n3.range, channel: peers.n3.channel?.version },
      { hb: 1, range: { min: 1, max: 1 }, channel: 1 },
      'n1 speaks version 1 with the earlier agent, on the heartbeat and the channel',
    )
    t.equal(peers.n2?.version, 2, 'and version 2 with n2')
    // (A push the earlier agent refused would still reach it by its own fetch a moment later: the coordinator's
    // log is where a refused push shows.)
    t.notMatch(
      await c.log('n1'),
      /not pushed to|runs another configuration|refused: schemaVersion/,
      'n1 pushed every change and reports no divergence and no refusal',
    )
    // A fetch that raced the push of the same generation is refused as "not newer than generation N in force"
    // by the earlier agent (seen in a full run): the configuration was already there, nothing diverged.
    const n3Problems = (await c.log('n3'))
      .split('\n')
      .filter(
        (l) => /differs from coordinator|cannot fetch the configuration/.test(l) && !/is not newer than generation \d+ in force/.test(l),
      )
    t.same(n3Problems, [], 'n3 neither')
  })
}
