// The safety checker's witness for the mirror disk (issue 15, acceptance 6): which lab nodes run a
// primary, read from the process table every 20 ms — not from the agents' or the volumes' own records.
// A primary is a qemu-storage-daemon that serves the volume for a local attach (its export of the node
// top0, core/mirror/volume.ts); a secondary's daemon exports disk0 (on the replication socket its agent hands it; docs/mirror.md). Its node is
// the lab namespace its network namespace is. The samples become the checker's transitions (safety.ts:
// mirrorVerdict): 'up' when a node's primary appears, 'down' when it is gone.
// It runs as its own process, like the service prober: a scan of /proc every 20 ms in the caller's
// event loop would starve what the caller runs itself (a test's volumes).
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { createInterface } from 'node:readline'
import type { Transition } from './safety.js'

const SAMPLER = `const fs=require('fs');const nodes=new Map(JSON.parse(process.argv[1]));const every=Number(process.argv[2]);
let prim=new Set();let n=0;
const look=()=>{const at=Date.now();const now=new Set();
  for(const p of fs.readdirSync('/proc')){if(!/^\\d+$/.test(p))continue;
    try{if(!fs.readFileSync('/proc/'+p+'/comm','utf8').startsWith('qemu-storage'))continue;
      const argv=fs.readFileSync('/proc/'+p+'/cmdline','utf8').split('\\0');
      if(!argv.some((a)=>a.startsWith('type=nbd,id=vol,node-name=top0,')))continue;
      const node=nodes.get(fs.statSync('/proc/'+p+'/ns/net').ino);if(node)now.add(node)}catch{}}
  const out=[];for(const x of now)if(!prim.has(x))out.push({node:x,ev:'up',at});for(const x of prim)if(!now.has(x))out.push({node:x,ev:'down',at});
  prim=now;n++;process.stdout.write(JSON.stringify({n,out})+'\\n')};
look();setInterval(look,every)`

export class MirrorWitness {
  readonly transitions: Transition[] = []
  samples = 0
  private child: ChildProcess | null = null

  /** nodes: node name → its network namespace's name (as `ip netns` lists it). */
  constructor(
    private readonly nodes: Record<string, string>,
    private readonly everyMs = 20,
  ) {}

  start(): this {
    const inodes = Object.entries(this.nodes).map(([node, ns]) => [fs.statSync(`/run/netns/${ns}`).ino, node])
    const env = { ...process.env }
    delete env.NODE_OPTIONS
    this.child = spawn(process.execPath, ['-e', SAMPLER, JSON.stringify(inodes), String(this.everyMs)], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env,
    })
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      try {
        const s = JSON.parse(l) as { n: number; out: Transition[] }
        this.samples = s.n
        this.transitions.push(...s.out)
      } catch {
        /* partial line */
      }
    })
    return this
  }

  /** Stops sampling once the samples so far are in; a node still primary gets no 'down' (its interval
   *  runs to the checker's end). */
  async stop(): Promise<Transition[]> {
    const c = this.child
    this.child = null
    if (c && c.exitCode === null && c.signalCode === null) {
      const closed = new Promise((r) => c.stdout!.once('close', r))
      c.kill('SIGTERM')
      await closed
    }
    return this.transitions
  }
}
