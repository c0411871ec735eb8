// Real agents in the namespace lab, group NIC <- address <- process. The client asks the VIP every
// 10 ms. Node loss moves the VIP and the client's ARP cache follows the gratuitous ARP (no flush);
// a link pulled on the active node faults the NIC and moves the group, `clear` after link up brings
// that node back to normal; a virtual MAC is the same for the client before and after failover.
import t, { type Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { labAvailable } from '../../scripts/lab/lab.js'
import { until } from '../../scripts/lab/agent-cluster.js'
import { VipCluster, VIP, NIC, LINK } from './vip-cluster.js'

const avail = await labAvailable()

async function start(t: Test, tag: string, o: { groupNodes?: string[]; virtualMac?: string }): Promise<VipCluster> {
  const v = await VipCluster.create({ prefix: `mccs${process.pid}${tag}-`, ...o })
  t.teardown(async () => {
    if (process.env.MCCS_DEBUG_LAB)
      for (const n of v.c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `vip-${tag}-${n}.log`), await v.c.log(n))
    await v.destroy()
  })
  v.start()
  await until(async () => (await v.c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 30_000, 'web online on n1')
  await until(async () => v.rounds.at(-1)?.who === 'n1' || undefined, 10_000, 'the VIP answering from n1')
  const st = await v.c.status('n1')
  if (st.nodes.some((n) => n.membership !== 'up')) throw new Error(`a node was lost while the cluster started: ${JSON.stringify(st.nodes)}`)
  return v
}

/** Agents started together on a loaded 2-core machine sometimes declare a late peer down at start
 *  (a cluster start-up issue, not the network types'): one retry with a fresh lab, said in the output. */
async function cluster(t: Test, tag: string, o: { groupNodes?: string[]; virtualMac?: string } = {}): Promise<VipCluster> {
  try {
    return await start(t, tag, o)
  } catch (e) {
    t.comment(`cluster start failed (${(e as Error).message}); retrying once with a fresh lab`)
    return start(t, `${tag}r`, o)
  }
}

const stateOf = async (v: VipCluster, on: string, res: string, node: string) =>
  (await v.c.status(on)).groups[0]?.resources.find((r) => r.name === res)?.nodes[node]

if (!avail.ok) {
  t.test('VIP failover in the lab', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('node loss: the VIP moves, the client ARP cache follows; link down moves it again; clear after link up', async (t) => {
    const v = await cluster(t, 'va', { groupNodes: ['n1', 'n2', 'n3'] })
    const macs = { n1: await v.macOf('n1'), n2: await v.macOf('n2'), n3: await v.macOf('n3') }
    t.equal(await v.clientMacForVip(), macs.n1, 'the client resolved the VIP to n1')

    const from = v.rounds.length
    const t0 = Date.now()
    await v.c.killNode('n1')
    const back = await until(async () => v.rounds.slice(from).find((r) => r.at > t0 && r.who === 'n2'), 30_000, 'the VIP answering from n2')
    const outage = back.at - t0
    t.ok(outage < 6000, `kill -9 of n1 to the first answer from the VIP on n2: ${outage} ms`)
    t.equal(await v.clientMacForVip(), macs.n2, 'the client ARP cache follows the gratuitous ARP, no flush')
    t.notOk(
      v.rounds.slice(from).some((r) => r.at > back.at && r.who === 'n1'),
      'n1 never answers again',
    )

    // Pull n2's NIC link: the NIC faults and the group moves to n3.
    const from2 = v.rounds.length
    const t1 = Date.now()
    await v.lab.linkDown('n2', LINK)
    const moved = await until(
      async () => v.rounds.slice(from2).find((r) => r.at > t1 && r.who === 'n3'),
      30_000,
      'the VIP answering from n3',
    ).catch(async (e) => {
      t.comment(JSON.stringify(await v.c.status('n3')))
      throw e
    })
    t.pass(`link down on n2 to the first answer from n3: ${moved.at - t1} ms`)
    const nic = await stateOf(v, 'n3', 'nic0', 'n2')
    t.match(nic?.fault ?? '', new RegExp(`${NIC} is administratively down`), `the NIC on n2 is faulted: ${JSON.stringify(nic)}`)
    t.equal(await v.clientMacForVip(), macs.n3)
    const n2addrs = (await v.lab.exec('n2', ['ip', '-j', 'addr', 'show', NIC])).stdout
    t.notMatch(n2addrs, new RegExp(`"${VIP.replace(/\./g, '\\.')}"`), 'n2 released the VIP')

    await v.lab.linkUp('n2', LINK)
    // The clear is refused while the engine still has actions in flight for the group (e.g. the monitor
    // that found the link back): ask again until it is accepted, as an operator would.
    await until(
      async () =>
        ((await v.command('n3', { type: 'groupClear', group: 'web', node: 'n2' })) as { outcome?: { status?: string } }).outcome?.status ===
          'accepted' || undefined,
      20_000,
      'the clear accepted',
    )
    await until(
      async () => {
        const s = await stateOf(v, 'n3', 'nic0', 'n2')
        return s && !s.fault ? s : undefined
      },
      20_000,
      'the NIC fault on n2 cleared',
    )
    const g = (await v.c.status('n3')).groups[0]!
    t.equal(g.nodes.n3, 'online', 'the group stays on n3')
    t.notMatch(g.nodes.n2 ?? '', /fault/i, `n2 back to normal for the group: ${g.nodes.n2}`)
    t.equal(v.rounds.filter((r) => r.at > moved.at).filter((r) => r.who && r.who !== 'n3').length, 0, 'only n3 answered afterwards')
    await writeFile(path.join(os.tmpdir(), `mccs-vip-${process.pid}.json`), JSON.stringify({ outageMs: outage, linkDownMs: moved.at - t1 }))
  })

  t.test('virtual MAC: the client sees the same MAC for the VIP before and after failover', async (t) => {
    const vmac = '48-88-03-5E-EA-BB'
    const v = await cluster(t, 'vm', { virtualMac: vmac })
    const want = '48:88:03:5e:ea:bb'
    t.equal(await v.macOf('n1'), want, 'n1 carries the virtual MAC while online')
    t.equal(await v.clientMacForVip(), want)
    const n2own = await v.macOf('n2')
    t.not(n2own, want, 'n2 has its own MAC while the group is elsewhere')
    const from = v.rounds.length
    const t0 = Date.now()
    await v.c.killNode('n1')
    const back = await until(async () => v.rounds.slice(from).find((r) => r.at > t0 && r.who === 'n2'), 30_000, 'the VIP answering from n2')
    t.pass(`kill to first answer from n2: ${back.at - t0} ms`)
    t.equal(await v.macOf('n2'), want, 'n2 took the virtual MAC')
    t.equal(await v.clientMacForVip(), want, 'the client sees the same MAC after failover')
  })
}
