// npm start (mccs demo): what a newcomer sees — two agents on loopback forming a cluster, the demo group
// online on one node and seen from the other, licenses, the console URL once it answers — and that
// Ctrl-C leaves no process behind.
import t from 'tap'
import { spawn, execFile } from 'node:child_process'
import dgram from 'node:dgram'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import net from 'node:net'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'
import type { AgentStatus } from '../../core/agent/status.js'

const root = packageRoot()
const IPS = { demo1: '127.0.0.1', demo2: '127.0.0.2' } as const

const tcpFree = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net
      .createServer()
      .once('error', () => resolve(false))
      .listen(port, host, () => s.close(() => resolve(true)))
  })
const udpFree = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = dgram.createSocket('udp4').once('error', () => {
      s.close()
      resolve(false)
    })
    s.bind(port, host, () => s.close(() => resolve(true)))
  })
async function freePort(check: (p: number) => Promise<boolean>): Promise<number> {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 40000)
    if (await check(p)) return p
  }
}
const both = async (f: (h: string, p: number) => Promise<boolean>, p: number) => (await f(IPS.demo1, p)) && (await f(IPS.demo2, p))

/** Running: it exists and is not a zombie (a killed process whose parent, here possibly init, has not
 *  reaped it yet runs nothing). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** PIDs of processes whose environment or command line mentions `dir` (the demo's homes). */
async function processesUsing(dir: string): Promise<number[]> {
  const out: number[] = []
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue
    const txt = await Promise.all(['environ', 'cmdline'].map((f) => readFile(`/proc/${p}/${f}`, 'latin1').catch(() => '')))
    if (txt.some((x) => x.includes(dir))) out.push(Number(p))
  }
  return out
}

const get = (url: string) =>
  new Promise<string>((resolve, reject) => {
    http
      .get(url, { timeout: 3000 }, (res) => {
        let b = ''
        res.on('data', (d) => (b += d))
        res.on('end', () => resolve(b))
      })
      .on('error', reject)
  })

t.test('mccs demo: two agents, the group online on one node and seen from the other; Ctrl-C leaves nothing', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-demo-test-'))
  const svcPort = await freePort((p) => both(tcpFree, p))
  const consolePort = await freePort((p) => both(tcpFree, p))
  const hbPort = await freePort(async (p) => (await both(udpFree, p)) && (await both(tcpFree, p + 4)))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MCCS_CONSOLE_PORT: String(consolePort),
    MCCS_DEMO_HB_PORT: String(hbPort),
    MCCS_DEMO_EC2_PORT: '0',
  }
  delete env.NODE_OPTIONS
  delete env.MCCS_HOME
  const demo = spawn(
    process.execPath,
    ['--no-node-snapshot', path.join(root, 'dist/mccs.js'), 'demo', '--dir', dir, '--port', String(svcPort)],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  let err = ''
  demo.stdout!.on('data', (d) => (out += d))
  demo.stderr!.on('data', (d) => (err += d))
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)))
  t.teardown(async () => {
    // Whatever happened, nothing the demo started outlives the test.
    if (demo.exitCode === null) demo.kill('SIGKILL')
    for (const p of await processesUsing(dir)) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
    await rm(dir, { recursive: true, force: true })
  })
  const waitFor = async (what: RegExp, ms: number) => {
    const end = Date.now() + ms
    while (!what.test(out)) {
      if (Date.now() > end || demo.exitCode !== null) throw new Error(`demo output never matched ${what}\nstdout:\n${out}\nstderr:\n${err}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  await waitFor(/MCCS demo: a two-node cluster on loopback/, 90_000)
  const m = /group 'demo' is online on (demo1|demo2)/.exec(out)
  t.ok(m, `the group came online (${out.split('\n').find((l) => l.includes("group 'demo'"))})`)
  const active = (m?.[1] ?? 'demo1') as keyof typeof IPS
  const other = active === 'demo1' ? 'demo2' : 'demo1'

  const cli = (node: string, ...args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(
        path.join(root, 'bin/mccs'),
        args,
        { env: { ...env, MCCS_HOME: path.join(dir, node), MCCS_NODE_NAME: node }, timeout: 30_000 },
        (e, o, er) => resolve({ code: e ? Number(e.code ?? 1) : 0, out: o, err: er }),
      )
    })
  const r = await cli(other, 'status', '--json')
  t.equal(r.code, 0, r.err)
  const st = JSON.parse(r.out) as AgentStatus
  t.equal(st.node, other, 'asked on the other node')
  const g = st.groups.find((x) => x.name === 'demo')
  t.equal(g?.activeNode, active, `the other node sees the group active on ${active}`)
  t.equal(g?.nodes[active], 'online')
  t.equal(g?.nodes[other], 'offline', 'and offline on itself: never on two nodes')
  t.same(
    st.nodes.map((n) => [n.name, n.membership]),
    [
      ['demo1', 'up'],
      ['demo2', 'up'],
    ],
  )
  t.equal(
    await get(`http://${IPS[active]}:${svcPort}/`),
    `hello from the MCCS demo on ${active}\n`,
    'the demo service answers from the active node',
  )
  await t.rejects(get(`http://${IPS[other]}:${svcPort}/`), 'and not from the other')

  const lic = await cli(other, 'license', 'show', '--json')
  t.match(JSON.parse(lic.out), { node: other, type: 'term', hostId: 'ANY', valid: true }, 'a temporary license is installed')

  // The fence device refuses anything but a demo node, and reports a running node as not fenced.
  const fence = (...a: string[]) =>
    new Promise<number>((resolve) =>
      execFile(path.join(dir, other, 'script/fence-demo.sh'), a, (e) => resolve(e ? Number(e.code ?? 1) : 0)),
    )
  t.equal(await fence('status', 'other-host'), 2)
  t.equal(await fence('status', active), 1, 'the active node runs demo processes')

  if (existsSync(path.join(root, 'core/console/server.ts'))) {
    await waitFor(/web console: https:\/\/127\.0\.0\.1:\d+\/main/, 60_000)
    t.match(out, new RegExp(`web console: https://127\\.0\\.0\\.1:${consolePort}/main`))
    t.match(out, /first login: mcuser \/ mccs/)
  }

  // Everything the demo started: both agents (pid files) and the services they supervise.
  const started = new Set<number>([demo.pid!])
  for (const node of ['demo1', 'demo2']) {
    started.add(Number((await readFile(path.join(dir, `${node}.agent.pid`), 'utf8')).split(' ')[0]))
  }
  for (const p of await processesUsing(dir)) started.add(p)
  const procDir = path.join(dir, active, 'state/proc/web')
  for (const name of await readdir(procDir)) {
    for (const f of ['supervisor.pid', 'child.pid'])
      started.add(Number((await readFile(path.join(procDir, name, f), 'utf8')).split(' ')[0]))
  }
  t.ok(started.size >= 5, `demo, two agents, the service and its supervisor (${[...started].join(' ')})`)
  t.ok([...started].every(alive), 'all running before Ctrl-C')

  // A hung active node: the other fences it with the demo's fence script and takes the group; the demo
  // restarts the fenced agent, which rejoins without taking the group back.
  const hungPid = Number((await readFile(path.join(dir, `${active}.agent.pid`), 'utf8')).split(' ')[0])
  const t0 = Date.now()
  process.kill(hungPid, 'SIGSTOP')
  let moved = false
  while (!moved && Date.now() - t0 < 40_000) {
    moved = await get(`http://${IPS[other]}:${svcPort}/`).then(
      (b) => b === `hello from the MCCS demo on ${other}\n`,
      () => false,
    )
    if (!moved) await new Promise((r) => setTimeout(r, 200))
  }
  t.ok(moved, `the service answers from ${other} after ${Date.now() - t0} ms`)
  t.notOk(alive(hungPid), 'the hung agent was fenced (killed by fence-demo.sh)')
  await t.rejects(get(`http://${IPS[active]}:${svcPort}/`), 'and its service with it')
  const end = Date.now() + 30_000
  while (!/Restarting it/.test(err) && Date.now() < end) await new Promise((r) => setTimeout(r, 100))
  t.match(err, new RegExp(`the agent of ${active} exited \\(SIGKILL\\); it may have been fenced`))
  for (const p of await processesUsing(dir)) started.add(p)

  demo.kill('SIGINT')
  t.equal(await exited, 0, 'Ctrl-C: the demo exits cleanly')
  t.match(err, /stopping the demo: taking the group offline/)
  // SIGKILLed processes take a moment to go; give them 5 s.
  for (const end = Date.now() + 5000; [...started].some(alive) && Date.now() < end;) await new Promise((r) => setTimeout(r, 100))
  t.same([...started].filter(alive), [], 'no process the demo started is left')
  t.same(await processesUsing(dir), [], "no process uses the demo's files")
  await t.rejects(get(`http://${IPS[active]}:${svcPort}/`), 'the demo service is gone')
})
