// A real agent process with N dummy resources (groups of 10, a chain each) brought online, then
// left alone: its CPU (user+system from /proc, all threads) and RSS while it monitors them.
//   node --import tsx scripts/bench/agent-idle.ts <resources> <monitorIntervalS> <measureS>
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
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
const intervalS = Number(process.argv[3] ?? 10)
const measureS = Number(process.argv[4] ?? 30)
const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-bench-agent-'))
const env: NodeJS.ProcessEnv = { ...process.env, MCCS_HOME: home, MCCS_NODE_NAME: 'n1' }
delete env.NODE_OPTIONS
env.MCCS_CONSOLE_DISABLE = '1' // the agent alone (the console's own costs are in the console benches)
const b = await loadBootstrap({ cwd: home, env })
await createInitial(b.configDir, { cluster: 'bench', nodes: [{ name: 'n1', address: '127.0.0.1' }] })
await writeDevLicense(b.configDir, 'n1') // unlicensed: limited mode, no auto-start
const main: MainConfig = { generation: 1, groups: [], resources: [], dependencies: [], types: {} }
for (let g = 0; g < n / 10; g++) {
  main.groups.push({ name: `g${g}`, nodes: ['n1'], failoverOnFailure: true, autoStart: true, autoFailback: false })
  for (let r = 0; r < 10; r++) {
    main.resources.push({
      name: `g${g}r${r}`,
      type: 'dummy',
      group: `g${g}`,
      critical: true,
      attrs: {},
      nodeAttrs: {},
      policy: { monitorIntervalS: intervalS },
      monitored: true,
    })
    if (r) main.dependencies.push({ parent: `g${g}r${r}`, child: `g${g}r${r - 1}` })
  }
}
const store = new ConfigStore(b.configDir)
await store.load()
await store.commit(main, { expectGeneration: 1 })

const child = spawn(process.execPath, ['--no-node-snapshot', path.join(packageRoot(), 'dist/mccs.js'), 'agent'], { env, stdio: 'ignore' })
const stat = async () => {
  const s = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8')
  return { ticks: Number(s[11]) + Number(s[12]), rssMb: Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024 }
}
try {
  const t0 = Date.now()
  let st: AgentStatus | undefined
  for (;;) {
    await new Promise((r) => setTimeout(r, 500))
    st = await rpc<AgentStatus>(b.controlSocket, 'status').catch(() => undefined)
    if (st && st.groups.every((g) => Object.values(g.nodes).includes('online'))) break
    if (Date.now() - t0 > 300_000) throw new Error('groups did not come online in 300 s')
  }
  const upS = (Date.now() - t0) / 1000
  await new Promise((r) => setTimeout(r, Math.min(intervalS, 10) * 1000)) // let monitors settle into their phases
  const a = await stat()
  const w0 = performance.now()
  await new Promise((r) => setTimeout(r, measureS * 1000))
  const z = await stat()
  const wall = (performance.now() - w0) / 1000
  const hz = 100 // USER_HZ on Linux
  st = await rpc<AgentStatus>(b.controlSocket, 'status')
  const onlineAtEnd = st.groups.filter((g) => Object.values(g.nodes).includes('online')).length
  console.log(
    JSON.stringify({
      what: 'agentIdle',
      resources: n,
      intervalS,
      bringUpS: upS,
      cpuPctOneCore: ((z.ticks - a.ticks) / hz / wall) * 100,
      rssMb: z.rssMb,
      onlineGroupsAtEnd: onlineAtEnd,
      groups: st.groups.length,
    }),
  )
} finally {
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  await rm(home, { recursive: true, force: true })
}
