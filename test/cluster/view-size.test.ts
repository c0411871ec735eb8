// Up to 32 nodes (issue 19, What 4): what every heartbeat carries still fits its 1 KiB view. The largest view
// a node can send (heartbeatView, as the role builds it: every peer heard, every mask full, the longest
// numbers, a non-active mode) is built for every cluster size with node names as long as hb.json's check
// (config/validate.ts, viewNamesBudget) lets through, and encoded by the real packet encoder; one character
// more is refused by that check, naming /nodes. Bit 31 (the 32nd node) survives the masks' round trip.
import t from 'tap'
import { encodeView, MAX_PAYLOAD_BYTES } from '../../core/cluster/packet.js'
import { ViewCodec, heartbeatView } from '../../core/cluster/view-messages.js'
import { validateHb } from '../../core/config/validate.js'
import { MAX_NODES, viewNamesBudget } from '../../core/config/schema.js'
import type { HbConfig } from '../../core/config/hb-model.js'

const big = Number.MAX_SAFE_INTEGER
/** n names, the first `short` characters shorter than the others, `len` characters each otherwise. */
const namesOf = (n: number, len: number) => Array.from({ length: n }, (_, i) => `n${String(i).padStart(2, '0')}${'x'.repeat(len - 3)}`)
function largestView(names: string[]): Buffer {
  const codec = new ViewCodec(names)
  const vc = codec.encode({ epoch: big, members: names, ready: names, joined: true, rd: true, floor: big })
  const view = heartbeatView({
    up: names.slice(1),
    coordinator: names[names.length - 1]!,
    generation: big,
    digest: '0123456789abcdef',
    quorate: false,
    mode: 'standby',
    vc,
    hbGeneration: big,
    held: codec.encodeHeld(names),
    received: codec.encodeReceived(Object.fromEntries(names.map((n) => [n, 2 as const]))),
    selfFences: big,
  })
  return encodeView(view, { min: 1, max: 99 })
}
function hb(names: string[]): HbConfig {
  return {
    generation: 1,
    cluster: 'c',
    links: [{ name: 'l', priority: 0 }],
    nodes: names.map((name, i) => ({ name, addresses: { l: `10.1.${i >> 8}.${(i & 255) + 1}` } })),
  } as unknown as HbConfig
}
const heard = (n: number, len: number) => (n - 1) * (len + 3) + len

t.test('the largest view fits 1 KiB for every cluster size, with the longest names hb.json accepts', async (t) => {
  for (let n = 2; n <= MAX_NODES; n++) {
    let len = 64
    while (len > 3 && heard(n, len) > viewNamesBudget(n)) len--
    const names = namesOf(n, len)
    const r = validateHb(hb(names), { file: 'hb.json' })
    t.ok(r.ok, `${n} nodes of ${len}-character names accepted${r.ok ? '' : `: ${JSON.stringify(r.errors)}`}`)
    const bytes = largestView(names).length
    t.ok(bytes <= MAX_PAYLOAD_BYTES, `${n} nodes × ${len} characters: largest view ${bytes} bytes`)
    if (len < 64) {
      const longer = validateHb(hb(namesOf(n, len + 1)), { file: 'hb.json' })
      t.notOk(longer.ok, `one character more (${len + 1}) is refused`)
      if (!longer.ok)
        t.match(longer.errors, [
          { path: '/nodes', code: 'MCCS_ERR_CONFIG_SCHEMA', reason: /too long for one heartbeat.*shorten some names/ },
        ])
    }
  }
})

t.test('32 nodes: masks keep bit 31; 33 nodes are refused', async (t) => {
  const names = Array.from({ length: 32 }, (_, i) => `n${String(i).padStart(2, '0')}`)
  const codec = new ViewCodec(names)
  const last = names[31]!
  const ann = { epoch: 7, members: [names[0]!, last], ready: [last], joined: false, rd: true, floor: 3 }
  const w = codec.encode(ann)
  t.equal(w.m, 2 ** 31 + 1, 'members mask: bits 0 and 31, positive')
  t.equal(w.r, 2 ** 31)
  t.same(codec.decode(JSON.parse(JSON.stringify(w)), last), ann, 'round trip from the 32nd node')
  t.same(codec.decodeHeld(2 ** 32 - 1, names[0]!), names, 'a full held mask')
  t.throws(() => codec.decodeHeld(2 ** 32, names[0]!), { code: 'MCCS_ERR_HB_PAYLOAD', field: 'payload/ext/hd' })
  t.throws(() => codec.decode({ ...w, m: 2 ** 32 }, last), { code: 'MCCS_ERR_HB_PAYLOAD', field: 'payload/ext/vc/m' })
  t.throws(
    () => codec.decode({ ...w, m: 1 }, last),
    { code: 'MCCS_ERR_HB_PAYLOAD', field: 'payload/ext/vc/m' },
    'leaves out its sender n31',
  )
  t.throws(() => codec.decode({ ...w, r: 2 ** 31 + 2 }, last), { code: 'MCCS_ERR_HB_PAYLOAD', field: 'payload/ext/vc/r' })
  t.throws(() => new ViewCodec([...names, 'n32']), { code: 'MCCS_ERR_HB_CONFIG' })
  const r = validateHb(hb([...names, 'n32']), { file: 'hb.json' })
  t.notOk(r.ok)
  if (!r.ok) t.match(r.errors, [{ path: '/nodes' }])
  t.ok(validateHb(hb(names), { file: 'hb.json' }).ok, '32 nodes accepted')
})

t.test('a live addNode grows a cluster to 32 nodes, not 33', async (t) => {
  const { applyHbChange } = await import('../../core/agent/hb-change.js')
  const main = { generation: 1, types: {}, groups: [], resources: [], dependencies: [] }
  const cur = (n: number) => ({ hb: { ...hb(namesOf(n, 3)), generation: 1 }, main }) as never
  const add = { op: 'addNode', name: 'extra', addresses: { l: '10.2.0.1' } } as const
  t.equal(applyHbChange(cur(31), add, 'hb.json').nodes.length, 32, 'the 32nd node added')
  t.throws(() => applyHbChange(cur(32), add, 'hb.json'), { code: 'MCCS_ERR_CONFLICT', field: 'name', message: /at most 32 nodes/ })
})
