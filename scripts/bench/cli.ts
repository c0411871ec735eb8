// CPU of one `mccs status --json` against a running agent (issue 19, What 2: ≤ 50 ms per call). A real agent
// process (dist/mccs.js agent) in a temp home laid out as an install (config/mccs.config.json) with one group
// of 5 dummy resources online; then `calls` rounds, each running, one after another:
//   fast*   bin/mccs status [--json]: the wrapper as an operator's script runs it, which has the agent answer
//           through bin/mccs-fast.pl (Perl, no Node start; the agent runs the thin entry's code);
//   fastOp  bin/mccs group lock nosuch: an operator command (refused: exit 3, nothing changes);
//   thin*   node bin/mccs.cjs status [--json]: the Node thin entry (what the wrapper falls back to);
//   floor   node -e 0: Node's own start (crm_mon is not installed, so there is no other anchor);
//   fullJson node --no-node-snapshot dist/mccs.js status --json: every call before the thin entry.
// Interleaved so that a change in the machine's load touches every kind alike. CPU is user + sys of the
// child from the kernel's rusage (bash's `times`, millisecond resolution), not wall time. Each call's
// `agentMs` is what the agent's threads ran meanwhile (/proc/<pid>/task/*/schedstat, ns), which holds the
// agent's share of the call (the fast path moves the printing there) and its idle work (heartbeats, monitors);
// `total` is the two summed per call. The fast path's output is checked against the thin entry's.
//   node --no-node-snapshot --import tsx scripts/bench/cli.ts [calls=20]   -> one JSON line
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
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

const calls = Number(process.argv[2] ?? 20)
if (!Number.isInteger(calls) || calls < 1) throw new Error('usage: cli.ts [calls >= 1]')
const root = packageRoot()

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-bench-cli-'))
// As an installed node has it: the settings file of the package's template, with the node name setup adds.
const settings = { home, consolePort: await freePort(), heartbeatPort: await freePort(), nodeName: 'n1' }
await mkdir(path.join(home, 'config'), { recursive: true })
await writeFile(path.join(home, 'config/mccs.config.json'), JSON.stringify(settings, null, 2) + '\n')
const env: NodeJS.ProcessEnv = { ...process.env, MCCS_HOME: home, MCCS_CONSOLE_LISTEN: '127.0.0.1' }
delete env.NODE_OPTIONS
delete env.MCCS_BOOTSTRAP
delete env.MCCS_CONFIG
delete env.MCCS_LANG
for (const v of Object.keys(env)) if (v.startsWith('MCCS_') && v !== 'MCCS_HOME' && v !== 'MCCS_CONSOLE_LISTEN') delete env[v]
const b = await loadBootstrap({ cwd: home, env })
await createInitial(b.configDir, { cluster: 'bench', nodes: [{ name: 'n1', address: '127.0.0.1' }] })
await writeDevLicense(b.configDir, 'n1')
const main: MainConfig = { generation: 1, groups: [], resources: [], dependencies: [], types: {} }
main.groups.push({ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: true, autoFailback: false })
for (let r = 0; r < 5; r++) {
  main.resources.push({
    name: `r${r}`,
    type: 'dummy',
    group: 'g',
    critical: true,
    attrs: {},
    nodeAttrs: {},
    policy: { monitorIntervalS: 10 },
    monitored: true,
  })
  if (r) main.dependencies.push({ parent: `r${r}`, child: `r${r - 1}` })
}
const store = new ConfigStore(b.configDir)
await store.load()
await store.commit(main, { expectGeneration: 1 })

const agent = spawn(process.execPath, ['--no-node-snapshot', path.join(root, 'dist/mccs.js'), 'agent'], { env, stdio: 'ignore' })

/** One call's CPU (user + sys of the child, ms), its exit code and stdout. */
function cpuOf(cmd: string[]): Promise<{ ms: number; code: number; out: string }> {
  // bash prints its children's rusage with `times` (second line); the command's stdout goes to fd 3.
  const script = '"$@" >&3 3>&-; echo "exit $?" >&2; times >&2'
  return new Promise((resolve, reject) => {
    const p = spawn('bash', ['-c', script, 'bash', ...cmd], { env, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdio[3]!.on('data', (c: Buffer) => (out += c.toString()))
    p.stderr!.on('data', (c: Buffer) => (err += c.toString()))
    p.on('error', reject)
    p.on('close', () => {
      const code = Number(/exit (\d+)/.exec(err)?.[1] ?? -1)
      const times = err.trim().split('\n').pop() ?? ''
      const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(times)
      if (!m) return reject(new Error(`no times from bash: ${err}`))
      const ms = (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000
      resolve({ ms, code, out })
    })
  })
}

/** ms the agent's threads have run (the first field of schedstat: ns on a CPU). */
async function agentCpuMs(pid: number): Promise<number> {
  let ns = 0
  for (const task of await readdir(`/proc/${pid}/task`)) {
    const text = await readFile(`/proc/${pid}/task/${task}/schedstat`, 'utf8').catch(() => '0')
    ns += Number(text.split(' ')[0])
  }
  return ns / 1e6
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const r = (x: number) => Math.round(x * 10) / 10
  return { min: r(s[0]!), median: r(s[Math.floor((s.length - 1) / 2)]!), max: r(s[s.length - 1]!), n: s.length }
}

try {
  const t0 = Date.now()
  for (;;) {
    await new Promise((r) => setTimeout(r, 300))
    const st = await rpc<AgentStatus>(b.controlSocket, 'status').catch(() => undefined)
    if (st?.groups[0]?.nodes.n1 === 'online') break
    if (agent.exitCode !== null) throw new Error(`the agent exited (${agent.exitCode})`)
    if (Date.now() - t0 > 90_000) throw new Error('the group did not come online within 90 s')
  }
  const bin = path.join(root, 'bin/mccs')
  const cjs = path.join(root, 'bin/mccs.cjs')
  const kinds = {
    fastJson: [bin, 'status', '--json'],
    fastHuman: [bin, 'status'],
    thinJson: [process.execPath, cjs, 'status', '--json'],
    thinHuman: [process.execPath, cjs, 'status'],
    floor: [process.execPath, '-e', '0'],
    fullJson: [process.execPath, '--no-node-snapshot', path.join(root, 'dist/mccs.js'), 'status', '--json'],
    // An operator command the engine refuses (no such group: exit 3), last in a round: the
    // notice it leaves is in every later round's status alike.
    fastOp: [bin, 'group', 'lock', 'nosuch'],
  }
  type Kind = keyof typeof kinds
  const ms = {} as Record<Kind, number[]>
  const agentMs = {} as Record<Kind, number[]>
  const totalMs = {} as Record<Kind, number[]>
  for (const k of Object.keys(kinds) as Kind[]) [ms[k], agentMs[k], totalMs[k]] = [[], [], []]
  // The agent's uptime and when it last checked the license may change between two calls; nothing else may.
  const steady = (out: string) =>
    out
      .replace(/("uptimeS": )\d+/, '$1N')
      .replace(/("checkedAt": )"[^"]*"/g, '$1T')
      .replace(/^(cluster .* up )\d+/m, '$1N')
  for (let i = 0; i < calls; i++) {
    const outs: Partial<Record<Kind, string>> = {}
    for (const [k, cmd] of Object.entries(kinds) as [Kind, string[]][]) {
      const before = await agentCpuMs(agent.pid!)
      const r = await cpuOf(cmd)
      const inAgent = (await agentCpuMs(agent.pid!)) - before
      if (r.code !== (k === 'fastOp' ? 3 : 0)) throw new Error(`${cmd.join(' ')}: exit ${r.code}`)
      if (k.endsWith('Json') && (JSON.parse(r.out) as AgentStatus).groups[0]?.nodes.n1 !== 'online') throw new Error(`${k}: not the status`)
      outs[k] = r.out
      ms[k].push(r.ms)
      agentMs[k].push(inAgent)
      totalMs[k].push(r.ms + inAgent)
    }
    for (const v of ['Json', 'Human'] as const)
      if (steady(outs[`fast${v}`]!) !== steady(outs[`thin${v}`]!))
        throw new Error(`fast${v}: not what the thin entry printed:\n${outs[`fast${v}`]}\n---\n${outs[`thin${v}`]}`)
  }
  const [l1, l5] = os.loadavg()
  const row = (k: Kind) => ({ ...stats(ms[k]), agentMs: stats(agentMs[k]), total: stats(totalMs[k]) })
  console.log(
    JSON.stringify({
      calls,
      fastJson: row('fastJson'),
      fastHuman: row('fastHuman'),
      fastOp: row('fastOp'),
      thinJson: row('thinJson'),
      thinHuman: row('thinHuman'),
      floor: row('floor'),
      fullJson: row('fullJson'),
      load: { '1m': l1, '5m': l5, cpus: os.cpus().length },
    }),
  )
} finally {
  agent.kill('SIGTERM')
  await new Promise((r) => (agent.exitCode !== null ? r(null) : agent.once('exit', r)))
  await rm(home, { recursive: true, force: true })
}
