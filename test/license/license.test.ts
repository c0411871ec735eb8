// Licenses (manual 5.4): what an operator sees when installing one — accepted, or refused naming the
// field and the reason — and the node's state (valid / limited mode).
import t, { type Test } from 'tap'
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import net from 'node:net'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile, mkdir, stat, symlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import Fastify from 'fastify'
import { issueLicense, parseLicense, type LicenseFields } from '../../core/license/format.js'
import { licenseState } from '../../core/license/state.js'
import { installLicense, nodeLicenseView, hostMacs, trustedKeys, TRUSTED_KEYS_FILE, LICENSE_FILE } from '../../core/license/store.js'
import { readLease, LEASE_FILE } from '../../core/license/lease-file.js'
import { loadBootstrap } from '../../core/config/bootstrap.js'
import { isMccsError } from '../../core/errors.js'
import { registerLicenseRoutes } from '../../core/console/routes/licenses.js'
import { sendError } from '../../core/console/http-errors.js'
import { startTestAgent } from '../agent/helpers.js'
import { harness, readyClient } from '../console/api-helpers.js'
import { packageRoot } from '../../core/paths.js'

const pair = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  return {
    pub: publicKey,
    pubPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  }
}
const NOW = Date.parse('2026-06-01T00:00:00Z')
const term = (over: Partial<LicenseFields> = {}): LicenseFields => ({
  type: 'term',
  node: 'n1',
  hostId: 'ANY',
  issued: '2026-05-01T00:00:00Z',
  expires: '2026-07-01T00:00:00Z',
  ...over,
})
const MAC_HERE = 'aa:bb:cc:00:11:22'

function refusal(t: Test, f: () => unknown, code: string, field: string) {
  try {
    f()
    t.fail(`expected ${code}`)
  } catch (e) {
    t.ok(isMccsError(e), 'an MccsError')
    t.equal((e as { code: string }).code, code)
    t.equal((e as { field: string }).field, field)
  }
}

t.test('a signed term license is valid until it expires, then the node is in limited mode', async (t) => {
  const k = pair()
  const text = issueLicense(term(), k.privPem)
  t.match(text, /^type=term$/m)
  const l = parseLicense(text)
  t.same(licenseState(NOW, l, [], [k.pub], 'n1'), {
    mode: 'valid',
    type: 'term',
    expires: '2026-07-01T00:00:00Z',
    hostId: 'ANY',
    daysLeft: 30,
  })
  const later = licenseState(Date.parse('2026-07-02T00:00:00Z'), l, [], [k.pub], 'n1')
  t.equal(later.mode, 'limited')
  t.equal(later.code, 'MCCS_ERR_LICENSE_EXPIRED')
  t.match(later.reason, /expires: expired at 2026-07-01/)
  const none = licenseState(NOW, null, [], [k.pub])
  t.same([none.mode, none.code], ['limited', 'MCCS_ERR_LICENSE_MISSING'])
  // comments, blank lines and field order do not matter; values do
  const shuffled = ['# renewed by support', '', ...text.trim().split('\n').reverse()].join('\r\n')
  t.equal(licenseState(NOW, parseLicense(shuffled), [], [k.pub], 'n1').mode, 'valid')
})

t.test('an altered license or one signed by an untrusted key is refused at the signature', async (t) => {
  const k = pair()
  const other = pair()
  const text = issueLicense(term(), k.privPem)
  const altered = parseLicense(text.replace('expires=2026-07-01T00:00:00Z', 'expires=2099-07-01T00:00:00Z'))
  const s = licenseState(NOW, altered, [], [k.pub], 'n1')
  t.same([s.mode, s.code], ['limited', 'MCCS_ERR_LICENSE_SIGNATURE'])
  t.match(s.reason, /does not match/)
  const u = licenseState(NOW, parseLicense(text), [], [other.pub], 'n1')
  t.same([u.mode, u.code], ['limited', 'MCCS_ERR_LICENSE_SIGNATURE'])
  t.match(u.reason, /does not trust/)
  // the vendor key alone (the default trust) does not accept an operator-signed license either
  const vendorOnly = licenseState(NOW, parseLicense(text), [], [] as KeyObject[], 'n1')
  t.equal(vendorOnly.mode, 'limited')
})

t.test("a nodelock license needs one of this node's MAC addresses", async (t) => {
  const k = pair()
  const l = parseLicense(issueLicense({ type: 'nodelock', node: 'n1', hostId: MAC_HERE.toUpperCase(), issued: '2026-05-01' }, k.privPem))
  t.equal(l.hostId, MAC_HERE, 'host ids are compared in lower case')
  t.equal(licenseState(NOW, l, [MAC_HERE], [k.pub], 'n1').mode, 'valid')
  t.equal(licenseState(Date.parse('2036-01-01'), l, [MAC_HERE], [k.pub], 'n1').mode, 'valid', 'a full license does not expire')
  const elsewhere = licenseState(NOW, l, ['02:00:00:00:00:01'], [k.pub], 'n1')
  t.same([elsewhere.mode, elsewhere.code], ['limited', 'MCCS_ERR_LICENSE_HOST'])
  t.match(
    elsewhere.reason,
    /aa:bb:cc:00:11:22 is not a MAC address of this node, which has 02:00:00:00:00:01 \(a license for another host\)/,
  )
  const otherNode = licenseState(NOW, l, [MAC_HERE], [k.pub], 'n2')
  t.equal(otherNode.code, 'MCCS_ERR_LICENSE_NODE')
})

t.test('malformed licenses are refused naming the field', async (t) => {
  const k = pair()
  const good = issueLicense(term(), k.privPem)
  refusal(t, () => parseLicense(good.replace('type=term', 'type=dongle')), 'MCCS_ERR_LICENSE_TYPE', '/type')
  refusal(t, () => parseLicense(good.replace(/^expires=.*$/m, '')), 'MCCS_ERR_LICENSE_FORMAT', '/expires')
  refusal(t, () => parseLicense(good.replace('hostId=ANY', 'hostId=not-a-mac')), 'MCCS_ERR_LICENSE_FORMAT', '/hostId')
  refusal(t, () => parseLicense(good.replace('expires=2026-07-01T00:00:00Z', 'expires=soon')), 'MCCS_ERR_LICENSE_FORMAT', '/expires')
  refusal(t, () => parseLicense(good.replace('expires=2026-07-01T00:00:00Z', 'expires=2026-04-01')), 'MCCS_ERR_LICENSE_FORMAT', '/expires')
  refusal(t, () => parseLicense(`${good}seats=4\n`), 'MCCS_ERR_LICENSE_FORMAT', '/seats')
  refusal(t, () => parseLicense(`${good}node=n2\n`), 'MCCS_ERR_LICENSE_FORMAT', '/node')
  refusal(t, () => parseLicense(good.replace(/^signature=.*$/m, 'signature=abc')), 'MCCS_ERR_LICENSE_FORMAT', '/signature')
  refusal(t, () => parseLicense('just some words'), 'MCCS_ERR_LICENSE_FORMAT', '/text')
  refusal(t, () => parseLicense(''), 'MCCS_ERR_LICENSE_FORMAT', '/text')
  refusal(
    t,
    () => issueLicense({ type: 'nodelock', node: 'n1', hostId: 'ANY', issued: '2026-05-01' }, k.privPem),
    'MCCS_ERR_LICENSE_FORMAT',
    '/hostId',
  )
})

t.test('install on a node: checked, written only when it licenses this node', async (t) => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-lic-'))
  t.teardown(() => rm(home, { recursive: true, force: true }))
  const b = await loadBootstrap({ cwd: home, env: { MCCS_HOME: home, MCCS_NODE_NAME: 'n1' } })
  const k = pair()
  await mkdir(b.configDir, { recursive: true })
  const untrusted = issueLicense(
    term({ issued: new Date(Date.now() - 86_400_000).toISOString(), expires: new Date(Date.now() + 86_400_000).toISOString() }),
    k.privPem,
  )
  await t.rejects(installLicense(b, untrusted), { code: 'MCCS_ERR_LICENSE_SIGNATURE', field: '/signature' })
  await t.rejects(stat(path.join(b.configDir, LICENSE_FILE)), { code: 'ENOENT' }, 'nothing written')
  t.match(await nodeLicenseView(b), { node: 'n1', valid: false, reason: /no license/ })
  await writeFile(path.join(b.configDir, TRUSTED_KEYS_FILE), k.pubPem)
  await t.rejects(
    installLicense(
      b,
      issueLicense(
        term({
          node: 'n2',
          issued: new Date(Date.now() - 86_400_000).toISOString(),
          expires: new Date(Date.now() + 86_400_000).toISOString(),
        }),
        k.privPem,
      ),
    ),
    { code: 'MCCS_ERR_LICENSE_NODE', field: '/node' },
  )
  await t.rejects(installLicense(b, issueLicense(term({ issued: '2020-01-01', expires: '2020-02-01' }), k.privPem)), {
    code: 'MCCS_ERR_LICENSE_EXPIRED',
    field: '/expires',
  })
  const l = await installLicense(b, untrusted)
  t.equal(l.type, 'term')
  t.equal(await readFile(path.join(b.configDir, LICENSE_FILE), 'utf8'), untrusted)
  t.match(await nodeLicenseView(b), { node: 'n1', type: 'term', hostId: 'ANY', valid: true })
  t.notOk('reason' in (await nodeLicenseView(b)))
  // a broken file on disk puts the node in limited mode with the reason, it does not crash the reader
  await writeFile(path.join(b.configDir, LICENSE_FILE), 'type=term\n')
  t.match(await nodeLicenseView(b), { valid: false, reason: /mccs\.lic is invalid/ })
  t.ok(Array.isArray(hostMacs()))
})

const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(path.join(packageRoot(), 'bin/mccs'), args, { env, timeout: 60_000 }, (err, out, errOut) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut }),
    )
  })

t.test('mccs license keygen, issue, install, show', async (t) => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-lic-cli-'))
  t.teardown(() => rm(home, { recursive: true, force: true }))
  const env: NodeJS.ProcessEnv = { ...process.env, MCCS_HOME: home, MCCS_NODE_NAME: 'n1' }
  delete env.NODE_OPTIONS
  let r = await cli(env, 'license', 'show', '--json')
  t.equal(r.code, 0)
  t.match(JSON.parse(r.out), { node: 'n1', valid: false, reason: 'no license is installed' })
  r = await cli(env, 'license', 'keygen', '--out', path.join(home, 'vendor/key.pem'), '--trust')
  t.equal(r.code, 0, r.err)
  t.equal((await stat(path.join(home, 'vendor/key.pem'))).mode & 0o777, 0o600, 'private key readable by its owner only')
  r = await cli(
    env,
    'license',
    'issue',
    '--key',
    path.join(home, 'vendor/key.pem'),
    '--node',
    'n1',
    '--days',
    '10',
    '--licensee',
    'ACME',
    '--out',
    path.join(home, 'n1.lic'),
  )
  t.equal(r.code, 0, r.err)
  r = await cli(env, 'license', 'install', path.join(home, 'n1.lic'))
  t.equal(r.code, 0, r.err)
  t.match(r.out, /license installed on n1: term, host id ANY, expires/)
  r = await cli(env, 'license', 'show')
  t.match(r.out, /node n1: licensed/)
  t.match(r.out, /licensee ACME/)
  r = await cli(env, 'license', 'issue', '--key', path.join(home, 'vendor/key.pem'), '--node', 'n2', '--out', path.join(home, 'n2.lic'))
  r = await cli(env, 'license', 'install', path.join(home, 'n2.lic'))
  t.equal(r.code, 6, 'refused: invalid input')
  t.match(r.err, /MCCS_ERR_LICENSE_NODE: \/node: is for node n2, not n1/)
  r = await cli(env, 'license', 'issue', '--key', path.join(home, 'vendor/key.pem'), '--node', 'n1', '--type', 'dongle')
  t.equal(r.code, 6)
  t.match(r.err, /--type: must be term, nodelock or floating/)
  r = await cli(env, 'license', 'frobnicate')
  t.equal(r.code, 2)
})

t.test('console routes: GET /api/licenses per node, POST installs or answers 400 naming the field', async (t) => {
  const a = await startTestAgent({ groups: [], resources: [], dependencies: [], types: {} }, { license: false })
  t.teardown(() => a.cleanup())
  const app = Fastify()
  app.setErrorHandler((e, _req, reply) => sendError(reply, e))
  app.addHook('onRequest', async (req) => {
    Object.assign(req, { mccsSession: { user: 'tester' } })
  }) // what the console's guard resolves: the routes log the user
  await registerLicenseRoutes(app, { agent: a.agent })
  t.teardown(() => app.close())
  let r = await app.inject({ method: 'GET', url: '/api/licenses' })
  t.equal(r.statusCode, 200)
  t.same(r.json(), [
    {
      node: 'n1',
      type: null,
      expires: null,
      hostId: null,
      valid: false,
      mode: 'limited',
      daysLeft: null,
      reason: 'no license is installed',
      said: { id: 'said.lic.none', params: {} }, // what the console shows in its language
      code: 'MCCS_ERR_LICENSE_MISSING',
    },
  ])
  const k = pair()
  await writeFile(path.join(a.agent.opts.bootstrap.configDir, TRUSTED_KEYS_FILE), k.pubPem)
  const now = Date.now()
  const text = issueLicense(
    term({ issued: new Date(now - 60_000).toISOString(), expires: new Date(now + 86_400_000).toISOString() }),
    k.privPem,
  )
  r = await app.inject({
    method: 'POST',
    url: '/api/licenses',
    payload: { node: 'n1', text: text.replace('hostId=ANY', 'hostId=02:00:00:00:00:99') },
  })
  t.equal(r.statusCode, 400)
  t.match(
    r.json(),
    { error: { code: 'MCCS_ERR_LICENSE_SIGNATURE', field: '/text', message: /^signature: signature does not match/ } },
    'a field changed after signing',
  )
  r = await app.inject({
    method: 'POST',
    url: '/api/licenses',
    payload: { node: 'n1', text: issueLicense(term({ issued: '2020-01-01', expires: '2020-02-01' }), k.privPem) },
  })
  t.equal(r.statusCode, 400)
  t.match(r.json(), { error: { code: 'MCCS_ERR_LICENSE_EXPIRED', field: '/text', message: /^expires: expired at 2020-02-01/ } })
  r = await app.inject({ method: 'POST', url: '/api/licenses', payload: { node: 'nX', text } })
  t.equal(r.statusCode, 400)
  t.match(r.json(), { error: { code: 'MCCS_ERR_INVALID', field: '/node' } })
  r = await app.inject({ method: 'POST', url: '/api/licenses', payload: { node: 'n1' } })
  t.equal(r.statusCode, 400)
  t.match(r.json(), { error: { code: 'MCCS_ERR_INVALID', field: '/text' } })
  r = await app.inject({ method: 'POST', url: '/api/licenses', payload: { node: 'n1', text } })
  t.equal(r.statusCode, 200, r.body)
  t.match(r.json(), { node: 'n1', type: 'term', hostId: 'ANY', valid: true })
  r = await app.inject({ method: 'GET', url: '/api/licenses' })
  t.match(r.json(), [{ node: 'n1', valid: true, type: 'term' }])
})

t.test('mccs status says LIMITED MODE with the reason, and stops saying it once a license is installed', async (t) => {
  const a = await startTestAgent({ groups: [], resources: [], dependencies: [], types: {} }, { license: false })
  t.teardown(() => a.cleanup())
  let r = await a.cli('status')
  t.equal(r.code, 0, r.err)
  t.match(r.out, /^LIMITED MODE on n1 \(no automatic failover or auto-start\): no license is installed$/m)
  const k = pair()
  await writeFile(path.join(a.agent.opts.bootstrap.configDir, TRUSTED_KEYS_FILE), k.pubPem)
  const now = Date.now()
  await writeFile(
    path.join(a.home, 'n1.lic'),
    issueLicense(term({ issued: new Date(now - 60_000).toISOString(), expires: new Date(now + 2 * 86_400_000).toISOString() }), k.privPem),
  )
  r = await a.cli('license', 'install', path.join(a.home, 'n1.lic'))
  t.equal(r.code, 0, r.err)
  // No waiting for the agent's 5 s check: mccs license install tells the running agent at once.
  r = await a.cli('status')
  t.notMatch(r.out, /LIMITED MODE/)
  t.match(r.out, /^license warning on n1: license expires in 2 days/m, 'and warns of the coming expiry')
  r = await a.cli('license', 'show')
  t.match(r.out, /node n1: licensed[\s\S]*\(2 days left\)[\s\S]*WARNING: license expires in 2 days/)
})

t.test(
  'edges: oversized, nested, wrong types, bad signatures, future dates, a clock set back: refused naming the field, nothing changed',
  async (t) => {
    const h = await harness() // the real console (strict body schema, nesting limit) on a real agent
    t.teardown(() => h.cleanup())
    const a = h.ta
    const b = a.agent.opts.bootstrap
    const k = pair()
    await writeFile(path.join(b.configDir, TRUSTED_KEYS_FILE), k.pubPem)
    const now = Date.now()
    const good = issueLicense(
      term({ issued: new Date(now - 86_400_000).toISOString(), expires: new Date(now + 9 * 86_400_000).toISOString() }),
      k.privPem,
    )
    await installLicense(b, good)
    const files = [path.join(b.configDir, LICENSE_FILE), path.join(b.stateDir, 'license-verified.json')]
    const before = await Promise.all(files.map((f) => readFile(f)))
    const unchanged = async (what: string) =>
      t.same(await Promise.all(files.map((f) => readFile(f))), before, `${what}: the license and its record unchanged`)

    // The library call the CLI and the console share.
    const cases: Array<[string, unknown, string, string, RegExp]> = [
      ['oversized', `${good}# ${'x'.repeat(20_000)}\n`, 'MCCS_ERR_LICENSE_FORMAT', '/text', /longer than 16384 bytes/],
      ['a number', 42, 'MCCS_ERR_LICENSE_FORMAT', '/text', /must be the text of an MCCS license/],
      ['nested', { a: { b: { c: [good] } } }, 'MCCS_ERR_LICENSE_FORMAT', '/text', /must be the text/],
      ['binary', '\u0000\u0001\u0002=\u0003', 'MCCS_ERR_LICENSE_FORMAT', '/text', /^line 1: "\\u0000\\u0001\\u0002" is not a field name/],
      [
        'a count on a term license',
        good.replace('product=MCCS', 'product=MCCS\ncount=3'),
        'MCCS_ERR_LICENSE_FORMAT',
        '/count',
        /only a floating/,
      ],
      [
        'a signature of the wrong form',
        good.replace(/^signature=.*$/m, `signature=${'A'.repeat(200)}`),
        'MCCS_ERR_LICENSE_FORMAT',
        '/signature',
        /88 characters/,
      ],
      [
        'a signature of other bytes',
        good.replace(/^signature=.*$/m, `signature=${'A'.repeat(86)}==`),
        'MCCS_ERR_LICENSE_SIGNATURE',
        '/signature',
        /does not match/,
      ],
      [
        'issued in the future',
        issueLicense(
          term({ issued: new Date(now + 3 * 86_400_000).toISOString(), expires: new Date(now + 30 * 86_400_000).toISOString() }),
          k.privPem,
        ),
        'MCCS_ERR_LICENSE_FORMAT',
        '/issued',
        /is in the future .*check this node's clock/,
      ],
    ]
    for (const [what, text, code, field, reason] of cases) {
      await t.rejects(installLicense(b, text), { code, field, reason }, what)
      await unchanged(what)
    }
    // The node's clock set back before the license was issued: refused the same way.
    await t.rejects(installLicense(b, good, now - 5 * 86_400_000), {
      code: 'MCCS_ERR_LICENSE_FORMAT',
      field: '/issued',
      reason: /in the future/,
    })
    await unchanged('a clock set back')

    // The CLI: a file too big to be a license (read no further than that), /dev/zero, a directory.
    const big = path.join(a.home, 'big.lic')
    await writeFile(big, Buffer.alloc(8 * 1024 * 1024, 0x41))
    for (const [what, file, msg] of [
      ['an 8 MiB file', big, /MCCS_ERR_LICENSE_FORMAT: \/text: is longer than 16384 bytes/],
      ['/dev/zero', '/dev/zero', /MCCS_ERR_LICENSE_FORMAT: \/text: is longer than 16384 bytes/],
      ['a directory', a.home, /MCCS_ERR_INVALID: <file>: .* is a directory, not a license file/],
    ] as const) {
      const r = await a.cli('license', 'install', file)
      t.equal(r.code, 6, `${what}: refused as invalid input`)
      t.match(r.err, msg, `${what}: names what and why`)
      await unchanged(`CLI, ${what}`)
    }

    // The console (a logged-in session): wrong types, nesting, size and unknown fields refused naming the field.
    const c = await readyClient(h)
    const deep = '{"node":"n1","text":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}'
    for (const [what, payload, field] of [
      ['text a number', { node: 'n1', text: 5 }, '/text'],
      ['text an object', { node: 'n1', text: { a: { b: good } } }, '/text'],
      ['node an array', { node: ['n1'], text: good }, '/node'],
      ['text oversized', { node: 'n1', text: good + '#'.repeat(20_000) }, '/text'],
      ['an extra field', { node: 'n1', text: good, expires: '2099-01-01' }, '/expires'],
      ['text nested 50000 deep', deep, '/text'],
    ] as const) {
      const r = await h.app.inject({
        method: 'POST',
        url: '/api/licenses',
        headers: { 'content-type': 'application/json', cookie: `mccs_session=${c.cookie}`, 'x-csrf-token': c.csrf! },
        remoteAddress: '127.0.0.1',
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      })
      t.equal(r.statusCode, 400, `${what}: 400`)
      t.match(r.json(), { error: { code: 'MCCS_ERR_INVALID', field } }, `${what}: names ${field}`)
      await unchanged(`console, ${what}`)
    }
    const bad = await c.req('POST', '/api/licenses', { node: 'n1', text: good.replace('type=term', 'type=dongle') })
    t.match(
      [bad.status, bad.body],
      [400, { error: { code: 'MCCS_ERR_LICENSE_TYPE', field: '/text', message: /^type: unknown license type "dongle"/ } }],
    )
    await unchanged('console, an unknown type')
    t.match(await nodeLicenseView(b), { valid: true, type: 'term' }, 'the node is still licensed')
  },
)

t.test('each reason for limited mode, named by mccs status, the log and the operation log; days left of a valid one', async (t) => {
  const a = await startTestAgent({ groups: [], resources: [], dependencies: [], types: {} }, { license: false })
  t.teardown(() => a.cleanup())
  const b = a.agent.opts.bootstrap
  const k = pair()
  await writeFile(path.join(b.configDir, TRUSTED_KEYS_FILE), k.pubPem)
  await writeFile(path.join(b.configDir, 'license-server.key'), randomBytes(32), { mode: 0o600 })
  const now = Date.now()
  const iso = (d: number) => new Date(now + d * 86_400_000).toISOString()
  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
  const lic = (f: Partial<LicenseFields>) => issueLicense(term({ issued: iso(-60), expires: iso(300), ...f }), k.privPem)
  const cases: Array<[string, string | null, string, RegExp]> = [
    ['missing', null, 'MCCS_ERR_LICENSE_MISSING', /no license is installed/],
    ['expired', lic({ expires: iso(-30) }), 'MCCS_ERR_LICENSE_EXPIRED', /expires: expired at /],
    [
      'another host',
      issueLicense({ type: 'nodelock', node: 'n1', hostId: '02:00:5e:00:53:99', issued: iso(-60) }, k.privPem),
      'MCCS_ERR_LICENSE_HOST',
      /hostId: 02:00:5e:00:53:99 is not a MAC address of this node.*\(a license for another host\)/,
    ],
    [
      'tampered',
      lic({}).replace(/^expires=.*$/m, `expires=${iso(999)}`),
      'MCCS_ERR_LICENSE_SIGNATURE',
      /signature: signature does not match the license fields \(altered or corrupted\)/,
    ],
    [
      'another product',
      lic({}).replace('product=MCCS', 'product=OTHERHA'),
      'MCCS_ERR_LICENSE_UNSUPPORTED',
      /a license for another product \(OTHERHA\)/,
    ],
    [
      'server unreachable',
      issueLicense({ type: 'floating', node: 'pool', hostId: 'ANY', issued: iso(-60), server: `127.0.0.1:${closed}`, count: 2 }, k.privPem),
      'MCCS_ERR_LICENSE_SERVER',
      new RegExp(`license server 127\\.0\\.0\\.1:${closed} cannot be reached`),
    ],
  ]
  const ops = async () =>
    (await readFile(path.join(b.logDir, 'operation.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { command: string; result: string; code?: string; reason?: string; args?: { daysLeft?: number | null } })
      .filter((r) => r.command === 'licenseMode')
  for (const [what, text, code, reason] of cases) {
    if (text === null) await rm(path.join(b.configDir, LICENSE_FILE), { force: true })
    else await writeFile(path.join(b.configDir, LICENSE_FILE), text)
    for (let i = 0; i < 100 && !reason.test(a.agent.licenses.watch.current().reason ?? ''); i++) {
      await a.agent.licenses.watch.check()
      await new Promise((r) => setTimeout(r, 50))
    }
    const r = await a.cli('status')
    const line = r.out.split('\n').find((l) => l.startsWith('LIMITED MODE on n1 (no automatic failover or auto-start): '))
    t.match(line, reason, `${what}: mccs status says LIMITED MODE with the reason`)
    const j = JSON.parse((await a.cli('status', '--json')).out) as { licenses: Record<string, { mode: string; code: string }> }
    t.match(j.licenses.n1, { mode: 'limited', code }, `${what}: mccs status --json has the mode and ${code}`)
    const log = (await readFile(path.join(b.logDir, 'mccs.log'), 'utf8')).split('\n').filter((l) => l.includes('LIMITED MODE on n1'))
    t.ok(
      log.some((l) => reason.test(l) && /"level":50/.test(l)),
      `${what}: the log has LIMITED MODE on n1 with the reason, as an error`,
    )
    t.match((await ops()).at(-1), { result: 'failed', code, reason }, `${what}: the operation log has the change of mode`)
  }

  // A term license with 5 days left: status, log and the operation log give the days.
  await writeFile(path.join(b.configDir, LICENSE_FILE), lic({ expires: iso(5 - 0.01) }))
  await a.agent.licenses.watch.check()
  const r = await a.cli('status')
  t.match(r.out, /^license warning on n1: license expires in 5 days \(/m, 'status: the days left')
  const log = await readFile(path.join(b.logDir, 'mccs.log'), 'utf8')
  t.match(log, /license valid on n1: term, expires .* \(5 days left\)/, 'log: the days left')
  t.match(log, /license warning on n1: license expires in 5 days/, 'log: the warning')
  t.match((await ops()).at(-1), { result: 'done', args: { mode: 'valid', daysLeft: 5 } }, 'operation log: the days left')
})

t.test("the console's license list and mccs license show give the running agent's judgement, not an edited lease file", async (t) => {
  const a = await startTestAgent({ groups: [], resources: [], dependencies: [], types: {} }, { license: false })
  t.teardown(() => a.cleanup())
  const b = a.agent.opts.bootstrap
  const k = pair()
  await writeFile(path.join(b.configDir, TRUSTED_KEYS_FILE), k.pubPem)
  await writeFile(path.join(b.configDir, 'license-server.key'), randomBytes(32), { mode: 0o600 })
  const server = '127.0.0.1:9' // nothing listens on the discard port
  await writeFile(
    path.join(b.configDir, LICENSE_FILE),
    issueLicense(
      { type: 'floating', node: 'pool', hostId: 'ANY', issued: new Date(Date.now() - 86_400_000).toISOString(), server, count: 1 },
      k.privPem,
    ),
  )
  for (let i = 0; i < 100 && !/cannot be reached/.test(a.agent.licenses.watch.current().reason ?? ''); i++) {
    await a.agent.licenses.watch.check()
    await new Promise((r) => setTimeout(r, 50))
  }
  await writeFile(path.join(b.stateDir, 'license-lease.json'), JSON.stringify({ held: true, until: Date.now() + 365 * 86_400_000, server }))
  await a.agent.licenses.watch.check()
  t.match(a.agent.licenses.watch.current(), { mode: 'limited', code: 'MCCS_ERR_LICENSE_SERVER' }, 'the agent: limited')
  const app = Fastify()
  app.setErrorHandler((e, _req, reply) => sendError(reply, e))
  app.addHook('onRequest', async (req) => {
    Object.assign(req, { mccsSession: { user: 'tester' } })
  })
  await registerLicenseRoutes(app, { agent: a.agent })
  t.teardown(() => app.close())
  const r = await app.inject({ method: 'GET', url: '/api/licenses' })
  t.match(r.json(), [{ node: 'n1', valid: false, mode: 'limited', code: 'MCCS_ERR_LICENSE_SERVER' }], 'GET /api/licenses: limited')
  const show = await a.cli('license', 'show', '--json')
  t.match(JSON.parse(show.out), { node: 'n1', valid: false, code: 'MCCS_ERR_LICENSE_SERVER' }, 'mccs license show: limited')
})

t.test('a license file on disk that is huge (or a device) is read no further than a license can be long', async (t) => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-lic-big-'))
  t.teardown(() => rm(home, { recursive: true, force: true }))
  const b = await loadBootstrap({ cwd: home, env: { MCCS_HOME: home, MCCS_NODE_NAME: 'n1' } })
  await mkdir(b.configDir, { recursive: true })
  await symlink('/dev/zero', path.join(b.configDir, LICENSE_FILE))
  const t0 = Date.now()
  const v = await nodeLicenseView(b)
  t.match(
    v,
    { valid: false, code: 'MCCS_ERR_LICENSE_FORMAT', reason: /mccs\.lic is invalid: \/text is longer than 16384 bytes/ },
    'limited, saying why',
  )
  t.ok(Date.now() - t0 < 1000, `at once (${Date.now() - t0} ms), not after reading the device`)
})

t.test('the trusted keys file and the seat file are read no further than their bound either', async (t) => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-lic-big2-'))
  t.teardown(() => rm(home, { recursive: true, force: true }))
  const b = await loadBootstrap({ cwd: home, env: { MCCS_HOME: home, MCCS_NODE_NAME: 'n1' } })
  await mkdir(b.configDir, { recursive: true })
  await mkdir(b.stateDir, { recursive: true })
  await symlink('/dev/zero', path.join(b.configDir, TRUSTED_KEYS_FILE))
  await symlink('/dev/zero', path.join(b.stateDir, LEASE_FILE))
  const t0 = Date.now()
  await t.rejects(trustedKeys(b.configDir), { code: 'MCCS_ERR_LICENSE_KEY', message: /license-keys\.pem is longer than 65536 bytes/ })
  t.equal(await readLease(b.stateDir), undefined, 'a seat file that is not ours is no seat')
  t.ok(Date.now() - t0 < 1000, `at once (${Date.now() - t0} ms), not after reading the devices`)
})
