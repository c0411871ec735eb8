// Configuration replication with real agents in the lab (3 nodes): a change made while n3 is down
// reaches n3 when it returns; a node whose main.json was
// edited by hand (same generation, other content) says it diverged and is reconciled; a change on a
// non-quorate side is refused.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'
import { rpc } from '../../core/cli/control-client.js'
import type { ConfigPair } from '../../core/config/store.js'

const avail = await labAvailable()

if (!avail.ok) {
  t.test('configuration replication in the lab', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('configuration replication', async (t) => {
    const c = await AgentCluster.create({ prefix: `mccs${process.pid}r-` })
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `repl-${n}.log`), await c.log(n))
      await c.destroy()
    })
    c.start()
    const sock = (n: string) => path.join(c.homes[n]!, 'state/mccs.sock')
    const exported = (n: string) => rpc<ConfigPair>(sock(n), 'config.export', {}, 5000)
    const edit = (n: string, op: string, args: Record<string, unknown>) =>
      rpc<{ ok: boolean; generation: number; code?: string; text?: string }>(sock(n), 'config.edit', { op, args, user: 'tester' }, 20_000)
    const role = async (n: string) => (await c.status(n)).membership?.role
    for (const n of c.nodes)
      await until(async () => ['coordinator', 'follower'].includes((await role(n)) ?? '') || undefined, 30_000, `${n} in the cluster`)

    // The lab writes version 1 files (no schemaVersion): each agent migrated them and kept the originals.
    for (const n of c.nodes) {
      const dir = path.join(c.homes[n]!, 'config')
      t.equal(JSON.parse(await readFile(path.join(dir, 'main.json'), 'utf8')).schemaVersion, 2, `${n}: main.json at schema version 2`)
      t.notOk('schemaVersion' in JSON.parse(await readFile(path.join(dir, 'main.json.v1'), 'utf8')), `${n}: main.json.v1 is the original`)
      t.match(await c.log(n), /main\.json migrated from schema version 1 to 2; the original is kept in /)
    }

    // A change on a follower goes through the coordinator and reaches every member before the answer.
    const r1 = await edit('n2', 'groupAdd', { group: 'extra', nodes: ['n1', 'n2', 'n3'], autoStart: false })
    t.ok(r1.ok, `groupAdd on follower n2: ${r1.text ?? ''}`)
    t.equal(r1.generation, 2)
    for (const n of c.nodes) {
      const e = await exported(n)
      t.equal(e.main.generation, 2, `${n} runs generation 2`)
      t.ok(
        e.main.groups.some((g) => g.name === 'extra'),
        `${n} has the new group`,
      )
    }

    // n3 down: a change made meanwhile reaches it when it returns.
    await c.killNode('n3')
    await until(async () => (await c.status('n1')).membership?.partition.join() === 'n1,n2' || undefined, 10_000, 'n3 out of the partition')
    const r2 = await edit('n1', 'groupEdit', { group: 'extra', autoFailback: true })
    t.ok(r2.ok, 'change on the coordinator while n3 is down')
    t.equal(r2.generation, 3)
    const onDisk = JSON.parse(await readFile(path.join(c.homes.n3!, 'config/main.json'), 'utf8')) as { generation: number }
    t.equal(onDisk.generation, 2, 'n3 (down) still has generation 2 on disk')
    // The coordinator fences n3 (the lab's fence kills everything in its namespace): restart it after that.
    await until(
      async () => (await c.status('n1')).nodes.find((n) => n.name === 'n3')?.membership === 'fenced' || undefined,
      15_000,
      'n3 fenced',
    )
    c.startAgent('n3')
    const back = await until(
      async () => {
        const e = await exported('n3')
        return e.main.generation === 3 ? e : undefined
      },
      30_000,
      'n3 at generation 3',
    )
    t.equal(back.main.groups.find((g) => g.name === 'extra')?.autoFailback, true, 'n3 took the change made while it was down')
    t.match(await c.log('n3'), /configuration generation 3 taken from n[12] \(was 2\)/)

    // Divergence: n3's main.json edited by hand at the same generation.
    const n3In = async () => (await c.status('n1')).nodes.find((n) => n.name === 'n3')?.membership
    await until(async () => (await n3In()) === 'up' || undefined, 15_000, 'n1 seeing n3 up again')
    await c.killNode('n3')
    await until(
      async () => (await c.status('n1')).nodes.find((n) => n.name === 'n3')?.membership === 'fenced' || undefined,
      15_000,
      'n3 fenced',
    )
    const file = path.join(c.homes.n3!, 'config/main.json')
    const mine = JSON.parse(await readFile(file, 'utf8')) as ConfigPair['main']
    mine.groups = mine.groups.map((g) => (g.name === 'extra' ? { ...g, autoFailback: false } : g))
    await writeFile(file, JSON.stringify(mine, null, 2))
    c.startAgent('n3')
    const div = await until(
      async () => {
        const s = await c.status('n3')
        return s.membership?.configDiverged ? s : undefined
      },
      30_000,
      'n3 reporting divergence',
    )
    t.match(div.membership?.configDiverged, /differs from coordinator n1's at generation 3/)
    // n1 says so once n3 is back in its partition, which can come after n3's own report.
    await until(
      async () => /node n3 runs another configuration at generation 3/.test(await c.log('n1')) || undefined,
      15_000,
      'n1 logging that n3 diverged',
    )
    // A diverged node starts nothing: switching the group to it fails there (not recoverable) and names why.
    await until(async () => (await n3In()) === 'up' || undefined, 15_000, 'n1 seeing n3 up')
    // (Accepted once n3's start probes are done: until then the engine answers 'actions in progress'.)
    await until(
      async () =>
        (
          await rpc<{ outcome: { status: string } }>(
            sock('n1'),
            'command',
            { cmd: { type: 'groupSwitch', group: 'web', to: 'n3', user: 'tester' } },
            10_000,
          )
        ).outcome.status === 'accepted' || undefined,
      20_000,
      'the switch to n3 accepted',
    )
    await until(
      async () => /online svc refused: this node's configuration differs/.test(await c.log('n3')) || undefined,
      20_000,
      'n3 refusing online',
    )
    const svc = (await c.status('n1')).groups[0]?.resources[0]?.nodes.n3
    t.match(svc?.fault ?? '', /MCCS_ERR_CONFIG_DIVERGED/, 'the fault on n3 names the divergence')
    await until(
      async () => (c.rounds.at(-1)?.who.length === 1 && !c.rounds.at(-1)?.who.includes('n3')) || undefined,
      20_000,
      'the service answering from n1 or n2',
    )
    const rec = await rpc<{ generation: number; from: string }>(sock('n3'), 'config.reconcile', {}, 10_000)
    t.same(rec, { generation: 3, from: 'n1' })
    t.equal((await c.status('n3')).membership?.configDiverged, null, 'reconciled')
    t.same((await exported('n3')).main, (await exported('n1')).main, "n3 runs the coordinator's configuration")

    // n1 and n2 gone: n3 alone has no quorum, so its changes are refused and nothing is written.
    // (A partition would do too, but the majority then fences n3, as it must.)
    await c.killNode('n1')
    await c.killNode('n2')
    await until(async () => (await c.status('n3')).membership?.quorate === false || undefined, 10_000, 'n3 without quorum')
    const r3 = await edit('n3', 'groupEdit', { group: 'extra', autoFailback: false })
    t.equal(r3.ok, false, 'a change on the non-quorate side is refused')
    t.equal(r3.code, 'MCCS_ERR_NO_QUORUM')
    t.equal((await exported('n3')).main.generation, 3, 'nothing changed on n3')
  })
}
