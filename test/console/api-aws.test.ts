// AWS settings per node from the console (issue 18, What 3; the manual's "Add AWS CLI Profile", 3.2.3):
// every input is checked and a refusal names the field and writes nothing; the settings and the agent
// user's AWS files are written with mode 0600; a secret is never returned, logged or in the operation log;
// the check answers OK against a reachable EC2 endpoint and names the endpoint within a few seconds when
// it cannot be reached.
import t from 'tap'
import { mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { harness, readyClient } from './api-helpers.js'
import { startEc2Sim, seedForNodes } from '../../core/ec2sim/server.js'

// The agent runs in this process: its user's AWS files are these, never the real ~/.aws.
const awsDir = mkdtempSync(path.join(os.tmpdir(), 'mccs-aws-files-'))
const CRED = path.join(awsDir, 'dot-aws/credentials')
const CONF = path.join(awsDir, 'dot-aws/config')
process.env.AWS_SHARED_CREDENTIALS_FILE = CRED
process.env.AWS_CONFIG_FILE = CONF
t.teardown(() => rmSync(awsDir, { recursive: true, force: true }))

const SECRET = 'Sup3rSecretValue/with+chars='

/** A port nothing listens on (bound, then closed). */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })

t.test('inputs are checked, refusals name the field and write nothing', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const awsJson = path.join(h.ta.home, 'config/aws.json')
  const put = (body: unknown) => c.req('PUT', '/api/aws/nodes/n1/settings', body)
  const add = (body: unknown) => c.req('POST', '/api/aws/nodes/n1/profiles', body)

  const cases: Array<[string, Promise<{ status: number; body: any }>, string, RegExp]> = [
    ['a bad region', put({ region: 'Europe West' }), '/region', /AWS region like eu-west-1/],
    ['a region too long', put({ region: 'x'.repeat(40) }), '/region', /32/],
    ['an endpoint that is no URL', put({ region: 'us-east-1', endpoint: 'not a url' }), '/endpoint', /not a URL/],
    ['an endpoint of another scheme', put({ region: 'us-east-1', endpoint: 'ftp://127.0.0.1/' }), '/endpoint', /http/],
    ['an endpoint with a password', put({ region: 'us-east-1', endpoint: 'https://u:p@ec2.example/' }), '/endpoint', /credentials/],
    ['an endpoint too long', put({ region: 'us-east-1', endpoint: `https://${'a'.repeat(600)}.example/` }), '/endpoint', /512/],
    ['a bad profile name', put({ region: 'us-east-1', profile: 'my profile' }), '/profile', /profile name/],
    ['another field', put({ region: 'us-east-1', cacheTtlMs: 5 }), '/cacheTtlMs', /.+/],
    ['a profile without keys', add({ name: 'p1' }), '/accessKeyId', /.+/],
    [
      'a key id with a line break',
      add({ name: 'p1', accessKeyId: 'AKIA\n[x]', secretAccessKey: 's' }),
      '/accessKeyId',
      /letters and digits/,
    ],
    ['a secret with a space', add({ name: 'p1', accessKeyId: 'AKIA1', secretAccessKey: 'a b' }), '/secretAccessKey', /letters, digits/],
    ['a secret too long', add({ name: 'p1', accessKeyId: 'AKIA1', secretAccessKey: 'a'.repeat(300) }), '/secretAccessKey', /256/],
    ['a bad profile region', add({ name: 'p1', accessKeyId: 'AKIA1', secretAccessKey: 's', region: 'mars' }), '/region', /region/],
    ['a profile name with a bracket', add({ name: 'p]1', accessKeyId: 'AKIA1', secretAccessKey: 's' }), '/name', /profile name/],
  ]
  for (const [what, p, field, reason] of cases) {
    const r = await p
    t.equal(r.status, 400, `${what}: 400`)
    t.equal(r.body?.error?.field, field, `${what}: names ${field}`)
    t.match(r.body?.error?.message, reason, `${what}: says why`)
  }
  const unknownNode = await put({ region: 'us-east-1' }).then(() => c.req('PUT', '/api/aws/nodes/n9/settings', { region: 'us-east-1' }))
  t.equal(unknownNode.status, 404, 'a node not in the cluster')
  t.equal(unknownNode.body.error.field, '/params/node')
  // Only the one good request above wrote aws.json; the profile refusals wrote no AWS file.
  t.notOk(existsSync(CRED), 'no credentials file written by a refusal')
  t.notOk(existsSync(CONF), 'no config file written by a refusal')
  t.same(JSON.parse(await readFile(awsJson, 'utf8')), { region: 'us-east-1' })
  const ops = (await readFile(path.join(h.ta.home, 'logs/operation.log'), 'utf8')).split('\n').filter(Boolean)
  t.ok(
    ops.some((l) => /"command":"aws.settings".*"result":"done"/.test(l)),
    'the change is in the operation log',
  )

  // Without a session or without the CSRF token: refused.
  t.equal((await c.req('PUT', '/api/aws/nodes/n1/settings', { region: 'eu-west-1' }, { csrf: null })).status, 403)
  t.equal((await c.req('GET', '/api/aws', undefined, { cookie: null })).status, 401)
})

t.test('settings and profiles are written 0600, keys are never returned or logged; check against EC2', async (t) => {
  const sim = await startEc2Sim({ host: '127.0.0.1', port: 0, stateFile: path.join(awsDir, 'ec2.json'), seed: seedForNodes(['n1']) })
  t.teardown(() => sim.close())
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  // A profile the operator had before: kept as it is.
  const { mkdirSync } = await import('node:fs')
  mkdirSync(path.dirname(CRED), { recursive: true })
  writeFileSync(CRED, '# mine\n[other]\naws_access_key_id = OTHER\naws_secret_access_key = other-secret\n', { mode: 0o600 })

  const added = await c.req('POST', '/api/aws/nodes/n1/profiles', {
    name: 'mccs',
    accessKeyId: 'test',
    secretAccessKey: 'test',
    region: 'us-east-1',
  })
  t.equal(added.status, 200)
  t.same(
    added.body.profiles.find((p: { name: string }) => p.name === 'mccs'),
    { name: 'mccs', region: 'us-east-1', credentials: 'set' },
  )
  t.same(
    added.body.profiles.find((p: { name: string }) => p.name === 'other'),
    { name: 'other', credentials: 'set' },
  )
  const cred = await readFile(CRED, 'utf8')
  t.match(cred, /# mine\n\[other\]\naws_access_key_id = OTHER\naws_secret_access_key = other-secret\n/, 'the other profile kept')
  t.match(cred, /\[mccs\]\naws_access_key_id = test\naws_secret_access_key = test\n/)
  t.equal((await stat(CRED)).mode & 0o777, 0o600, 'credentials 0600')
  t.equal((await stat(CONF)).mode & 0o777, 0o600, 'config 0600')
  t.match(await readFile(CONF, 'utf8'), /\[profile mccs\]\nregion = us-east-1\n/)

  // A secret of its own: in the file, nowhere in an answer or a log.
  const s2 = await c.req('POST', '/api/aws/nodes/n1/profiles', { name: 'second', accessKeyId: 'AKIA2', secretAccessKey: SECRET })
  t.equal(s2.status, 200)
  t.notMatch(s2.raw.body, SECRET, 'the answer does not echo the secret')
  t.match(await readFile(CRED, 'utf8'), `aws_secret_access_key = ${SECRET}`)
  const all = await c.req('GET', '/api/aws')
  t.notMatch(all.raw.body, SECRET)
  t.notMatch(all.raw.body, 'other-secret')
  t.match(all.body.nodes[0], { node: 'n1', identity: 'instance-role', files: { credentials: CRED, config: CONF } })
  h.ta.agent.log.flush?.()
  t.notMatch(await readFile(path.join(h.ta.home, 'logs/operation.log'), 'utf8'), SECRET, 'not in the operation log')
  const agentLog = await readFile(path.join(h.ta.home, 'logs/mccs.log'), 'utf8')
  t.ok(
    agentLog.split('\n').some((l) => l.includes('AWS profile written') && l.includes(`"name":"second"`)),
    'the agent log has the change',
  )
  t.notMatch(agentLog, SECRET, 'but not the secret')

  const set = await c.req('PUT', '/api/aws/nodes/n1/settings', { region: 'us-east-1', endpoint: sim.url, profile: 'mccs' })
  t.equal(set.status, 200)
  t.match(set.body, { identity: 'profile', settings: { region: 'us-east-1', endpoint: sim.url, profile: 'mccs' } })
  const awsJson = path.join(h.ta.home, 'config/aws.json')
  t.equal((await stat(awsJson)).mode & 0o777, 0o600, 'aws.json 0600')

  // No profile: the instance role (aws.json without a profile), then back to the profile.
  const role = await c.req('PUT', '/api/aws/nodes/n1/settings', { region: 'us-east-1', endpoint: sim.url, profile: '' })
  t.match(role.body, { identity: 'instance-role' })
  t.same(JSON.parse(await readFile(awsJson, 'utf8')), { region: 'us-east-1', endpoint: sim.url })
  t.equal((await c.req('PUT', '/api/aws/nodes/n1/settings', { region: 'us-east-1', endpoint: sim.url, profile: 'mccs' })).status, 200)

  const ok = await c.req('POST', '/api/aws/nodes/n1/check', {})
  t.equal(ok.status, 200)
  t.match(ok.body, { node: 'n1', ok: true, profile: 'mccs', region: 'us-east-1', endpoint: sim.url })

  // Keys EC2 does not know: refused by EC2, the profile named.
  const bad = await c.req('POST', '/api/aws/nodes/n1/check', { settings: { region: 'us-east-1', endpoint: sim.url, profile: 'second' } })
  t.match(bad.body, { ok: false, field: 'profile', code: 'MCCS_ERR_AWS_API' })

  // A profile the files do not have: the profile named, within a few seconds.
  const t2 = Date.now()
  const none = await c.req('POST', '/api/aws/nodes/n1/check', { profile: 'nosuch' })
  t.match(none.body, { ok: false, field: 'profile', profile: 'nosuch', endpoint: sim.url })
  t.match(none.body.message, /nosuch/)
  t.ok(Date.now() - t2 < 5000, 'answered within a few seconds')
  // A resource's own profile over the node's settings (the wizard's per-node profile): refused if malformed.
  const badOver = await c.req('POST', '/api/aws/nodes/n1/check', { profile: 'bad name' })
  t.equal(badOver.status, 400)
  t.equal(badOver.body.error.field, '/profile')

  // An endpoint that does not answer: a named error within a few seconds.
  const port = await closedPort()
  const t0 = Date.now()
  const down = await c.req('POST', '/api/aws/nodes/n1/check', {
    settings: { region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, profile: 'mccs' },
  })
  const ms = Date.now() - t0
  t.match(down.body, { ok: false, code: 'MCCS_ERR_AWS_UNREACHABLE', field: 'endpoint' })
  t.match(down.body.message, /ECONNREFUSED/)
  t.ok(ms < 5000, `answered in ${ms} ms`)

  // A black hole (an address that never answers): bounded by the check's own deadline.
  const held: net.Socket[] = []
  const server = net.createServer((s) => held.push(s)) // accepts, never answers
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => {
    for (const s of held) s.destroy()
    return new Promise<void>((r) => server.close(() => r()))
  })
  const t1 = Date.now()
  const silent = await c.req('POST', '/api/aws/nodes/n1/check', {
    settings: { region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, profile: 'mccs' },
  })
  const ms2 = Date.now() - t1
  t.match(silent.body, { ok: false, code: 'MCCS_ERR_AWS_UNREACHABLE', field: 'endpoint' })
  t.ok(ms2 < 6000, `a silent endpoint answered in ${ms2} ms`)
})
