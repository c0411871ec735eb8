// Isolation test addresses: one ping per address, in parallel; reachable names the first that answered.
import t from 'tap'
import { probeIsolation } from '../../core/cluster/isolation.js'

t.test('an address that answers makes the node not isolated; none answering makes it isolated', async (t) => {
  const ok = await probeIsolation(['127.0.0.1'], 500)
  t.equal(ok.reachable, '127.0.0.1')
  const none = await probeIsolation(['no-such-host.invalid'], 300) // cannot even be resolved: no packet leaves
  t.equal(none.reachable, null)
  t.same(none.tried, ['no-such-host.invalid'])
  const mixed = await probeIsolation(['no-such-host.invalid', '127.0.0.1'], 500)
  t.equal(mixed.reachable, '127.0.0.1', 'one answering is enough')
  t.equal((await probeIsolation([])).reachable, null, 'no addresses: nothing answers (the caller only asks when some are configured)')
})
