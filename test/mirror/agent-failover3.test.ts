// Mirror disk on node loss in a three-node cluster (issue 15, acceptance 5 beyond two nodes): the group
// db = mirror-disk <- process (the SQLite service in WAL mode) <- address runs on n2 and n3; n1 only votes
// and coordinates. n2 (primary) loses every process; the coordinator n1 fences it (power switch) and
// brings db online on n3, a follower: its mirror takes over without force only if it learns that n2, the
// node of the other copy, is fenced — from its coordinator, the node that fenced it and ordered the online.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'
import { createLabMirror, firstPrimary } from '../../scripts/lab/mirror-group.js'
import { SQLITE_SERVICE as SERVICE } from '../../scripts/lab/mirror-failover.js'
import { sqliteLabSkip } from './lab-nodes.js'

const VIP = '10.80.0.100'
const PORT = 18081
const SQLITE = '/usr/bin/sqlite3'

const skip = await sqliteLabSkip()

t.test('mirror disk, 3 nodes: the copy on a follower takes over when the coordinator has fenced the primary', { skip }, async (t) => {
  const md = createLabMirror(['n2', 'n3'])
  const db = path.join(md.mountPoint, 'tx.sqlite')
  const c = await AgentCluster.create({
    prefix: `mccs${process.pid}m3-`,
    nodes: 3,
    fence: 'power',
    main: (lab) => ({
      generation: 1,
      types: {},
      groups: [{ name: 'db', nodes: ['n2', 'n3'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
      resources: [
        md.resource(lab, ['n2', 'n3'], 'md', 'db'),
        {
          name: 'svc',
          type: 'process',
          group: 'db',
          critical: true,
          monitored: true,
          policy: { monitorIntervalS: 2 },
          attrs: { argv: [process.execPath, SERVICE, SQLITE, db, String(PORT), 'x'], stopGraceS: 2 },
          nodeAttrs: Object.fromEntries(['n2', 'n3'].map((n) => [n, { argv: [process.execPath, SERVICE, SQLITE, db, String(PORT), n] }])),
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
  }).catch((e: unknown) => {
    md.release()
    throw e
  })
  t.teardown(async () => {
    if (process.env.MCCS_DEBUG_LAB)
      for (const n of c.nodes) fs.writeFileSync(path.join(process.env.MCCS_DEBUG_LAB, `md3-${n}.log`), await c.log(n))
    await c.destroy()
    md.release()
  })
  for (const n of c.nodes) c.startAgent(n)
  await until(
    async () => {
      const s = await c.status('n1')
      return (s.membership?.partition.length === 3 && s.membership.role === 'coordinator') || undefined
    },
    60_000,
    'n1 coordinating the three nodes',
  )
  await firstPrimary(c, { resource: 'md', group: 'db', node: 'n2' })

  // Committed transactions through the VIP, each acknowledged before the next.
  const ask = (method: string, p: string) =>
    c.lab.exec('client', [
      process.execPath,
      '-e',
      `const q=require('http').request({host:'${VIP}',port:${PORT},path:'${p}',method:'${method}',timeout:3000},(s)=>s.pipe(process.stdout));q.on('error',(e)=>{console.error(e.message);process.exit(1)});q.end()`,
    ])
  for (let n = 1; n <= 20; n++) {
    const a = JSON.parse((await ask('POST', `/tx/${n}`)).stdout) as { node: string; n: number }
    if (a.node !== 'n2' || a.n !== n) throw new Error(`transaction ${n}: ${JSON.stringify(a)}`)
  }
  t.pass('20 transactions acknowledged by n2')

  const killAt = Date.now()
  await c.killNode('n2')
  const back = await until(
    async () => {
      const l = JSON.parse((await ask('GET', '/last')).stdout) as { node: string; last: number; journal: string }
      return l.node === 'n3' && l
    },
    60_000,
    'the service answering on the VIP from n3',
  )
  t.comment(`node loss -> service answering from n3: ${Date.now() - killAt} ms`)
  t.equal(back.last, 20, 'n3 answers with the last acknowledged transaction (20)')
  t.equal(back.journal, 'wal', 'in WAL mode')
  const fenced = (await c.log('n1')).split('\n').some((l) => /"msg":"fence n2 \(level \d+, [^)]+\): done\/ok"/.test(l))
  t.ok(fenced, 'the coordinator n1 fenced n2 first')
})
