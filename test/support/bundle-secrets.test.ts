// Finding 6 of issue 12: secrets planted in a node's configuration, logs (written by an older agent,
// rotated and gzip'd), operation log, scripts, status and process list must not reach its support bundle —
// redacted by the type's schema marks, by key names and by value patterns — while what support needs
// next to them stays readable.
import t from 'tap'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { gzipSync } from 'node:zlib'
import os from 'node:os'
import path from 'node:path'
import { collectNodeBundle } from '../../core/support/bundle.js'
import { loadBootstrap } from '../../core/config/bootstrap.js'
import { createInitial, ConfigStore } from '../../core/config/store.js'
import { S, KEPT, fixturePlugins, processAttrs, vaultAttrs, vaultNodeAttrs, unpackAll, leaks, pem } from './planted.js'

const CLUSTER_KEY = randomBytes(32)

async function plantedHome() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-secrets-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const b = await loadBootstrap({ cwd: dir, env: { MCCS_HOME: dir, MCCS_NODE_NAME: 'n1', MCCS_PLUGIN_DIRS: fixturePlugins } })
  await createInitial(b.configDir, { cluster: 'c', nodes: [{ name: 'n1', address: '127.0.0.1' }] })
  const store = new ConfigStore(b.configDir)
  await store.load()
  const base = { group: 'g', critical: true, policy: {}, monitored: true, nodeAttrs: {} }
  await store.commit(
    {
      generation: 1,
      groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
      resources: [
        { ...base, name: 'db', type: 'process', attrs: processAttrs },
        { ...base, name: 'vault1', type: 'vault', attrs: vaultAttrs, nodeAttrs: vaultNodeAttrs },
      ],
      dependencies: [],
    } as never,
    { expectGeneration: 1 },
  )
  await writeFile(path.join(b.configDir, 'cluster.key'), CLUSTER_KEY, { mode: 0o600 })
  await mkdir(b.logDir, { recursive: true })
  // What an older agent (or a careless plugin) may have written: secrets in data and in free text.
  const old =
    [
      { level: 30, msg: 'process started', env: processAttrs.env, argv: processAttrs.argv },
      { level: 30, msg: `plugin said: unsealing with phrase ${S.schemaPhrase} and ${S.nodePhrase}`, data: { attrs: vaultAttrs } },
      {
        level: 40,
        msg: `connect failed: postgres://app:${S.envUrlPassword}@db.example:5432/app`,
        header: `Authorization: Bearer ${S.bearer}`,
      },
      { level: 30, msg: 'key material', data: { note: pem, id: S.envAwsKeyId, k: S.envAwsSecret } },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n') + '\n'
  const text =
    `not json: mysql -u root -p ${S.argvDashP} --password=${S.argvPassword} seal=${S.nestedSeal} pin ${S.widgetPin}\n` +
    `cluster key ${CLUSTER_KEY.toString('hex')} ${CLUSTER_KEY.toString('base64')}\n`
  await writeFile(path.join(b.logDir, 'mccs.log'), old + text)
  await writeFile(path.join(b.logDir, 'mccs.log.1'), old)
  await writeFile(path.join(b.logDir, 'mccs.log.2.gz'), gzipSync(old + text))
  await writeFile(
    path.join(b.logDir, 'operation.log'),
    JSON.stringify({
      at: '2026-01-01T00:00:00Z',
      user: 'admin',
      node: 'n1',
      command: 'resourceAdd',
      target: 'vault1',
      args: { resource: 'vault1', type: 'vault', attrs: vaultAttrs, nodeAttrs: vaultNodeAttrs },
      result: 'done',
    }) + '\n',
  )
  await mkdir(b.scriptDir, { recursive: true })
  await writeFile(
    path.join(b.scriptDir, 'start.sh'),
    `#!/bin/sh\nexport DB_HOST=db.example\nexport DB_PASS=${S.envDbPass}\nexec mysql -p${S.argvDashP}\n`,
  )
  return b
}

t.test('a node bundle holds none of the planted secrets, and keeps what is next to them', async (t) => {
  const b = await plantedHome()
  // A process with secrets on its command line, as the process list (processinfo.txt) shows it.
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      'sleep 60',
      'sh',
      `--password=${S.argvPassword}`,
      `DB_PASS=${S.envDbPass}`,
      `MYSQL_PWD=${S.envMysqlPwd}`,
      `AWS_SECRET_ACCESS_KEY=${S.envAwsSecret}`,
      `postgres://app:${S.envUrlPassword}@db.example/app`,
      '-p',
      S.argvDashP,
      '--token',
      S.argvToken,
    ],
    { stdio: 'ignore' },
  )
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  const status = {
    node: 'n1',
    resources: [{ name: 'db', reason: `exit 1: postgres://app:${S.envUrlPassword}@db.example`, env: processAttrs.env }],
  }
  const { data } = await collectNodeBundle({ bootstrap: b, status: async () => status })
  const files = unpackAll(data)
  t.same(leaks(files), [], 'no planted secret in any file of the bundle')
  t.same(
    leaks(files, { raw: CLUSTER_KEY.toString('latin1'), hex: CLUSTER_KEY.toString('hex'), b64: CLUSTER_KEY.toString('base64') }),
    [],
    'the cluster key in no form',
  )
  const all = Buffer.concat(files.map(([, d]) => d)).toString()
  for (const k of KEPT) t.ok(all.includes(k), `kept: ${k}`)
  const byName = Object.fromEntries(files.map(([n, d]) => [n, d.toString()]))
  const main = JSON.parse(byName['n1/config/main.json']!)
  t.same(
    main.resources.map((r: { name: string }) => r.name),
    ['db', 'vault1'],
    'main.json is still there, resources named',
  )
  t.match(main.resources[1].attrs, {
    user: 'svc',
    phrase: '[redacted]',
    pin: '[redacted]',
    options: { seal: '[redacted]', region: 'eu-central-1' },
  })
  t.match(main.resources[1].attrs.url, /^https:\/\/svc:\[redacted\]@vault\.example\/v1$/)
  t.match(main.resources[0].attrs.env, { DB_HOST: 'db.example', DB_PASS: '[redacted]', MYSQL_PWD: '[redacted]' })
  t.match(byName['n1/processinfo.txt'], /sleep 60 sh --password=\[redacted\]/, 'the process is listed, its secrets redacted')
  t.match(byName['n1/logs/mccs.log.2.gz!gunzip'], /process started/, "a gzip'd rotation is inside, readable after gunzip")
})
