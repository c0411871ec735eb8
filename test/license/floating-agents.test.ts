// Issue 17, acceptance 3: `mccs license-server` (its own process, TLS-PSK) with a floating license of 2
// seats and 3 real agents: two get seats, the third is in limited mode with the reason; stopping one agent
// gives its seat to the third within one renewal period (the lease is 3 s, renewed every second).
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { issueLicense } from '../../core/license/format.js'
import { LICENSE_FILE, TRUSTED_KEYS_FILE } from '../../core/license/store.js'
import { LICENSE_SERVER_KEY_FILE } from '../../core/license/lease-protocol.js'
import { loadBootstrap } from '../../core/config/bootstrap.js'
import { createInitial } from '../../core/config/store.js'
import { runAgent, type RunningAgent } from '../../core/cli/agent-cmd.js'
import { packageRoot } from '../../core/paths.js'

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('2 seats, 3 agents: the third is limited until a seat comes back', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-floating-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const pub = publicKey.export({ type: 'spki', format: 'pem' }) as string
  const psk = randomBytes(32)
  const port = await freePort()
  const server = `127.0.0.1:${port}`
  const lic = issueLicense(
    {
      type: 'floating',
      node: 'pool',
      hostId: 'ANY',
      issued: new Date(Date.now() - 3600_000).toISOString(),
      server,
      count: 2,
      licensee: 'ACME',
    },
    privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  )
  await writeFile(path.join(dir, 'floating.lic'), lic)
  await writeFile(path.join(dir, 'server.key'), psk, { mode: 0o600 })
  await writeFile(path.join(dir, 'trusted.pem'), pub)

  const env: NodeJS.ProcessEnv = { ...process.env, MCCS_HOME: path.join(dir, 'srv') }
  delete env.NODE_OPTIONS
  const srv: ChildProcess = spawn(
    path.join(packageRoot(), 'bin/mccs'),
    [
      'license-server',
      '--license',
      path.join(dir, 'floating.lic'),
      '--listen',
      server,
      '--key',
      path.join(dir, 'server.key'),
      '--keys',
      path.join(dir, 'trusted.pem'),
      '--lease-s',
      '3',
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let srvOut = ''
  srv.stdout!.on('data', (d) => {
    srvOut += String(d)
  })
  srv.stderr!.on('data', (d) => {
    srvOut += String(d)
  })
  t.teardown(() => {
    srv.kill('SIGTERM')
  })
  for (let i = 0; i < 200 && !/license server on/.test(srvOut); i++) await sleep(50)
  t.match(srvOut, /license server on 127\.0\.0\.1:\d+: 2 seats/, 'the server holds 2 seats')

  const agents: Record<string, RunningAgent> = {}
  for (const n of ['a', 'b', 'c']) {
    const home = path.join(dir, n)
    const b = await loadBootstrap({ cwd: home, env: { MCCS_HOME: home, MCCS_NODE_NAME: n } })
    await mkdir(b.configDir, { recursive: true })
    await createInitial(b.configDir, { cluster: `c-${n}`, nodes: [{ name: n, address: '127.0.0.1' }] })
    await writeFile(path.join(b.configDir, TRUSTED_KEYS_FILE), pub)
    await writeFile(path.join(b.configDir, LICENSE_SERVER_KEY_FILE), psk, { mode: 0o600 })
    await writeFile(path.join(b.configDir, LICENSE_FILE), lic)
    const r = await runAgent(b, { out: () => {}, err: () => {} }, { quiet: true })
    if (typeof r === 'number') throw new Error(`agent ${n} did not start: ${r}`)
    agents[n] = r
    t.teardown(() => agents[n]?.stop())
    // One at a time, so that a and b are the two that get the seats.
    for (let i = 0; i < 100 && agents[n]!.agent.status().licenses?.[n]?.checkedAt === undefined; i++) await sleep(50)
    if (n !== 'c') for (let i = 0; i < 100 && agents[n]!.agent.status().licenses?.[n]?.mode !== 'valid'; i++) await sleep(50)
  }
  const lic3 = (n: string) => agents[n]!.agent.status().licenses![n]!
  t.match(lic3('a'), { mode: 'valid', type: 'floating', server }, 'a holds a seat')
  t.match(lic3('b'), { mode: 'valid', type: 'floating', server }, 'b holds a seat')
  for (let i = 0; i < 100 && lic3('c').code !== 'MCCS_ERR_LICENSE_SEATS'; i++) await sleep(50)
  t.match(
    lic3('c'),
    { mode: 'limited', code: 'MCCS_ERR_LICENSE_SEATS', reason: /all 2 seats are taken \(by a@.*, b@/ },
    'c is in limited mode, with the reason',
  )

  // a stops: its seat goes back, and c takes it within one renewal period (1 s): a refused agent asks
  // again every half period, and its license watch reads what its lease client holds at once.
  await agents.a!.stop()
  delete agents.a
  const t0 = Date.now()
  while (lic3('c').mode !== 'valid' && Date.now() - t0 < 10_000) await sleep(20)
  const took = Date.now() - t0
  t.equal(lic3('c').mode, 'valid', `c got the seat ${took} ms after a stopped`)
  t.ok(took <= 1000, `within one renewal period (1000 ms; measured ${took} ms)`)
  t.match(srvOut, /seat of a@.* returned: released/, 'the server logged the seat coming back')
})
