// Issue 16, Rename node, without a cluster: the change at the edge (each field named with its reason), the
// pair it makes (hb.json's entry and every main.json reference, both generations + 1), the CLI's words for it,
// the store writing both files as one (a crash between the two renames is finished at the next load), and
// the renamed host's own command (`mccs setup --rename`): refusals, idempotent, an interrupted run finished.
// The live change across agents is test/cluster/node-rename.test.ts.
import t, { type Test } from 'tap'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { applyChange, checkHbChange, describeHbChange } from '../../core/agent/hb-change.js'
import { hbChangeOf } from '../../core/cli/hb-cmd.js'
import { ConfigStore, PENDING_FILE } from '../../core/config/store.js'
import { renameThisNode } from '../../core/setup/rename-node.js'
import { writeDevLicense } from '../../core/license/dev-license.js'
import { MccsError, isMccsError } from '../../core/errors.js'
import type { Bootstrap } from '../../core/config/bootstrap.js'
import { HbSync, type HbMessage, type HbSyncHost } from '../../core/agent/hb-sync.js'
import { versionedFile } from '../../core/config/schema-version.js'
import type { MembershipResult } from '../../core/cluster/membership.js'
import { TYPES, tempDir } from '../config/fixture.js'

const refusedWith = async (t: Test, f: () => unknown, field: string, re?: RegExp) => {
  try {
    await f()
    t.fail(`accepted (${field})`)
  } catch (e) {
    t.ok(isMccsError(e), `a catalogue error: ${(e as Error).message}`)
    t.equal((e as { field?: string }).field, field, `field ${field}: ${(e as Error).message}`)
    if (re) t.match((e as Error).message, re)
  }
}

async function loaded(t: Test): Promise<ConfigStore> {
  const store = new ConfigStore(await tempDir(t, true), { types: TYPES })
  await store.load()
  return store
}

t.test('renameNode at the edge: the node, the new name, nothing else', async (t) => {
  t.same(checkHbChange({ op: 'renameNode', name: 'node2', newName: 'db2' }), { op: 'renameNode', name: 'node2', newName: 'db2' })
  await refusedWith(t, () => checkHbChange({ op: 'renameNode', newName: 'db2' }), 'name')
  await refusedWith(t, () => checkHbChange({ op: 'renameNode', name: 'node2' }), 'newName', /must start with a letter/)
  await refusedWith(t, () => checkHbChange({ op: 'renameNode', name: 'node2', newName: '2db' }), 'newName', /must start with a letter/)
  await refusedWith(t, () => checkHbChange({ op: 'renameNode', name: 'node2', newName: 'a b' }), 'newName')
  await refusedWith(t, () => checkHbChange({ op: 'renameNode', name: 'node2', newName: 'node2' }), 'newName', /already/)
  await refusedWith(t, () => checkHbChange({ op: 'renameNode', name: 'node2', newName: 'db2', addresses: {} }), 'addresses', /not a field/)
  t.equal(describeHbChange({ op: 'renameNode', name: 'node2', newName: 'db2' }), 'node node2 renamed db2')
  t.same(hbChangeOf(['node', 'rename', 'node2', 'db2']), { change: { op: 'renameNode', name: 'node2', newName: 'db2' }, json: false })
  t.same(
    hbChangeOf(['node', 'rename', 'node2']),
    { change: { op: 'renameNode', name: 'node2', newName: null }, json: false },
    'sent: refused by the agent',
  )
})

t.test('the pair a rename makes: hb.json entry and every main.json reference, both generations + 1', async (t) => {
  const store = await loaded(t)
  const cur = store.current()
  const { hb, main } = applyChange(cur, { op: 'renameNode', name: 'node2', newName: 'db2' }, store.hbPath)
  t.equal(hb.generation, cur.hb.generation + 1)
  t.equal(main?.generation, cur.main.generation + 1)
  t.same(
    hb.nodes.map((n) => n.name),
    ['node1', 'db2'],
    'same place in the list',
  )
  t.same(hb.nodes[1]!.addresses, cur.hb.nodes[1]!.addresses, 'same addresses')
  t.same(
    main!.groups.map((g) => g.nodes),
    cur.main.groups.map((g) => g.nodes.map((n) => (n === 'node2' ? 'db2' : n))),
    'group node lists, order kept',
  )
  for (const r of main!.resources) t.notOk('node2' in r.nodeAttrs, `${r.name}: no node2 attributes left`)
  t.same(main!.resources.find((r) => r.name === 'nic')!.nodeAttrs.db2, cur.main.resources.find((r) => r.name === 'nic')!.nodeAttrs.node2)
  t.notOk(JSON.stringify({ hb, main }).includes('"node2"'), 'no node2 anywhere')
  t.equal(cur.hb.nodes[1]!.name, 'node2', 'the configuration in force is untouched')
  await refusedWith(t, () => applyChange(cur, { op: 'renameNode', name: 'node9', newName: 'db9' }, store.hbPath), 'name', /no node node9/)
  await refusedWith(
    t,
    () => applyChange(cur, { op: 'renameNode', name: 'node2', newName: 'node1' }, store.hbPath),
    'newName',
    /already taken/,
  )
  t.notOk(applyChange(cur, { op: 'setTiming', intervalMs: 200, deadMs: 1000 }, store.hbPath).main, 'other changes leave main.json')
})

t.test('adoptPair writes both files as one; refuses a stale or inconsistent pair, changing nothing', async (t) => {
  const store = await loaded(t)
  const cur = store.current()
  const pair = applyChange(cur, { op: 'renameNode', name: 'node2', newName: 'db2' }, store.hbPath)
  const before = { hb: await readFile(store.hbPath, 'utf8'), main: await readFile(store.mainPath, 'utf8') }
  // hb.json renamed with the old main.json (a node named nowhere): refused before anything is written.
  await t.rejects(store.adoptPair({ hb: pair.hb, main: { ...cur.main, generation: cur.main.generation + 1 } }), {
    code: 'MCCS_ERR_CONFIG_INVALID',
  })
  await t.rejects(store.adoptPair({ hb: pair.hb, main: { ...pair.main!, generation: cur.main.generation } }), {
    code: 'MCCS_ERR_CONFIG_GENERATION',
  })
  t.same({ hb: await readFile(store.hbPath, 'utf8'), main: await readFile(store.mainPath, 'utf8') }, before, 'files unchanged')
  t.notOk((await readdir(store.dir)).includes(PENDING_FILE))
  await store.adoptPair({ hb: pair.hb, main: pair.main! })
  const again = await new ConfigStore(store.dir, { types: TYPES }).load()
  t.same(
    again.hb.nodes.map((n) => n.name),
    ['node1', 'db2'],
  )
  t.equal(again.main.generation, pair.main!.generation)
  t.notOk((await readdir(store.dir)).includes(PENDING_FILE), 'the journal is gone')
})

t.test('a rename interrupted between its two renames is finished at the next load', async (t) => {
  const store = await loaded(t)
  const pair = applyChange(store.current(), { op: 'renameNode', name: 'node2', newName: 'db2' }, store.hbPath)
  // The crash: after the journal and hb.json, before main.json (alone, the two files do not load together).
  await writeFile(
    join(store.dir, PENDING_FILE),
    JSON.stringify({ hb: { schemaVersion: 2, ...pair.hb }, main: { schemaVersion: 2, ...pair.main } }),
  )
  await writeFile(store.hbPath, JSON.stringify({ schemaVersion: 2, ...pair.hb }))
  const after = await new ConfigStore(store.dir, { types: TYPES }).load()
  t.same(
    after.main.groups.map((g) => g.nodes),
    pair.main!.groups.map((g) => g.nodes),
  )
  t.equal(after.main.generation, pair.main!.generation)
})

/** A host's home as the package lays it out, its settings naming it `name`. */
async function host(t: Test, name: string): Promise<Bootstrap> {
  const home = await tempDir(t)
  const configDir = join(home, 'config')
  await mkdir(configDir)
  const valid = await tempDir(t, true)
  for (const f of ['hb.json', 'main.json']) await writeFile(join(configDir, f), await readFile(join(valid, f), 'utf8'))
  await writeFile(join(configDir, 'mccs.config.json'), JSON.stringify({ consolePort: 11080, nodeName: name }))
  await mkdir(join(home, 'state'))
  await writeFile(
    join(home, 'state/heartbeat.json'),
    JSON.stringify({ version: 1, cluster: 'demo', node: name, incarnation: '7', peers: { node1: '3' } }),
  )
  return {
    home,
    configDir,
    stateDir: join(home, 'state'),
    logDir: join(home, 'logs'),
    scriptDir: join(home, 'script'),
    pluginDirs: [],
    builtinPluginDir: null,
    nodeName: name,
    controlSocket: join(home, 'state/mccs.sock'),
    consolePort: 11080,
    heartbeatPort: 14321,
    source: { file: join(configDir, 'mccs.config.json'), env: [] },
  }
}

t.test('mccs setup --rename: the host takes the name the cluster gave it', async (t) => {
  const b = await host(t, 'node2')
  const snapshot = async () =>
    Promise.all(
      ['config/hb.json', 'config/main.json', 'config/mccs.config.json', 'state/heartbeat.json'].map((f) =>
        readFile(join(b.home, f), 'utf8'),
      ),
    )
  const before = await snapshot()
  await refusedWith(t, () => renameThisNode(b, 'db2', true), '--rename', /agent is running as node2/)
  await refusedWith(t, () => renameThisNode(b, '2db', false), '--rename', /must start with a letter/)
  await refusedWith(t, () => renameThisNode(b, 'node1', false), '--rename', /already taken/)
  await refusedWith(t, () => renameThisNode({ ...b, nodeName: 'node7' }, 'db7', false), '--rename', /no node node7/)
  await refusedWith(
    t,
    () => renameThisNode({ ...b, source: { ...b.source, env: ['MCCS_NODE_NAME'] } }, 'db2', false),
    '--rename',
    /MCCS_NODE_NAME says this node is node2/,
  )
  t.same(await snapshot(), before, 'refusals wrote nothing')

  // Interrupted after main.json: run again, it finishes.
  await writeDevLicense(b.configDir, 'node2')
  const main = JSON.parse(before[1]!) as { groups: Array<{ nodes: string[] }> }
  for (const g of main.groups) g.nodes = g.nodes.map((n) => (n === 'node2' ? 'db2' : n))
  const half = JSON.parse(before[1]!) as Record<string, unknown>
  await writeFile(
    join(b.configDir, 'main.json'),
    JSON.stringify({
      ...half,
      groups: main.groups,
      resources: (half.resources as Array<{ nodeAttrs?: Record<string, unknown> }>).map((r) => ({
        ...r,
        ...(r.nodeAttrs
          ? { nodeAttrs: Object.fromEntries(Object.entries(r.nodeAttrs).map(([k, v]) => [k === 'node2' ? 'db2' : k, v])) }
          : {}),
      })),
    }),
  )
  const r = await renameThisNode(b, 'db2', false)
  t.same(
    r.files.map((f) => f.slice(b.home.length + 1)),
    ['config/hb.json', 'state/heartbeat.json', 'config/mccs.config.json'],
    'what was left',
  )
  t.equal(r.licenseFor, 'node2', 'the license names the old node: said')
  const [hb, m, settings, hbState] = (await snapshot()).map((x) => JSON.parse(x) as Record<string, unknown>)
  t.same(
    (hb!.nodes as Array<{ name: string }>).map((n) => n.name),
    ['node1', 'db2'],
  )
  t.equal(hb!.generation, JSON.parse(before[0]!).generation, 'generations kept: the cluster’s newer pair replaces them')
  t.notOk(JSON.stringify(m).includes('"node2"'), 'no node2 in main.json')
  t.same(settings, { consolePort: 11080, nodeName: 'db2' }, 'other settings kept')
  t.same(hbState, { version: 1, cluster: 'demo', node: 'db2', incarnation: '7', peers: { node1: '3' } }, 'its incarnation stays its own')
  const store = new ConfigStore(b.configDir, { types: TYPES })
  t.ok(await store.load(), 'the pair loads')
  // Done: run again with the new settings, nothing to write.
  t.same((await renameThisNode({ ...b, nodeName: 'db2' }, 'db2', false)).files, [])
})

type Handler = (from: string, m: HbMessage) => unknown

/** node2, a member whose coordinator is node1, on a real store; `peer` answers hbGet as node1 would. */
async function member(t: Test, peer: (m: HbMessage) => unknown = () => undefined) {
  const store = await loaded(t)
  const roleCalls: string[] = []
  const logs: string[] = []
  const handlers: Record<string, Handler> = {}
  const host = {
    node: 'node2',
    log: { log: (_level: string, msg: string) => logs.push(msg) },
    oplog: { append: async () => {} },
    store,
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
      request: async (_node: string, m: HbMessage) => peer(m),
    },
    removable: () => null,
    changed: async () => void roleCalls.push('changed'),
  } as unknown as HbSyncHost
  const sync = new HbSync(host)
  sync.serve()
  const send = (from: string, m: HbMessage) => Promise.resolve().then(() => handlers[m.t]!(from, m))
  const files = async () => ({ hb: await readFile(store.hbPath, 'utf8'), main: await readFile(store.mainPath, 'utf8') })
  // The coordinator's rename (of node1 here: a member checks only that it stays itself).
  const pair = applyChange(store.current(), { op: 'renameNode', name: 'node1', newName: 'db1' }, store.hbPath)
  const docs = { hb: versionedFile('hb', pair.hb), main: versionedFile('main', pair.main!) }
  return { store, sync, send, files, roleCalls, logs, docs, pair }
}

t.test('a member prepares and commits hb.json and main.json together', async (t) => {
  const { store, send, files, roleCalls, docs, pair } = await member(t)
  const before = await files()
  // A main.json not newer than ours: refused at prepare, nothing prepared.
  const stale = await send('node1', {
    t: 'hbPrepare',
    hb: docs.hb,
    main: { ...docs.main, generation: store.current().main.generation },
  }).catch((e: unknown) => e)
  t.ok(isMccsError(stale, 'MCCS_ERR_CONFIG_GENERATION'), String(stale))
  t.equal((stale as { field?: string }).field, '/main/generation')
  t.same(roleCalls, [])
  t.same(await send('node1', { t: 'hbPrepare', hb: docs.hb, main: docs.main }), { generation: pair.hb.generation })
  t.same(await files(), before, 'nothing written at prepare')
  await send('node1', { t: 'hbCommit', generation: pair.hb.generation })
  t.same(roleCalls, ['prepareQuorum', 'prepareConfig', 'commitConfig', 'changed'])
  t.same(
    store.current().hb.nodes.map((n) => n.name),
    ['db1', 'node2'],
  )
  t.equal(store.current().main.generation, pair.main!.generation)
  t.notOk((await files()).main.includes('"node1"'), 'main.json on disk names db1 only')
})

t.test('a member that missed the rename takes the pair from a peer that shows it; hb.json alone is not taken', async (t) => {
  let answer: 'pair' | 'hb' = 'hb'
  let docs: { hb: unknown; main: unknown } = { hb: null, main: null }
  const m = await member(t, (msg) => (msg.t === 'hbGet' ? (answer === 'pair' && msg.pair ? docs : docs.hb) : undefined))
  docs = m.docs
  const before = await m.files()
  const heard = () =>
    m.sync.viewsChanged({ quorate: true, partition: ['node1', 'node2'] } as unknown as MembershipResult, {
      node1: { up: ['node1', 'node2'], coordinator: 'node1', generation: 1, quorum: 'quorate', ext: { hbg: m.pair.hb.generation } },
    })
  // An agent from before renames answers hb.json alone: it does not validate with our main.json; nothing taken.
  heard()
  await new Promise((r) => setTimeout(r, 100))
  t.match(m.logs.join('\n'), /cannot fetch hb\.json from node1/)
  t.same(await m.files(), before, 'files unchanged')
  answer = 'pair'
  await new Promise((r) => setTimeout(r, 1100)) // the pull's back-off after a failure
  heard()
  await until(() => m.store.current().hb.generation === m.pair.hb.generation)
  t.same(
    m.store.current().hb.nodes.map((n) => n.name),
    ['db1', 'node2'],
  )
  t.equal(m.store.current().main.generation, m.pair.main!.generation, 'main.json taken with it')
  t.notOk((await m.files()).hb.includes('"node1"'))
})

async function until(f: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 20))
}

/** node1, the coordinator, with node2 a member and node3 stopped; `onPrepare` runs as node2 is asked to prepare. */
async function coordinator(t: Test, onPrepare: (up: Set<string>) => void = () => {}) {
  const store = await loaded(t)
  const cur = store.current()
  await store.adoptHb(
    applyChange(cur, { op: 'addNode', name: 'node3', addresses: { lan: '10.0.0.3', backup: '10.1.0.3' } }, store.hbPath).hb,
  )
  const up = new Set(['node2'])
  const sent: string[] = []
  const roleCalls: string[] = []
  const state = { coordinator: true }
  const host = {
    node: 'node1',
    log: { log: () => {} },
    oplog: { append: async () => {} },
    store,
    role: {
      isCoordinator: () => state.coordinator,
      coordinator: () => 'node1',
      partitionPeers: () => ['node2'],
      inView: (n: string) => n === 'node2',
      hasLeft: () => false,
      prepareQuorum: async () => {},
      prepareConfig: () => void roleCalls.push('prepareConfig'),
      commitConfig: () => void roleCalls.push('commitConfig'),
      abortConfig: () => void roleCalls.push('abortConfig'),
      hb: { isUp: (n: string) => up.has(n), status: () => ({ peers: [] }) },
    },
    rpc: {
      serve: () => {},
      request: async (n: string, m: HbMessage) => {
        sent.push(`${m.t}:${n}`)
        if (m.t === 'hbPrepare') onPrepare(up)
        return { generation: 0 }
      },
    },
    removable: () => null,
    changed: async () => void roleCalls.push('changed'),
  } as unknown as HbSyncHost
  const sync = new HbSync(host)
  const files = async () => ({ hb: await readFile(store.hbPath, 'utf8'), main: await readFile(store.mainPath, 'utf8') })
  return { store, sync, sent, roleCalls, files, up, state }
}

t.test('the coordinator: a stopped node renamed on every member; one that starts while they prepare is not', async (t) => {
  const back = await coordinator(t, (up) => up.add('node3'))
  const before = await back.files()
  const err = await back.sync.change({ op: 'renameNode', name: 'node3', newName: 'db3' }, { user: 'tester' }).catch((e: unknown) => e)
  t.ok(isMccsError(err, 'MCCS_ERR_CONFLICT'), String(err))
  t.equal((err as { field?: string }).field, 'name')
  t.match(String(err), /node node3 is running: stop node3 first/)
  t.same(back.sent, ['hbPrepare:node2', 'hbAbort:node2'], 'prepared, then withdrawn on the member')
  t.same(back.roleCalls, ['prepareConfig', 'abortConfig'])
  t.same(await back.files(), before, 'nothing written')
  // Running from the start: refused before anyone prepares.
  const err2 = await back.sync.change({ op: 'renameNode', name: 'node3', newName: 'db3' }, { user: 'tester' }).catch((e: unknown) => e)
  t.equal((err2 as { field?: string }).field, 'name')
  t.same(back.sent, ['hbPrepare:node2', 'hbAbort:node2'], 'nobody asked')

  const ok = await coordinator(t)
  const r = await ok.sync.change({ op: 'renameNode', name: 'node3', newName: 'db3' }, { user: 'tester' })
  t.equal(r.summary, 'node node3 renamed db3')
  t.same(ok.sent, ['hbPrepare:node2', 'hbCommit:node2'])
  t.same(ok.roleCalls, ['prepareConfig', 'commitConfig', 'changed'])
  t.same(
    ok.store.current().hb.nodes.map((n) => n.name),
    ['node1', 'node2', 'db3'],
  )
  t.notOk((await ok.files()).hb.includes('"node3"'))
})

t.test('the coordinator asks again a member that does not follow it yet (right after a node loss)', async (t) => {
  // node2 still installs the view that has node1 as its coordinator: it refuses twice, then prepares.
  let refusals = 2
  const c = await coordinator(t, () => {
    if (refusals-- > 0) throw new MccsError('MCCS_ERR_NOT_COORDINATOR', "node1 is not this node's coordinator", { subject: 'node1' })
  })
  const t0 = Date.now()
  const r = await c.sync.change({ op: 'renameNode', name: 'node3', newName: 'db3' }, { user: 'tester' })
  t.equal(r.summary, 'node node3 renamed db3')
  t.same(c.sent, ['hbPrepare:node2', 'hbPrepare:node2', 'hbPrepare:node2', 'hbCommit:node2'], 'asked three times, then committed')
  t.ok(Date.now() - t0 < 2000, `done in ${Date.now() - t0} ms`)
  t.same(
    c.store.current().hb.nodes.map((n) => n.name),
    ['node1', 'node2', 'db3'],
  )

  // Another refusal is final at once; and a node that stops being the coordinator stops asking.
  const other = await coordinator(t, () => {
    throw new MccsError('MCCS_ERR_CONFIG_GENERATION', 'stale', { field: '/generation' })
  })
  const e1 = await other.sync.change({ op: 'renameNode', name: 'node3', newName: 'db3' }, { user: 'tester' }).catch((e: unknown) => e)
  t.ok(isMccsError(e1, 'MCCS_ERR_CONFIG_GENERATION'), String(e1))
  t.same(other.sent, ['hbPrepare:node2', 'hbAbort:node2'], 'not asked again')
  let lost: Awaited<ReturnType<typeof coordinator>> | null = null
  lost = await coordinator(t, () => {
    lost!.state.coordinator = false
    throw new MccsError('MCCS_ERR_NOT_COORDINATOR', "node1 is not this node's coordinator", { subject: 'node1' })
  })
  const before = await lost.files()
  const e2 = await lost.sync.change({ op: 'renameNode', name: 'node3', newName: 'db3' }, { user: 'tester' }).catch((e: unknown) => e)
  t.ok(isMccsError(e2, 'MCCS_ERR_NOT_COORDINATOR'), String(e2))
  t.match(String(e2), /node node2 refused it: node1 is not this node's coordinator; nothing changed/)
  t.same(lost.sent, ['hbPrepare:node2', 'hbAbort:node2'], 'no longer the coordinator: not asked again')
  t.same(await lost.files(), before, 'nothing written')
})
