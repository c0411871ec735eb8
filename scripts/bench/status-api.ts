// Status API latency (issue 7, acceptance 6): a real agent process with N dummy resources (50 groups)
// brought online, its console on HTTPS; log in (first-login password change included), then
// GET /api/status `requests` times, one after another over one keep-alive connection.
//   node --no-node-snapshot --import tsx scripts/bench/status-api.ts [resources=1000] [requests=1000]
// Prints one JSON line: p50/p90/p99/max in ms, the body size, and requests per second.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import https from 'node:https'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { loadBootstrap } from '../../core/config/bootstrap.js'
import { writeDevLicense } from '../../core/license/dev-license.js'
import { createInitial, ConfigStore } from '../../core/config/store.js'
import type { MainConfig } from '../../core/engine/model.js'
import { rpc } from '../../core/cli/control-client.js'
import type { AgentStatus } from '../../core/agent/status.js'
import { packageRoot } from '../../core/paths.js'

const n = Number(process.argv[2] ?? 1000)
const requests = Number(process.argv[3] ?? 1000)
const groups = 50
if (!Number.isInteger(n) || n < groups || !Number.isInteger(requests) || requests < 1)
  throw new Error('usage: status-api.ts [resources >= 50] [requests >= 1]')

const port = await new Promise<number>((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as net.AddressInfo).port
    s.close(() => resolve(p))
  })
})
const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-bench-status-'))
const env: NodeJS.ProcessEnv = {
  ...process.env,
  MCCS_HOME: home,
  MCCS_NODE_NAME: 'n1',
  MCCS_CONSOLE_PORT: String(port),
  MCCS_CONSOLE_LISTEN: '127.0.0.1',
}
delete env.NODE_OPTIONS
delete env.MCCS_BOOTSTRAP
delete env.MCCS_CONFIG
const b = await loadBootstrap({ cwd: home, env })
await createInitial(b.configDir, { cluster: 'bench', nodes: [{ name: 'n1', address: '127.0.0.1' }] })
await writeDevLicense(b.configDir, 'n1') // unlicensed: limited mode, no auto-start
const main: MainConfig = { generation: 1, groups: [], resources: [], dependencies: [], types: {} }
const per = Math.ceil(n / groups)
for (let g = 0; g < groups; g++) {
  main.groups.push({ name: `g${g}`, nodes: ['n1'], failoverOnFailure: true, autoStart: true, autoFailback: false })
  for (let r = 0; r < per && g * per + r < n; r++) {
    main.resources.push({
      name: `g${g}r${r}`,
      type: 'dummy',
      group: `g${g}`,
      critical: true,
      attrs: {},
      nodeAttrs: {},
      policy: { monitorIntervalS: 10 },
      monitored: true,
    })
    if (r) main.dependencies.push({ parent: `g${g}r${r}`, child: `g${g}r${r - 1}` })
  }
}
const store = new ConfigStore(b.configDir)
await store.load()
await store.commit(main, { expectGeneration: 1 })

const child = spawn(process.execPath, ['--no-node-snapshot', path.join(packageRoot(), 'dist/mccs.js'), 'agent'], { env, stdio: 'ignore' })
const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false })
let cookie = ''
let csrf = ''

function call(method: string, url: string, body?: unknown): Promise<{ status: number; text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body)
    const t0 = performance.now()
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: url,
        method,
        agent,
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(csrf ? { 'x-csrf-token': csrf } : {}),
          ...(data ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => {
          const set = res.headers['set-cookie']?.find((c) => c.startsWith('mccs_session='))
          if (set) cookie = set.split(';')[0]!
          resolve({ status: res.statusCode ?? 0, text, ms: performance.now() - t0 })
        })
      },
    )
    req.on('error', reject)
    req.end(data)
  })
}

try {
  const t0 = Date.now()
  for (;;) {
    await new Promise((r) => setTimeout(r, 500))
    const st = await rpc<AgentStatus>(b.controlSocket, 'status').catch(() => undefined)
    if (st && st.groups.length === groups && st.groups.every((g) => Object.values(g.nodes).includes('online'))) break
    if (child.exitCode !== null) throw new Error(`the agent exited (${child.exitCode})`)
    if (Date.now() - t0 > 300_000) throw new Error('groups did not come online in 300 s')
  }
  const login = await call('POST', '/api/login', { user: 'mcuser', password: 'mccs' })
  if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text} (does this build have the console?)`)
  csrf = (JSON.parse(login.text) as { csrfToken: string }).csrfToken
  const pw = await call('POST', '/api/password', { current: 'mccs', next: 'bench-Passw0rd!-status' })
  if (pw.status !== 204) throw new Error(`password change: ${pw.status} ${pw.text}`)
  for (let i = 0; i < 20; i++) await call('GET', '/api/status') // warm-up: JIT, TLS session, caches
  const ms: number[] = []
  let bytes = 0
  const w0 = performance.now()
  for (let i = 0; i < requests; i++) {
    const r = await call('GET', '/api/status')
    if (r.status !== 200) throw new Error(`GET /api/status: ${r.status} ${r.text.slice(0, 200)}`)
    if (i === 0) {
      const st = JSON.parse(r.text) as AgentStatus
      const count = st.groups.reduce((a, g) => a + g.resources.length, 0)
      if (count !== n) throw new Error(`status lists ${count} resources, expected ${n}`)
    }
    bytes = r.text.length
    ms.push(r.ms)
  }
  const wall = (performance.now() - w0) / 1000
  ms.sort((a, b) => a - b)
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!
  console.log(
    JSON.stringify({
      what: 'statusApi',
      resources: n,
      groups,
      requests,
      p50Ms: +q(0.5).toFixed(2),
      p90Ms: +q(0.9).toFixed(2),
      p99Ms: +q(0.99).toFixed(2),
      maxMs: +ms[ms.length - 1]!.toFixed(2),
      bodyBytes: bytes,
      perS: +(requests / wall).toFixed(1),
    }),
  )
} finally {
  agent.destroy()
  child.kill('SIGTERM')
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)))
  await rm(home, { recursive: true, force: true })
}
