// The default account on a fresh node (issue 12, finding 9): until its shipped password is changed the
// console listens on loopback only, even when told to listen on every address; once it is changed (from
// the node itself, e.g. through an SSH tunnel) it listens where it was told. Run in the network-namespace
// lab: the agent in n1 (console on 0.0.0.0:11080), a client on the link at 10.80.0.250.
import t from 'tap'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { createLab, labAvailable } from '../../scripts/lab/lab.js'
import { packageRoot } from '../../core/paths.js'
import { until } from '../agent/helpers.js'

const avail = await labAvailable()

t.test(
  'loopback only until the default password is changed, then every configured address',
  { skip: avail.ok ? false : avail.reason },
  async (t) => {
    const lab = await createLab({ prefix: `mccs${process.pid}cl-`, nodes: 1, links: 1, client: true })
    t.teardown(() => lab.destroy())
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'mccs-listen-'))
    t.teardown(() => rm(tmp, { recursive: true, force: true }))
    const env = { ...process.env }
    delete env.NODE_OPTIONS
    const node = lab.spawn(
      'n1',
      [
        process.execPath,
        '--no-node-snapshot',
        '--import',
        'tsx',
        path.join(packageRoot(), 'test/console/fixtures/listen-node.ts'),
        '11080',
      ],
      { cwd: packageRoot(), env },
    )
    const lines: string[] = []
    createInterface({ input: node.stdout! }).on('line', (l) => lines.push(l))
    let err = ''
    node.stderr!.on('data', (d) => {
      err += d
    })
    t.teardown(
      () =>
        new Promise<void>((resolve) => {
          if (node.exitCode !== null) return resolve()
          node.once('exit', () => resolve())
          node.kill('SIGTERM')
        }),
    )
    await until(() => lines.length > 0 || node.exitCode !== null, 60_000)
    t.ok(lines.length > 0, `the console node started ${err}`)
    t.same(JSON.parse(lines[0]!).addresses, ['127.0.0.1'], 'listening on loopback only while mcuser has the shipped password')

    const remote = `https://${lab.addr('n1', 0)}:11080`
    const curl = (where: 'n1' | 'client', args: string[]) => lab.exec(where, ['curl', '-sk', '--max-time', '5', ...args], { check: false })
    const fromClient = await curl('client', ['-o', '/dev/null', '-w', '%{http_code}', `${remote}/api/openapi.json`])
    t.not(fromClient.stdout, '200', `not reachable from the network (curl exit ${fromClient.code})`)
    t.equal(fromClient.code, 7, 'connection refused')

    // The operator changes the password from the node itself.
    const jar = path.join(tmp, 'jar')
    const login = await curl('n1', [
      '-c',
      jar,
      '-H',
      'content-type: application/json',
      '-d',
      '{"user":"mcuser","password":"mccs"}',
      'https://127.0.0.1:11080/api/login',
    ])
    const csrf = JSON.parse(login.stdout).csrfToken as string
    const change = await curl('n1', [
      '-b',
      jar,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      'content-type: application/json',
      '-H',
      `x-csrf-token: ${csrf}`,
      '-d',
      '{"current":"mccs","next":"listen-test1!x"}',
      'https://127.0.0.1:11080/api/password',
    ])
    t.equal(change.stdout, '204', 'password changed from loopback')

    const reached = await until(
      async () => {
        const r = await curl('client', ['-o', '/dev/null', '-w', '%{http_code}', `${remote}/api/openapi.json`])
        return r.stdout === '200' ? r : null
      },
      10_000,
      200,
    )
    t.equal(reached.stdout, '200', 'reachable from the network once the default password is gone')
    node.stdin!.write('addresses?\n')
    await until(() => lines.length > 1, 5000)
    t.same(JSON.parse(lines.at(-1)!).addresses, ['0.0.0.0'], 'listening where it was told')
    const remoteLogin = await curl('client', [
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      'content-type: application/json',
      '-d',
      '{"user":"mcuser","password":"listen-test1!x"}',
      `${remote}/api/login`,
    ])
    t.equal(remoteLogin.stdout, '200', 'the operator logs in from the network')
  },
)
