// How the cluster's one account store resolves (core/agent/account-sync.ts with the console's real
// AccountStore on each side; the peer channel and the role replaced by an in-process pair): a member's
// change is committed by the coordinator and is on both before it returns; a change made on an older
// generation is refused and changes nothing; the newest generation wins when a node rejoins; at an equal
// generation the coordinator's document wins; a change without quorum is kept here and offered on rejoin.
import t, { type Test } from 'tap'
import { mkdtemp, rm, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { AccountSync, type AccountMessage } from '../../core/agent/account-sync.js'
import { AccountStore } from '../../core/console/auth/accounts.js'
import { MccsError } from '../../core/errors.js'
import { createLog } from '../../core/log/logger.js'
import type { Role } from '../../core/cluster/role.js'
import type { PeerRpc } from '../../core/agent/peer-rpc.js'
import type { MembershipResult } from '../../core/cluster/membership.js'

const FAST = { logN: 10, r: 8, p: 1 }

interface Node {
  name: string
  store: AccountStore
  sync: AccountSync
  ended: string[]
}

/** Two nodes: n1 coordinator, n2 member (`quorate` false: neither has a coordinator). */
async function pair(t: Test, o: { quorate?: boolean } = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-acct-sync-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const q = { quorate: o.quorate ?? true } // the partition gains quorum when a test says so
  const handlers = new Map<string, Map<string, (from: string, m: never) => unknown>>()
  const nodes: Record<string, Node> = {}
  for (const name of ['n1', 'n2']) {
    const role = {
      isCoordinator: () => q.quorate && name === 'n1',
      coordinator: () => (q.quorate ? 'n1' : null),
      partitionPeers: () => (q.quorate ? ['n1', 'n2'].filter((n) => n !== name) : []),
    } as unknown as Role
    const rpc = {
      serve: (h: Record<string, (from: string, m: never) => unknown>) => handlers.set(name, new Map(Object.entries(h))),
      request: async (to: string, m: AccountMessage) => {
        const f = handlers.get(to)?.get(m.t)
        if (!f) throw new MccsError('MCCS_ERR_PEER_UNREACHABLE', `${to} unreachable`)
        return JSON.parse(JSON.stringify(await f(name, JSON.parse(JSON.stringify(m)) as never)))
      },
      assertCoordinator: () => {
        if (!(q.quorate && name === 'n1')) throw new MccsError('MCCS_ERR_NOT_COORDINATOR', 'not the coordinator')
      },
      assertOurCoordinator: (from: string) => {
        if (!q.quorate || from !== 'n1') throw new MccsError('MCCS_ERR_NOT_COORDINATOR', `${from} is not this node's coordinator`)
      },
    } as unknown as PeerRpc
    const store = new AccountStore(path.join(dir, name, 'accounts.json'), { kdf: FAST })
    await store.load()
    const sync = new AccountSync({ node: name, log: createLog({ level: 'error' }), role, rpc })
    sync.serve()
    const ended: string[] = []
    store.onSessionsEnded((user, reason) => ended.push(`${user}:${reason}`))
    store.replicate(sync)
    sync.attach(store)
    nodes[name] = { name, store, sync, ended }
    t.teardown(() => sync.stop())
  }
  return { dir, n1: nodes.n1!, n2: nodes.n2!, gainQuorum: () => (q.quorate = true) }
}

const membership = (partition: string[]): MembershipResult =>
  ({ quorate: true, partition, coordinator: 'n1' }) as unknown as MembershipResult

t.test("a member's change is committed by the coordinator and on both nodes before it returns", async (t) => {
  const { n1, n2 } = await pair(t)
  await n2.store.change('mcuser', 'mccs', 'first-pass1!ok')
  t.equal(n1.store.current().generation, 1, 'generation 1 on the coordinator')
  t.equal(n2.store.current().generation, 1, 'and on the member')
  t.ok(await n1.store.verify('mcuser', 'first-pass1!ok'), 'the new password on n1')
  t.notOk(await n1.store.verify('mcuser', 'mccs'), 'not the old one')
  t.same(n1.ended, ['mcuser:passwordChanged'], "n1's sessions of the user end")
  t.same(n2.ended, [], 'the changing node keeps the session that made the change (its route ends the others)')
  const onDisk = JSON.parse(await readFile(n2.store.file, 'utf8'))
  t.equal(onDisk.generation, 1, 'written with its generation')
  t.notMatch(JSON.stringify(onDisk), /first-pass1/, 'hashes only')
})

t.test('a change made on an older generation is refused and changes nothing', async (t) => {
  const { n1, n2 } = await pair(t)
  await n1.store.change('mcuser', 'mccs', 'first-pass1!ok')
  const before = await readFile(n1.store.file, 'utf8')
  const stale = { ...n2.store.current().users }
  await t.rejects(n2.sync.commit(stale, 0), { code: 'MCCS_ERR_CONFLICT' }, 'generation 0 is no longer current')
  t.equal(await readFile(n1.store.file, 'utf8'), before, "the coordinator's file is unchanged")
  t.equal(n2.store.current().generation, 1)
})

t.test('the newest generation wins when a node rejoins; at an equal one the coordinator wins', async (t) => {
  const { n1, n2 } = await pair(t)
  // Equal generation (0), other content: each made its own default hash.
  t.not(n1.store.get('mcuser')!.hash, n2.store.get('mcuser')!.hash)
  n1.sync.viewsChanged(membership(['n1', 'n2']))
  n2.sync.viewsChanged(membership(['n1', 'n2']))
  await new Promise((r) => setTimeout(r, 200))
  t.equal(n2.store.get('mcuser')!.hash, n1.store.get('mcuser')!.hash, "the member took the coordinator's at a tie")

  // n1 loses n2; n2, alone, somehow holds a newer generation (written while it was the one with quorum).
  n1.sync.viewsChanged(membership(['n1']))
  await n2.store.adopt({ generation: 5, users: { ...n1.store.current().users, extra: n1.store.current().users.mcuser! } }, 'test')
  n1.sync.viewsChanged(membership(['n1', 'n2'])) // n2 back in n1's partition
  await new Promise((r) => setTimeout(r, 200))
  t.equal(n1.store.current().generation, 5, 'the coordinator took the newer generation from the rejoined node')
  t.ok(n1.store.get('extra'), 'with its content')
})

t.test('without quorum a change is kept on this node, and reaches the coordinator when the node rejoins', async (t) => {
  const { n1, n2, gainQuorum } = await pair(t, { quorate: false })
  // An isolated node's console must stay usable: its first login changes the default password.
  await n2.store.change('mcuser', 'mccs', 'first-pass1!ok')
  t.ok(await n2.store.verify('mcuser', 'first-pass1!ok'), 'the new password works on n2')
  t.equal(n2.store.current().generation, 1, 'at the next generation')
  t.ok(await n1.store.verify('mcuser', 'mccs'), 'n1, not reachable, is unchanged')
  t.equal(n1.store.current().generation, 0)
  gainQuorum()
  n1.sync.viewsChanged(membership(['n1', 'n2'])) // n2 joins n1's quorate partition
  n2.sync.viewsChanged(membership(['n1', 'n2']))
  await new Promise((r) => setTimeout(r, 200))
  t.equal(n1.store.current().generation, 1, 'the coordinator took the newer generation')
  t.ok(await n1.store.verify('mcuser', 'first-pass1!ok'), 'the password changed on the isolated node logs in on n1')
  t.notOk(await n1.store.verify('mcuser', 'mccs'), 'the old one does not')
})
