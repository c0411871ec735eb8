// The self-fence order: what a node that lost quorum takes offline by itself, and in which order.
// An ordering decision, so the engine makes it (pure); the agent only runs it.

import t from 'tap'
import { selfFenceOrder } from '../../core/engine/index.js'
import type { MainConfig, ResourceConfig } from '../../core/engine/model.js'

const res = (name: string, group: string): ResourceConfig => ({
  name,
  type: 'x',
  group,
  critical: true,
  attrs: {},
  nodeAttrs: {},
  policy: {},
  monitored: true,
})
const group = (name: string, nodes: string[]) => ({ name, nodes, failoverOnFailure: true, autoStart: false, autoFailback: false })

// web: nic <- address <- process (process depends on address, address on nic), plus a lone log shipper.
// db: on n2 and n3 only. tools: on n1, no dependencies.
const config: MainConfig = {
  generation: 1,
  groups: [group('web', ['n1', 'n2']), group('db', ['n2', 'n3']), group('tools', ['n1'])],
  resources: [
    res('nic', 'web'),
    res('process', 'web'),
    res('address', 'web'),
    res('shipper', 'web'),
    res('disk', 'db'),
    res('pg', 'db'),
    res('cron', 'tools'),
    res('backup', 'tools'),
  ],
  dependencies: [
    { parent: 'process', child: 'address' },
    { parent: 'address', child: 'nic' },
    { parent: 'pg', child: 'disk' },
  ],
  types: {},
}

t.test('a node takes only the groups that list it offline, each parents before children', async (t) => {
  t.same(selfFenceOrder(config, 'n1'), [
    { group: 'web', resources: ['shipper', 'process', 'address', 'nic'] },
    { group: 'tools', resources: ['cron', 'backup'] },
  ])
  t.same(selfFenceOrder(config, 'n3'), [{ group: 'db', resources: ['pg', 'disk'] }])
  t.same(selfFenceOrder(config, 'n9'), [], 'a node no group lists has nothing to take offline')
})

t.test('every dependency is honoured: a parent goes offline before each of its children', async (t) => {
  for (const node of ['n1', 'n2', 'n3']) {
    for (const { resources } of selfFenceOrder(config, node)) {
      for (const d of config.dependencies) {
        if (!resources.includes(d.parent)) continue
        t.ok(resources.indexOf(d.parent) < resources.indexOf(d.child), `${node}: ${d.parent} before ${d.child}`)
      }
    }
  }
})

t.test('the order is the reverse of the online order, and does not depend on the listing order', async (t) => {
  const shuffled: MainConfig = { ...config, resources: [...config.resources].reverse(), dependencies: [...config.dependencies].reverse() }
  t.same(selfFenceOrder(shuffled, 'n1'), selfFenceOrder(config, 'n1'))
})
