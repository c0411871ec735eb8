// Mirror disk, acceptance 5 (issue 15): two real agents (dist/) in the namespace lab, two-node mode, fenced
// by the lab's power switch (the fence script kills every process of the target's namespace). Group `db` =
// mirror-disk `md` <- process `svc` <- address `vip`. The service keeps an SQLite database in WAL mode on the
// mounted mirror (test/fixtures/mirror-sqlite-service.cjs) and answers on the VIP. A client in the client
// namespace commits numbered transactions through the VIP and keeps each acknowledged one outside the
// cluster; every process of the primary node is killed (node loss); n2 fences it, takes the mirror over
// (no force: n1 had declared it up to date and is fenced), and the service answers on the VIP from n2 with
// every acknowledged transaction. The mirror witness (the safety checker's) watches the primaries throughout.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'
import { MirrorWitness } from '../../scripts/lab/mirror-witness.js'
import { mirrorVerdict } from '../../scripts/lab/safety.js'
import { createLabMirror, firstPrimary } from '../../scripts/lab/mirror-group.js'
import { missingTools, mnode, scrub } from './lab-nodes.js'

const VIP = '10.80.0.100'
const PORT = 18081
const SQLITE = '/usr/bin/sqlite3'
const SERVICE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/mirror-sqlite-service.cjs')
const avail = await labAvailable()
const missing = [
  ...missingTools(),
  ...(fs.existsSync(SQLITE) ? [] : [SQLITE]),
  ...(fs.existsSync('dist/mccs.js') ? [] : ['dist/ (npm run build)']),
]

// The client: transactions one after another through the VIP (each acknowledged one printed), and a
// reader asking for the last committed one every 50 ms. Lines of JSON on stdout.
const CLIENT = `const http=require('http');
const req=(method,p,ms)=>new Promise((r)=>{const q=http.request({host:'${VIP}',port:${PORT},path:p,method,timeout:ms,agent:false},(s)=>{let b='';s.on('data',(d)=>b+=d);s.on('end',()=>{try{r(s.statusCode===200?JSON.parse(b):null)}catch{r(null)}})});q.on('error',()=>r(null));q.on('timeout',()=>{q.destroy();r(null)});q.end()});
const out=(o)=>process.stdout.write(JSON.stringify(o)+'\\n');
(async()=>{for(let n=1;;n++){const a=await req('POST','/tx/'+n,1000);if(a&&a.n===n)out({t:'ack',n,node:a.node,at:Date.now()});else await new Promise((r)=>setTimeout(r,20))}})();
(async()=>{for(;;){const at=Date.now();const l=await req('GET','/last',300);if(l)out({t:'last',at,node:l.node,last:l.last,journal:l.journal});await new Promise((r)=>setTimeout(r,50))}})();`

interface Ack {
  n: number
  node: string
  at: number
}
interface Last {
  at: number
  node: string
  last: number
  journal: string
}

t.test(
  'mirror disk: the SQLite service moves on node loss with every acknowledged transaction (fencing on)',
  { skip: !avail.ok ? avail.reason : missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const md = createLabMirror(['n1', 'n2'])
    const mnt = md.mountPoint
    const c = await AgentCluster.create({
      prefix: `mccs${process.pid}md-`,
      nodes: 2,
      // The power switch: every process of the node killed and its links down (a node's kernel would
      // otherwise go on answering for the VIP it held).
      fence: 'power',
      hb: (hb) => {
        hb.quorum = { twoNode: true }
      },
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
            attrs: { argv: [process.execPath, SERVICE, SQLITE, path.join(mnt, 'tx.sqlite'), String(PORT), 'x'], stopGraceS: 2 },
            nodeAttrs: Object.fromEntries(
              nodes.map((n) => [n, { argv: [process.execPath, SERVICE, SQLITE, path.join(mnt, 'tx.sqlite'), String(PORT), n] }]),
            ),
          },
          {
            name: 'vip',
            type: 'address',
            group: 'db',
            critical: true,
            monitored: true,
            policy: { monitorIntervalS: 2 },
            attrs: { address: `${VIP}/24`, nic: 'eth0', outbound: 'None' },
          },
        ],
        dependencies: [
          { parent: 'svc', child: 'md' },
          { parent: 'vip', child: 'svc' },
        ],
      }),
    })
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) fs.writeFileSync(path.join(process.env.MCCS_DEBUG_LAB, `mdb-${n}.log`), await c.log(n))
      await c.destroy()
      md.release()
    })
    const witness = new MirrorWitness({ n1: c.lab.ns('n1'), n2: c.lab.ns('n2') }).start()
    t.teardown(() => witness.stop())
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
    t.equal((await c.status('n1')).groups.find((g) => g.name === 'db')?.nodes.n1, 'online', 'db online on n1, n2 up to date')

    // The client, outside the cluster; every acknowledged transaction is kept here and in a file.
    const acks: Ack[] = []
    const lasts: Last[] = []
    const ackFile = path.join(md.dir, 'acknowledged.jsonl')
    const client = c.lab.spawn('client', [process.execPath, '-e', CLIENT], { stdio: ['ignore', 'pipe', 'ignore'] })
    t.teardown(() => {
      client.kill('SIGKILL')
    })
    createInterface({ input: client.stdout! }).on('line', (l) => {
      try {
        const o = JSON.parse(l) as (Ack & { t: 'ack' }) | (Last & { t: 'last' })
        if (o.t === 'ack') {
          acks.push(o)
          fs.appendFileSync(ackFile, l + '\n')
        } else lasts.push(o)
      } catch {
        /* partial line */
      }
    })
    await until(async () => acks.filter((a) => a.node === 'n1').length >= 40 || undefined, 60_000, '40 transactions acknowledged by n1')
    const before = lasts.filter((l) => l.node === 'n1').at(-1)
    t.equal(before?.journal, 'wal', 'the database is in WAL mode on the mirror')

    // Node loss: every process of n1 killed at once (agent, daemons, service); n2 fences it (power switch).
    const killAt = Date.now()
    await c.killNode('n1')
    const back = await until(
      async () => lasts.find((l) => l.at > killAt && l.node === 'n2'),
      60_000,
      'the service answering on the VIP from n2',
    )
    const fromN1 = acks.filter((a) => a.node === 'n1')
    const lastAcked = Math.max(...fromN1.map((a) => a.n))
    t.ok(
      back.last >= lastAcked,
      `n2 answers with the last acknowledged transaction present (n2's last committed: ${back.last}; last acknowledged by n1: ${lastAcked} of ${fromN1.length})`,
    )
    t.equal(back.journal, 'wal', 'still in WAL mode on n2')
    // Every transaction the client saw acknowledged, by either node, is in n2's database.
    await until(async () => acks.some((a) => a.node === 'n2') || undefined, 10_000, 'a transaction acknowledged by n2')
    client.kill('SIGKILL')
    const get = `require('http').get({host:'${VIP}',port:${PORT},path:'/all',timeout:5000},(s)=>s.pipe(process.stdout))`
    const all = JSON.parse((await c.lab.exec('client', [process.execPath, '-e', get])).stdout) as { node: string; ns: number[] }
    const have = new Set(all.ns)
    const lost = acks.filter((a) => !have.has(a.n))
    t.equal(all.node, 'n2', 'the VIP is served by n2')
    t.same(lost, [], `every acknowledged transaction is on n2 (${acks.length} acknowledged, ${fromN1.length} by n1)`)
    const recoveryMs = back.at - killAt
    t.comment(`node loss -> service answering on the VIP from n2 with its data: ${recoveryMs} ms`)
    t.ok(recoveryMs < 30_000, `recovered in ${recoveryMs} ms`)

    const s2 = await c.status('n2')
    t.equal(s2.groups.find((g) => g.name === 'db')?.nodes.n2, 'online', 'db online on n2')
    const fences = (await c.log('n2'))
      .split('\n')
      .map((l) => /"time":"([^"]+)".*"msg":"fence (n\d+) \(level \d+, [^)]+\): done\/ok"/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ node: m[2]!, at: Date.parse(m[1]!) }))
    t.ok(
      fences.some((f) => f.node === 'n1' && f.at >= killAt),
      'n2 fenced n1 (the power switch) before taking over',
    )
    const v = mirrorVerdict([...witness.transitions], fences, Date.now())
    t.same(
      v.intervals.map((i) => i.node),
      ['n1', 'n2'],
      `the witness saw n1 then n2 primary (${witness.samples} samples; ${v.intervals.map((i) => `${i.node} ${i.end}`).join(', ')})`,
    )
    t.same(v.overlaps, [], 'never primary on two nodes at once')

    // The checker must be able to fail: n1's copy forced primary behind the cluster's back (its daemon
    // in n1's namespace, as an operator's hand-made promotion would run it) while n2 is primary.
    const forcedAt = Date.now()
    // Its process records outside md.dir (removed with the cluster): scrub finds its supervisor by them.
    const procDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-rogue-'))
    const rogue = mnode(c.lab, md.dir, 0, procDir, 17799)
    t.teardown(async () => {
      await scrub(rogue, md.dir)
      fs.rmSync(procDir, { recursive: true, force: true })
    })
    await rogue.vol.becomePrimary({ force: true })
    await until(
      async () => witness.transitions.some((x) => x.node === 'n1' && x.ev === 'up' && x.at >= forcedAt) || undefined,
      5000,
      "the witness seeing n1's forced primary",
    )
    const bad = mirrorVerdict(await witness.stop(), fences, Date.now())
    t.same(
      bad.overlaps.map(([a, b]) => [a.node, b.node].sort()),
      [['n1', 'n2']],
      'the checker reports n1 and n2 primary at once',
    )
  },
)
