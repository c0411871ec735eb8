// The nic and address types in the real sandbox, with the real `net` capability running its commands
// inside a lab node's namespace (never the root namespace): DAD refusal naming who answered, the
// outbound modes as a peer sees them, virtual MAC, nothing left behind after offline, NIC faults.
import t, { type Test } from 'tap'
import path from 'node:path'
import { createLab, labAvailable, type Lab } from '../../scripts/lab/lab.js'
import { createTestHost, type TestHost } from '@mccs/plugin-kit/testing'
import { createNetProvider } from '../../core/plugins/caps/net.js'
import { PermissionSet } from '../../core/plugins/permissions.js'
import type { CallInfo } from '../../core/plugins/capabilities.js'

const root = path.resolve(new URL('.', import.meta.url).pathname, '../..')
const avail = await labAvailable()
const VIP = '10.80.0.100'

/** What must be equal before online and after offline. */
async function snapshot(lab: Lab, node: string): Promise<string> {
  const j = async (args: string[]) => JSON.parse((await lab.exec(node, ['ip', '-j', ...args])).stdout) as unknown
  // IPv6 link-local DAD may still finish in between: `tentative` is the kernel's progress, not our change.
  const addr = JSON.stringify(await j(['addr'])).replace(/"tentative":true,/g, '')
  return JSON.stringify({ addr, link: await j(['link']), route: await j(['route']), route6: await j(['-6', 'route']) })
}

/** The source address a peer (the client namespace) sees for a TCP connection opened from `node`. */
async function sourceSeenByPeer(lab: Lab, node: string): Promise<string> {
  const server = lab.spawn(
    'client',
    [process.execPath, '-e', "require('net').createServer((s)=>{s.end(s.remoteAddress)}).listen(18099,'0.0.0.0',()=>console.log('ready'))"],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  )
  try {
    await new Promise<void>((res) => server.stdout!.once('data', () => res()))
    const r = await lab.exec(node, [
      process.execPath,
      '-e',
      "const s=require('net').connect(18099,'10.80.0.250');let b='';s.on('data',(d)=>b+=d);s.on('end',()=>console.log(b))",
    ])
    return r.stdout.trim().replace(/^::ffff:/, '')
  } finally {
    server.kill('SIGKILL')
  }
}

async function host(t: Test, lab: Lab, node: string, plugin: 'address' | 'nic'): Promise<TestHost> {
  const h = await createTestHost({
    pluginDir: path.join(root, 'plugins', plugin),
    node,
    fakes: { providers: [createNetProvider({ netns: lab.ns(node) })] },
  })
  t.teardown(() => h.dispose())
  return h
}

if (!avail.ok) {
  t.test('network types in the lab', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  const lab = await createLab({ prefix: `mccs${process.pid}nh-`, nodes: 2, links: 1, client: true })
  t.teardown(() => lab.destroy())
  // Let IPv6 link-local DAD settle so snapshots compare what we change, not the kernel's progress.
  await new Promise((r) => setTimeout(r, 2500))

  t.test('capability edge: permissions and arguments are checked, errors name the field', async (t) => {
    const p = createNetProvider({ netns: lab.ns('n1') })
    const call = (perms: string[]): CallInfo => ({
      plugin: 'x',
      resource: 'r',
      node: 'n1',
      hook: 'online',
      attrs: {},
      permissions: new PermissionSet(perms),
      signal: new AbortController().signal,
      deadline: Date.now() + 5000,
      log: { debug() {}, info() {}, warn() {}, error() {} },
      paths: { home: '/', scripts: '/' },
    })
    t.equal(p.methods.addAddress!.authorize([], call(['net:read'])), 'net:write')
    t.equal(p.methods.links!.authorize([], call([])), 'net:read')
    await t.rejects(p.methods.addAddress!.run([{ iface: 'eth0;id', address: '10.80.0.5/24' }], call(['net:write'])), {
      code: 'MCCS_ERR_CAPABILITY_ARGS',
      field: 'net.addAddress: iface',
    })
    await t.rejects(p.methods.addAddress!.run([{ iface: 'eth0', address: '10.80.0.5' }], call(['net:write'])), {
      code: 'MCCS_ERR_CAPABILITY_ARGS',
      field: 'net.addAddress: address',
    })
    await t.rejects(p.methods.setMac!.run([{ iface: 'eth0', mac: '01:00:5e:00:00:01' }], call(['net:write'])), {
      code: 'MCCS_ERR_CAPABILITY_ARGS',
      field: 'net.setMac: mac',
    })
    await t.rejects(p.methods.probe!.run([{ iface: 'eth0', address: 'fd00::1' }], call(['net:read'])), {
      code: 'MCCS_ERR_CAPABILITY_ARGS',
      field: 'net.probe: address',
    })
    const links = (await p.methods.links!.run([], call(['net:read']))) as { name: string; carrier: boolean }[]
    t.same(links.map((l) => l.name).sort(), ['eth0', 'lo'], "the namespace's links, not the root namespace's")
    const ping = (await p.methods.ping!.run([{ host: '10.80.0.250', timeoutMs: 1000 }], call(['net:read']))) as { reachable: boolean }
    t.equal(ping.reachable, true)
    const dead = (await p.methods.ping!.run([{ host: '10.80.0.77', timeoutMs: 300 }], call(['net:read']))) as { reachable: boolean }
    t.equal(dead.reachable, false)
  })

  t.test('nic: discover lists adapters with addresses; lo refused; link down faults; dead hosts fault', async (t) => {
    const h = await host(t, lab, 'n1', 'nic')
    const d = await h.call('discover', { args: ['device', {}] })
    t.same(d.choices, [{ value: 'eth0', label: 'eth0 / 10.80.0.1/24' }])
    const v = await h.call('validate', { attrs: { device: 'lo' }, args: [{ perNode: { n1: { device: 'lo' }, n2: { device: 'eth0' } } }] })
    t.equal(v.answer, 'invalid')
    t.equal(v.diagnostics?.[0]?.path, '/nodes/n1/device')
    const v2 = await h.call('validate', { args: [{ perNode: { n1: { device: 'eth9' } } }] })
    t.match(v2.diagnostics?.[0]?.summary, /no network adapter 'eth9' on n1/)
    t.equal((await h.call('monitor', { attrs: { device: 'eth0' } })).answer, 'notRunning', 'not online here yet')
    t.equal((await h.call('online', { attrs: { device: 'eth0' } })).answer, 'ok')
    t.equal((await h.call('monitor', { attrs: { device: 'eth0', hosts: ['10.80.0.250'] } })).answer, 'ok')
    const sw = await h.call('monitor', { attrs: { device: 'eth0', hosts: ['10.80.0.77', '10.80.0.78'], pingTimeoutMs: 300 } })
    t.equal(sw.answer, 'failed')
    t.match(sw.reason, /none of 10.80.0.77, 10.80.0.78 answered/)
    await lab.linkDown('n1', 0)
    try {
      const m = await h.call('monitor', { attrs: { device: 'eth0' } })
      t.equal(m.answer, 'failed')
      t.equal(m.recoverable, false)
      t.match(m.reason, /eth0 is administratively down/)
      const on = await h.call('online', { attrs: { device: 'eth0' } })
      t.equal(on.answer, 'failed', 'online refuses a dead link')
    } finally {
      await lab.linkUp('n1', 0)
    }
    const absent = await h.call('online', { attrs: { device: 'eth7' } })
    t.equal(absent.answer, 'failed')
    t.match(absent.reason, /no network adapter 'eth7' on n1/)
    t.equal((await h.call('offline', { attrs: { device: 'eth0' } })).answer, 'ok')
  })

  for (const [outbound, expectSource] of [
    ['None', '10.80.0.1'],
    ['SkipAsSource', '10.80.0.1'],
    ['Replacement', VIP],
  ] as const) {
    t.test(`address, outbound ${outbound}: a peer sees ${expectSource}; offline leaves nothing behind`, async (t) => {
      const h = await host(t, lab, 'n1', 'address')
      const attrs = { address: `${VIP}/24`, nic: 'eth0', outbound }
      const before = await snapshot(lab, 'n1')
      const on = await h.call('online', { attrs })
      t.equal(on.answer, 'ok', on.reason ?? '')
      const again = await h.call('online', { attrs })
      t.equal(again.answer, 'ok', `online twice is fine: ${again.reason}`)
      t.equal((await h.call('monitor', { attrs })).answer, 'ok')
      t.equal((await lab.exec('client', ['ping', '-c', '1', '-W', '1', VIP], { check: false })).code, 0, 'the client reaches the VIP')
      t.equal(await sourceSeenByPeer(lab, 'n1'), expectSource)
      const addrs = (await lab.exec('n1', ['ip', '-j', 'addr', 'show', 'eth0'])).stdout
      if (outbound === 'Replacement') t.notMatch(addrs, /"10\.80\.0\.1"/, "the NIC's own address is gone while online")
      if (outbound === 'SkipAsSource') t.match(addrs, /"local":"10\.80\.0\.100",[^}]*"deprecated":true,"noprefixroute":true/)
      const off = await h.call('offline', { attrs })
      t.equal(off.answer, 'ok', off.reason ?? '')
      const off2 = await h.call('offline', { attrs })
      t.equal(off2.answer, 'ok', `offline twice is fine: ${off2.reason}`)
      t.equal((await h.call('monitor', { attrs })).answer, 'notRunning')
      t.equal(await snapshot(lab, 'n1'), before, 'ip -j addr/link/route equal what they were before online')
    })
  }

  t.test("address, IPv6: the kernel's DAD completes before online answers; offline leaves nothing behind", async (t) => {
    const h = await host(t, lab, 'n1', 'address')
    const attrs = { address: 'fd00:80::100/64', nic: 'eth0' }
    const before = await snapshot(lab, 'n1')
    const on = await h.call('online', { attrs, timeoutMs: 10_000 })
    t.equal(on.answer, 'ok', on.reason ?? '')
    const a = (
      JSON.parse((await lab.exec('n1', ['ip', '-j', '-6', 'addr', 'show', 'eth0'])).stdout) as {
        addr_info: { local: string; tentative?: boolean }[]
      }[]
    )[0]!.addr_info.find((x) => x.local === 'fd00:80::100')
    t.ok(a && !a.tentative, 'usable (not tentative) when online answers')
    t.equal((await h.call('monitor', { attrs })).answer, 'ok')
    t.equal((await h.call('offline', { attrs })).answer, 'ok')
    t.equal(await snapshot(lab, 'n1'), before)
  })

  t.test("address, IPv6 moved to another node: the client's neighbour cache follows the kernel's unsolicited NA", async (t) => {
    // The client reaches the VIP on n1, the VIP moves to n2; without an announcement the client keeps
    // n1's MAC (checked against the kernel's default in docs/network.md).
    await lab.exec('client', ['ip', '-6', 'addr', 'add', 'fd00:80::250/64', 'dev', 'eth0', 'nodad'])
    t.teardown(() => lab.exec('client', ['ip', '-6', 'addr', 'del', 'fd00:80::250/64', 'dev', 'eth0']))
    const vip = 'fd00:80::101'
    const attrs = { address: `${vip}/64`, nic: 'eth0' }
    const mac = async (n: string) =>
      (JSON.parse((await lab.exec(n, ['ip', '-j', 'link', 'show', 'eth0'])).stdout) as { address: string }[])[0]!.address
    const neigh = async () =>
      (JSON.parse((await lab.exec('client', ['ip', '-j', '-6', 'neigh', 'show', vip, 'dev', 'eth0'])).stdout) as { lladdr?: string }[])[0]
        ?.lladdr
    const h1 = await host(t, lab, 'n1', 'address')
    const h2 = await host(t, lab, 'n2', 'address')
    const on1 = await h1.call('online', { attrs, timeoutMs: 10_000 })
    t.equal(on1.answer, 'ok', on1.reason ?? '')
    t.match(on1.reason, /announced (by the kernel|with ndisend)/)
    t.equal((await lab.exec('client', ['ping', '-6', '-c', '1', '-W', '2', vip])).code, 0, 'the client reaches the VIP on n1')
    t.equal(await neigh(), await mac('n1'), "the client's cache holds n1's MAC")
    t.equal((await h1.call('offline', { attrs })).answer, 'ok')
    const on2 = await h2.call('online', { attrs, timeoutMs: 10_000 })
    t.equal(on2.answer, 'ok', on2.reason ?? '')
    // The NA leaves when DAD completes, before online answers; give the client a moment to process it.
    const end = Date.now() + 2000
    while ((await neigh()) !== (await mac('n2')) && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
    t.equal(await neigh(), await mac('n2'), "the client's cache now holds n2's MAC, with no ping and no flush")
    t.equal((await h2.call('offline', { attrs })).answer, 'ok')
  })

  t.test('address with a virtual MAC: set while online, the original back after offline, even from state alone', async (t) => {
    const h = await host(t, lab, 'n1', 'address')
    const gen = await h.call('discover', { args: ['virtualMac', {}] })
    const mac = gen.choices![0]!.value
    t.match(mac, /^48-88-03-[0-9A-F]{2}-[0-9A-F]{2}-[0-9A-F]{2}$/)
    const attrs = { address: `${VIP}/24`, nic: 'eth0', virtualMac: mac }
    const before = await snapshot(lab, 'n1')
    t.equal((await h.call('online', { attrs })).answer, 'ok')
    const link = JSON.parse((await lab.exec('n1', ['ip', '-j', 'link', 'show', 'eth0'])).stdout)[0]
    t.equal(link.address, mac.toLowerCase().replace(/-/g, ':'))
    await lab.exec('client', ['ping', '-c', '1', '-W', '1', VIP])
    const neigh = (await lab.exec('client', ['ip', 'neigh', 'show', VIP])).stdout
    t.match(neigh, mac.toLowerCase().replace(/-/g, ':'), 'the client resolves the VIP to the virtual MAC')
    // A new host (as after an agent restart) knows only what the state store says.
    const h2 = await host(t, lab, 'n1', 'address')
    h2.state.set('r1', { ...h.state.get('r1') })
    t.equal((await h2.call('offline', { attrs })).answer, 'ok')
    t.equal(await snapshot(lab, 'n1'), before)
  })

  t.test('duplicate address: a VIP squatted by another namespace is refused, naming who answered', async (t) => {
    await lab.exec('n2', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0'])
    t.teardown(() => lab.exec('n2', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0'], { check: false }))
    const n2mac = JSON.parse((await lab.exec('n2', ['ip', '-j', 'link', 'show', 'eth0'])).stdout)[0].address as string
    const h = await host(t, lab, 'n1', 'address')
    const before = await snapshot(lab, 'n1')
    const r = await h.call('online', { attrs: { address: `${VIP}/24`, nic: 'eth0' } })
    t.equal(r.answer, 'failed')
    t.equal(r.recoverable, false)
    t.match(r.reason, new RegExp(`address conflict: ${VIP.replace(/\./g, '\\.')} .*answered by ${VIP.replace(/\./g, '\\.')} at ${n2mac}`))
    t.same(r.data?.conflict, [{ ip: VIP, mac: n2mac }])
    t.equal(await snapshot(lab, 'n1'), before, 'nothing was changed on n1')
  })

  t.test('address validation names the node and the field', async (t) => {
    const h = await host(t, lab, 'n1', 'address')
    const v = await h.call('validate', {
      args: [{ perNode: { n1: { address: '10.80.0.1/24', nic: 'eth0' }, n2: { address: '10.80.0.300/24', nic: 'eth0' } } }],
    })
    t.equal(v.answer, 'invalid')
    t.same(
      v.diagnostics?.map((d) => d.path),
      ['/nodes/n2/address'],
    )
    const own = await h.call('validate', { args: [{ perNode: { n1: { address: '10.80.0.1/24', nic: 'eth0' } } }] })
    t.match(own.diagnostics?.[0]?.summary, /already a fixed address of n1/)
    const mac = await h.call('validate', {
      args: [{ perNode: { n1: { address: `${VIP}/24`, nic: 'eth0', virtualMac: '49-88-03-00-00-01', outbound: 'Both' } } }],
    })
    t.same(mac.diagnostics?.map((d) => d.path).sort(), ['/nodes/n1/outbound', '/nodes/n1/virtualMac'])
  })
}
