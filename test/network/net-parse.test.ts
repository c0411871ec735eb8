// Parsing of `ip -j` output and the edge checks of the net capability's arguments (pure).
import t from 'tap'
import { parseAddresses, parseLinks, parseRoutes, addAddressArgs, addRouteArgs, badRouteField } from '../../core/plugins/caps/net-ip.js'
import { parseArpReplies, parsePingRtt, pingArgs } from '../../core/plugins/caps/net-arp.js'
import { isInterfaceName, isUnicastMac, normalizeMac, parseIpCidr, parseIp, parseIPv6, sameIp, sameSubnet } from '../../sdk/src/caps-net.js'
import { generateVirtualMac } from '../../plugins/address/src/attrs.js'

// Captured from iproute2 6.1 in a lab namespace.
const LINK =
  '[{"ifindex":2,"link_index":3,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","link_type":"ether","address":"3E:4c:04:0e:da:51","linkinfo":{"info_kind":"veth"}},' +
  '{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"operstate":"UNKNOWN","link_type":"loopback","address":"00:00:00:00:00:00"},' +
  '{"ifindex":4,"ifname":"eth2","flags":["BROADCAST","MULTICAST","SLAVE","UP"],"mtu":1500,"operstate":"DOWN","link_type":"ether","address":"aa:bb:cc:dd:ee:01","master":"bond0","linkinfo":{"info_slave_kind":"bond"}}]'
const ADDR =
  '[{"ifindex":2,"ifname":"eth0","addr_info":[{"family":"inet","local":"10.80.0.1","prefixlen":24,"scope":"global","label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295},' +
  '{"family":"inet","local":"10.80.0.101","prefixlen":24,"scope":"global","secondary":true,"deprecated":true,"noprefixroute":true,"label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295},' +
  '{"family":"inet6","local":"fe80::3c4c:4ff:fe0e:da51","prefixlen":64,"scope":"link","tentative":true,"valid_life_time":4294967295,"preferred_life_time":4294967295}]}]'
const ROUTE =
  '[{"dst":"10.80.0.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.80.0.1","flags":[]},{"dst":"default","gateway":"10.80.0.254","dev":"eth0","metric":100,"flags":[]}]'

t.test('links: up, carrier, kind, bonding slave, loopback', async (t) => {
  const [eth0, lo, eth2] = parseLinks(LINK)
  t.match(eth0, { name: 'eth0', index: 2, mac: '3e:4c:04:0e:da:51', up: true, carrier: true, kind: 'veth', loopback: false })
  t.match(lo, { name: 'lo', mac: null, loopback: true })
  t.match(eth2, { up: true, carrier: false, master: 'bond0', slaveKind: 'bond' })
  t.same(parseLinks(''), [])
  t.throws(() => parseLinks('Device "x" does not exist.'), /not JSON/)
})

t.test('addresses: flags and lifetimes', async (t) => {
  const a = parseAddresses(ADDR)
  t.equal(a.length, 3)
  t.match(a[0], { iface: 'eth0', family: 4, cidr: '10.80.0.1/24', secondary: false, deprecated: false, validLft: null })
  t.match(a[1], { secondary: true, deprecated: true, noprefixroute: true })
  t.match(a[2], { family: 6, scope: 'link', tentative: true })
})

t.test('routes and their re-add argv', async (t) => {
  const r = parseRoutes(ROUTE, 4)
  t.same(r[1], { family: 4, dst: 'default', gateway: '10.80.0.254', dev: 'eth0', metric: 100 })
  t.same(addRouteArgs(r[1]!), ['-4', 'route', 'add', 'default', 'via', '10.80.0.254', 'dev', 'eth0', 'metric', '100'])
  t.same(addRouteArgs(r[0]!), ['-4', 'route', 'add', '10.80.0.0/24', 'dev', 'eth0', 'proto', 'kernel', 'scope', 'link', 'src', '10.80.0.1'])
  t.equal(badRouteField(r[0]), null)
  t.equal(badRouteField({ family: 4, dst: '10.0.0.0/8', dev: 'eth0; rm' }), 'dev')
  t.equal(badRouteField({ family: 4, dst: 'fd00::/8' }), 'dst')
  t.equal(badRouteField({ family: 4, dst: 'default', gateway: 'x' }), 'gateway')
})

t.test('addAddress argv: SkipAsSource is noprefixroute + preferred_lft 0; nodad only for IPv6', async (t) => {
  t.same(addAddressArgs({ iface: 'eth0', address: '10.80.0.100/24', nodad: true, noprefixroute: true, deprecated: true }), [
    '-4',
    'addr',
    'add',
    '10.80.0.100/24',
    'dev',
    'eth0',
    'noprefixroute',
    'preferred_lft',
    '0',
  ])
  t.same(addAddressArgs({ iface: 'eth0', address: 'fd00::10/64', nodad: true }), [
    '-6',
    'addr',
    'add',
    'fd00::10/64',
    'dev',
    'eth0',
    'nodad',
  ])
})

t.test('arping and ping output', async (t) => {
  t.same(
    parseArpReplies('ARPING 10.80.0.100 from 0.0.0.0 eth0\nUnicast reply from 10.80.0.100 [3E:4C:04:0E:DA:51]  0.548ms\nSent 1 probes\n'),
    [{ ip: '10.80.0.100', mac: '3e:4c:04:0e:da:51' }],
  )
  t.same(parseArpReplies('Sent 1 probes (1 broadcast(s))\nReceived 0 response(s)\n'), [])
  t.equal(parsePingRtt('64 bytes from 10.80.0.100: icmp_seq=1 ttl=64 time=0.116 ms'), 0.116)
  t.equal(parsePingRtt('1 packets transmitted, 0 received'), null)
  t.same(pingArgs('10.0.0.1', 300, 'eth0'), ['-n', '-c', '1', '-W', '1', '-I', 'eth0', '10.0.0.1'])
})

t.test('edge checks: interface names, IPs, CIDRs, MACs', async (t) => {
  for (const ok of ['eth0', 'bond0.100', 'enp0s31f6', 'veth@x']) t.ok(isInterfaceName(ok), ok)
  for (const bad of ['', 'a'.repeat(16), 'eth0;id', 'eth 0', '../x', '.', 'a/b', 5]) t.notOk(isInterfaceName(bad), String(bad))
  t.same(parseIpCidr('10.80.0.100/24'), { family: 4, address: '10.80.0.100', prefixLength: 24, cidr: '10.80.0.100/24' })
  for (const bad of ['10.80.0.100', '10.80.0.256/24', '10.80.0.1/33', '010.1.1.1/8', 'fd00::1/129', 'x/24', '10.80.0.1/024'])
    t.equal(parseIpCidr(bad), null, bad)
  t.equal(parseIpCidr('FD00::10/64')?.address, 'fd00::10')
  t.same(parseIPv6('::ffff:10.0.0.1'), [0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001])
  t.equal(parseIPv6('1::2::3'), null)
  t.equal(parseIp('1:2:3:4:5:6:7:8:9'), null)
  t.ok(sameIp('fd00::1', 'fd00:0:0::1'))
  t.ok(sameSubnet('10.80.0.1', '10.80.0.100', 24))
  t.notOk(sameSubnet('10.80.0.1', '10.81.0.100', 24))
  t.ok(sameSubnet('fd00::1', 'fd00::ff:1', 64))
  t.equal(normalizeMac('48-88-03-5E-EA-BB'), '48:88:03:5e:ea:bb')
  t.equal(normalizeMac('48:88:03:5e:ea'), null)
  t.ok(isUnicastMac('48:88:03:5e:ea:bb'))
  t.notOk(isUnicastMac('01:00:5e:00:00:01'), 'multicast')
  t.notOk(isUnicastMac('00:00:00:00:00:00'))
})

t.test('Generate: 48-88-03-XX-XX-XX, random, unicast', async (t) => {
  const seen = new Set<string>()
  for (let i = 0; i < 50; i++) {
    const m = generateVirtualMac()
    t.match(m, /^48-88-03-[0-9A-F]{2}-[0-9A-F]{2}-[0-9A-F]{2}$/)
    t.ok(isUnicastMac(m))
    seen.add(m)
  }
  t.ok(seen.size > 45, `${seen.size} distinct of 50`)
})
