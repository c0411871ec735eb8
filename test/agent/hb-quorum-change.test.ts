// Issue 16: the quorum settings as a live change (setQuorum: server, two-node mode, fence delay), and the
// cluster name and heartbeat port refused as live changes with the reason — at the edge (checkHbChange), in
// the hb.json they make (applyHbChange), from the CLI's flags (hbChangeOf) and in a cluster's config import.
import t, { type Test } from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { applyHbChange, checkHbChange, describeHbChange } from '../../core/agent/hb-change.js'
import { hbChangeOf } from '../../core/cli/hb-cmd.js'
import { importIntoCluster } from '../../core/agent/config-import-cluster.js'
import { isMccsError } from '../../core/errors.js'
import type { HbConfig } from '../../core/config/hb-model.js'
import type { ConfigStore } from '../../core/config/store.js'
import type { MainConfig } from '../../core/engine/index.js'

function hbOf(n: number, quorum?: HbConfig['quorum']): HbConfig {
  return {
    generation: 4,
    cluster: 'unit',
    nodes: Array.from({ length: n }, (_, i) => ({ name: `n${i + 1}`, addresses: { a: `10.0.0.${i + 1}` } })),
    links: [{ name: 'a', priority: 0 }],
    timing: { intervalMs: 100, deadMs: 600 },
    port: 14321,
    ...(quorum ? { quorum } : {}),
  }
}
const main = { generation: 1, types: {}, groups: [], resources: [], dependencies: [] } as unknown as MainConfig
const server = { host: '10.9.0.1', port: 14323, caFile: 'quorum-b/ca.crt', keyFile: 'quorum-b/lab.key' }

const refusedWith = (t: Test, f: () => unknown, field: string, re?: RegExp) => {
  try {
    f()
    t.fail(`accepted (${field})`)
  } catch (e) {
    t.ok(isMccsError(e), 'a catalogue error')
    t.equal((e as { field?: string }).field, field, `field ${field}: ${(e as Error).message}`)
    if (re) t.match((e as Error).message, re)
  }
}

t.test('setQuorum at the edge: each field checked, named with its reason', async (t) => {
  const c = checkHbChange({ op: 'setQuorum', server })
  t.same(c, { op: 'setQuorum', server }, 'a server as hb.json takes it')
  t.same(checkHbChange({ op: 'setQuorum', server: null, twoNode: true }), { op: 'setQuorum', server: null, twoNode: true })
  t.same(
    checkHbChange({ op: 'setQuorum', fenceDelayMs: 2000 }),
    { op: 'setQuorum', fenceDelayMs: 2000 },
    'the fence delay alone, as before',
  )
  refusedWith(t, () => checkHbChange({ op: 'setQuorum' }), 'change', /at least one of/)
  refusedWith(t, () => checkHbChange({ op: 'setQuorum', server: { ...server, host: 'a b' } }), 'server.host')
  refusedWith(t, () => checkHbChange({ op: 'setQuorum', server: { ...server, host: '-x-' } }), 'server.host', /neither an IP address nor/)
  refusedWith(t, () => checkHbChange({ op: 'setQuorum', server: { ...server, port: 70000 } }), 'server.port', /1 to 65535/)
  refusedWith(t, () => checkHbChange({ op: 'setQuorum', server: { host: '10.9.0.1', keyFile: 'k' } }), 'server.caFile')
  refusedWith(t, () => checkHbChange({ op: 'setQuorum', server: { ...server, ca: '-----BEGIN' } }), 'server.ca', /not a field/)
  refusedWith(t, () => checkHbChange({ op: 'setQuorum', server: 'x' }), 'server')
  refusedWith(t, () => checkHbChange({ op: 'setQuorum', twoNode: 'yes' }), 'twoNode')
  refusedWith(t, () => checkHbChange({ op: 'setQuorum', fenceDelayMs: 500_000 }), 'fenceDelayMs')
})

t.test('the cluster name and the heartbeat port: refused as ops and as fields, with why', async (t) => {
  refusedWith(t, () => checkHbChange({ op: 'setPort', port: 15000 }), 'port', /nodes on different ports do not hear each other/)
  refusedWith(t, () => checkHbChange({ op: 'setCluster', cluster: 'x' }), 'cluster', /cannot change in a running cluster/)
  refusedWith(t, () => checkHbChange({ op: 'setTiming', intervalMs: 100, deadMs: 600, port: 1 }), 'port', /stop every node's agent/)
  refusedWith(t, () => checkHbChange({ op: 'setQuorum', fenceDelayMs: 0, cluster: 'x' }), 'cluster', /every heartbeat/)
})

t.test('the hb.json a setQuorum makes: the mode switches, the rest is kept', async (t) => {
  const apply = (cur: HbConfig, c: unknown) => applyHbChange({ hb: cur, main }, checkHbChange(c), 'hb.json')
  const twoNode = hbOf(2, { twoNode: true, fenceDelayMs: 3000 })
  const toServer = apply(twoNode, { op: 'setQuorum', server })
  t.same(toServer.quorum, { server, fenceDelayMs: 3000 }, 'two-node mode → server: two-node mode goes, the fence delay stays')
  t.equal(toServer.generation, 5, 'the next generation')
  t.same(twoNode.quorum, { twoNode: true, fenceDelayMs: 3000 }, 'the configuration in force untouched')
  const other = apply(toServer, { op: 'setQuorum', server: { ...server, host: '10.9.0.2' } })
  t.equal(other.quorum?.server?.host, '10.9.0.2', 'server → another server')
  t.same(
    apply(toServer, { op: 'setQuorum', server: null }).quorum,
    { twoNode: true, fenceDelayMs: 3000 },
    'no server, 2 nodes: two-node mode',
  )
  t.same(apply(toServer, { op: 'setQuorum', server: null, twoNode: false }).quorum, { fenceDelayMs: 3000 }, 'or majority only, when asked')
  t.same(apply(toServer, { op: 'setQuorum', fenceDelayMs: null }).quorum, { server }, 'the fence delay alone: the server kept')
  const three = hbOf(3, { server })
  t.same(apply(three, { op: 'setQuorum', server: null }).quorum, undefined, 'three nodes without a server: a majority decides')
  refusedWith(t, () => apply(twoNode, { op: 'setQuorum', server, twoNode: true }), 'twoNode', /cannot be combined/)
  refusedWith(t, () => apply(three, { op: 'setQuorum', server: null, twoNode: true }), 'twoNode', /two nodes; this cluster has 3/)
  refusedWith(t, () => apply(toServer, { op: 'setQuorum', twoNode: true }), 'twoNode', /cannot be combined/)
  t.equal(
    describeHbChange(checkHbChange({ op: 'setQuorum', server, fenceDelayMs: null })),
    'quorum server 10.9.0.1:14323, fence delay default',
  )
})

t.test('mccs hb set-quorum / set-port / set-cluster: the flags as a change', async (t) => {
  const ok = (args: string[]) => {
    const r = hbChangeOf(args)
    if (typeof r === 'string') throw new Error(r)
    return r.change
  }
  t.same(
    ok(['set-quorum', '--server', '10.9.0.1', '--server-port', '14323', '--ca-file', 'quorum-b/ca.crt', '--key-file', 'quorum-b/lab.key']),
    { op: 'setQuorum', server },
  )
  t.same(ok(['set-quorum', '--mode', 'two-node']), { op: 'setQuorum', server: null, twoNode: true })
  t.same(ok(['set-quorum', '--mode', 'majority', '--fence-delay-ms', 'default']), {
    op: 'setQuorum',
    fenceDelayMs: null,
    server: null,
    twoNode: false,
  })
  t.same(ok(['set-quorum', '--fence-delay-ms', '2000']), { op: 'setQuorum', fenceDelayMs: 2000 })
  t.match(hbChangeOf(['set-quorum']), /give --fence-delay-ms, --mode or --server/)
  t.match(hbChangeOf(['set-quorum', '--mode', 'server']), /needs --server/)
  t.match(hbChangeOf(['set-quorum', '--mode', 'two-node', '--server', '10.9.0.1']), /--server: a quorum server is --mode server/)
  t.match(hbChangeOf(['set-quorum', '--ca-file', 'x']), /--ca-file: only with --server/)
  t.match(hbChangeOf(['set-quorum', '--mode', 'quorum']), /--mode: must be server, two-node or majority/)
  // Without --ca-file the agent names the field (the change is sent as asked).
  refusedWith(t, () => checkHbChange(ok(['set-quorum', '--server', '10.9.0.1', '--key-file', 'k'])), 'server.caFile')
  t.same(ok(['set-port', '15000']), { op: 'setPort', port: 15000 })
  t.same(ok(['set-cluster', 'other']), { op: 'setCluster', cluster: 'other' })
})

t.test("a cluster's config import that changes the cluster name or the port says why it is refused", async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-hbq-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const hb = hbOf(2, { twoNode: true })
  // importIntoCluster reads only the configuration in force from the store.
  const store = { current: () => ({ hb, main }) } as unknown as ConfigStore
  let committed = 0
  const commit = async () => void committed++
  for (const [field, value] of [
    ['port', 15000],
    ['cluster', 'other'],
  ] as const) {
    const f = path.join(dir, `${field}.json`)
    await writeFile(f, JSON.stringify({ main, hb: { ...hb, [field]: value } }))
    const r = await importIntoCluster(f, store, commit)
    t.equal(r.ok, false, `${field} changed: refused`)
    t.match(r.issues, [{ path: `/hb/${field}`, code: 'MCCS_ERR_INVALID', reason: /cannot change in a running cluster/ }])
  }
  t.equal(committed, 0, 'nothing committed')
  const same = path.join(dir, 'same.json')
  await writeFile(same, JSON.stringify({ main, hb }))
  t.equal((await importIntoCluster(same, store, commit)).ok, true, 'the same hb.json: main.json imported')
})
