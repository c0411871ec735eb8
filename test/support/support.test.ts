// Support files (manual 4.2.5.1): what support receives — the node's configuration without secrets,
// logs, scripts, status and system facts — for one node or all, kept for re-download.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, mkdir, readFile, rm, writeFile, readdir } from 'node:fs/promises'
import { gunzipSync } from 'node:zlib'
import os from 'node:os'
import path from 'node:path'
import Fastify from 'fastify'
import { tar, tarGz, untarGz } from '../../core/support/tar.js'
import { collectNodeBundle } from '../../core/support/bundle.js'
import { createSupportBundle, type SupportDeps } from '../../core/support/service.js'
import { SupportStore } from '../../core/support/store.js'
import { redactJson } from '../../core/log/redact.js'
import { loadBootstrap, type Bootstrap } from '../../core/config/bootstrap.js'
import { createInitial } from '../../core/config/store.js'
import { registerSupportRoutes } from '../../core/console/routes/support.js'
import { sendError } from '../../core/console/http-errors.js'
import { startTestAgent } from '../agent/helpers.js'
import { packageRoot } from '../../core/paths.js'

const SECRET = 'S3CR3T-value-that-must-not-leak'

const sh = (file: string, args: string[], input?: Buffer) =>
  new Promise<string>((resolve, reject) => {
    const c = execFile(file, args, { encoding: 'buffer', maxBuffer: 64 << 20 }, (err, out) => (err ? reject(err) : resolve(out.toString())))
    if (input) c.stdin!.end(input)
  })

async function home(node: string, nodes: string[]): Promise<Bootstrap> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `mccs-support-${node}-`))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const b = await loadBootstrap({ cwd: dir, env: { MCCS_HOME: dir, MCCS_NODE_NAME: node } })
  await createInitial(b.configDir, { cluster: 'c', nodes: nodes.map((n, i) => ({ name: n, address: `127.0.0.${i + 1}` })) })
  await writeFile(path.join(b.configDir, 'cluster.key'), SECRET, { mode: 0o600 })
  await writeFile(path.join(b.configDir, 'accounts.json'), JSON.stringify({ mcuser: { hash: SECRET } }))
  await writeFile(
    path.join(b.configDir, 'aws.json'),
    JSON.stringify({ region: 'eu-west-1', profiles: [{ name: 'p', secretAccessKey: SECRET, sessionToken: SECRET, password: SECRET }] }),
  )
  await mkdir(path.join(b.configDir, 'console'), { recursive: true })
  await writeFile(path.join(b.configDir, 'console', 'key.pem'), SECRET)
  await mkdir(path.join(b.scriptDir, 'sub'), { recursive: true })
  await writeFile(path.join(b.scriptDir, 'start.sh'), '#!/bin/sh\necho start\n')
  await writeFile(path.join(b.scriptDir, 'sub', 'helper.sh'), 'echo helper\n')
  await writeFile(path.join(b.scriptDir, 'deploy.key'), SECRET)
  await mkdir(b.logDir, { recursive: true })
  await writeFile(path.join(b.logDir, 'mccs.log'), '{"msg":"agent started"}\n')
  await writeFile(path.join(b.logDir, 'mccs.log.1'), '{"msg":"older"}\n')
  await writeFile(path.join(b.logDir, 'operation.log'), '{"command":"groupOnline"}\n')
  await writeFile(path.join(b.logDir, 'unrelated.txt'), 'not ours')
  return b
}

t.test('tar: Debian tar reads what we write, and we read it back', async (t) => {
  const long = `${'d'.repeat(80)}/${'e'.repeat(60)}/file.txt`
  const entries = [
    { name: 'a/hello.txt', data: Buffer.from('hello\n') },
    { name: long, data: Buffer.alloc(1500, 7) },
    { name: 'empty', data: Buffer.alloc(0) },
  ]
  const gz = tarGz(entries)
  t.same((await sh('tar', ['-tzf', '-'], gz)).trim().split('\n'), ['a/hello.txt', long, 'empty'])
  t.equal(await sh('tar', ['-xzOf', '-', 'a/hello.txt'], gz), 'hello\n')
  t.same(
    untarGz(gz).map((e) => [e.name, e.data.length]),
    [
      ['a/hello.txt', 6],
      [long, 1500],
      ['empty', 0],
    ],
  )
  t.throws(() => tar([{ name: '../escape', data: Buffer.alloc(1) }]), /unsafe/)
  t.throws(() => tar([{ name: '/abs', data: Buffer.alloc(1) }]), /unsafe/)
})

t.test('redaction by key name, at any depth', async (t) => {
  t.same(
    redactJson({
      a: { password: 'x', clusterKey: 'k', monkey: 'banana', list: [{ apiKey: 'y', token: 'z', name: 'n' }] },
      key: 'v',
      accessKeyId: 'AKIA',
    }),
    {
      a: {
        password: '[redacted]',
        clusterKey: '[redacted]',
        monkey: 'banana',
        list: [{ apiKey: '[redacted]', token: '[redacted]', name: 'n' }],
      },
      key: '[redacted]',
      accessKeyId: '[redacted]',
    },
  )
})

t.test("one node's bundle: config redacted, keys and accounts never, logs, scripts, status, system facts, manifest", async (t) => {
  const b = await home('n1', ['n1'])
  const { data, manifest } = await collectNodeBundle({
    bootstrap: b,
    status: async () => ({ node: 'n1', groups: [] }),
    mccsVersion: '0.1.0',
  })
  const raw = gunzipSync(data)
  t.notOk(raw.includes(SECRET), 'no secret anywhere in the bundle')
  const files = Object.fromEntries(untarGz(data).map((e) => [e.name, e.data.toString()]))
  const names = Object.keys(files).sort()
  for (const want of [
    'n1/config/main.json',
    'n1/config/hb.json',
    'n1/config/aws.json',
    'n1/config/settings/effective.json',
    'n1/logs/mccs.log',
    'n1/logs/mccs.log.1',
    'n1/logs/operation.log',
    'n1/script/start.sh',
    'n1/script/sub/helper.sh',
    'n1/status.json',
    'n1/processinfo.txt',
    'n1/system/uname.txt',
    'n1/system/ip-addr.json',
    'n1/system/free.txt',
    'n1/system/df.txt',
    'n1/system/uptime.txt',
    'n1/system/os-release',
    'n1/manifest.json',
  ]) {
    t.ok(names.includes(want), want)
  }
  for (const never of [
    'n1/config/cluster.key',
    'n1/config/accounts.json',
    'n1/config/console/key.pem',
    'n1/script/deploy.key',
    'n1/logs/unrelated.txt',
  ])
    t.notOk(names.includes(never), `not ${never}`)
  t.match(JSON.parse(files['n1/config/aws.json']!), {
    region: 'eu-west-1',
    profiles: [{ name: 'p', secretAccessKey: '[redacted]', sessionToken: '[redacted]', password: '[redacted]' }],
  })
  t.same(JSON.parse(files['n1/status.json']!), { node: 'n1', groups: [] })
  t.match(files['n1/processinfo.txt'], new RegExp(`\\n\\s*${process.pid}\\s`), 'this test process is in the process list')
  t.ok(Array.isArray(JSON.parse(files['n1/system/ip-addr.json']!)), 'ip -j addr output')
  const m = JSON.parse(files['n1/manifest.json']!)
  t.same(m, manifest)
  t.match(m, { node: 'n1', mccsVersion: '0.1.0' })
  t.ok(m.files.some((f: { path: string }) => f.path === 'config/aws.json'))
  for (const p of ['config/accounts.json', 'config/cluster.key', 'config/console', 'script/deploy.key'])
    t.ok(
      m.excluded.some((x: { path: string }) => x.path === p),
      `manifest says ${p} was left out`,
    )
})

t.test('a status that fails is noted, the bundle is still made', async (t) => {
  const b = await home('n1', ['n1'])
  const { data, manifest } = await collectNodeBundle({
    bootstrap: b,
    status: async () => {
      throw new Error('the agent is not running')
    },
  })
  t.match(manifest.errors, [{ what: 'status.json', message: 'the agent is not running' }])
  const st = untarGz(data).find((e) => e.name === 'n1/status.json')
  t.same(JSON.parse(st!.data.toString()), { error: 'the agent is not running' })
})

t.test("all nodes: peers' bundles inside one tar.gz; nodes that cannot be collected are named", async (t) => {
  const b1 = await home('n1', ['n1', 'n2', 'n3'])
  const b2 = await home('n2', ['n1', 'n2', 'n3'])
  const deps: SupportDeps = { bootstrap: b1, status: async () => ({ node: 'n1' }), clusterNodes: () => ['n1', 'n2', 'n3'] }
  // no peer channel wired: this node's bundle, the others named
  const alone = await createSupportBundle(deps, 'all')
  t.same(alone.nodes, ['n1'])
  t.same(
    alone.unreachable.map((u) => u.node),
    ['n2', 'n3'],
  )
  t.match(alone.unreachable[0]!.reason, /not wired/)
  // wired: n2 answers with its own bundle, n3 with something else
  const peers = async (node: string) =>
    node === 'n2'
      ? (await collectNodeBundle({ bootstrap: b2, status: async () => ({ node: 'n2' }) })).data
      : tarGz([{ name: 'n1/manifest.json', data: Buffer.from('{}') }])
  const all = await createSupportBundle({ ...deps, collectFromPeers: peers }, 'all')
  t.same(all.nodes, ['n1', 'n2'])
  t.same(
    all.unreachable.map((u) => u.node),
    ['n3'],
  )
  t.match(all.unreachable[0]!.reason, /not its own/)
  const outer = untarGz(await readFile(await new SupportStore(b1.stateDir).path(all.id)))
  t.same(
    outer.map((e) => e.name),
    ['n1.tar.gz', 'n2.tar.gz', 'manifest.json'],
  )
  t.match(JSON.parse(outer[2]!.data.toString()), {
    id: all.id,
    collectedOn: 'n1',
    requested: ['n1', 'n2', 'n3'],
    nodes: ['n1', 'n2'],
    unreachable: [{ node: 'n3' }],
  })
  t.ok(
    untarGz(outer[1]!.data).some((e) => e.name === 'n2/config/hb.json'),
    "n2's own configuration",
  )
  // one node by name
  const one = await createSupportBundle({ ...deps, collectFromPeers: peers }, ['n2'])
  t.same([one.nodes, one.unreachable], [['n2'], []])
  await t.rejects(createSupportBundle(deps, ['n1', 'n9']), { code: 'MCCS_ERR_INVALID', field: '/nodes/1' })
  await t.rejects(createSupportBundle(deps, [] as string[]), { code: 'MCCS_ERR_INVALID', field: '/nodes' })
})

t.test('kept bundles: newest first, at most `keep`, older files deleted', async (t) => {
  const b = await home('n1', ['n1'])
  const store = new SupportStore(b.stateDir, 3)
  const deps: SupportDeps = { bootstrap: b, status: async () => ({}), clusterNodes: () => ['n1'], store }
  const made = []
  for (let i = 0; i < 5; i++) made.push(await createSupportBundle(deps, 'all', new Date(Date.UTC(2026, 0, 1, 0, 0, i))))
  const list = await store.list()
  t.same(
    list.map((x) => x.id),
    made
      .slice(2)
      .reverse()
      .map((x) => x.id),
  )
  t.same(
    (await readdir(store.dir)).filter((f) => f.endsWith('.tar.gz')).sort(),
    made
      .slice(2)
      .map((x) => `${x.id}.tar.gz`)
      .sort(),
  )
  await t.rejects(store.path(made[0]!.id), { code: 'MCCS_ERR_NOT_FOUND' })
  await t.rejects(store.path('../../etc/passwd'), { code: 'MCCS_ERR_INVALID' })
})

t.test('console routes: collect, list, download; bad input answered 400/404 naming the field', async (t) => {
  const a = await startTestAgent({ groups: [], resources: [], dependencies: [], types: {} })
  t.teardown(() => a.cleanup())
  const app = Fastify()
  app.setErrorHandler((e, _req, reply) => sendError(reply, e))
  app.addHook('onRequest', async (req) => {
    Object.assign(req, { mccsSession: { user: 'tester' } })
  }) // what the console's guard resolves: the routes log the user
  await registerSupportRoutes(app, { agent: a.agent })
  t.teardown(() => app.close())
  let r = await app.inject({ method: 'POST', url: '/api/support', payload: { nodes: 'all' } })
  t.equal(r.statusCode, 200, r.body)
  const made = r.json()
  t.match(made, { id: /^\d{8}T\d{6}Z-[0-9a-f]{6}$/, nodes: ['n1'], size: Number })
  r = await app.inject({ method: 'GET', url: '/api/support' })
  t.same(
    r.json().map((x: { id: string }) => x.id),
    [made.id],
  )
  r = await app.inject({ method: 'GET', url: `/api/support/${made.id}` })
  t.equal(r.statusCode, 200)
  t.equal(r.headers['content-type'], 'application/gzip')
  t.match(r.headers['content-disposition'], new RegExp(`attachment; filename="mccs-support-${made.id}.tar.gz"`))
  t.equal(r.rawPayload.length, made.size)
  const inner = untarGz(untarGz(r.rawPayload).find((e) => e.name === 'n1.tar.gz')!.data)
  const status = JSON.parse(inner.find((e) => e.name === 'n1/status.json')!.data.toString())
  t.equal(status.node, 'n1', "the live agent's status is inside")
  r = await app.inject({ method: 'GET', url: '/api/support/20260101T000000Z-abcdef' })
  t.equal(r.statusCode, 404)
  t.match(r.json(), { error: { code: 'MCCS_ERR_NOT_FOUND', field: '/id' } })
  r = await app.inject({ method: 'GET', url: '/api/support/..%2f..%2fetc' })
  t.equal(r.statusCode, 400)
  t.match(r.json(), { error: { code: 'MCCS_ERR_INVALID', field: '/params/id' } })
  r = await app.inject({ method: 'POST', url: '/api/support', payload: { nodes: ['nX'] } })
  t.equal(r.statusCode, 400)
  t.match(r.json(), { error: { code: 'MCCS_ERR_INVALID', field: '/nodes/0' } })
  r = await app.inject({ method: 'POST', url: '/api/support', payload: {} })
  t.equal(r.statusCode, 400)
  t.match(r.json(), { error: { code: 'MCCS_ERR_INVALID', field: '/nodes' } })
})

t.test("mccs support --out writes this node's bundle with the running agent's status", async (t) => {
  const a = await startTestAgent({ groups: [], resources: [], dependencies: [], types: {} })
  t.teardown(() => a.cleanup())
  const out = path.join(a.home, 'bundle.tar.gz')
  const r = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(path.join(packageRoot(), 'bin/mccs'), ['support', '--out', out], { env: a.env, timeout: 60_000 }, (err, o, e) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: o, err: e }),
    )
  })
  t.equal(r.code, 0, r.err)
  t.match(r.out, /support bundle \S+ \(\d+ bytes, node n1\) written to /)
  const inner = untarGz(untarGz(await readFile(out)).find((e) => e.name === 'n1.tar.gz')!.data)
  t.match(JSON.parse(inner.find((e) => e.name === 'n1/status.json')!.data.toString()), { node: 'n1', cluster: 'test' })
  t.ok((await sh('tar', ['-tzf', out])).includes('n1.tar.gz'), 'Debian tar lists it')
})
