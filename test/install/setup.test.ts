// mccs setup on one host (no namespaces): the files it writes and their validity, the questions asked
// when not given as flags, refusals that name the field and change nothing, and the pieces of the join
// (token, the member's checks, the new hb.json) that the lab test (install-lab.test.ts) runs end to end.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { main } from '../../core/cli/main.js'
import { loadBootstrap } from '../../core/config/bootstrap.js'
import { ConfigStore } from '../../core/config/store.js'
import { loadClusterKey } from '../../core/cluster/cluster-key.js'
import { parseJoinToken, newJoinToken } from '../../core/setup/join-token.js'
import { checkJoinAddresses, hbWithNode } from '../../core/setup/join-server.js'
import { parseEndpoint } from '../../core/setup/join-client.js'
import { sameSubnet } from '../../core/setup/host-addresses.js'
import { uninstallArgv, installKind } from '../../core/setup/uninstall.js'
import { packageRoot } from '../../core/paths.js'
import type { HbConfig } from '../../core/config/hb-model.js'
import type { MainConfig } from '../../core/engine/index.js'

t.setTimeout(120_000)

async function home(t: Test): Promise<string> {
  const h = await mkdtemp(path.join(os.tmpdir(), 'mccs-setup-'))
  t.teardown(() => rm(h, { recursive: true, force: true }))
  return h
}

/** Runs mccs with MCCS_HOME=h in this process (main()), capturing its output. */
/** A file holding a join token, as an operator would give it (--token-file). */
function tokenFile(text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mccs-token-'))
  const f = path.join(dir, 'token')
  writeFileSync(f, text + '\n', { mode: 0o600 })
  return f
}

async function mccs(h: string, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const saved = { home: process.env.MCCS_HOME, name: process.env.MCCS_NODE_NAME }
  process.env.MCCS_HOME = h
  delete process.env.MCCS_NODE_NAME
  let out = ''
  let err = ''
  try {
    const code = await main(argv, {
      out: (s) => {
        out += s + '\n'
      },
      err: (s) => {
        err += s + '\n'
      },
    })
    return { code, out, err }
  } finally {
    if (saved.home === undefined) delete process.env.MCCS_HOME
    else process.env.MCCS_HOME = saved.home
    if (saved.name !== undefined) process.env.MCCS_NODE_NAME = saved.name
  }
}

t.test('non-interactive setup writes a valid hb.json, main.json, cluster key, node name and setup record', async (t) => {
  const h = await home(t)
  const r = await mccs(h, ['setup', '--name', 'alpha', '--cluster', 'c1', '--link', 'l0=127.0.0.1', '--lang', 'en'])
  t.equal(r.code, 0, r.err)
  t.match(r.out, /node alpha set up: cluster c1/)
  t.match(r.out, /limited mode/, 'says the license is still to come')
  const pair = await new ConfigStore(path.join(h, 'config')).load() // the store's own validators
  t.same(pair.hb.nodes, [{ name: 'alpha', addresses: { l0: '127.0.0.1' } }])
  t.same(pair.hb.links, [{ name: 'l0', priority: 0 }])
  t.equal(pair.main.generation, 1)
  t.equal(
    (await loadClusterKey(path.join(h, 'config/cluster.key'))).length,
    32,
    'a 256-bit key, mode 0600 (loadClusterKey refuses any other)',
  )
  process.env.MCCS_HOME = h
  try {
    t.equal((await loadBootstrap()).nodeName, 'alpha', 'the agent will call itself alpha (settings file), whatever the host name')
  } finally {
    delete process.env.MCCS_HOME
  }
  t.match(JSON.parse(await readFile(path.join(h, 'config/setup.json'), 'utf8')), { language: 'en', mode: 'cluster' })
  const again = await mccs(h, ['setup', '--name', 'alpha', '--cluster', 'c1', '--link', 'l0=127.0.0.1'])
  t.equal(again.code, 3, 'a second setup is refused')
  t.match(again.err, /already set up: .*hb\.json exists \(cluster c1, nodes alpha\)/)
})

t.test('the language defaults to Korean', async (t) => {
  const h = await home(t)
  t.equal((await mccs(h, ['setup', '--name', 'a', '--link', '127.0.0.1'])).code, 0)
  t.match(JSON.parse(await readFile(path.join(h, 'config/setup.json'), 'utf8')), { language: 'ko' })
  t.equal(JSON.parse(await readFile(path.join(h, 'config/hb.json'), 'utf8')).cluster, 'mccs', 'cluster name default')
})

t.test('refusals name the field and the reason and write nothing', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--name', 'n1', '--link', 'l0=10.255.254.253'], /--link l0: 10\.255\.254\.253 is not an address of this host/],
    [['--name', 'n1', '--link', 'l0=not-an-ip'], /--link l0: 'not-an-ip' is not an IP address/],
    [['--name', '1n', '--link', 'l0=127.0.0.1'], /--name: the node name '1n' must start with a letter/],
    [['--name', 'n1', '--link', 'l0=127.0.0.1', '--lang', 'de'], /--lang: 'de' is not a language/],
    [['--name', 'n1', '--link', 'l0=127.0.0.1', '--mode', 'pair'], /--mode: 'pair' is not a mode/],
    [['--name', 'n1', '--link', 'l0=127.0.0.1', '--link', 'l0=127.0.0.1'], /--link l0: link l0 is given twice/],
    [['--name', 'n1', '--link', 'l0=127.0.0.1', '--license', '/nonexistent.lic'], /--license: cannot read \/nonexistent\.lic/],
    // A token is never taken on the command line (any user could read it in the process list).
    [['--join', '127.0.0.1', '--token', newJoinToken().text], /--token: a token on the command line shows in the process list/],
    [['--join', '127.0.0.1', '--token-file', tokenFile('abc')], /--token: is not a join token/],
    [['--join', 'nowhere', '--token-file', tokenFile(newJoinToken().text)], /--join: 'nowhere' is not <member address>/],
    [['--join', '127.0.0.1', '--name', 'x', '--token-file', tokenFile(newJoinToken().text)], /--name: is not for a join/],
  ]
  for (const [args, re] of cases) {
    const h = await home(t)
    const r = await mccs(h, ['setup', ...args])
    t.equal(r.code, 3, `${args.join(' ')}: refused`)
    t.match(r.err, re, args.join(' '))
    t.same(await readdir(h), [], 'nothing written')
  }
})

t.test('a license that does not check out undoes the whole setup', async (t) => {
  const h = await home(t)
  const lic = path.join(h, '..', `bad-${process.pid}.lic`)
  await writeFile(lic, 'not a license\n')
  t.teardown(() => rm(lic, { force: true }))
  const r = await mccs(h, ['setup', '--name', 'n1', '--link', 'l0=127.0.0.1', '--license', lic])
  t.equal(r.code, 3)
  t.match(r.err, /MCCS_ERR_LICENSE/)
  t.same(await readdir(h), [], 'key, hb.json, main.json, folders: all removed again')
})

t.test("interactive setup asks the installer's questions, re-asks a bad answer, and writes the same files", async (t) => {
  const h = await home(t)
  const answers = ['en', 'n', 'n', 'beta', 'c2', 'l0', '10.255.254.253', '127.0.0.1', 'n', '', 'y', ''].join('\n')
  const c = spawn(
    process.execPath,
    ['--no-node-snapshot', '--import', 'tsx', path.join(packageRoot(), 'core/cli/main.ts'), 'setup', '--interactive'],
    {
      env: { ...process.env, MCCS_HOME: h, NODE_OPTIONS: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  let out = ''
  let err = ''
  c.stdout.on('data', (d: Buffer) => {
    out += String(d)
  })
  c.stderr.on('data', (d: Buffer) => {
    err += String(d)
  })
  c.stdin.end(answers + '\n')
  const code = await new Promise<number | null>((r) => c.on('exit', r))
  t.equal(code, 0, err)
  for (const q of [
    /Language \/ 언어 \(ko: 한국어, en: English\) \[ko\]/,
    /Join a running cluster/,
    /Single-node cluster/,
    /This node's name/,
    /Cluster name \[mccs\]/,
    /Heartbeat link 1: name \[link1\]/,
    /License file/,
  ])
    t.match(out, q)
  t.match(err, /10\.255\.254\.253 is not an address of this host/, 'a wrong address is refused and asked again')
  const pair = await new ConfigStore(path.join(h, 'config')).load()
  t.same([pair.hb.cluster, pair.hb.nodes], ['c2', [{ name: 'beta', addresses: { l0: '127.0.0.1' } }]])
  t.match(JSON.parse(await readFile(path.join(h, 'config/setup.json'), 'utf8')), { language: 'en', mode: 'cluster' })
})

t.test("join pieces: token, endpoint, the member's address checks, the new hb.json", async (t) => {
  const tok = newJoinToken()
  t.same(parseJoinToken(` ${tok.text}\n`).secret, tok.secret, 'a token survives copy and paste')
  t.throws(() => parseJoinToken(tok.text.slice(0, -1)), { code: 'MCCS_ERR_INVALID', field: '--token' })
  t.same(parseEndpoint('10.0.0.1', 14326), { host: '10.0.0.1', port: 14326 })
  t.same(parseEndpoint('10.0.0.1:999', 14326), { host: '10.0.0.1', port: 999 })
  t.same(parseEndpoint('[fd00::1]:999', 14326), { host: 'fd00::1', port: 999 })
  t.same(parseEndpoint('fd00::1', 14326), { host: 'fd00::1', port: 14326 })
  t.equal(sameSubnet('10.1.2.3', [{ address: '10.1.2.9', ifname: 'e', cidr: '10.1.2.9/24', family: 4 }])?.address, '10.1.2.9')
  t.equal(sameSubnet('10.1.3.3', [{ address: '10.1.2.9', ifname: 'e', cidr: '10.1.2.9/24', family: 4 }]), null)
  t.equal(sameSubnet('fd00:1::5', [{ address: 'fd00:1::9', ifname: 'e', cidr: 'fd00:1::9/64', family: 6 }])?.address, 'fd00:1::9')

  const hb: HbConfig = {
    generation: 4,
    cluster: 'c',
    port: 14321,
    timing: { intervalMs: 100, deadMs: 600 },
    links: [
      { name: 'a', priority: 0 },
      { name: 'b', priority: 1 },
    ],
    nodes: [{ name: 'n1', addresses: { a: '10.0.0.1', b: '10.1.0.1' } }],
  }
  const main = { generation: 7, groups: [], resources: [], dependencies: [], types: {} } as unknown as MainConfig
  t.throws(
    () => checkJoinAddresses(hb, { a: '10.0.0.2' }),
    { code: 'MCCS_ERR_INVALID', field: 'addresses.b' },
    'every link needs an address',
  )
  t.throws(
    () => checkJoinAddresses(hb, { a: '10.0.0.2', b: '10.1.0.1' }),
    { code: 'MCCS_ERR_CONFLICT', field: 'addresses.b' },
    'an address of another node',
  )
  t.throws(
    () => checkJoinAddresses(hb, { a: '10.0.0.2', b: '10.1.0.2', c: '1.1.1.1' }),
    { code: 'MCCS_ERR_INVALID', field: 'addresses.c' },
    'a link the cluster lacks',
  )
  const two = hbWithNode({ hb, main }, { name: 'n2', addresses: checkJoinAddresses(hb, { a: '10.0.0.2', b: '10.1.0.2' }) }, 'hb.json')
  t.equal(two.generation, 5, 'one generation up')
  t.same(two.quorum, { twoNode: true }, 'a second node without a quorum server: two-node mode')
  const three = hbWithNode({ hb: two, main }, { name: 'n3', addresses: { a: '10.0.0.3', b: '10.1.0.3' } }, 'hb.json')
  t.equal(three.quorum, undefined, 'a third node: a majority decides, two-node mode goes')
  t.same(
    three.nodes.map((n) => n.name),
    ['n1', 'n2', 'n3'],
  )
})

t.test('uninstall from a source tree is refused: nothing is installed', async (t) => {
  t.equal(installKind(), null)
  t.throws(() => uninstallArgv({ purge: false }), { code: 'MCCS_ERR_CONFLICT' })
  const dir = await home(t)
  await writeFile(path.join(dir, 'INSTALLED'), 'deb\n')
  t.same(uninstallArgv({ purge: true, root: dir }), ['dpkg', '--purge', 'mccs'])
  await writeFile(path.join(dir, 'INSTALLED'), 'tarball\n')
  t.same(uninstallArgv({ purge: false, root: dir }), ['/bin/sh', path.join(dir, 'scripts/install.sh'), '--uninstall'])
  const r = await mccs(dir, ['uninstall'])
  t.equal(r.code, 3)
  t.match(r.err, /not an installed package/)
})
