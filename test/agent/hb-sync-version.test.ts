// Issue 16, acceptance 5 (a newer configuration for an older agent), for hb.json's live changes: HbSync's
// peer messages answered as they arrive from the peer channel, on a real store in a temp directory. An
// hb.json of a newer schema version than this agent reads — prepared by a newer coordinator, or fetched from
// a newer peer after a commit or because its heartbeat shows a newer generation — is refused with the
// version and the highest this agent reads; nothing is prepared, the files and the hb.json in force stay.
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { HbSync, type HbMessage, type HbSyncHost } from '../../core/agent/hb-sync.js'
import { ConfigStore } from '../../core/config/store.js'
import { versionedFile } from '../../core/config/schema-version.js'
import type { HbConfig } from '../../core/config/hb-model.js'
import type { MembershipResult } from '../../core/cluster/membership.js'
import { isMccsError, type MccsError } from '../../core/errors.js'
import { TYPES, VALID_DIR } from '../config/fixture.js'

type Handler = (from: string, m: HbMessage) => unknown

/** node2, a member whose coordinator is node1; `peerDoc` is what node1 answers to hbGet. */
async function setup(t: Test, peerDoc?: () => unknown) {
  const dir = await mkdtemp(join(tmpdir(), 'mccs-hbsync-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await cp(VALID_DIR, dir, { recursive: true })
  const store = new ConfigStore(dir, { types: TYPES })
  await store.load()
  const roleCalls: string[] = []
  const logs: Array<{ level: string; msg: string }> = []
  const handlers: Record<string, Handler> = {}
  const host = {
    node: 'node2',
    log: { log: (level: string, msg: string) => logs.push({ level, msg }) },
    oplog: { append: async () => {} },
    store,
    // What HbSync asks of the role: every call that would prepare or take a change is recorded.
    role: {
      prepareQuorum: async () => void roleCalls.push('prepareQuorum'),
      prepareConfig: () => void roleCalls.push('prepareConfig'),
      commitConfig: () => void roleCalls.push('commitConfig'),
      abortConfig: () => void roleCalls.push('abortConfig'),
      hb: { status: () => ({ peers: [] }) },
    },
    rpc: {
      serve: (h: Record<string, Handler>) => Object.assign(handlers, h),
      assertCoordinator: () => {
        throw new Error('not the coordinator')
      },
      assertOurCoordinator: (from: string) => {
        if (from !== 'node1') throw new Error(`${from} is not our coordinator`)
      },
      request: async (_node: string, m: HbMessage) => (m.t === 'hbGet' ? peerDoc?.() : undefined),
    },
    removable: () => null,
    changed: async () => void roleCalls.push('changed'),
  } as unknown as HbSyncHost
  const sync = new HbSync(host)
  sync.serve()
  const files = async () => {
    const out: Record<string, string> = {}
    for (const f of (await readdir(dir)).sort()) out[f] = await readFile(join(dir, f), 'utf8')
    return out
  }
  const send = (from: string, m: HbMessage) => Promise.resolve().then(() => handlers[m.t]!(from, m))
  return { store, sync, files, send, roleCalls, logs }
}

/** The hb.json in force with a valid change (a new timing) at the next generation, as schema version `v`. */
function newer(cur: HbConfig, v: number): Record<string, unknown> {
  const next = { ...structuredClone(cur), generation: cur.generation + 1, timing: { intervalMs: 200, deadMs: 1000 } }
  return { ...versionedFile('hb', next), schemaVersion: v }
}

const refusedNewer = async (t: Test, p: Promise<unknown>, what: string) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(isMccsError(err, 'MCCS_ERR_CONFIG_VERSION'), `${what}: refused with MCCS_ERR_CONFIG_VERSION (${String(err)})`)
  t.equal((err as MccsError).field, '/schemaVersion', `${what}: names the field`)
  t.match((err as MccsError).data, { version: 3, supported: 2 }, `${what}: its version and the highest this agent reads`)
}

t.test('an hb.json of a newer schema version prepared by the coordinator is refused; nothing prepared or written', async (t) => {
  const { store, files, send, roleCalls } = await setup(t)
  const before = await files()
  const cur = store.current().hb
  await refusedNewer(t, send('node1', { t: 'hbPrepare', hb: newer(cur, 3) }), 'prepare')
  t.same(roleCalls, [], 'the role prepared nothing (no transitional timing, no quorum client)')
  t.equal(store.current().hb.generation, cur.generation, `generation ${cur.generation} stays in force`)
  t.same(await files(), before, 'hb.json and main.json unchanged on disk')
  // The same document at this agent's version is prepared: the version was the only reason.
  t.same(await send('node1', { t: 'hbPrepare', hb: newer(cur, 2) }), { generation: cur.generation + 1 }, 'version 2: prepared')
  t.same(roleCalls, ['prepareQuorum', 'prepareConfig'])
})

t.test('a commit this node missed, fetched from a peer that has a newer schema version, is refused', async (t) => {
  let doc: unknown
  const { store, files, send, roleCalls, logs, sync } = await setup(t, () => doc)
  const before = await files()
  const cur = store.current().hb
  doc = newer(cur, 3)
  await refusedNewer(t, send('node1', { t: 'hbCommit', generation: cur.generation + 1 }), 'commit of a generation not prepared here')
  t.same(roleCalls, [], 'nothing prepared or taken')
  t.same(await files(), before, 'files unchanged')
  t.match(
    logs,
    [{ level: 'warn', msg: /cannot fetch hb\.json from node1: .*\/schemaVersion: is 3, but this agent reads hb\.json up to version 2/ }],
    'logged with the version',
  )
  // A heartbeat showing node1 at the newer generation: the pull is tried (after its 1 s back-off) and refused the same way.
  await new Promise((r) => setTimeout(r, 1100))
  const m = { quorate: true, partition: ['node1', 'node2'] } as unknown as MembershipResult
  sync.viewsChanged(m, {
    node1: { up: ['node1', 'node2'], coordinator: 'node1', generation: 1, quorum: 'quorate', ext: { hbg: cur.generation + 1 } },
  })
  await new Promise((r) => setTimeout(r, 50))
  t.equal(logs.filter((l) => /cannot fetch hb\.json from node1/.test(l.msg)).length, 2, 'the pull after the heartbeat refused too')
  t.same(roleCalls, [], 'still nothing prepared or taken')
  t.equal(store.current().hb.generation, cur.generation, 'the hb.json in force stays')
  t.same(await files(), before, 'files unchanged')
})
