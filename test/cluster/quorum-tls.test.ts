// TLS material for the quorum server (and later the console): a CA and a server certificate made with
// the openssl CLI, keys 0600, written atomically, reused while valid.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { X509Certificate } from 'node:crypto'
import { ensureTlsMaterial, loadCa, defaultHosts } from '../../core/cluster/tls.js'
import { isMccsError } from '../../core/errors.js'

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-tls-')))
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = () => path.join(root, `d${++n}`)
const mode = (f: string) => fs.statSync(f).mode & 0o777

t.test('makes a CA and a server certificate signed by it', async (t) => {
  const dir = fresh()
  const m = await ensureTlsMaterial(dir, { hosts: ['127.0.0.1', 'localhost', 'qs.example.org'] })
  t.same(m.created, { ca: true, cert: true })
  t.same(fs.readdirSync(dir).sort(), ['ca.crt', 'ca.key', 'server.crt', 'server.key'], 'no temp files left')
  t.equal(mode(m.caKeyFile), 0o600, 'CA key 0600')
  t.equal(mode(m.keyFile), 0o600, 'server key 0600')
  t.equal(mode(m.certFile), 0o644)
  const ca = new X509Certificate(m.caCert)
  const cert = new X509Certificate(m.cert)
  t.ok(ca.ca, 'the CA is a CA')
  t.notOk(cert.ca, 'the server certificate is not')
  t.ok(cert.verify(ca.publicKey), 'signed by the CA')
  t.ok(cert.checkIssued(ca))
  t.equal(cert.checkIP('127.0.0.1'), '127.0.0.1')
  t.equal(cert.checkHost('qs.example.org'), 'qs.example.org')
  t.equal(cert.checkHost('other.example.org'), undefined)
  t.match(cert.keyUsage ?? [], ['1.3.6.1.5.5.7.3.1'], 'extended key usage: serverAuth')
  t.equal(m.caFingerprint, ca.fingerprint256)
  t.equal(await loadCa(m.caCertFile), m.caCert, 'loadCa reads the file')
  t.equal(await loadCa(m.caCert), m.caCert, 'or takes PEM text')
})

t.test('reuses valid material; re-issues the server certificate (same CA) when hosts change or the key is broken', async (t) => {
  const dir = fresh()
  const a = await ensureTlsMaterial(dir, { hosts: ['127.0.0.1'] })
  const b = await ensureTlsMaterial(dir, { hosts: ['127.0.0.1'] })
  t.same(b.created, { ca: false, cert: false })
  t.equal(b.certFingerprint, a.certFingerprint)
  const c = await ensureTlsMaterial(dir, { hosts: ['127.0.0.1', 'new.example.org'] })
  t.same(c.created, { ca: false, cert: true }, 'a new host: new server certificate')
  t.equal(c.caFingerprint, a.caFingerprint, 'the pinned CA stays')
  t.equal(new X509Certificate(c.cert).checkHost('new.example.org'), 'new.example.org')
  fs.writeFileSync(path.join(dir, 'server.key'), 'garbage', { mode: 0o600 })
  const d = await ensureTlsMaterial(dir, { hosts: ['127.0.0.1'] })
  t.same(d.created, { ca: false, cert: true }, 'an unreadable key: re-issued')
  t.equal(d.caFingerprint, a.caFingerprint)
  t.equal(mode(d.keyFile), 0o600)
})

t.test('refusals: half a CA, bad hosts, no openssl', async (t) => {
  const dir = fresh()
  await ensureTlsMaterial(dir, { hosts: ['127.0.0.1'] })
  fs.rmSync(path.join(dir, 'ca.key'))
  await t.rejects(
    ensureTlsMaterial(dir, { hosts: ['127.0.0.1'] }),
    { code: 'MCCS_ERR_TLS_MATERIAL' },
    'never silently replaces a pinned CA',
  )
  for (const hosts of [['a b'], ['x\nsubjectAltName=DNS:evil'], ['ok', '-bad'], []]) {
    await t.rejects(ensureTlsMaterial(fresh(), { hosts }), { code: 'MCCS_ERR_INVALID' }, JSON.stringify(hosts))
  }
  const none = fresh()
  const err = await ensureTlsMaterial(none, { hosts: ['127.0.0.1'], openssl: '/nonexistent/openssl' }).catch((e: unknown) => e)
  t.ok(isMccsError(err, 'MCCS_ERR_TLS_OPENSSL'), String(err))
  t.same(fs.readdirSync(none), [], 'nothing half-made is left')
  await t.rejects(loadCa(path.join(root, 'missing.crt')), { code: 'MCCS_ERR_TLS_MATERIAL' })
  await t.rejects(loadCa('-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n'), { code: 'MCCS_ERR_TLS_MATERIAL' })
})

t.test('default hosts cover localhost', async (t) => {
  const h = defaultHosts()
  t.ok(h.includes('localhost') && h.includes('127.0.0.1'))
})
