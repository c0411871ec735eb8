// Issue 12, acceptance 3, on two nodes at the shipped heartbeat timing (100 ms interval, 600 ms dead
// time): the hostile plugin attacks from n1 (LD_PRELOAD, exec floods, 100 MiB logs/answers/errors/
// arguments, CPU after awaits and left behind, an impostor of the built-in `process` type) while n1 runs
// the service group `web`. n2 must never lose n1 (never declare it down, never fence it), the service
// must answer from n1 throughout, and n1 must keep answering its control socket.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, SERVICE_PORT, until } from '../../scripts/lab/agent-cluster.js'
import { buildPlugin } from '@mccs/plugin-kit/build'
import { ATTACKS, buildPreloadLibrary } from './hostile-setup.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = (n: string) => path.join(here, '../fixtures/plugins', n)
const ATTACK_S = 20
const avail = await labAvailable()

if (!avail.ok) {
  t.test('a hostile plugin on a two-node lab', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('a hostile plugin on n1 does not get n1 declared down or fenced; the service stays on n1', async (t) => {
    await buildPlugin(fixture('hostile'))
    await buildPlugin(fixture('hostile-name'))
    const lib = buildPreloadLibrary()
    t.teardown(() => fs.rmSync(lib.dir, { recursive: true, force: true }))
    const read = (f: string) => fs.readFileSync(f, 'utf8')
    const pluginFiles = {
      'plugins/hostile/plugin.json': read(path.join(fixture('hostile'), 'plugin.json')),
      'plugins/hostile/dist/index.js': read(path.join(fixture('hostile'), 'dist/index.js')),
      'plugins/impostor/plugin.json': read(path.join(fixture('hostile-name'), 'plugin.json')),
      'plugins/impostor/dist/index.js': read(path.join(fixture('hostile-name'), 'dist/index.js')),
    }
    const server = (n: string) => `require('http').createServer((q,s)=>s.end('${n}')).listen(${SERVICE_PORT},'0.0.0.0')`
    const c = await AgentCluster.create({
      prefix: `mccs${process.pid}hp-`,
      nodes: 2,
      hb: (hb) => {
        hb.quorum = { twoNode: true }
      },
      files: () => pluginFiles,
      main: (_lab, nodes) => ({
        generation: 1,
        types: {},
        groups: [
          { name: 'web', nodes, failoverOnFailure: true, autoStart: true, autoFailback: false },
          { name: 'bad', nodes: ['n1'], failoverOnFailure: false, autoStart: true, autoFailback: false },
        ],
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
          ...ATTACKS.map((attack) => ({
            name: `evil-${attack}`,
            type: 'hostile',
            group: 'bad',
            critical: false,
            monitored: true,
            policy: { monitorIntervalS: 1, toleranceLimit: 1000, monitorTimeoutLimit: 1000 },
            attrs: { attack, mib: 100, preload: lib.so },
            nodeAttrs: {},
          })),
        ],
        dependencies: [],
      }),
    })
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) fs.writeFileSync(path.join(process.env.MCCS_DEBUG_LAB, `hostile-${n}.log`), await c.log(n))
      await c.destroy()
    })
    c.start()
    await until(
      async () => (await c.status('n1')).groups.find((g) => g.name === 'web')?.nodes.n1 === 'online' || undefined,
      60_000,
      'web online on n1',
    )
    await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1')
    await until(async () => (await c.status('n2')).membership?.role === 'follower' || undefined, 15_000, 'n2 following')

    // The attack runs from the start (the hostile resources' probes and monitors); watch it for ATTACK_S.
    const from = c.rounds.length
    const t0 = Date.now()
    let heardWorst = 0,
      rpcWorst = 0,
      samples = 0
    const n1Seen = new Set<string>()
    while (Date.now() - t0 < ATTACK_S * 1000) {
      const s2 = await c.status('n2')
      const peer = s2.membership?.peers.find((p) => p.node === 'n1')
      if (peer) {
        n1Seen.add(peer.up ? 'up' : 'down')
        for (const l of Object.values(peer.links)) if (l.lastHeardMs !== null) heardWorst = Math.max(heardWorst, l.lastHeardMs)
      }
      n1Seen.add(s2.nodes.find((n) => n.name === 'n1')?.membership ?? 'unknown')
      const r0 = performance.now()
      await c.status('n1')
      rpcWorst = Math.max(rpcWorst, performance.now() - r0)
      samples++
      await new Promise((r) => setTimeout(r, 200))
    }
    const rounds = c.rounds.slice(from)
    const figures = {
      samples,
      n1SeenByN2: [...n1Seen],
      lastHeardWorstMs: Math.round(heardWorst),
      n1StatusRpcWorstMs: Math.round(rpcWorst),
      probeRounds: rounds.length,
    }
    t.comment(`during ${ATTACK_S} s of attacks: ${JSON.stringify(figures)}`)

    t.same([...n1Seen].sort(), ['up'], 'n2 saw n1 up in every sample')
    t.ok(heardWorst < 600, `n2 never went a dead time without hearing n1 on a link (worst ${Math.round(heardWorst)} ms)`)
    t.ok(
      rounds.length > 100 && rounds.every((r) => r.who.join() === 'n1'),
      `the service answered from n1, and only n1, in all ${rounds.length} probe rounds`,
    )
    const log2 = await c.log('n2')
    t.notMatch(log2, /fenc(e|ing) n1/, 'n2 never fenced n1')
    const log1 = await c.log('n1')
    t.match(log1, /MCCS_ERR_PLUGIN_NAME_RESERVED/, 'n1 refused the impostor of the built-in process type')
    t.match(log1, /env\.LD_PRELOAD/, 'n1 refused the LD_PRELOAD attempt')
    t.notOk(fs.existsSync(lib.marker), 'the LD_PRELOAD library never loaded')
    t.match(log1, /MCCS_ERR_PLUGIN_LIMIT/, 'n1 names the plugin that went past its limits')
    const st1 = await c.status('n1')
    t.equal(st1.groups.find((g) => g.name === 'web')?.nodes.n1, 'online', 'web is still online on n1')
    t.equal(st1.nodes.find((n) => n.name === 'n2')?.membership, 'up', 'and n1 still has n2')
  })
}
