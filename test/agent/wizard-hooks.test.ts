// The wizard's discover over the peer channel: what another node sends, and what it answers, is
// checked at the edge and refused with the field named.
import t from 'tap'
import { checkDiscoverRequest, checkDiscoverAnswer } from '../../core/agent/wizard-hooks.js'

t.test('a discover request from another node is checked', async (t) => {
  t.same(checkDiscoverRequest({ type: 'nic', field: 'adapter', attrs: {} }), { type: 'nic', field: 'adapter', attrs: {} })
  for (const [m, field] of [
    [{ field: 'a', attrs: {} }, 'type'],
    [{ type: 'nic', attrs: {} }, 'field'],
    [{ type: 'nic', field: 'a', attrs: [] }, 'attrs'],
    [{ type: 'nic', field: 'a' }, 'attrs'],
  ] as const) {
    t.throws(() => checkDiscoverRequest(m as Record<string, unknown>), { code: 'MCCS_ERR_INVALID', field })
  }
})

t.test("another node's discover answer is checked before the console shows it", async (t) => {
  const good = { options: [{ value: 'eth0', label: 'public / 10.0.0.1' }], answer: 'ok', message: '1 adapter' }
  t.same(checkDiscoverAnswer(good, 'n2'), good)
  for (const [v, field] of [
    [null, ''],
    [{ answer: 'ok' }, 'options'],
    [{ options: [{ value: 1, label: 'x' }], answer: 'ok' }, 'options/0'],
    [{ options: [], answer: 3 }, 'answer'],
    [{ options: [], answer: 'ok', message: {} }, 'message'],
  ] as const) {
    t.throws(() => checkDiscoverAnswer(v, 'n2'), { code: 'MCCS_ERR_PEER_PROTOCOL', field })
  }
})
