// A lab cluster of real agents running a group NIC <- address <- process (svc depends on vip, vip on
// nic0), and a prober in the client namespace that asks the VIP (not the nodes' own addresses) every
// 10 ms. Shared by the VIP lab tests and scripts/bench/vip.ts.
import { type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { AgentCluster, SERVICE_PORT } from '../../scripts/lab/agent-cluster.js'
import type { Lab } from '../../scripts/lab/lab.js'
import { rpc } from '../../core/cli/control-client.js'
import path from 'node:path'

// The VIP lives on link 0 (eth0, 10.80.0.0/24), the first-priority heartbeat link, so pulling the NIC's link
// also takes down the coordinator's preferred path to its peers: the actions it sends over a connection that
// the link loss closes are asked again over link 1 (peer-rpc.ts remoteAction).
export const VIP = '10.80.0.100'
export const NIC = 'eth0'
export const LINK = 0

export interface VipClusterOptions {
  prefix: string
  /** Nodes of the lab (default 3: quorum survives one loss). */
  nodes?: number
  /** Nodes of the group, in priority order (default n1, n2). */
  groupNodes?: string[]
  outbound?: 'None' | 'Replacement' | 'SkipAsSource'
  virtualMac?: string
  /** The address's duplicate-probe wait (default: the type's own). */
  dadTimeoutMs?: number
  /** Heartbeat timing (default: the shipped 100/600 ms). */
  timing?: { intervalMs: number; deadMs: number }
}

export interface VipRound {
  at: number
  who: string | null
}

export class VipCluster {
  readonly rounds: VipRound[] = []
  private prober: ChildProcess | undefined
  private constructor(
    readonly c: AgentCluster,
    readonly lab: Lab,
  ) {}

  static async create(o: VipClusterOptions): Promise<VipCluster> {
    const groupNodes = o.groupNodes ?? ['n1', 'n2']
    const server = (n: string) => `require('http').createServer((q,s)=>s.end('${n}')).listen(${SERVICE_PORT},'0.0.0.0')`
    // Fencing is a power-off here: every process of the node killed and its links down, so its kernel
    // stops answering for the VIP (a killed agent's namespace would otherwise keep the address).
    const fence = `#!/bin/sh\nns="${o.prefix}$2"\ncase "$1" in\n  fence) for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null || true; done\n    ip -n "$ns" link set eth0 down; ip -n "$ns" link set eth1 down ;;\n  status) [ -z "$(ip netns pids "$ns")" ] ;;\nesac\n`
    const c = await AgentCluster.create({
      prefix: o.prefix,
      nodes: o.nodes ?? 3,
      timing: o.timing ?? { intervalMs: 100, deadMs: 600 },
      files: () => ({ 'script/fence-lab.sh': fence }),
      main: (_lab, nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'web', nodes: groupNodes, failoverOnFailure: true, autoStart: true, autoFailback: false }],
        resources: [
          {
            name: 'nic0',
            type: 'nic',
            group: 'web',
            critical: true,
            monitored: true,
            policy: { monitorIntervalS: 1 },
            attrs: { device: NIC },
          },
          {
            name: 'vip',
            type: 'address',
            group: 'web',
            critical: true,
            monitored: true,
            policy: { monitorIntervalS: 2 },
            attrs: {
              address: `${VIP}/24`,
              nic: NIC,
              outbound: o.outbound ?? 'None',
              ...(o.virtualMac ? { virtualMac: o.virtualMac } : {}),
              ...(o.dadTimeoutMs ? { dadTimeoutMs: o.dadTimeoutMs } : {}),
            },
          },
          {
            name: 'svc',
            type: 'process',
            group: 'web',
            critical: true,
            monitored: true,
            policy: { monitorIntervalS: 2 },
            attrs: { argv: [process.execPath, '-e', server('x')], stopGraceS: 1 },
            nodeAttrs: Object.fromEntries(nodes.map((n) => [n, { argv: [process.execPath, '-e', server(n)] }])),
          },
        ],
        dependencies: [
          { parent: 'vip', child: 'nic0' },
          { parent: 'svc', child: 'vip' },
        ],
      }),
    })
    return new VipCluster(c, c.lab)
  }

  start(): void {
    this.c.start()
    const probe = `const http=require('http');
      const ask=()=>new Promise((r)=>{const q=http.get({host:'${VIP}',port:${SERVICE_PORT},timeout:200,agent:false},(s)=>{let b='';s.on('data',(d)=>b+=d);s.on('end',()=>r(b))});q.on('error',()=>r(null));q.on('timeout',()=>{q.destroy();r(null)})});
      (async()=>{for(;;){const at=Date.now();const w=await ask();process.stdout.write(JSON.stringify({at,who:w})+'\\n');await new Promise((r)=>setTimeout(r,10))}})()`
    this.prober = this.lab.spawn('client', [process.execPath, '-e', probe], { stdio: ['ignore', 'pipe', 'ignore'] })
    createInterface({ input: this.prober.stdout! }).on('line', (l) => {
      try {
        this.rounds.push(JSON.parse(l) as VipRound)
      } catch {
        /* partial */
      }
    })
  }

  /** The hardware address the client has for the VIP (its ARP cache), or null. */
  async clientMacForVip(): Promise<string | null> {
    const r = await this.lab.exec('client', ['ip', '-j', 'neigh', 'show', VIP, 'dev', NIC])
    const e = (JSON.parse(r.stdout || '[]') as { lladdr?: string }[])[0]
    return e?.lladdr?.toLowerCase() ?? null
  }

  async macOf(node: string): Promise<string> {
    return (JSON.parse((await this.lab.exec(node, ['ip', '-j', 'link', 'show', NIC])).stdout) as { address: string }[])[0]!.address
  }

  command(node: string, cmd: Record<string, unknown>): Promise<unknown> {
    return rpc(
      path.join(this.c.homes[node]!, 'state/mccs.sock'),
      'command',
      { cmd: { user: 'test', ...cmd }, wait: true, timeoutMs: 20_000 },
      40_000,
    )
  }

  async destroy(): Promise<void> {
    this.prober?.kill('SIGKILL')
    await this.c.destroy()
  }
}
