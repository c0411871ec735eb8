// Configuration replication across schema versions (issue 16, What 4): ConfigSync's peer messages answered
// as they arrive from the peer channel, on a real store in a temp directory. A main.json of a newer schema
// version than this agent reads — pushed by the coordinator, fetched from a peer, or sent to us as
// coordinator — is refused, logged, and the local configuration and files stay as they were; one from an
// agent that predates the field (no schemaVersion) is taken as version 1.
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { ConfigSync, type ConfigMessage, type ConfigSyncHost } from '../../core/agent/config-sync.js'
import type { MembershipResult } from '../../core/cluster/membership.js'
import { ConfigStore } from '../../core/config/store.js'
import { isMccsError, type MccsError } from '../../core/errors.js'
import type { MainConfig } from '../../core/engine/model.js'
import { TYPES, VALID_DIR } from '../config/fixture.js'

type Handler = (from: string, m: ConfigMessage) => unknown

/** node2 follows coordinator node1 (or is the coordinator itself with `coordinator: true`). */
async function setup(t: Test, o: { coordinator?: boolean; reply?: (m: ConfigMessage) => unknown } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'mccs-sync-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await cp(VALID_DIR, dir, { recursive: true })
  const store = new ConfigStore(dir, { types: TYPES })
  await store.load()
  const lines: Array<{ level: string; msg: string }> = []
  const requests: Array<{ node: string; msg: ConfigMessage }> = []
  const handlers: Record<string, Handler> = {}
  const coordinator = o.coordinator ? 'node2' : 'node1'
  const host = {
    node: 'node2',
    log: { log: (level: string, msg: string) => lines.push({ level, msg }) },
    store,
    role: {
      setGeneration: () => {},
      isCoordinator: () => coordinator === 'node2',
      coordinator: () => coordinator,
      partitionPeers: () => ['node1'],
    },
    rpc: {
      serve: (h: Record<string, Handler>) => Object.assign(handlers, h),
      assertCoordinator: () => {
        if (coordinator !== 'node2') throw new Error('not the coordinator')
      },
      assertOurCoordinator: (from: string) => {
        if (from !== coordinator) throw new Error(`${from} is not our coordinator`)
      },
      request: async (node: string, msg: ConfigMessage) => {
        requests.push({ node, msg })
        return o.reply?.(msg)
      },
    },
    changed: () => {},
  } as unknown as ConfigSyncHost
  const sync = new ConfigSync(host)
  sync.serve()
  const files = async () => {
    const out: Record<string, string> = {}
    for (const f of (await readdir(dir)).sort()) out[f] = await readFile(join(dir, f), 'utf8')
    return out
  }
  const send = (from: string, m: ConfigMessage) => Promise.resolve().then(() => handlers[m.t]!(from, m))
  return { store, sync, lines, requests, files, send, dir }
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

t.test('a configuration pushed by the coordinator with a newer schema version is refused, logged, nothing changed', async (t) => {
  const { store, lines, files, send } = await setup(t)
  const before = await files()
  const cur = store.current().main
  // A valid change but for its version: the version is the only reason to refuse it.
  const newer = { ...structuredClone(cur), generation: 8 } as MainConfig
  newer.groups[0]!.autoFailback = !cur.groups[0]!.autoFailback
  await refusedNewer(t, send('node1', { t: 'config', main: newer, schemaVersion: 3 }), 'push')
  t.equal(store.current().main.generation, 7, 'generation 7 stays in force')
  t.same(store.current().main.groups, cur.groups, 'its content too')
  t.same(await files(), before, 'main.json and hb.json unchanged on disk')
  t.match(lines, [
    {
      level: 'error',
      msg: 'configuration generation 8 from node1 refused: schemaVersion 3 is newer than this agent reads (up to 2); this node keeps generation 7 until it is upgraded',
    },
  ])
  // The field inside main (as in the file) is read the same way.
  await refusedNewer(t, send('node1', { t: 'config', main: { ...newer, schemaVersion: 3 } }), 'push with the field in main')
  t.equal(lines.length, 1, 'the same refusal is logged once')
})

t.test('a configuration from an agent without the field (version 1) or of this version is taken', async (t) => {
  const { store, files, send } = await setup(t)
  const cur = store.current().main
  const old = { ...structuredClone(cur), generation: 8 } as MainConfig & { schemaVersion?: number }
  t.notOk('schemaVersion' in old)
  t.same(await send('node1', { t: 'config', main: old }), { generation: 8 }, 'a push without schemaVersion (version 1) is adopted')
  t.equal(JSON.parse((await files())['main.json']!).schemaVersion, 2, 'and written at version 2')
  t.same(await send('node1', { t: 'config', main: { ...old, generation: 9 }, schemaVersion: 2 }), { generation: 9 }, 'version 2 too')
  t.equal(store.current().main.generation, 9)
})

t.test('a newer configuration fetched from a peer is refused once and not fetched again', async (t) => {
  const { store, sync, lines, requests, files } = await setup(t, {
    reply: () => ({ ...structuredClone(store.current().main), generation: 10, schemaVersion: 3 }),
  })
  const before = await files()
  const m = { quorate: true, partition: ['node1', 'node2'], coordinator: 'node1' } as MembershipResult
  sync.viewsChanged(m, { node1: { generation: 10 } })
  await sync.settled().catch(() => {})
  t.equal(requests.length, 1, 'fetched from node1')
  t.same(requests[0], { node: 'node1', msg: { t: 'configGet', schemaVersion: 2 } }, 'asking with the highest version this agent reads')
  t.equal(store.current().main.generation, 7, 'generation 7 stays in force')
  t.same(await files(), before, 'nothing written')
  t.match(lines[0], { level: 'error', msg: /^configuration generation 10 from node1 refused: schemaVersion 3 is newer/ })
  // Past the retry pause, node1 still shows generation 10: it is not asked again.
  await new Promise((r) => setTimeout(r, 1100))
  sync.viewsChanged(m, { node1: { generation: 10 } })
  await sync.settled().catch(() => {})
  t.equal(requests.length, 1, 'not fetched again')
})

t.test('as coordinator: a change sent by a member of a newer version is refused and nothing changes', async (t) => {
  const { store, files, send } = await setup(t, { coordinator: true })
  const before = await files()
  const main = structuredClone(store.current().main) as MainConfig
  main.groups[0]!.autoFailback = !main.groups[0]!.autoFailback
  await refusedNewer(t, send('node1', { t: 'configCommit', main, expectGeneration: 7, schemaVersion: 3 }), 'commit')
  t.equal(store.current().main.generation, 7)
  t.same(await files(), before)
  t.same(await send('node1', { t: 'configCommit', main, expectGeneration: 7 }), { generation: 8 }, 'a member without the field: taken')
})

t.test('what a peer gets from configGet: main with its version if it asks with one, without it otherwise', async (t) => {
  const { send } = await setup(t)
  const bare = (await send('node1', { t: 'configGet' })) as Record<string, unknown>
  t.notOk('schemaVersion' in bare, 'an agent from before the field gets main as it reads it')
  t.equal(bare.generation, 7)
  const versioned = (await send('node1', { t: 'configGet', schemaVersion: 2 })) as Record<string, unknown>
  t.equal(versioned.schemaVersion, 2)
})

t.test('a change naming a newer version (an imported file) is refused here, before it goes to the coordinator', async (t) => {
  const { store, sync, requests } = await setup(t)
  const main = { ...structuredClone(store.current().main), schemaVersion: 3 } as MainConfig
  await refusedNewer(t, sync.commit(main, 7), 'commit on a follower')
  t.same(requests, [], 'nothing sent to the coordinator')
})
