// Real agents in the network-namespace lab: 3 nodes, 2 links. A group (a small HTTP service) runs on
// n1, the coordinator; every process of n1 is killed (node loss). The survivors see n1 gone, the new
// coordinator fences it (a lab fence script that kills whatever still runs in n1's namespace), then
// brings the group up on n2. A prober in the client namespace asks every node every 10 ms: the service
// must come back from n2, and never answer from two nodes in the same round.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, mkdir, rm, writeFile, chmod, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { createLab, labAvailable, run, type Lab } from '../../scripts/lab/lab.js'
import { createClusterKey } from '../../core/cluster/cluster-key.js'
import { rpc } from '../../core/cli/control-client.js'
import type { AgentStatus } from '../../core/agent/status.js'
import { packageRoot } from '../../core/paths.js'

const PORT = 18080
const nodes = ['n1', 'n2', 'n3']
const avail = await labAvailable()

if (!avail.ok) {
  t.test('agents fail over in the lab', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  let lab!: Lab
  const homes: Record<string, string> = {}
  const agents: Record<string, ChildProcess> = {}
  let prober: ChildProcess | undefined
  const rounds: Array<{ at: number; who: string[] }> = []
  const sock = (n: string) => path.join(homes[n]!, 'state/mccs.sock')
  const status = (n: string) => rpc<AgentStatus>(sock(n), 'status', {}, 5000)
  const until = async <T>(f: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> => {
    const end = Date.now() + ms
    for (;;) {
      const v = await f().catch(() => undefined)
      if (v) return v
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  t.before(async () => {
    lab = await createLab({ prefix: `mccs${process.pid}f-`, nodes: 3, links: 2, client: true })
    const key = randomBytes(32)
    const hb = {
      generation: 1, cluster: 'lab', port: 14321, timing: { intervalMs: 100, deadMs: 600 },
      links: [{ name: 'l0', priority: 0 }, { name: 'l1', priority: 1 }],
      nodes: nodes.map((n) => ({ name: n, addresses: { l0: lab.addr(n, 0), l1: lab.addr(n, 1) }, fencing: [{ type: 'fence-script', attrs: { script: 'fence-lab.sh' } }] })),
    }
    const server = (n: string) => `require('http').createServer((q,s)=>s.end('${n}')).listen(${PORT},'0.0.0.0')`
    const main = {
      generation: 1, types: {},
      groups: [{ name: 'web', nodes, failoverOnFailure: true, autoStart: true, autoFailback: false }],
      resources: [{
        name: 'svc', type: 'process', group: 'web', critical: true, monitored: true, policy: { monitorIntervalS: 2 },
        attrs: { argv: [process.execPath, '-e', server('x')], stopGraceS: 2 },
        nodeAttrs: Object.fromEntries(nodes.map((n) => [n, { argv: [process.execPath, '-e', server(n)] }])),
      }],
      dependencies: [],
    }
    // The lab's fence device: kill everything that still runs in the target's namespace.
    const fence = `#!/bin/sh\nset -e\nns="${lab.ns('n1').replace(/n1$/, '')}$2"\ncase "$1" in\n  fence) for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null || true; done ;;\n  status) [ -z "$(ip netns pids "$ns")" ] ;;\nesac\n`
    for (const n of nodes) {
      const home = homes[n] = await mkdtemp(path.join(os.tmpdir(), `mccs-lab-${n}-`))
      await mkdir(path.join(home, 'config'), { recursive: true })
      await mkdir(path.join(home, 'script'), { recursive: true })
      await writeFile(path.join(home, 'config/hb.json'), JSON.stringify(hb, null, 2))
      await writeFile(path.join(home, 'config/main.json'), JSON.stringify(main, null, 2))
      await createClusterKey(path.join(home, 'config/cluster.key'), { key })
      await writeFile(path.join(home, 'script/fence-lab.sh'), fence)
      await chmod(path.join(home, 'script/fence-lab.sh'), 0o755)
    }
    const env = { ...process.env }
    delete env.NODE_OPTIONS
    for (const n of nodes) {
      agents[n] = lab.spawn(n, [process.execPath, '--no-node-snapshot', path.join(packageRoot(), 'dist/mccs.js'), 'agent'],
        { env: { ...env, MCCS_HOME: homes[n]!, MCCS_NODE_NAME: n }, stdio: 'ignore' })
    }
    // The prober: every 10 ms, ask every node; one JSON line per round with who answered.
    const probe = `const ips=${JSON.stringify(nodes.map((n) => lab.addr(n, 0)))};const http=require('http');
      const ask=(ip)=>new Promise((r)=>{const q=http.get({host:ip,port:${PORT},timeout:200},(s)=>{let b='';s.on('data',(d)=>b+=d);s.on('end',()=>r(b))});q.on('error',()=>r(null));q.on('timeout',()=>{q.destroy();r(null)})});
      (async()=>{for(;;){const at=Date.now();const w=(await Promise.all(ips.map(ask))).filter(Boolean);process.stdout.write(JSON.stringify({at,who:w})+'\\n');await new Promise((r)=>setTimeout(r,10))}})()`
    prober = lab.spawn('client', [process.execPath, '-e', probe], { env, stdio: ['ignore', 'pipe', 'ignore'] })
    createInterface({ input: prober.stdout! }).on('line', (l) => { try { rounds.push(JSON.parse(l)) } catch { /* partial */ } })
  })

  t.teardown(async () => {
    if (process.env.MCCS_DEBUG_LAB) for (const n of nodes) await writeFile(`${process.env.MCCS_DEBUG_LAB}/lab-${n}.log`, await readFile(path.join(homes[n]!, 'logs/mccs.log'), 'utf8').catch(() => ''))
    prober?.kill('SIGKILL')
    for (const n of nodes) {
      // Services run under supervisors outside the agent: stop everything in the node's namespace.
      const pids = await run(['ip', 'netns', 'pids', lab.ns(n)], { check: false }).catch(() => ({ stdout: '' }))
      for (const p of pids.stdout.split('\n').filter(Boolean)) { try { process.kill(Number(p), 'SIGKILL') } catch { /* gone */ } }
      agents[n]?.kill('SIGKILL')
    }
    await lab?.destroy()
    for (const h of Object.values(homes)) await rm(h, { recursive: true, force: true })
  })

  t.test('the group starts on n1 under the coordinator n1', async (t) => {
    const st = await until(async () => {
      const s = await status('n1')
      return s.groups[0]?.nodes.n1 === 'online' ? s : undefined
    }, 60_000, 'web online on n1')
    t.equal(st.membership?.coordinator, 'n1')
    t.same(st.membership?.partition, nodes)
    const s2 = await status('n2')
    t.equal(s2.membership?.role, 'follower', 'n2 follows')
    t.equal(s2.groups[0]?.nodes.n1, 'online', 'a follower shows the cluster state from the coordinator')
    await until(async () => rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1')
    t.pass('the service answers from n1')
  })

  t.test('node loss: fenced, then the service answers from n2', async (t) => {
    const from = rounds.length
    const t0 = Date.now()
    const pids = (await run(['ip', 'netns', 'pids', lab.ns('n1')])).stdout.split('\n').filter(Boolean)
    for (const p of pids) { try { process.kill(Number(p), 'SIGKILL') } catch { /* gone */ } }
    const back = await until(async () => rounds.slice(from).find((r) => r.who.includes('n2') || r.who.includes('n3')), 30_000, 'the service back on a survivor')
    const outage = back.at - t0
    t.same(back.who, ['n2'], 'the next node by priority took the group')
    t.ok(outage < 5000, `kill -9 of n1 to the first answer from n2: ${outage} ms`)
    const st = await status('n2')
    t.equal(st.membership?.coordinator, 'n2')
    t.equal(st.nodes.find((n) => n.name === 'n1')?.membership, 'fenced', 'n1 was fenced before the group moved')
    await until(async () => (await status('n2')).groups[0]?.nodes.n2 === 'online' || undefined, 10_000, 'web online on n2 in the status')
    const log = await readFile(path.join(homes.n2!, 'logs/mccs.log'), 'utf8')
    t.match(log, /fence n1 \(level 1, fence-script\): done\/ok/)
    await writeFile(path.join(os.tmpdir(), `mccs-failover-${process.pid}.json`), JSON.stringify({ outageMs: outage }))
  })

  t.test('never two nodes answering at once', async (t) => {
    const both = rounds.filter((r) => r.who.length > 1)
    t.equal(both.length, 0, `${rounds.length} probe rounds, ${both.length} with two answers`)
  })
}
