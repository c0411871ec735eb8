// The mirror disk's failover with real agents (issue 15, acceptance 5), for the lab test and the bench:
// two agents from dist/, two-node mode, the power switch (AgentCluster fence 'power'). Group `db` =
// mirror-disk `md` <- process `svc` <- address `vip`; the process keeps an SQLite database in WAL mode on the
// mounted mirror (test/fixtures/mirror-sqlite-service.cjs) and answers on the VIP. A client in the client
// namespace commits numbered transactions through the VIP and keeps every acknowledged one outside the
// cluster; every process of n1 is killed (node loss); n2 fences it and takes over; the report says when the
// service answered again from n2, with which last transaction, and which acknowledged ones are missing.
import fs from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { packageRoot } from '../../core/paths.js'
import { rpc } from '../../core/cli/control-client.js'
import { AgentCluster, until } from './agent-cluster.js'
import { MirrorWitness } from './mirror-witness.js'
import { createLabMirror, firstPrimary, type LabMirror } from './mirror-group.js'
import { fencesFromLogs, mirrorVerdict, type MirrorReport } from './safety.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const MIRROR_VIP = '10.80.0.100'
export const MIRROR_SERVICE_PORT = 18081
const SQLITE = '/usr/bin/sqlite3'
export const SQLITE_SERVICE = path.join(packageRoot(), 'test/fixtures/mirror-sqlite-service.cjs')

// Transactions one after another through the VIP (each acknowledged one printed), and a reader asking
// for the last committed one every 50 ms. Lines of JSON on stdout.
const CLIENT = `const http=require('http');
const req=(method,p,ms)=>new Promise((r)=>{const q=http.request({host:'${MIRROR_VIP}',port:${MIRROR_SERVICE_PORT},path:p,method,timeout:ms,agent:false},(s)=>{let b='';s.on('data',(d)=>b+=d);s.on('end',()=>{try{r(s.statusCode===200?JSON.parse(b):null)}catch{r(null)}})});q.on('error',()=>r(null));q.on('timeout',()=>{q.destroy();r(null)});q.end()});
const out=(o)=>process.stdout.write(JSON.stringify(o)+'\\n');
(async()=>{for(let n=1;;n++){const a=await req('POST','/tx/'+n,1000);if(a&&a.n===n)out({t:'ack',n,node:a.node,at:Date.now()});else await new Promise((r)=>setTimeout(r,20))}})();
(async()=>{for(;;){const at=Date.now();const l=await req('GET','/last',300);if(l)out({t:'last',at,node:l.node,last:l.last,journal:l.journal});await new Promise((r)=>setTimeout(r,50))}})();`

export interface Ack {
  n: number
  node: string
  at: number
}
export interface LastAnswer {
  at: number
  node: string
  last: number
  journal: string
}
export interface MirrorFailoverReport {
  /** The service's journal mode on n1 before the loss. */
  journalBefore: string | null
  /** Acknowledged by n1 (before its loss) and by anyone (until the end). */
  ackedByN1: number
  acked: number
  lastAckedByN1: number
  /** The first answer on the VIP from n2 after the loss (fault 'agent': from either node, after the restart). */
  back: LastAnswer
  /** Fault 'agent': the first transaction acknowledged after the restart. */
  ackAfter?: Ack
  /** Node loss -> that answer. */
  recoveryMs: number
  /** Who served GET /all at the end, and the acknowledged transactions it lacks. */
  servedBy: string
  lost: number[]
  groupOnN2: string | undefined
  fences: Array<{ node: string; at: number }>
  killAt: number
  mirror: MirrorReport
  /** Fault 'agent': the node the group was online on once settled after the restart. */
  settledOn?: string
  /** Option `switchAfter`: the operator's switches after the restart, in order (to n2, then back to n1). */
  switches?: SwitchResult[]
  /** Fault 'agent': faults and failed actions the agents logged after the kill (a fence request for the
   *  node whose agent is down is expected: it is cancelled when the agent is back within the delay). */
  faults?: string[]
}

export interface SwitchResult {
  to: string
  reached: boolean
  ms: number
  outcome: unknown
  /** Where the group was online once the command returned. */
  onlineOn: string[]
}

export interface MirrorFailoverOptions {
  prefix: string
  /** Transactions acknowledged by n1 before the loss (default 40). */
  before?: number
  /** Called after the failover, with the cluster still up and the witness still watching. */
  inspect?: (x: { c: AgentCluster; md: LabMirror; witness: MirrorWitness; fences: Array<{ node: string; at: number }> }) => Promise<void>
  /** Agent logs are written here as mdb-<node>.log. */
  debugDir?: string
  /** 'node' (default): every process of n1 killed, n2 fences it and takes over. 'agent': only n1's agent
   *  killed -9 and started again at once (a crash and its service manager's restart); the service may stay
   *  on n1 or move, and `back` is the first answer from either node after the restart. */
  fault?: 'node' | 'agent'
  /** Fault 'agent': once settled, the operator switches the group to n2 and back to n1 (each must take
   *  the mirror offline on one node and online on the other, without force). */
  switchAfter?: boolean
  /** The two-node fence delay (default 5 s). A longer one lets a restarted agent that is slow to start
   *  (a loaded host) rejoin before the survivor fences it, so what it does on its return is tested. */
  fenceDelayMs?: number
}

/** The operator's `mccs group switch <group> --node <to> --wait`, through n2's control socket. */
async function operatorSwitch(c: AgentCluster, group: string, to: string): Promise<SwitchResult> {
  const t0 = Date.now()
  const r = await rpc<{ outcome: unknown; reached?: boolean }>(
    path.join(c.homes.n2!, 'state/mccs.sock'),
    'command',
    { cmd: { type: 'groupSwitch', group, to, user: 'lab' }, wait: true, timeoutMs: 60_000 },
    70_000,
  ).catch((e: unknown) => ({ outcome: String(e), reached: false }))
  const g = (await c.status('n2')).groups.find((x) => x.name === group)
  const onlineOn = g
    ? Object.entries(g.nodes)
        .filter(([, v]) => v === 'online')
        .map(([n]) => n)
    : []
  return { to, reached: r.reached === true, ms: Date.now() - t0, outcome: r.outcome, onlineOn }
}

/** The agents' log lines since `since` that report a fault or a failed action. */
async function faultLines(c: AgentCluster, since: number): Promise<string[]> {
  const out: string[] = []
  for (const n of c.nodes)
    for (const l of (await c.log(n)).split('\n')) {
      const m = /"time":"([^"]+)".*"notice":"(resourceFaulted|actionFailed|cleanFailed)".*"msg":"([^"]*)"/.exec(l)
      if (m && Date.parse(m[1]!) >= since) out.push(`${n}: ${m[2]}: ${m[3]}`)
    }
  return out
}

export async function runMirrorFailover(o: MirrorFailoverOptions): Promise<MirrorFailoverReport> {
  const md = createLabMirror(['n1', 'n2'])
  const db = path.join(md.mountPoint, 'tx.sqlite')
  const argv = (n: string) => [process.execPath, SQLITE_SERVICE, SQLITE, db, String(MIRROR_SERVICE_PORT), n]
  const c = await AgentCluster.create({
    prefix: o.prefix,
    nodes: 2,
    hb: (hb) => {
      hb.quorum = { twoNode: true, ...(o.fenceDelayMs !== undefined ? { fenceDelayMs: o.fenceDelayMs } : {}) }
    },
    // The power switch: every process of the node killed and its links down (a node's kernel would
    // otherwise go on answering for the VIP it held).
    fence: 'power',
    main: (lab, nodes) => ({
      generation: 1,
      types: {},
      // Not started on its own: a new volume's first promotion is the operator's (forced) decision.
      groups: [{ name: 'db', nodes, failoverOnFailure: true, autoStart: false, autoFailback: false }],
      resources: [
        md.resource(lab, nodes, 'md', 'db'),
        {
          name: 'svc',
          type: 'process',
          group: 'db',
          critical: true,
          monitored: true,
          policy: { monitorIntervalS: 2 },
          attrs: { argv: argv('x'), stopGraceS: 2 },
          nodeAttrs: Object.fromEntries(nodes.map((n) => [n, { argv: argv(n) }])),
        },
        {
          name: 'vip',
          type: 'address',
          group: 'db',
          critical: true,
          monitored: true,
          policy: { monitorIntervalS: 2 },
          attrs: { address: `${MIRROR_VIP}/24`, nic: 'eth0', outbound: 'None' },
        },
      ],
      dependencies: [
        { parent: 'svc', child: 'md' },
        { parent: 'vip', child: 'svc' },
      ],
    }),
  }).catch((e: unknown) => {
    md.release()
    throw e
  })
  const witness = new MirrorWitness({ n1: c.lab.ns('n1'), n2: c.lab.ns('n2') }).start()
  const client = c.lab.spawn('client', [process.execPath, '-e', CLIENT], { stdio: ['ignore', 'pipe', 'ignore'] })
  try {
    for (const n of c.nodes) c.startAgent(n)
    await until(
      async () => {
        const s = await c.status('n1')
        return (s.membership?.partition.length === 2 && s.membership.quorate && s.membership.role === 'coordinator') || undefined
      },
      60_000,
      'n1 coordinating both nodes',
    )
    await firstPrimary(c, { resource: 'md', group: 'db', node: 'n1' })

    // Every acknowledged transaction is kept here and in a file outside the cluster.
    const acks: Ack[] = []
    const lasts: LastAnswer[] = []
    const ackFile = path.join(md.dir, 'acknowledged.jsonl')
    createInterface({ input: client.stdout! }).on('line', (l) => {
      try {
        const x = JSON.parse(l) as (Ack & { t: 'ack' }) | (LastAnswer & { t: 'last' })
        if (x.t === 'ack') {
          acks.push(x)
          fs.appendFileSync(ackFile, l + '\n')
        } else lasts.push(x)
      } catch {
        /* partial line */
      }
    })
    const want = o.before ?? 40
    await until(
      async () => acks.filter((a) => a.node === 'n1').length >= want || undefined,
      60_000,
      `${want} transactions acknowledged by n1`,
    )
    const journalBefore = lasts.filter((l) => l.node === 'n1').at(-1)?.journal ?? null

    const killAt = Date.now()
    let ackAfter: Ack | undefined
    let back: LastAnswer
    let settledOn: string | undefined
    let switches: SwitchResult[] | undefined
    if (o.fault === 'agent') {
      // The agent alone: its daemons, mount and service live on; the restarted agent finds them.
      c.agents.n1!.kill('SIGKILL')
      await until(async () => c.agents.n1!.exitCode !== null || c.agents.n1!.signalCode !== null || undefined, 5000, "n1's agent gone")
      c.startAgent('n1')
      // The service itself never stopped: what counts is the cluster settled again past the two-node fence
      // delay (5 s) — n1 back in the view, or fenced if its agent took longer than that to return — with the
      // group online on one node and the service answering after that.
      await sleep(6000)
      const settled = await until(
        async () => {
          const s = await c.status('n2').catch(() => null)
          const g = s?.groups.find((x) => x.name === 'db')
          const on = g ? Object.entries(g.nodes).filter(([, v]) => v === 'online') : []
          const both = s?.membership?.partition.length === 2
          if (s?.membership?.quorate && on.length === 1 && g?.busy === 0 && (both || !o.switchAfter)) {
            settledOn = on[0]![0]
            return Date.now()
          }
          return undefined
        },
        60_000,
        'the group online on one node, nothing in progress',
      )
      back = await until(async () => lasts.find((l) => l.at > settled), 30_000, 'the service answering on the VIP once settled')
      ackAfter = await until(async () => acks.find((a) => a.at > settled), 30_000, 'a transaction acknowledged once settled')
      if (o.switchAfter) {
        switches = []
        for (const to of ['n2', 'n1']) {
          const sw = await operatorSwitch(c, 'db', to)
          switches.push(sw)
          if (!sw.reached) break
          const at = Date.now()
          await until(async () => acks.some((a) => a.node === to && a.at > at) || undefined, 30_000, `a transaction acknowledged by ${to}`)
        }
      }
    } else {
      // Node loss: every process of n1 killed at once (agent, daemons, service); n2 fences it.
      await c.killNode('n1')
      back = await until(
        async () => lasts.find((l) => l.at > killAt && l.node === 'n2'),
        60_000,
        'the service answering on the VIP from n2',
      )
    }
    const fromN1 = acks.filter((a) => a.node === 'n1')
    if (o.fault !== 'agent')
      await until(async () => acks.some((a) => a.node === 'n2') || undefined, 10_000, 'a transaction acknowledged by n2')
    client.kill('SIGKILL')
    const get = `require('http').get({host:'${MIRROR_VIP}',port:${MIRROR_SERVICE_PORT},path:'/all',timeout:5000},(s)=>s.pipe(process.stdout))`
    const all = JSON.parse((await c.lab.exec('client', [process.execPath, '-e', get])).stdout) as { node: string; ns: number[] }
    const have = new Set(all.ns)
    const fences = (await fencesFromLogs(c)).filter((f) => f.at >= killAt)
    const groupOnN2 = (await c.status('n2')).groups.find((g) => g.name === 'db')?.nodes.n2
    const mirror = { ...mirrorVerdict([...witness.transitions], fences, Date.now()), samples: witness.samples }
    await o.inspect?.({ c, md, witness, fences })
    const faults = o.fault === 'agent' ? await faultLines(c, killAt) : undefined
    return {
      ...(settledOn ? { settledOn } : {}),
      ...(switches ? { switches } : {}),
      ...(faults ? { faults } : {}),
      journalBefore,
      ackedByN1: fromN1.length,
      acked: acks.length,
      lastAckedByN1: Math.max(0, ...fromN1.map((a) => a.n)),
      back,
      recoveryMs: back.at - killAt,
      ...(ackAfter ? { ackAfter } : {}),
      servedBy: all.node,
      lost: acks.filter((a) => !have.has(a.n)).map((a) => a.n),
      groupOnN2,
      fences,
      killAt,
      mirror,
    }
  } finally {
    client.kill('SIGKILL')
    await witness.stop()
    if (o.debugDir) for (const n of c.nodes) fs.writeFileSync(path.join(o.debugDir, `mdb-${n}.log`), await c.log(n))
    await c.destroy()
    md.release()
  }
}
