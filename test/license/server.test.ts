// The floating license server's rules (core/license/server.ts) on an injected clock, its TLS-PSK door,
// and `mccs license-server`'s input checks: what a seat is, when it comes back, who may ask.
import t from 'tap'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { issueLicense, type LicenseFields } from '../../core/license/format.js'
import { LicenseServer } from '../../core/license/server.js'
import { leaseRequest } from '../../core/license/lease-protocol.js'
import { licenseServerCommand } from '../../core/cli/license-server-cmd.js'
import { isMccsError } from '../../core/errors.js'

const { publicKey, privateKey } = generateKeyPairSync('ed25519')
const PRIV = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
const T0 = Date.parse('2026-06-01T00:00:00Z')
const floating = (over: Partial<LicenseFields> = {}) =>
  issueLicense(
    { type: 'floating', node: 'pool', hostId: 'ANY', issued: '2026-05-01T00:00:00Z', server: 'lic.example:5053', count: 2, ...over },
    PRIV,
  )

t.test('seats: given up to the count, kept by renewal, back on release or when the lease ends', async (t) => {
  const at = { now: T0 }
  // Lease terms run on the monotonic clock (mono), the license's expiry on the wall clock (now): both moved here.
  const s = new LicenseServer({
    licenseText: floating(),
    keys: [publicKey],
    psk: randomBytes(32),
    leaseMs: 30_000,
    now: () => at.now,
    mono: () => at.now,
  })
  const a = s.handle({ t: 'acquire', holder: 'a@h/1' })
  const b = s.handle({ t: 'acquire', holder: 'b@h/2' })
  t.match(a, { ok: true, termMs: 30_000, seats: 2, used: 1 })
  t.match(b, { ok: true, used: 2 })
  t.match(s.handle({ t: 'acquire', holder: 'c@h/3' }), {
    ok: false,
    code: 'MCCS_ERR_LICENSE_SEATS',
    termMs: 30_000,
    message: /all 2 seats are taken \(by a@h\/1, b@h\/2\)/,
  })
  t.match(
    s.handle({ t: 'acquire', holder: 'a@h/1' }),
    { ok: true, lease: (a as { lease: string }).lease },
    'asking again for a held seat gives the same seat',
  )
  at.now += 20_000
  t.match(s.handle({ t: 'renew', holder: 'a@h/1', lease: (a as { lease: string }).lease }), { ok: true })
  at.now += 20_000 // b not renewed for 40 s: its lease ended, a's runs until T0 + 50 s
  t.same(s.holders(), ['a@h/1'], 'a seat comes back when its lease ends without a renewal')
  t.match(s.handle({ t: 'acquire', holder: 'c@h/3' }), { ok: true, used: 2 }, 'and the next asker gets it')
  s.handle({ t: 'release', holder: 'a@h/1', lease: (a as { lease: string }).lease })
  t.same(s.holders(), ['c@h/3'], 'a release gives the seat back at once')
  t.match(s.handle({ t: 'release', holder: 'c@h/3', lease: 'not-its-lease' }), { ok: true })
  t.same(s.holders(), ['c@h/3'], 'a release with another lease id frees nothing')
  t.match(s.handle({ t: 'acquire', holder: 'bad holder!' }), { ok: false, code: 'MCCS_ERR_INVALID', message: /^holder:/ })
  t.match(s.handle({ t: 'nope', holder: 'a@h/1' } as never), { ok: false, code: 'MCCS_ERR_INVALID', message: /^t:/ })
  for (const lease of [['x'], { a: { b: 1 } }, 7, 'x'.repeat(100)])
    t.match(
      s.handle({ t: 'renew', holder: 'c@h/3', lease } as never),
      { ok: false, code: 'MCCS_ERR_INVALID', message: /^lease: must be a lease id/ },
      `a renewal with lease ${JSON.stringify(lease).slice(0, 20)}: refused naming lease`,
    )
  t.same(s.holders(), ['c@h/3'], 'and nothing changed')
  t.match(s.handle({ t: 'acquire', holder: 'x'.repeat(201) }), { ok: false, code: 'MCCS_ERR_INVALID', message: /^holder:/ })
  const clock = { now: T0 }
  const expiring = new LicenseServer({
    licenseText: floating({ expires: '2026-07-01T00:00:00Z' }),
    keys: [publicKey],
    psk: randomBytes(32),
    now: () => clock.now,
  })
  t.match(expiring.handle({ t: 'acquire', holder: 'a@h/1' }), { ok: true })
  clock.now = Date.parse('2026-07-02T00:00:00Z')
  t.match(
    expiring.handle({ t: 'renew', holder: 'a@h/1', lease: 'x' }),
    { ok: false, code: 'MCCS_ERR_LICENSE_EXPIRED', message: /expired at 2026-07-01/ },
    'no seat from an expired floating license',
  )
})

t.test("a step of the server's wall clock neither ends nor lengthens the seats' leases", async (t) => {
  const wall = { now: T0 }
  const s = new LicenseServer({ licenseText: floating(), keys: [publicKey], psk: randomBytes(32), leaseMs: 30_000, now: () => wall.now })
  t.match(s.handle({ t: 'acquire', holder: 'a@h/1' }), { ok: true })
  t.match(s.handle({ t: 'acquire', holder: 'b@h/2' }), { ok: true })
  wall.now += 86_400_000 // NTP steps the clock a day forward
  t.same(s.holders(), ['a@h/1', 'b@h/2'], 'both seats still held')
  t.match(s.handle({ t: 'acquire', holder: 'c@h/3' }), { ok: false, code: 'MCCS_ERR_LICENSE_SEATS' }, 'so a third node gets none')
})

t.test('the server serves only a valid floating license signed by a trusted key', async (t) => {
  const psk = randomBytes(32)
  const refuse = (f: () => unknown, code: string, field: string) => {
    try {
      f()
      t.fail(`expected ${code}`)
    } catch (e) {
      t.ok(isMccsError(e))
      t.match(e, { code, field })
    }
  }
  refuse(
    () =>
      new LicenseServer({
        licenseText: issueLicense({ type: 'term', node: 'n1', hostId: 'ANY', issued: '2026-05-01', expires: '2099-01-01' }, PRIV),
        keys: [publicKey],
        psk,
      }),
    'MCCS_ERR_LICENSE_TYPE',
    '/type',
  )
  refuse(() => new LicenseServer({ licenseText: floating(), keys: [], psk }), 'MCCS_ERR_LICENSE_SIGNATURE', '/signature')
  refuse(
    () => new LicenseServer({ licenseText: floating({ expires: '2026-05-02T00:00:00Z' }), keys: [publicKey], psk }),
    'MCCS_ERR_LICENSE_EXPIRED',
    '/expires',
  )
  refuse(() => new LicenseServer({ licenseText: floating(), keys: [publicKey], psk, leaseMs: 10 }), 'MCCS_ERR_INVALID', 'leaseMs')
})

t.test('TLS-PSK: a client with the key gets a seat; one without it gets nothing', async (t) => {
  const psk = randomBytes(32)
  const s = new LicenseServer({ licenseText: floating(), keys: [publicKey], psk })
  const { port } = await s.listen()
  t.teardown(() => s.close())
  t.match(await leaseRequest(`127.0.0.1:${port}`, psk, { t: 'acquire', holder: 'a@h/1' }), { ok: true, seats: 2 })
  await t.rejects(leaseRequest(`127.0.0.1:${port}`, randomBytes(32), { t: 'acquire', holder: 'x@h/9' }), {
    code: 'MCCS_ERR_LICENSE_SERVER',
  })
  t.same(s.holders(), ['a@h/1'], 'the wrong key took no seat')
})

t.test('mccs license-server refuses bad input naming the field', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-licsrv-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(path.join(dir, 'f.lic'), floating())
  await writeFile(path.join(dir, 'k.pem'), publicKey.export({ type: 'spki', format: 'pem' }) as string)
  const run = async (...argv: string[]) => {
    const err: string[] = []
    const out: string[] = []
    const code = await licenseServerCommand(argv, {
      out: (s) => {
        out.push(s)
      },
      err: (s) => {
        err.push(s)
      },
    })
    return { code, err: err.join('\n'), out: out.join('\n') }
  }
  let r = await run('keygen', '--out', path.join(dir, 'srv.key'))
  t.equal(r.code, 0, r.err)
  const base = ['--license', path.join(dir, 'f.lic'), '--key', path.join(dir, 'srv.key'), '--keys', path.join(dir, 'k.pem')]
  r = await run(...base, '--listen', 'nowhere')
  t.equal(r.code, 6)
  t.match(r.err, /--listen: must be host:port/)
  r = await run(...base, '--listen', '127.0.0.1:0', '--lease-s', '0')
  t.equal(r.code, 6)
  t.match(r.err, /--lease-s: must be 1\.\.3600 seconds/)
  r = await run('--key', path.join(dir, 'srv.key'), '--keys', path.join(dir, 'k.pem'))
  t.equal(r.code, 6)
  t.match(r.err, /--license: names the floating license file/)
  r = await run('--bogus')
  t.equal(r.code, 2)
  const ac = new AbortController()
  let listening = ''
  const done = licenseServerCommand(
    [...base, '--listen', '127.0.0.1:0'],
    { out: () => {}, err: () => {} },
    {
      signal: ac.signal,
      onListening: (_s, a) => {
        listening = a
      },
    },
  )
  for (let i = 0; i < 100 && !listening; i++) await new Promise((res) => setTimeout(res, 20))
  t.match(listening, /^127\.0\.0\.1:\d+$/, 'it listens')
  ac.abort()
  t.equal(await done, 0, 'and stops cleanly')
})
