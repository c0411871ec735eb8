// The configuration warnings the CLI prints after an edit (core/config/order-warnings.ts) are in the REST
// answers of the console's add, link and edit routes, and documented in the OpenAPI document (issue 18, What 7).
import t from 'tap'
import { harness, readyClient } from './api-helpers.js'

t.test('add, link and edit answer the configuration warnings; none once the group follows the manual', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const g = await c.req('POST', '/api/groups', { name: 'web', nodes: ['n1'], autoStart: false })
  t.equal(g.status, 200, JSON.stringify(g.body))
  t.same(g.body.warnings, [], 'a group alone: no warning')

  // The address first, before its NIC: the manual's order is address -> nic.
  const vip = await c.req('POST', '/api/resources', {
    name: 'vip',
    type: 'address',
    group: 'web',
    attrs: { address: '192.0.2.10/24' },
    nodeAttrs: { n1: { nic: 'eth0' } },
  })
  t.equal(vip.status, 200, JSON.stringify(vip.body))
  t.equal(vip.body.warnings.length, 1, JSON.stringify(vip.body.warnings))
  t.equal(vip.body.warnings[0].resource, 'vip')
  t.equal(vip.body.warnings[0].field, 'main.json#/resources/0')
  t.match(vip.body.warnings[0].message, /does not depend on a nic resource of group 'web'.*address -> nic/)

  // The NIC on another device, then the link: the order is right, the device is not.
  const nic = await c.req('POST', '/api/resources', {
    name: 'public',
    type: 'nic',
    group: 'web',
    attrs: {},
    nodeAttrs: { n1: { device: 'eth1' } },
  })
  t.equal(nic.status, 200, JSON.stringify(nic.body))
  t.same(
    nic.body.warnings.map((w: { resource: string }) => w.resource),
    ['vip'],
  )
  const link = await c.req('POST', '/api/dependencies', { parent: 'vip', child: 'public' })
  t.equal(link.status, 200, JSON.stringify(link.body))
  t.equal(link.body.warnings.length, 1, JSON.stringify(link.body.warnings))
  t.match(link.body.warnings[0].message, /address 'vip' is on network card 'eth0' on n1 where nic 'public' has device 'eth1'/)

  const fixed = await c.req('PATCH', '/api/resources/public', { nodeAttrs: { n1: { device: 'eth0' } } })
  t.equal(fixed.status, 200, JSON.stringify(fixed.body))
  t.same(fixed.body.warnings, [], 'no warning once the address sits on the NIC it depends on')

  // Unlinking brings the order warning back: every configuration change answers the warnings in force.
  const unlink = await c.req('DELETE', '/api/dependencies/vip/public')
  t.equal(unlink.status, 200)
  t.match(unlink.body.warnings[0]?.message, /address -> nic/)

  // The CLI's edit of the same agent prints the same warnings (one source).
  const cli = await h.ta.cli('resource', 'link', 'vip', 'public')
  t.equal(cli.code, 0, cli.err)
  t.equal(cli.err, '', 'linked in the manual order: the CLI warns of nothing')
  const cliWrong = await h.ta.cli('resource', 'edit', 'public', '--node-attr', 'n1:device=eth1')
  t.equal(cliWrong.code, 0, cliWrong.err)
  t.match(cliWrong.err, /warning: vip: address 'vip' is on network card 'eth0' on n1 where nic 'public' has device 'eth1'/)
})

t.test('the OpenAPI document describes the warnings of the configuration answers', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const doc = (await c.req('GET', '/api/openapi.json')).body
  for (const [p, m] of [
    ['/api/groups', 'post'],
    ['/api/groups/{group}', 'patch'],
    ['/api/groups/{group}', 'delete'],
    ['/api/resources', 'post'],
    ['/api/resources/{resource}', 'patch'],
    ['/api/resources/{resource}', 'delete'],
    ['/api/dependencies', 'post'],
    ['/api/dependencies/{parent}/{child}', 'delete'],
  ] as const) {
    const schema = doc.paths[p]?.[m]?.responses?.['200']?.content?.['application/json']?.schema
    t.ok(schema, `${m} ${p}: the 200 answer has a schema`)
    t.ok(schema?.required?.includes('warnings'), `${m} ${p}: warnings is always answered`)
    t.same(
      Object.keys(schema?.properties?.warnings?.items?.properties ?? {}).sort(),
      ['field', 'link', 'message', 'resource'],
      `${m} ${p}: a warning's fields`,
    )
  }
})
