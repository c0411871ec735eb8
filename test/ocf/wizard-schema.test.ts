// A discover answer may carry a schema for a `schemaFrom` field (the ocf type's parameters): the node that
// runs the hook passes the plugin's data.schema on, and an answer from another node is checked at the edge.
import t from 'tap'
import path from 'node:path'
import { PluginHost } from '../../core/plugins/host.js'
import { execProvider } from '../../core/plugins/caps/exec.js'
import { checkDiscoverAnswer, discoverHere } from '../../core/agent/wizard-hooks.js'
import { packageRoot } from '../../core/paths.js'
import { buildPlugin } from '@mccs/plugin-kit/build'

t.test("another node's schema must be an object", async (t) => {
  const schema = { type: 'object', properties: { ip: { type: 'string' } } }
  t.same(checkDiscoverAnswer({ options: [], answer: 'ok', schema }, 'n2'), { options: [], answer: 'ok', schema })
  for (const bad of [[], 'x', 3, null])
    t.throws(() => checkDiscoverAnswer({ options: [], answer: 'ok', schema: bad }, 'n2'), {
      code: 'MCCS_ERR_PEER_PROTOCOL',
      field: 'schema',
    })
})

t.test("the ocf type's params schema reaches the console's answer", async (t) => {
  const dir = path.join(packageRoot(), 'plugins/ocf')
  await buildPlugin(dir)
  const host = new PluginHost({
    providers: [execProvider],
    paths: { home: '/opt/MCCS', scripts: '/opt/MCCS/script' },
    logger: { log: () => {} },
  })
  t.teardown(() => host.dispose())
  await host.load(dir)
  const a = await discoverHere(host, 'n1', ['n1'], { type: 'ocf', field: 'params', attrs: { agent: 'heartbeat:Dummy' } })
  t.equal(a.answer, 'ok', a.message ?? '')
  t.same(Object.keys((a.schema as { properties: object }).properties), ['state', 'fake'])
  const none = await discoverHere(host, 'n1', ['n1'], { type: 'ocf', field: 'params', attrs: {} })
  t.equal(none.schema, undefined, 'no agent chosen: no schema, the field stays NAME=value lines')
})
