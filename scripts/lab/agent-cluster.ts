// Real MCCS agents in the network-namespace lab (tests and benches): N nodes with their own homes,
// one shared cluster key, a group `web` = a process resource (a small HTTP service answering with
// its node's name) on every node, fenced by a lab fence script that kills whatever still runs in the
// target's namespace. A prober in the client namespace asks every node every 10 ms.
import { type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, mkdir, rm, writeFile, chmod, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { readFileSync } from 'node:fs'
import { createLab, run, type Lab } from './lab.js'
import { createClusterKey } from '../../core/cluster/cluster-key.js'
import { writeDevLicense } from '../../core/license/dev-license.js'
import { rpc } from '../../core/cli/control-client.js'
import type { AgentStatus } from '../../core/agent/status.js'
import { packageRoot } from '../../core/paths.js'

export const SERVICE_PORT = 18080

export interface AgentClusterOptions {
  prefix: string
  nodes?: number
  /** How many of the nodes (the first ones) hb.json and the default group name at first (default: all); the
   *  others have a namespace and a home, for a node added later (live hb.json change). */
  members?: number
  /** Links in the lab (default 2); hb.json names l0 and l1 only. */
  labLinks?: number
  timing?: { intervalMs: number; deadMs: number }
  /** The cluster configuration (config/main.json) instead of the default group `web`. */
  main?: (lab: Lab, nodes: string[]) => Record<string, unknown>
  /** Changes to the default configuration (group `web`), e.g. a resource added to the group. */
  adjustMain?: (main: DefaultMain, lab: Lab, nodes: string[]) => void
  /** Extra files per node home (relative path -> content), e.g. script/… or aws/credentials. */
  files?: (node: string) => Record<string, string>
  /** What the lab's fence script kills: everything in the target's namespace (a power-off: default), or
   *  everything but the agent (a fence that stops the services while the agent lives on — used to show
   *  that a paused agent, resumed, does not act without quorum), or everything and the node's links
   *  down ('power': a powered-off node's kernel no longer answers for a VIP it held). */
  fence?: 'node' | 'services' | 'power'
  /** The fence level's `effectMs` (hb.json; the two-node fence delay is built from it). The lab's script
   *  kills the namespace's processes: 53 ms median, 0.25 s at the 95th percentile, 2.5 s once at load 15
   *  (84 fences of a random-fault run); 1000 is what an operator would set from such fence tests. Absent:
   *  the field is not written — an agent of a version before it (mixed-version labs) refuses hb.json with it. */
  fenceEffectMs?: number
  /** Each node's service appends {node, ev: 'up'|'down', at} lines to this file (the safety checker's record). */
  transitions?: string
  /** Changes to the generated hb.json (quorum settings, isolation test addresses, fencing). */
  hb?: (hb: Record<string, unknown> & { nodes: Array<Record<string, unknown>> }) => void
  /** Extra environment per agent (e.g. AWS_SHARED_CREDENTIALS_FILE). */
  env?: (node: string, home: string) => Record<string, string>
  /** A 30-day term license per node (default); false: none, every node in limited mode (manual 5.4). */
  licenses?: boolean
  /** The MCCS build (folder holding dist/ and plugins/) a node's agent runs, e.g. an earlier release for
   *  mixed-version tests; default: this checkout's. */
  build?: (node: string) => string
}

export interface DefaultMain {
  generation: number
  types: Record<string, unknown>
  groups: Array<{ name: string; nodes: string[]; failoverOnFailure: boolean; autoStart: boolean; autoFailback: boolean }>
  resources: Array<Record<string, unknown>>
  dependencies: Array<{ parent: string; child: string }>
}

export interface ProbeRound {
  at: number
  who: string[]
}

export class AgentCluster {
  readonly homes: Record<string, string> = {}
  readonly agents: Record<string, ChildProcess> = {}
  readonly rounds: ProbeRound[] = []
  private prober: ChildProcess | undefined
  private constructor(
    readonly lab: Lab,
    readonly nodes: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly opts: AgentClusterOptions,
  ) {}

  static async create(o: AgentClusterOptions): Promise<AgentCluster> {
    const n = o.nodes ?? 3
    const lab = await createLab({ prefix: o.prefix, nodes: n, links: o.labLinks ?? 2, client: true })
    const nodes = Array.from({ length: n }, (_, i) => `n${i + 1}`)
    const env = { ...process.env }
    delete env.NODE_OPTIONS
    env.MCCS_CONSOLE_DISABLE = '1' // the lab is about failover; the console has its own tests
    const c = new AgentCluster(lab, nodes, env, o)
    try {
      await c.writeHomes(o.timing ?? { intervalMs: 100, deadMs: 600 })
    } catch (err) {
      await c.destroy()
      throw err
    }
    return c
  }

  private defaultMain(server: (n: string) => string, nodes: string[] = this.nodes): DefaultMain {
    return {
      generation: 1,
      types: {},
      groups: [{ name: 'web', nodes, failoverOnFailure: true, autoStart: true, autoFailback: false }],
      resources: [
        {
          name: 'svc',
          type: 'process',
          group: 'web',
          critical: true,
          monitored: true,
          policy: { monitorIntervalS: 2 },
          attrs: { argv: [process.execPath, '-e', server('x')], stopGraceS: 2 },
          nodeAttrs: Object.fromEntries(nodes.map((n) => [n, { argv: [process.execPath, '-e', server(n)] }])),
        },
      ],
      dependencies: [],
    }
  }

  private async writeHomes(timing: { intervalMs: number; deadMs: number }): Promise<void> {
    const { lab } = this
    const nodes = this.nodes.slice(0, this.opts.members ?? this.nodes.length)
    const key = randomBytes(32)
    const hb = {
      generation: 1,
      cluster: 'lab',
      port: 14321,
      timing,
      links: [
        { name: 'l0', priority: 0 },
        { name: 'l1', priority: 1 },
      ],
      nodes: nodes.map((n) => ({
        name: n,
        addresses: { l0: lab.addr(n, 0), l1: lab.addr(n, 1) },
        fencing: [
          {
            type: 'fence-script',
            attrs: { script: 'fence-lab.sh' },
            ...(this.opts.fenceEffectMs !== undefined ? { effectMs: this.opts.fenceEffectMs } : {}),
          },
        ],
      })),
    }
    this.opts.hb?.(hb as Parameters<NonNullable<AgentClusterOptions['hb']>>[0])
    const rec = this.opts.transitions
    const server = (n: string) =>
      rec
        ? `const fs=require('fs');const rec=(e)=>fs.appendFileSync(${JSON.stringify(rec)},JSON.stringify({node:'${n}',ev:e,at:Date.now()})+'\\n');` +
          `process.on('SIGTERM',()=>{rec('down');process.exit(0)});` +
          `require('http').createServer((q,s)=>s.end('${n}')).listen(${SERVICE_PORT},'0.0.0.0',()=>rec('up'))`
        : `require('http').createServer((q,s)=>s.end('${n}')).listen(${SERVICE_PORT},'0.0.0.0')`
    const main = this.opts.main?.(lab, nodes) ?? this.defaultMain(server, nodes)
    this.opts.adjustMain?.(main as DefaultMain, lab, nodes)
    const prefix = lab.ns('n1').slice(0, -2)
    const pids =
      this.opts.fence === 'services'
        ? `pids() { for p in $(ip netns pids "$ns"); do case "$(tr '\\0' ' ' < /proc/$p/cmdline 2>/dev/null)" in *"mccs.js agent"*) ;; *) echo "$p" ;; esac; done; }`
        : `pids() { ip netns pids "$ns"; }`
    const off = this.opts.fence === 'power' ? `\n    ip -n "$ns" link set eth0 down; ip -n "$ns" link set eth1 down` : ''
    // A mirror's nbdfuse first (see killNode).
    const fence = `#!/bin/sh\nns="${prefix}$2"\n${pids}\ncase "$1" in\n  fence) for p in $(pids); do [ "$(cat /proc/$p/comm 2>/dev/null)" = nbdfuse ] && kill -9 "$p" 2>/dev/null; done\n    for p in $(pids); do kill -9 "$p" 2>/dev/null || true; done${off} ;;\n  status) [ -z "$(pids)" ] ;;\nesac\n`
    for (const n of this.nodes) {
      const home = (this.homes[n] = await mkdtemp(path.join(os.tmpdir(), `mccs-lab-${n}-`)))
      await mkdir(path.join(home, 'config'), { recursive: true })
      await mkdir(path.join(home, 'script'), { recursive: true })
      await writeFile(path.join(home, 'config/hb.json'), JSON.stringify(hb, null, 2))
      await writeFile(path.join(home, 'config/main.json'), JSON.stringify(main, null, 2))
      await createClusterKey(path.join(home, 'config/cluster.key'), { key })
      await writeFile(path.join(home, 'script/fence-lab.sh'), fence)
      if (this.opts.licenses !== false) await writeDevLicense(path.join(home, 'config'), n)
      await chmod(path.join(home, 'script/fence-lab.sh'), 0o755)
      for (const [rel, content] of Object.entries(this.opts.files?.(n) ?? {})) {
        await mkdir(path.dirname(path.join(home, rel)), { recursive: true })
        await writeFile(path.join(home, rel), content, { mode: rel.startsWith('script/') ? 0o755 : 0o600 })
      }
    }
  }

  /** Starts every agent and the prober. */
  start(): void {
    for (const n of this.nodes) this.startAgent(n)
    this.startProber()
  }

  /** The prober alone (a caller that starts the agents itself). */
  startProber(): void {
    const ips = this.nodes.map((n) => this.lab.addr(n, 0))
    const probe = `const ips=${JSON.stringify(ips)};const http=require('http');
      const ask=(ip)=>new Promise((r)=>{const q=http.get({host:ip,port:${SERVICE_PORT},timeout:200},(s)=>{let b='';s.on('data',(d)=>b+=d);s.on('end',()=>r(b))});q.on('error',()=>r(null));q.on('timeout',()=>{q.destroy();r(null)})});
      (async()=>{for(;;){const at=Date.now();const w=(await Promise.all(ips.map(ask))).filter(Boolean);process.stdout.write(JSON.stringify({at,who:w})+'\\n');await new Promise((r)=>setTimeout(r,10))}})()`
    this.prober = this.lab.spawn('client', [process.execPath, '-e', probe], { env: this.env, stdio: ['ignore', 'pipe', 'ignore'] })
    createInterface({ input: this.prober.stdout! }).on('line', (l) => {
      try {
        this.rounds.push(JSON.parse(l) as ProbeRound)
      } catch {
        /* partial line */
      }
    })
  }

  /** `nameFromSettings`: the node's name comes from its home's settings file, not MCCS_NODE_NAME (a renamed
   *  node: `mccs setup --rename` writes it there). */
  startAgent(n: string, o: { nameFromSettings?: boolean } = {}): void {
    const root = this.opts.build?.(n) ?? packageRoot()
    const env: NodeJS.ProcessEnv = { ...this.env, ...this.opts.env?.(n, this.homes[n]!), MCCS_HOME: this.homes[n]!, MCCS_NODE_NAME: n }
    if (o.nameFromSettings) delete env.MCCS_NODE_NAME
    this.agents[n] = this.lab.spawn(n, [process.execPath, '--no-node-snapshot', path.join(root, 'dist/mccs.js'), 'agent'], {
      env,
      stdio: 'ignore',
    })
  }

  status(n: string): Promise<AgentStatus> {
    return rpc<AgentStatus>(path.join(this.homes[n]!, 'state/mccs.sock'), 'status', {}, 5000)
  }

  /** Node loss: every process in the node's namespace (agent, supervisors, services) killed. A mirror's
   *  nbdfuse first: killed last, its exit tore down the agent's mount namespace and with it the ext4 on
   *  the loop device over its own FUSE file, and it deadlocked waiting on itself (seen once: a zombie
   *  nbdfuse thread in ext4_sync_fs, and every later `losetup -a` on the host hung on that loop device). */
  async killNode(n: string): Promise<void> {
    const pids = (await run(['ip', 'netns', 'pids', this.lab.ns(n)], { check: false })).stdout.split('\n').filter(Boolean)
    const comm = (p: string) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim()
      } catch {
        return ''
      }
    }
    pids.sort((a, b) => Number(comm(b) === 'nbdfuse') - Number(comm(a) === 'nbdfuse'))
    for (const p of pids) {
      try {
        process.kill(Number(p), 'SIGKILL')
      } catch {
        /* gone */
      }
    }
  }

  log(n: string): Promise<string> {
    return readFile(path.join(this.homes[n]!, 'logs/mccs.log'), 'utf8').catch(() => '')
  }

  async destroy(): Promise<void> {
    this.prober?.kill('SIGKILL')
    for (const n of this.nodes) {
      await this.killNode(n).catch(() => {})
      this.agents[n]?.kill('SIGKILL')
    }
    await this.lab.destroy()
    for (const h of Object.values(this.homes)) await rm(h, { recursive: true, force: true })
  }
}

export async function until<T>(f: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await f().catch(() => undefined)
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
