// Issue 12, finding 9 (the console's part): a Content-Security-Policy on every answer; TLS 1.2 only with
// ECDHE and AEAD suites; the console's own CA constrained to the names it signed for, its private key not
// kept on the node; the shipped default password accepted only from the node itself.
import t from 'tap'
import tls from 'node:tls'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { startTestAgent } from '../agent/helpers.js'
import { startConsole } from '../../core/console/server.js'
import { consoleSettings } from '../../core/console/settings.js'
import { consoleTls } from '../../core/console/tls-cert.js'
import { ensureTlsMaterial } from '../../core/cluster/tls.js'
import { harness, Client, readyClient } from './api-helpers.js'

const openssl = (args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    execFile('openssl', args, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    )
  })

t.test('every answer carries a Content-Security-Policy without inline script or style', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const anon = new Client(h)
  const c = await readyClient(h)
  const answers = [
    await anon.req('GET', '/'),
    await anon.req('GET', '/main'),
    await anon.req('GET', '/main/assets/app.js'),
    await anon.req('GET', '/api/openapi.json'),
    await anon.req('GET', '/api/status'),
    await anon.req('GET', '/nosuch'),
    await anon.login('mcuser', 'wrong'),
    await c.req('GET', '/api/status'),
    await c.req('POST', '/api/groups', { name: 'x' }),
  ]
  for (const a of answers) {
    const csp = String(a.headers['content-security-policy'] ?? '')
    t.match(csp, /default-src 'none'/, `${a.raw.statusCode}: default-src 'none'`)
    t.match(csp, /script-src 'self'(;|$)/)
    t.match(csp, /style-src 'self'(;|$)/)
    t.match(csp, /connect-src 'self'/)
    t.match(csp, /frame-ancestors 'none'/)
    t.match(csp, /base-uri 'none'/)
    t.notMatch(csp, /unsafe-inline|unsafe-eval|\*/, 'nothing inline, no eval, no wildcard')
  }
})

t.test('the shipped default password logs in only from the node itself', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const remote = await new Client(h, '192.0.2.44').login('mcuser', 'mccs')
  t.equal(remote.status, 403)
  t.equal(remote.body.error.code, 'MCCS_ERR_PASSWORD_CHANGE_REQUIRED')
  t.match(remote.body.error.message, /only from the node itself/)
  t.equal(remote.headers['set-cookie'], undefined, 'no session')
  t.equal((await new Client(h, '::ffff:192.0.2.44').login('mcuser', 'mccs')).status, 403, 'an IPv4-mapped address is remote too')
  t.equal((await new Client(h, '127.0.0.1').login('mcuser', 'mccs')).status, 200, 'from loopback')
  t.equal((await new Client(h, '::1').login('mcuser', 'mccs')).status, 200, 'from IPv6 loopback')
  await readyClient(h, 'changed-pass1!x')
  t.equal((await new Client(h, '192.0.2.44').login('mcuser', 'changed-pass1!x')).status, 200, 'after the change, from anywhere')
})

t.test('TLS: only ECDHE with AEAD suites; CBC and SHA-1 suites refused', async (t) => {
  const ta = await startTestAgent({ groups: [], resources: [], dependencies: [], types: {} })
  t.teardown(() => ta.cleanup())
  const settings = { ...consoleSettings(ta.agent.opts.bootstrap, path.join(ta.home, 'no-ui'), {}), listen: ['127.0.0.1'], port: 0 }
  const c = await startConsole(ta.agent, settings)
  t.teardown(() => c.close())
  const port = c.addresses[0]!.port
  const hello = (o: tls.ConnectionOptions) =>
    new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: c.tls.ca!, servername: 'localhost', ...o }, () => {
        const r = `${s.getProtocol()} ${s.getCipher().standardName}`
        s.end()
        resolve(r)
      })
      s.on('error', (e) => resolve(`refused: ${(e as NodeJS.ErrnoException).code ?? e.message}`))
    })
  t.match(await hello({}), /^TLSv1\.3 /, 'TLS 1.3 by default')
  for (const cbc of [
    'ECDHE-ECDSA-AES128-SHA',
    'ECDHE-ECDSA-AES256-SHA',
    'ECDHE-ECDSA-AES128-SHA256',
    'ECDHE-ECDSA-AES256-SHA384',
    'AES128-GCM-SHA256',
  ]) {
    t.match(await hello({ maxVersion: 'TLSv1.2', ciphers: cbc }), /^refused/, `TLS 1.2 with only ${cbc}: refused`)
  }
  // Every TLS 1.2 suite this OpenSSL knows, offered one at a time: only ECDHE + GCM/ChaCha20 are accepted.
  const accepted: string[] = []
  for (const name of tls
    .getCiphers()
    .map((x) => x.toUpperCase())
    .filter((x) => !x.startsWith('TLS_'))) {
    const r = await hello({ maxVersion: 'TLSv1.2', ciphers: name })
    if (!r.startsWith('refused')) accepted.push(r)
  }
  t.comment(`TLS 1.2 suites accepted: ${accepted.join(', ')}`)
  t.ok(accepted.length >= 1, 'some TLS 1.2 suite is accepted (older clients)')
  for (const a of accepted) t.match(a, /^TLSv1\.2 TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/, a)
})

t.test('the console CA: name constraints, no private key kept on the node, old material replaced', async (t) => {
  const ta = await startTestAgent({ groups: [], resources: [], dependencies: [], types: {} })
  t.teardown(() => ta.cleanup())
  const settings = { ...consoleSettings(ta.agent.opts.bootstrap, path.join(ta.home, 'no-ui'), {}), listen: ['127.0.0.1'], port: 0 }
  const dir = settings.tlsDir
  // Material as an earlier version left it: a CA without name constraints and its key in the folder.
  const old = await ensureTlsMaterial(dir, { label: 'console', hosts: ['localhost', '127.0.0.1'] })
  t.ok(existsSync(path.join(dir, 'ca.key')), 'the earlier layout kept ca.key')

  const first = await consoleTls(settings)
  t.notOk(existsSync(path.join(dir, 'ca.key')), 'ca.key is gone')
  t.not(first.fingerprint, old.certFingerprint, 'a new certificate')
  t.not(first.ca, old.caCert, 'under a new CA')
  const text = (await openssl(['x509', '-in', path.join(dir, 'ca.crt'), '-noout', '-text'])).out
  t.match(text, /X509v3 Name Constraints: critical/, 'name constraints, critical')
  t.match(text, /Permitted:/)
  t.match(text, /DNS:localhost/)
  t.match(text, /IP:127\.0\.0\.1\/255\.255\.255\.255/)
  t.match(text, /CA:TRUE, pathlen:0/)
  const verified = await openssl(['verify', '-CAfile', path.join(dir, 'ca.crt'), path.join(dir, 'server.crt')])
  t.equal(verified.code, 0, `the server certificate verifies under the constrained CA: ${verified.out.trim()}`)
  t.equal(first.ca, await readFile(path.join(dir, 'ca.crt'), 'utf8'))
  for (const f of await import('node:fs/promises').then((m) => m.readdir(dir)))
    t.notMatch(f, /^\.openssl-|ca\.key/, `nothing of the CA key left: ${f}`)

  const again = await consoleTls(settings)
  t.equal(again.fingerprint, first.fingerprint, 'reused while valid')
  t.equal(again.ca, first.ca)

  // A new address to cover: a new CA (no key was kept to sign with), again constrained.
  const wider = await consoleTls({ ...settings, listen: ['127.0.0.2'] })
  t.not(wider.ca, first.ca, 'a new CA for the new name set')
  t.match((await openssl(['x509', '-in', path.join(dir, 'ca.crt'), '-noout', '-text'])).out, /IP:127\.0\.0\.2\/255\.255\.255\.255/)
  t.notOk(existsSync(path.join(dir, 'ca.key')))
})
