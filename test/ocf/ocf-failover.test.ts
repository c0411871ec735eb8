// Debian's OCF agents as MCCS resources in the network-namespace lab (issue 20, acceptance 1): a group
// og = ocf:heartbeat:Dummy <- ocf:heartbeat:IPaddr2 (a VIP in the lab subnet, inside the namespaces only)
// <- a process answering on the VIP. A client asks the VIP every 10 ms. kill -9 of the active node (every
// process in its namespace) moves the group: IPaddr2 brings the address up on n2 and the client's next
// answers come from n2 (the gratuitous ARP of IPaddr2's send_arp moves the client's ARP cache). Then a
// monitor answering 7 (Dummy's state file removed) restarts Dummy in place.
import t from 'tap'
import { type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, SERVICE_PORT, until } from '../../scripts/lab/agent-cluster.js'

const VIP = '10.80.0.123'
const avail = await labAvailable()
const why = !avail.ok
  ? `network-namespace lab unavailable: ${avail.reason}`
  : !existsSync('/usr/lib/ocf/resource.d/heartbeat/IPaddr2')
    ? "Debian's resource-agents is not installed (scripts/test-deps.sh)"
    : null

if (why) {
  t.test('ocf agents fail over in the lab', { skip: why }, async () => {})
} else {
  t.test('ocf:heartbeat:Dummy and ocf:heartbeat:IPaddr2 run and fail over on kill -9 of the active node', async (t) => {
    const prefix = `mccs${process.pid}o-`
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'mccs-ocf-lab-'))
    // The lab's nodes share one filesystem: each node's Dummy keeps its state file apart (a node's
    // params replace the global ones whole, so each node's object is complete).
    const dummyState = (n: string) => path.join(stateDir, `${n}.state`)
    const server = (n: string) => `require('http').createServer((q,s)=>s.end('${n}')).listen(${SERVICE_PORT},'0.0.0.0')`
    // Fencing is a power-off: every process of the node killed and its links down, so its kernel stops
    // answering for the VIP (a killed node's namespace would otherwise keep the address).
    const fence = `#!/bin/sh\nns="${prefix}$2"\ncase "$1" in\n  fence) for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null || true; done\n    ip -n "$ns" link set eth0 down; ip -n "$ns" link set eth1 down ;;\n  status) [ -z "$(ip netns pids "$ns")" ] ;;\nesac\n`
    const c = await AgentCluster.create({
      prefix,
      nodes: 3,
      files: () => ({ 'script/fence-lab.sh': fence }),
      main: (_lab, nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'og', nodes: ['n1', 'n2'], failoverOnFailure: true, autoStart: true, autoFailback: false }],
        resources: [
          {
            name: 'dummy',
            type: 'ocf',
            group: 'og',
            critical: true,
            monitored: true,
            policy: { monitorIntervalS: 2, restartLimit: 1 },
            attrs: { agent: 'heartbeat:Dummy' },
            nodeAttrs: Object.fromEntries(nodes.map((n) => [n, { params: { state: dummyState(n) } }])),
          },
          {
            name: 'vip',
            type: 'ocf',
            group: 'og',
            critical: true,
            monitored: true,
            policy: { monitorIntervalS: 2 },
            attrs: { agent: 'ocf:heartbeat:IPaddr2', params: { ip: VIP, cidr_netmask: 24, nic: 'eth0', arp_count: 3 } },
          },
          {
            name: 'svc',
            type: 'process',
            group: 'og',
            critical: true,
            monitored: true,
            policy: { monitorIntervalS: 2 },
            attrs: { argv: [process.execPath, '-e', server('x')], stopGraceS: 1 },
            nodeAttrs: Object.fromEntries(nodes.map((n) => [n, { argv: [process.execPath, '-e', server(n)] }])),
          },
        ],
        dependencies: [
          { parent: 'vip', child: 'dummy' },
          { parent: 'svc', child: 'vip' },
        ],
      }),
    })
    let prober: ChildProcess | undefined
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `ocf-${n}.log`), await c.log(n))
      prober?.kill('SIGKILL')
      await c.destroy()
      await rm(stateDir, { recursive: true, force: true })
      await rm(`/run/resource-agents/send_arp-${VIP}`, { force: true })
    })
    c.start()
    const rounds: Array<{ at: number; who: string | null }> = []
    const probe = `const http=require('http');
      const ask=()=>new Promise((r)=>{const q=http.get({host:'${VIP}',port:${SERVICE_PORT},timeout:200,agent:false},(s)=>{let b='';s.on('data',(d)=>b+=d);s.on('end',()=>r(b))});q.on('error',()=>r(null));q.on('timeout',()=>{q.destroy();r(null)})});
      (async()=>{for(;;){const at=Date.now();const w=await ask();process.stdout.write(JSON.stringify({at,who:w})+'\\n');await new Promise((r)=>setTimeout(r,10))}})()`
    prober = c.lab.spawn('client', [process.execPath, '-e', probe], { stdio: ['ignore', 'pipe', 'ignore'] })
    createInterface({ input: prober.stdout! }).on('line', (l) => {
      try {
        rounds.push(JSON.parse(l) as { at: number; who: string | null })
      } catch {
        /* partial */
      }
    })

    const res = async (on: string, r: string, node: string) =>
      (await c.status(on)).groups[0]?.resources.find((x) => x.name === r)?.nodes[node]
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'og online on n1').catch(
      async (e) => {
        t.comment(JSON.stringify((await c.status('n1').catch(() => null))?.groups))
        t.comment(
          (await c.log('n1'))
            .split('\n')
            .filter((l) => /ocf|"level":[45]0/.test(l))
            .slice(-30)
            .join('\n'),
        )
        throw e
      },
    )
    t.match(await res('n1', 'dummy', 'n1'), { state: 'online' }, 'Dummy online on n1')
    t.ok(existsSync(dummyState('n1')), "n1's Dummy state file (its own params)")
    t.notOk(existsSync(dummyState('n2')), "n2's Dummy not started")
    const addrs = async (n: string) => (await c.lab.exec(n, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout
    t.match(await addrs('n1'), new RegExp(`inet ${VIP.replace(/\./g, '\\.')}/24`), 'IPaddr2 put the VIP on n1')
    t.notMatch(await addrs('n2'), new RegExp(VIP.replace(/\./g, '\\.')), 'and not on n2')
    await until(async () => rounds.at(-1)?.who === 'n1' || undefined, 15_000, 'the VIP answering from n1')

    const from = rounds.length
    const t0 = Date.now()
    await c.killNode('n1')
    const back = await until(
      async () => rounds.slice(from).find((r) => r.at > t0 && r.who === 'n2'),
      60_000,
      'the VIP answering from n2',
    ).catch(async (e) => {
      t.comment(JSON.stringify((await c.status('n2').catch(() => null))?.groups))
      t.comment(
        (await c.log('n2'))
          .split('\n')
          .filter((l) => /ocf|fence|"level":[45]0/.test(l))
          .slice(-30)
          .join('\n'),
      )
      throw e
    })
    t.pass(`kill -9 of n1 to the first answer from the VIP on n2: ${back.at - t0} ms`)
    await until(async () => (await c.status('n2')).groups[0]?.nodes.n2 === 'online' || undefined, 30_000, 'og online on n2')
    t.match(await res('n2', 'dummy', 'n2'), { state: 'online' }, 'Dummy online on n2')
    t.match(await res('n2', 'vip', 'n2'), { state: 'online' }, 'IPaddr2 online on n2')
    t.ok(existsSync(dummyState('n2')), "n2's Dummy started with n2's params")
    t.match(await addrs('n2'), new RegExp(`inet ${VIP.replace(/\./g, '\\.')}/24`), 'IPaddr2 put the VIP on n2')
    const n2mac = JSON.parse((await c.lab.exec('n2', ['ip', '-j', 'link', 'show', 'eth0'])).stdout)[0].address as string
    const neigh = JSON.parse((await c.lab.exec('client', ['ip', '-j', 'neigh', 'show', VIP, 'dev', 'eth0'])).stdout || '[]') as Array<{
      lladdr?: string
    }>
    t.equal(neigh[0]?.lladdr?.toLowerCase(), n2mac.toLowerCase(), "the client's ARP cache points the VIP at n2")
    // Monitors keep passing on n2 (the recurring monitor of both agents, not a probe).
    await new Promise((r) => setTimeout(r, 5000))
    t.equal((await c.status('n2')).groups[0]?.nodes.n2, 'online', 'still online on n2 after a few monitors')
    t.equal(rounds.filter((r) => r.at > back.at && r.who && r.who !== 'n2').length, 0, 'only n2 answered afterwards')

    // Dummy's state file removed behind its back: its monitor exits 7 (not running), a soft failure, and
    // MCCS restarts it in place (restartLimit 1): stop, start — the agent makes its file again.
    await rm(dummyState('n2'))
    const restarted = await until(
      async () => {
        const s = await res('n2', 'dummy', 'n2')
        return s?.state === 'online' && s.restarts === 1 ? s : undefined
      },
      30_000,
      'Dummy restarted on n2',
    )
    t.match(restarted, { state: 'online', restarts: 1 }, 'a monitor answering 7 restarted Dummy in place')
    t.ok(existsSync(dummyState('n2')), 'the restarted agent made its state file again')
    // Its dependants (IPaddr2, the service) restart with it: the group is whole on n2 again, the VIP answering from n2.
    await until(async () => (await c.status('n2')).groups[0]?.nodes.n2 === 'online' || undefined, 30_000, 'og online on n2 again')
    const after = rounds.length
    await until(async () => rounds.slice(after).find((r) => r.who === 'n2'), 15_000, 'the VIP answering from n2 after the restart')
    t.pass('the group is online on n2 again and the VIP answers from n2')
  })
}
