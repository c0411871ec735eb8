// Issue 17, acceptance 1: each case gives the right mode and message, as the running agent's license
// watch sees it (injected clock and MAC addresses, real files): valid, expired, another host, tampered,
// another product, expiry warning and renewal without a restart, the 7-day rule (restart on day 6 and
// on day 8, an edited record), and floating licenses against a real license server (TLS-PSK): a seat,
// server unreachable inside and after the lease, seats exhausted.
import t, { type Test } from 'tap'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { issueLicense, type LicenseFields } from '../../core/license/format.js'
import { installLicense, LICENSE_FILE, TRUSTED_KEYS_FILE } from '../../core/license/store.js'
import { LicenseWatch } from '../../core/license/watch.js'
import { LicenseServer } from '../../core/license/server.js'
import { LICENSE_SERVER_KEY_FILE, PSK_CIPHERS, PSK_IDENTITY } from '../../core/license/lease-protocol.js'
import tls from 'node:tls'
import net from 'node:net'
import { VERIFY_RECORD_FILE } from '../../core/license/verify-record.js'
import { loadBootstrap, type Bootstrap } from '../../core/config/bootstrap.js'
import { PeerServices } from '../../core/agent/peer-services.js'

const DAY = 86_400_000
const T0 = Date.parse('2026-06-01T00:00:00Z')
const MAC = 'aa:bb:cc:00:11:22'
const { publicKey, privateKey } = generateKeyPairSync('ed25519')
const PUB = publicKey.export({ type: 'spki', format: 'pem' }) as string
const PRIV = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
const sign = (f: LicenseFields) => issueLicense(f, PRIV)
const term = (node = 'n1', issued = T0 - DAY, expires = T0 + 30 * DAY) =>
  sign({ type: 'term', node, hostId: 'ANY', issued: new Date(issued).toISOString(), expires: new Date(expires).toISOString() })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function home(t: Test, node = 'n1'): Promise<Bootstrap> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-lic-modes-'))
  // Retried: this teardown can run before the watch's stop, while its lease client still writes here
  // (ENOTEMPTY once in ci1).
  t.teardown(() => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }))
  const b = await loadBootstrap({ cwd: dir, env: { MCCS_HOME: dir, MCCS_NODE_NAME: node } })
  await mkdir(b.configDir, { recursive: true })
  await writeFile(path.join(b.configDir, TRUSTED_KEYS_FILE), PUB)
  return b
}

/** A watch as the agent runs it, on its own clock; its log lines are kept. */
function watch(t: Test, b: Bootstrap, now: () => number, more: Partial<ConstructorParameters<typeof LicenseWatch>[0]> = {}) {
  const lines: string[] = []
  const ops: Array<{ command: string; result: string; reason?: string }> = []
  const w = new LicenseWatch({
    bootstrap: b,
    now,
    macs: () => [MAC],
    intervalMs: 3_600_000,
    log: {
      log: (level, msg) => {
        lines.push(`${level} ${msg}`)
      },
    },
    oplog: {
      append: async (r) => {
        ops.push(r)
      },
    },
    ...more,
  })
  t.teardown(() => w.stop())
  return { w, lines, ops }
}

t.test('valid, expired, another host, tampered, another product: mode and message', async (t) => {
  const b = await home(t)
  const at = { now: T0 }
  const { w, lines, ops } = watch(t, b, () => at.now)
  await writeFile(path.join(b.configDir, LICENSE_FILE), term())
  await w.start()
  t.match(w.current(), { mode: 'valid', valid: true, type: 'term', daysLeft: 30 }, 'valid: a term license with 30 days left')
  t.notOk(w.current().warning)

  at.now = T0 + 31 * DAY
  await w.check()
  t.match(
    w.current(),
    { mode: 'limited', code: 'MCCS_ERR_LICENSE_EXPIRED', reason: /^expires: expired at 2026-07-01/, daysLeft: 0 },
    'expired',
  )
  t.ok(
    lines.some((l) => /^error LIMITED MODE on n1: no automatic failover or auto-start — expires: expired at/.test(l)),
    'the log says it loudly',
  )
  t.match(
    ops.at(-1),
    { command: 'licenseMode', result: 'failed', code: 'MCCS_ERR_LICENSE_EXPIRED', reason: /expired/ },
    'the operation log has the change of mode',
  )

  await writeFile(
    path.join(b.configDir, LICENSE_FILE),
    sign({ type: 'nodelock', node: 'n1', hostId: '02:00:00:00:00:99', issued: '2026-05-01' }),
  )
  await w.check()
  t.match(
    w.current(),
    {
      mode: 'limited',
      code: 'MCCS_ERR_LICENSE_HOST',
      reason: /02:00:00:00:00:99 is not a MAC address of this node, which has aa:bb:cc:00:11:22 \(a license for another host\)/,
    },
    'another host',
  )

  at.now = T0
  await writeFile(path.join(b.configDir, LICENSE_FILE), term().replace(/^expires=.*$/m, 'expires=2099-01-01T00:00:00Z'))
  await w.check()
  t.match(
    w.current(),
    { mode: 'limited', code: 'MCCS_ERR_LICENSE_SIGNATURE', reason: /does not match the license fields .*tampered/ },
    'tampered: a value changed after signing',
  )

  await writeFile(path.join(b.configDir, LICENSE_FILE), term().replace('product=MCCS', 'product=OTHERHA'))
  await w.check()
  t.match(
    w.current(),
    { mode: 'limited', code: 'MCCS_ERR_LICENSE_UNSUPPORTED', reason: /a license for another product \(OTHERHA\)/ },
    'another product',
  )

  await rm(path.join(b.configDir, LICENSE_FILE))
  await w.check()
  t.match(w.current(), { mode: 'limited', code: 'MCCS_ERR_LICENSE_MISSING', reason: 'no license is installed' }, 'missing')
})

t.test('expiry warnings before the end of a term license; renewal without a restart', async (t) => {
  const b = await home(t)
  const at = { now: T0 + 25 * DAY }
  const { w, lines, ops } = watch(t, b, () => at.now)
  await writeFile(path.join(b.configDir, LICENSE_FILE), term())
  await w.start()
  t.match(
    w.current(),
    { mode: 'valid', daysLeft: 5, warning: /license expires in 5 days \(2026-07-01.*renew it/ },
    'a warning 5 days before the end',
  )
  t.ok(
    lines.some((l) => /^warn license warning on n1: license expires in 5 days/.test(l)),
    'logged as a warning',
  )
  at.now = T0 + 31 * DAY
  await w.check()
  t.equal(w.current().mode, 'limited')
  // Renew License: a new license installed while the agent runs takes effect at the next check.
  await installLicense(b, term('n1', at.now - DAY, at.now + 365 * DAY), at.now)
  await w.check()
  t.match(w.current(), { mode: 'valid', daysLeft: 365 }, 'valid again without a restart')
  t.notOk(w.current().warning)
  t.match(ops.at(-1), { command: 'licenseMode', result: 'done' }, 'the operation log has the return to licensed mode')
})

t.test('the 7-day rule: a full license verified on day 0, restarts on day 6 and on day 8', async (t) => {
  const nodelock = sign({ type: 'nodelock', node: 'n1', hostId: MAC, issued: '2026-05-01' })
  const b6 = await home(t)
  await installLicense(b6, nodelock, T0, [MAC])
  const day6 = watch(t, b6, () => T0 + 6 * DAY)
  await day6.w.start()
  t.match(
    day6.w.current(),
    {
      mode: 'valid',
      type: 'nodelock',
      daysLeft: null,
      warning:
        /last verified 6 days ago \(1 day left\): a restart after 2026-06-08T00:00:00Z without a new verification gives restricted mode/,
    },
    'day 6: valid, with the warning (from 3 days before)',
  )
  await day6.w.check()
  t.notOk(day6.w.current().warning, 'the running agent verified it again: the 7 days start over')

  const b8 = await home(t)
  await installLicense(b8, nodelock, T0, [MAC])
  const day8 = watch(t, b8, () => T0 + 8 * DAY)
  await day8.w.start()
  t.match(
    day8.w.current(),
    {
      mode: 'limited',
      code: 'MCCS_ERR_LICENSE_STALE',
      reason: /full license last verified 2026-06-01T00:00:00Z, 8 days ago \(more than 7\): restricted mode until it is verified again/,
    },
    'day 8: restricted mode',
  )
  await day8.w.check()
  t.equal(day8.w.current().mode, 'limited', 'a check while running does not lift it: only a new verification does')
  await installLicense(b8, nodelock, T0 + 8 * DAY, [MAC])
  await day8.w.check()
  t.equal(day8.w.current().mode, 'valid', 'mccs license install verifies it again, without a restart')

  // Editing the record's date does not extend the license: its signature is the agent's own.
  const rec = path.join(b8.stateDir, VERIFY_RECORD_FILE)
  const j = JSON.parse(await readFile(rec, 'utf8')) as { at: string }
  await writeFile(rec, JSON.stringify({ ...j, at: new Date(T0 + 30 * DAY).toISOString() }))
  const edited = watch(t, b8, () => T0 + 9 * DAY)
  await edited.w.start()
  t.match(
    edited.w.current(),
    { mode: 'limited', code: 'MCCS_ERR_LICENSE_STALE', reason: /record of the last license verification was altered/ },
    'an edited record: restricted mode',
  )
})

t.test('floating licenses: a seat from the license server, server unreachable inside and after the lease, seats exhausted', async (t) => {
  const psk = randomBytes(32)
  const now = Date.now()
  const floating = (server: string, count: number) =>
    sign({ type: 'floating', node: 'pool', hostId: 'ANY', issued: new Date(now - DAY).toISOString(), server, count })
  const srv = new LicenseServer({ licenseText: floating('127.0.0.1:5053', 1), keys: [publicKey], psk, leaseMs: 1500 })
  const at = await srv.listen()
  t.teardown(() => srv.close())
  const server = `127.0.0.1:${at.port}`
  const setup = async (node: string) => {
    const b = await home(t, node)
    await writeFile(path.join(b.configDir, LICENSE_SERVER_KEY_FILE), psk, { mode: 0o600 })
    await writeFile(path.join(b.configDir, LICENSE_FILE), floating(server, 1))
    return b
  }
  const a = watch(t, await setup('a'), Date.now, { leaseClient: { retryMs: 200 } })
  await a.w.start()
  const until = async (f: () => boolean, what: string) => {
    for (let i = 0; i < 100 && !f(); i++) await sleep(50)
    t.ok(f(), what)
  }
  await until(() => a.w.current().mode === 'valid', 'a takes the one seat')
  t.match(
    a.w.current(),
    { type: 'floating', server, daysLeft: null },
    'a seat renewed every few seconds is not days: no days left (the license has no end)',
  )
  t.match(srv.holders(), [new RegExp(`^a@${os.hostname()}\/[0-9a-f]{8}$`)])

  const b = watch(t, await setup('b'), Date.now, { leaseClient: { retryMs: 200 } })
  await b.w.start()
  await until(() => b.w.current().code === 'MCCS_ERR_LICENSE_SEATS', 'b finds every seat taken')
  t.match(b.w.current(), { mode: 'limited', reason: /all 1 seats are taken \(by a@/ }, 'seats exhausted: limited, with the reason')

  await srv.close()
  await sleep(300)
  await a.w.check()
  t.match(
    a.w.current(),
    { mode: 'valid', warning: /license server .* unreachable .*the seat is kept until \S+ \([0-9.]+ s left\), then limited mode/ },
    'server unreachable inside the lease: still valid, with a warning',
  )
  await until(() => a.w.current().mode === 'limited', 'after the lease: limited')
  t.match(
    a.w.current(),
    { code: 'MCCS_ERR_LICENSE_SERVER', reason: /cannot be reached|could not be renewed/ },
    'server unreachable after the lease',
  )

  // A restarted agent has no seat until the server answers.
  await a.w.stop()
  const again = watch(t, await setup('a2'), Date.now, { leaseClient: { retryMs: 200 } })
  await again.w.start()
  await until(() => /cannot be reached/.test(again.w.current().reason ?? ''), 'restarted while the server is down: limited')
  t.match(again.w.current(), { mode: 'limited', reason: /cannot be reached/ })

  // A node without the server's key says so (not "server unreachable").
  const nokey = await home(t, 'nokey')
  await writeFile(path.join(nokey.configDir, LICENSE_FILE), floating(server, 1))
  const nk = watch(t, nokey, Date.now, { leaseClient: { retryMs: 200 } })
  await nk.w.start()
  await until(() => /license-server\.key/.test(nk.w.current().reason ?? ''), 'no key: the reason names the key file')
  t.match(nk.w.current(), {
    mode: 'limited',
    code: 'MCCS_ERR_LICENSE_SERVER',
    reason: /license-server\.key: no such file \(copy the license server's key there, mode 0600\)/,
  })
})

t.test('the 7-day record: deleting or editing it, or a clock gone backwards, does not extend a full license', async (t) => {
  const nodelock = sign({ type: 'nodelock', node: 'n1', hostId: MAC, issued: '2026-05-01' })
  const day8 = async (what: string, edit: (rec: string) => Promise<void>) => {
    const b = await home(t)
    await installLicense(b, nodelock, T0, [MAC])
    await edit(path.join(b.stateDir, VERIFY_RECORD_FILE))
    const r = watch(t, b, () => T0 + 8 * DAY)
    await r.w.start()
    t.match(r.w.current(), { mode: 'limited', code: 'MCCS_ERR_LICENSE_STALE' }, `${what}: restricted mode on day 8`)
    t.notOk(
      r.lines.some((l) => /^info license valid/.test(l)),
      `${what}: never said valid`,
    )
    return r.w.current()
  }
  const removed = await day8('the record deleted', (rec) => rm(rec))
  t.match(removed.reason, /license-verified\.json is missing/, 'the reason says the record is gone')
  const other = await day8('the record said to be of another license', async (rec) => {
    const j = JSON.parse(await readFile(rec, 'utf8')) as { license: string }
    await writeFile(rec, JSON.stringify({ ...j, license: '0'.repeat(32) }))
  })
  t.match(other.reason, /altered/)
  const garbage = await day8('the record replaced by other JSON', (rec) => writeFile(rec, '{"a":{"b":{"c":[1,2,3]}}}'))
  t.match(garbage.reason, /altered/)

  // A record dated after the clock (the clock set back while the agent was stopped) is not a fresh one.
  const b = await home(t)
  await installLicense(b, nodelock, T0 + 30 * DAY, [MAC])
  const back = watch(t, b, () => T0 + 8 * DAY)
  await back.w.start()
  t.match(
    back.w.current(),
    { mode: 'limited', code: 'MCCS_ERR_LICENSE_STALE', reason: /verified 2026-07-01T00:00:00Z, after this node's clock/ },
    'a clock gone backwards: restricted mode, saying why',
  )
})

t.test('a running agent keeps its full license when its clock jumps back or forward (the 7 days count restarts)', async (t) => {
  const nodelock = sign({ type: 'nodelock', node: 'n1', hostId: MAC, issued: '2026-05-01' })
  const b = await home(t)
  await installLicense(b, nodelock, T0, [MAC])
  const at = { now: T0 + DAY }
  const r = watch(t, b, () => at.now)
  await r.w.start()
  t.equal(r.w.current().mode, 'valid', 'valid at start on day 1')
  at.now = T0 - 20 * DAY
  await r.w.check()
  t.equal(r.w.current().mode, 'valid', 'the clock set back 21 days while running: still valid')
  at.now = T0 + 40 * DAY
  await r.w.check()
  t.equal(r.w.current().mode, 'valid', 'the clock set forward 60 days while running: still valid')
  t.notOk(r.w.current().warning, 'and verified again now, so no 7-day warning')
  await r.w.stop()
  const again = watch(t, b, () => T0 + 42 * DAY)
  await again.w.start()
  t.match(again.w.current(), { mode: 'valid', warning: undefined }, 'a restart 2 days later: valid')
})

t.test('a floating license that expires soon warns like a term license, with the days left', async (t) => {
  const psk = randomBytes(32)
  const now = Date.now()
  const lic = (server: string) =>
    sign({
      type: 'floating',
      node: 'pool',
      hostId: 'ANY',
      issued: new Date(now - DAY).toISOString(),
      expires: new Date(now + 4 * DAY - 60_000).toISOString(),
      server,
      count: 1,
    })
  const srv = new LicenseServer({ licenseText: lic('127.0.0.1:5053'), keys: [publicKey], psk, leaseMs: 3000 })
  const at = await srv.listen()
  t.teardown(() => srv.close())
  const b = await home(t, 'a')
  await writeFile(path.join(b.configDir, LICENSE_SERVER_KEY_FILE), psk, { mode: 0o600 })
  await writeFile(path.join(b.configDir, LICENSE_FILE), lic(`127.0.0.1:${at.port}`))
  const r = watch(t, b, Date.now, { leaseClient: { retryMs: 200 } })
  await r.w.start()
  for (let i = 0; i < 100 && r.w.current().mode !== 'valid'; i++) await sleep(50)
  t.match(r.w.current(), { mode: 'valid', daysLeft: 4, warning: /license expires in 4 days/ }, 'valid, 4 days left, warned')
  t.ok(
    r.lines.some((l) => /^warn license warning on a: license expires in 4 days/.test(l)),
    'logged as a warning',
  )
})

t.test('editing the lease file gives no seat: the running agent goes by the lease it holds', async (t) => {
  const b = await home(t, 'a')
  await writeFile(path.join(b.configDir, LICENSE_SERVER_KEY_FILE), randomBytes(32), { mode: 0o600 })
  const server = '127.0.0.1:9' // nothing listens on the discard port here
  await writeFile(
    path.join(b.configDir, LICENSE_FILE),
    sign({ type: 'floating', node: 'pool', hostId: 'ANY', issued: new Date(Date.now() - DAY).toISOString(), server, count: 1 }),
  )
  const r = watch(t, b, Date.now, { leaseClient: { retryMs: 200 } })
  await r.w.start()
  for (let i = 0; i < 100 && !/cannot be reached/.test(r.w.current().reason ?? ''); i++) await sleep(50)
  t.match(r.w.current(), { mode: 'limited', code: 'MCCS_ERR_LICENSE_SERVER', reason: /cannot be reached/ })
  await writeFile(path.join(b.stateDir, 'license-lease.json'), JSON.stringify({ held: true, until: Date.now() + 365 * DAY, server }))
  await r.w.check()
  t.match(r.w.current(), { mode: 'limited', code: 'MCCS_ERR_LICENSE_SERVER' }, 'still limited after the lease file was edited')
  await sleep(500)
  await r.w.check()
  t.equal(r.w.current().mode, 'limited', 'and after the next rounds')
  // What the coordinator asks this node over the peer channel (its engine's limited input) is the same.
  await writeFile(path.join(b.stateDir, 'license-lease.json'), JSON.stringify({ held: true, until: Date.now() + 365 * DAY, server }))
  const peer = new PeerServices(b, async () => ({}), r.w)
  t.match(await peer.handle({ t: 'licenseView' }), { mode: 'limited', code: 'MCCS_ERR_LICENSE_SERVER' }, 'the peer answer: limited too')
})

t.test('a floating seat is not kept longer when the clock goes back during a server outage', async (t) => {
  const psk = randomBytes(32)
  const lic = (server: string) =>
    sign({ type: 'floating', node: 'pool', hostId: 'ANY', issued: new Date(Date.now() - DAY).toISOString(), server, count: 1 })
  const srv = new LicenseServer({ licenseText: lic('127.0.0.1:5053'), keys: [publicKey], psk, leaseMs: 1500 })
  const at = await srv.listen()
  t.teardown(() => srv.close())
  const b = await home(t, 'a')
  await writeFile(path.join(b.configDir, LICENSE_SERVER_KEY_FILE), psk, { mode: 0o600 })
  await writeFile(path.join(b.configDir, LICENSE_FILE), lic(`127.0.0.1:${at.port}`))
  const clock = { offset: 0 }
  const r = watch(t, b, () => Date.now() + clock.offset, { leaseClient: { retryMs: 200 } })
  await r.w.start()
  for (let i = 0; i < 100 && r.w.current().mode !== 'valid'; i++) await sleep(50)
  t.equal(r.w.current().mode, 'valid', 'a seat')
  await srv.close()
  clock.offset = -DAY // the wall clock set back a day while the server cannot be reached
  const t0 = Date.now()
  for (let i = 0; i < 100 && r.w.current().mode !== 'limited'; i++) {
    await sleep(50)
    await r.w.check()
  }
  t.match(r.w.current(), { mode: 'limited', code: 'MCCS_ERR_LICENSE_SERVER' }, 'limited once the lease term has passed')
  t.ok(Date.now() - t0 < 3000, `within the lease term (1.5 s), not a day later (took ${Date.now() - t0} ms)`)
})

t.test('a check asked for while one runs is not lost (a license installed mid-check takes effect)', async (t) => {
  const b = await home(t)
  await writeFile(path.join(b.configDir, LICENSE_FILE), term('n1', T0 - DAY, T0 + 30 * DAY))
  let asked: Promise<void> | null = null
  const r = watch(t, b, () => T0, {
    onChange: () => {
      // While the first check publishes, the license is replaced and a check is asked for.
      if (asked) return
      writeFileSync(path.join(b.configDir, LICENSE_FILE), term('n1', T0 - DAY, T0 + 300 * DAY))
      asked = r.w.check()
    },
  })
  await r.w.start()
  await asked
  t.match(r.w.current(), { mode: 'valid', daysLeft: 300 }, 'the check asked for during a check saw the new license')
})

t.test('the 7-day warning starts 3 days before the 7 days run out, not earlier', async (t) => {
  const nodelock = sign({ type: 'nodelock', node: 'n1', hostId: MAC, issued: '2026-05-01' })
  const at = async (day: number) => {
    const b = await home(t)
    await installLicense(b, nodelock, T0, [MAC])
    const r = watch(t, b, () => T0 + day * DAY)
    await r.w.start()
    return r
  }
  const early = await at(3.9)
  t.match(early.w.current(), { mode: 'valid' }, 'a restart on day 3.9: valid')
  t.notOk(early.w.current().warning, 'and no warning yet')
  const d4 = await at(4.1)
  t.match(d4.w.current(), { mode: 'valid', warning: /last verified 4 days ago \(3 days left\)/ }, 'a restart on day 4.1: the warning')
  t.ok(
    d4.lines.some((l) => /^warn license warning on n1: full license last verified 4 days ago \(3 days left\)/.test(l)),
    'logged as a warning',
  )
  const d7 = await at(6.99)
  t.match(d7.w.current(), { mode: 'valid', warning: /\(1 day left\)/ }, 'a restart on day 6.99: still valid, 1 day left')
})

t.test("a license server's answer is checked: a bad term or wrong types give no seat, naming the field", async (t) => {
  const psk = randomBytes(32)
  const fake = async (answer: unknown) => {
    const srv = tls.createServer(
      {
        ciphers: PSK_CIPHERS,
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.2',
        pskIdentityHint: PSK_IDENTITY,
        pskCallback: () => psk,
      },
      (sock) => {
        sock.on('error', () => {})
        sock.once('data', () => sock.end(JSON.stringify(answer) + '\n'))
      },
    )
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))
    t.teardown(() => new Promise<void>((r) => srv.close(() => r())))
    return `127.0.0.1:${(srv.address() as net.AddressInfo).port}`
  }
  for (const [what, answer, field] of [
    ['a term of 31 years', { ok: true, lease: 'x1', termMs: 1e12, seats: 1, used: 1 }, 'termMs'],
    ['a term as text', { ok: true, lease: 'x1', termMs: '3000', seats: 1, used: 1 }, 'termMs'],
    ['a nested lease id', { ok: true, lease: { a: { b: 1 } }, termMs: 3000, seats: 1, used: 1 }, 'lease'],
    ['an unknown error code', { ok: false, code: 'MCCS_ERR_WHATEVER', message: 'no' }, 'code'],
    ['an array', [1, 2, 3], 'ok'],
  ] as const) {
    const server = await fake(answer)
    const b = await home(t, 'a')
    await writeFile(path.join(b.configDir, LICENSE_SERVER_KEY_FILE), psk, { mode: 0o600 })
    await writeFile(
      path.join(b.configDir, LICENSE_FILE),
      sign({ type: 'floating', node: 'pool', hostId: 'ANY', issued: new Date(Date.now() - DAY).toISOString(), server, count: 1 }),
    )
    const r = watch(t, b, Date.now, { leaseClient: { retryMs: 200 } })
    await r.w.start()
    const re = new RegExp(`answered something that is not a lease answer: ${field}:`)
    for (let i = 0; i < 100 && !re.test(r.w.current().reason ?? ''); i++) await sleep(50)
    t.match(r.w.current(), { mode: 'limited', code: 'MCCS_ERR_LICENSE_SERVER', reason: re }, `${what}: no seat, naming ${field}`)
    await r.w.stop()
  }
})
