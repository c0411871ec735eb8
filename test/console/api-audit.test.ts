// Every change made through the console is in the operation log with the user who made it (issue 12,
// What 1): configuration import, license install, support collection, password change and postponement,
// and the outcome of a command the caller waited for — not only the commands the agent logs itself.
import t from 'tap'
import path from 'node:path'
import { generateKeyPairSync } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { harness, readyClient, FIRST, SECOND } from './api-helpers.js'
import { issueLicense } from '../../core/license/format.js'
import { TRUSTED_KEYS_FILE } from '../../core/license/store.js'

const DAY = 86_400_000

t.test('console changes are in the operation log with their user and outcome', async (t) => {
  const h = await harness({ groups: true })
  t.teardown(() => h.cleanup())
  const b = h.ta.agent.opts.bootstrap
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  await writeFile(path.join(b.configDir, TRUSTED_KEYS_FILE), publicKey.export({ type: 'spki', format: 'pem' }) as string)
  const license = issueLicense(
    { type: 'term', node: 'n1', hostId: 'ANY', issued: '2026-01-01T00:00:00Z', expires: '2099-01-01T00:00:00Z' },
    privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  )

  const c = await readyClient(h)
  const cfg = await c.req('GET', '/api/config')
  const main = JSON.parse(cfg.body.text)
  main.groups[0].autoFailback = true
  t.equal((await c.req('PUT', '/api/config', { text: JSON.stringify(main), expectGeneration: cfg.body.generation })).status, 200)
  t.equal(
    (await c.req('PUT', '/api/config', { text: JSON.stringify(main), expectGeneration: cfg.body.generation })).status,
    409,
    'a stale import is refused',
  )
  t.equal((await c.req('POST', '/api/licenses', { node: 'n1', text: license })).status, 200)
  t.equal((await c.req('POST', '/api/licenses', { node: 'n1', text: 'type=dongle\n' })).status, 400)
  t.equal((await c.req('POST', '/api/support', { nodes: 'all' })).status, 200)
  const on = await c.req('POST', '/api/groups/g/actions/online', { wait: true, timeoutS: 20 })
  t.equal(on.body.reached, true)
  t.equal((await c.req('POST', '/api/password', { current: 'wrong', next: SECOND })).status, 400)
  t.equal((await c.req('POST', '/api/password', { current: FIRST, next: SECOND })).status, 204)
  h.advance(91 * DAY)
  await c.login('mcuser', SECOND)
  t.equal((await c.req('POST', '/api/password/postpone')).status, 204)

  const log = (await c.req('GET', '/api/oplog?limit=100')).body as Array<{
    user: string
    op: string
    target: string | null
    result: string
    code?: string
    args: Record<string, unknown>
  }>
  const seen = log.map((e) => `${e.user} ${e.op} ${e.target ?? '-'} ${e.result}${e.code ? ' ' + e.code : ''}`)
  t.comment(seen.join('\n'))
  for (const want of [
    'mcuser passwordChange mcuser done', // the first change, by readyClient
    'mcuser configReplace - done',
    'mcuser configReplace - rejected MCCS_ERR_CONFIG_GENERATION',
    'mcuser licenseInstall n1 done',
    'mcuser licenseInstall n1 rejected MCCS_ERR_LICENSE_FORMAT',
    'mcuser supportCollect - done',
    'mcuser groupOnline g accepted',
    'mcuser groupOnline g done',
    'mcuser passwordChange mcuser rejected MCCS_ERR_INVALID',
    'mcuser passwordPostpone mcuser done',
  ])
    t.ok(seen.includes(want), `logged: ${want}`)
  const replaced = log.find((e) => e.op === 'configReplace' && e.result === 'done')!
  t.equal(replaced.args.generation, cfg.body.generation + 1, 'the import names the generation it made')
  const signature = /^signature=(.+)$/m.exec(license)![1]!
  t.notOk(JSON.stringify(log).includes(signature), 'no license text in the log')
  t.notOk(JSON.stringify(log).includes(SECOND) || JSON.stringify(log).includes(FIRST), 'no password in the log')
})
