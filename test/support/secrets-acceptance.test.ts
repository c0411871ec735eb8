// Acceptance 4 of issue 12: a node whose resources carry planted secrets — a process with secrets in its
// argv and env (DB_PASS, MYSQL_PWD, AWS keys, a database URL with a password), a type whose schema marks
// attributes secret and whose plugin logs them carelessly — runs them, logs, takes operator commands;
// then neither its logs nor a support bundle (made by `mccs support` and by the agent itself, every
// file unpacked, compressed or not) hold any of the secrets, and `ps` shows none of the env values.
import t from 'tap'
import { execFile } from 'node:child_process'
import { cp, readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { startTestAgent, res, until } from '../agent/helpers.js'
import { configEdit } from '../../core/agent/config-edit.js'
import { collectNodeBundle } from '../../core/support/bundle.js'
import { untarGz } from '../../core/support/tar.js'
import { buildPlugin } from '@mccs/plugin-kit/build'
import { S, fixturePlugins, processAttrs, vaultAttrs, vaultNodeAttrs, unpackAll, leaks } from './planted.js'

const run = promisify(execFile)

t.test('planted secrets: none in the logs, none in a support bundle, no env value in ps', async (t) => {
  await buildPlugin(path.join(fixturePlugins, 'vault'))
  const a = await startTestAgent(
    {
      groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: false, autoStart: false, autoFailback: false }],
      resources: [res('db', 'process', processAttrs)],
      dependencies: [],
      types: {},
    },
    { prepare: (home) => cp(path.join(fixturePlugins, 'vault'), path.join(home, 'plugins/vault'), { recursive: true }) },
  )
  t.teardown(() => a.cleanup())
  const logFile = path.join(a.home, 'logs/mccs.log')
  const opFile = path.join(a.home, 'logs/operation.log')

  // An operator adds a resource whose attributes the type marks secret (recorded in the operation log).
  const added = await configEdit(a.agent, {
    op: 'resourceAdd',
    user: 'admin',
    args: { resource: 'vault1', type: 'vault', group: 'g', attrs: vaultAttrs, nodeAttrs: vaultNodeAttrs },
  })
  t.match(added, { ok: true }, 'vault1 added')
  // A refused edit logs its arguments too.
  const refused = await configEdit(a.agent, {
    op: 'resourceEdit',
    user: 'admin',
    args: { resource: 'vault1', attrs: { phrase: S.schemaPhrase, nosuch: `postgres://x:${S.envUrlPassword}@h` } },
  })
  t.match(refused, { ok: false }, 'an edit with an unknown attribute is refused')
  const r = await a.agent.command({ type: 'groupOnline', group: 'g', user: 'admin' }, { wait: true, timeoutMs: 60_000 })
  t.equal(r.reached, true, 'group g online: the process and the vault run')
  a.agent.log.flush()
  await until(async () => (await readFile(logFile, 'utf8')).includes('unsealing with phrase'), 10_000)

  // The logs: the plugin's careless lines are there, its secrets are not.
  const log = await readFile(logFile, 'utf8')
  const ops = await readFile(opFile, 'utf8')
  t.same(
    leaks([
      ['mccs.log', Buffer.from(log)],
      ['operation.log', Buffer.from(ops)],
    ]),
    [],
    'no planted secret in mccs.log or operation.log',
  )
  t.match(log, /unsealing with phrase \[redacted\] and seal \[redacted\]/, "the plugin's free-text line, scrubbed")
  t.match(log, /vault online with /, "the plugin's attribute dump, redacted")
  const add = ops
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((x) => x.command === 'resourceAdd')
  t.match(
    add,
    {
      user: 'admin',
      target: 'vault1',
      args: { attrs: { user: 'svc', phrase: '[redacted]', pin: '[redacted]', options: { region: 'eu-central-1' } } },
    },
    'the operation log keeps who added what',
  )
  for (const f of [logFile, opFile]) t.equal((await stat(f)).mode & 0o777, 0o640, `${path.basename(f)} is 0640`)

  // A bundle made as an operator makes it (`mccs support`: another process, which reads the
  // configuration and the plugins' schemas from disk), and one made by the agent itself.
  const out = path.join(a.home, 'bundle.tar.gz')
  const cli = await a.cli('support', '--out', out)
  t.equal(cli.code, 0, cli.err)
  const outer = await readFile(out)
  const inCli = unpackAll(outer)
  t.ok(
    inCli.some(([n]) => n.endsWith('n1/logs/mccs.log')) && inCli.some(([n]) => n.endsWith('n1/processinfo.txt')),
    'the CLI bundle has the log and the process list',
  )
  t.same(leaks(inCli), [], 'no planted secret in the bundle `mccs support` made')
  const own = unpackAll((await collectNodeBundle({ bootstrap: a.agent.opts.bootstrap, status: async () => a.agent.status() })).data)
  t.same(leaks(own), [], 'no planted secret in the bundle the agent made')
  const ps = own.find(([n]) => n === 'n1/processinfo.txt')![1].toString()
  t.match(
    ps,
    /exec sleep 600 svc --password=\[redacted\] -p \[redacted\] --token \[redacted\]/,
    'the managed process is in the process list, its argv redacted',
  )
  t.ok(untarGz(outer).some((e) => e.name === 'manifest.json'))

  // ps: every local user can read command lines. The env values must not be on any of them.
  // DEPENDS ON the process supervisor change of issue 12 finding 6 (environment passed by a file
  // descriptor or a 0600 file, not `env -i VAR=value …`), owned by another helper: until it lands this
  // assertion fails, and says which values it saw.
  const { stdout } = await run('ps', ['-eo', 'args'], { maxBuffer: 16 << 20 })
  const envValues = {
    envDbPass: S.envDbPass,
    envMysqlPwd: S.envMysqlPwd,
    envAwsSecret: S.envAwsSecret,
    envAwsKeyId: S.envAwsKeyId,
    envUrlPassword: S.envUrlPassword,
  }
  t.same(
    leaks([['ps -eo args', Buffer.from(stdout)]], envValues),
    [],
    'no env value of the process resource on any command line (needs the supervisor change)',
  )
  // …while the service did get them (its own environ, readable by its owner and root only).
  if (process.getuid?.() === 0) {
    const holders = []
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue
      const env = await readFile(`/proc/${pid}/environ`).catch(() => Buffer.alloc(0))
      if (env.includes(`DB_PASS=${S.envDbPass}\0`) && env.includes(`MYSQL_PWD=${S.envMysqlPwd}\0`)) holders.push(pid)
    }
    t.ok(holders.length >= 1, `the service's environment holds the values (pids ${holders.join(', ')})`)
  }
})
