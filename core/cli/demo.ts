// npm start / mccs demo: a local single-node cluster in a temp folder, with a demo group of a
// process (a small HTTP service), a script and a dummy, brought online; prints how to look at it.
import { mkdtemp, mkdir, writeFile, chmod } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { loadBootstrap } from '../config/bootstrap.js'
import { createInitial, ConfigStore } from '../config/store.js'
import type { MainConfig } from '../engine/model.js'
import { currentUser } from '../agent/agent.js'
import { runAgent } from './agent-cmd.js'
import { renderStatus } from './status-cmd.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'

export const DEMO_PORT = 18080

export async function demoConfig(home: string, node: string, port = DEMO_PORT): Promise<MainConfig> {
  const scripts = path.join(home, 'script')
  await mkdir(scripts, { recursive: true })
  // An operator script with OCF exit codes: 0 ok/running, 7 not running.
  const marker = path.join(home, 'state', 'demo-hook.up')
  const script = `#!/bin/sh\n# demo-hook: a resource made of a marker file.\ncase "$1" in\n  start) touch '${marker}' && echo "hook up" ;;\n  stop) rm -f '${marker}' ;;\n  monitor) [ -e '${marker}' ] || exit 7 ;;\nesac\n`
  await writeFile(path.join(scripts, 'demo-hook.sh'), script)
  await chmod(path.join(scripts, 'demo-hook.sh'), 0o755)
  const server = `require('http').createServer((q,s)=>s.end('hello from the MCCS demo on ${node}\\n')).listen(${port},'127.0.0.1')`
  return {
    generation: 1,
    types: {},
    groups: [{ name: 'demo', nodes: [node], failoverOnFailure: true, autoStart: false, autoFailback: false }],
    resources: [
      { name: 'marker', type: 'dummy', group: 'demo', critical: true, attrs: {}, nodeAttrs: {}, policy: { monitorIntervalS: 5 }, monitored: true },
      { name: 'hook', type: 'script', group: 'demo', critical: true, attrs: { onlineScript: 'demo-hook.sh', offlineScript: 'demo-hook.sh', monitorScript: 'demo-hook.sh' }, nodeAttrs: {}, policy: { monitorIntervalS: 5 }, monitored: true },
      { name: 'web', type: 'process', group: 'demo', critical: true, attrs: { argv: [process.execPath, '-e', server], stopGraceS: 5 }, nodeAttrs: {}, policy: { monitorIntervalS: 5, restartLimit: 1 }, monitored: true },
    ],
    dependencies: [{ parent: 'hook', child: 'marker' }, { parent: 'web', child: 'hook' }],
  }
}

export async function demoCommand(io: CliIO, o: { dir?: string; port?: number } = {}): Promise<number> {
  const home = o.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'mccs-demo-')))
  const node = 'demo1'
  const env: NodeJS.ProcessEnv = { ...process.env, MCCS_HOME: home, MCCS_NODE_NAME: node }
  delete env.MCCS_BOOTSTRAP
  const b = await loadBootstrap({ cwd: home, env })
  await createInitial(b.configDir, { cluster: 'demo', nodes: [{ name: node, address: '127.0.0.1' }], force: true })
  const store = new ConfigStore(b.configDir)
  await store.load()
  await store.commit(await demoConfig(home, node, o.port), { expectGeneration: 1 })
  const running = await runAgent(b, io)
  if (typeof running === 'number') return running
  const reply = await running.agent.command({ type: 'groupOnline', group: 'demo', user: currentUser() }, { wait: true, timeoutMs: 60_000 })
  io.out(renderStatus(running.agent.status()))
  io.out(`
MCCS demo: a one-node cluster in ${home}
  group 'demo' ${reply.reached ? 'is online' : 'did not come online (see the log)'}: dummy 'marker' <- script 'hook' <- process 'web'
In another terminal:
  export MCCS_HOME=${home} MCCS_NODE_NAME=${node}
  ./bin/mccs status                      # groups and resources at a glance (--json for scripts)
  curl http://127.0.0.1:${o.port ?? DEMO_PORT}/          # the demo service
  ./bin/mccs group offline demo --wait   # and online, lock, flush, clear, probe ...
  kill -9 <pid of the web process>       # restarted in place once; a second kill faults the group
  tail -f ${b.logDir}/mccs.log ${b.logDir}/operation.log
Ctrl-C stops the demo (the group is taken offline first).`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
  io.err('stopping the demo: taking the group offline')
  await running.agent.command({ type: 'groupOffline', group: 'demo', user: currentUser() }, { wait: true, timeoutMs: 30_000 })
  await running.stop()
  return EXIT.OK
}
