// failureTimeoutS end to end (issue 14, finding 3): main.json accepts it as a policy field, the shipped
// nic type turns it on (a link that comes back), other types keep it off, and the engine expires a nic
// fault on the only live node by itself while an address fault stays until clear.

import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { validateManifest } from '../../core/plugins/manifest.js'
import { validateMain } from '../../core/config/validate.js'
import { simulate, type SimEvent } from '../../core/engine/simulate.js'
import { buildConfig } from '../../core/engine/scenario.js'
import { SHIPPED_DEFAULTS } from '../../core/engine/model.js'
import { resourceState } from '../../core/engine/state.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const nic = validateManifest(JSON.parse(readFileSync(join(root, 'plugins/nic/plugin.json'), 'utf8')), 'nic')

t.test('main.json: failureTimeoutS is a policy field, 0 (off) allowed, negative refused', async (t) => {
  const main = (v: unknown) => ({
    generation: 1,
    groups: [{ name: 'g1', nodes: ['n1'] }],
    resources: [{ name: 'r1', type: 'dummy', group: 'g1', policy: { failureTimeoutS: v } }],
    types: { nic: { failureTimeoutS: v } },
  })
  for (const v of [0, 30]) t.ok(validateMain(main(v), { file: 'main.json' }).ok, `${v} accepted`)
  const bad = validateMain(main(-1), { file: 'main.json' })
  t.notOk(bad.ok, '-1 refused')
  if (!bad.ok)
    t.ok(
      bad.errors.some((e) => e.path === '/resources/0/policy/failureTimeoutS'),
      `names the field: ${JSON.stringify(bad.errors.map((e) => e.path))}`,
    )
})

t.test('defaults: off for every type, on for nic', async (t) => {
  t.equal(SHIPPED_DEFAULTS.failureTimeoutS, 0, 'shipped default: faults hold until clear')
  const s = nic.defaults?.failureTimeoutS ?? 0
  t.ok(s > 0 && s <= 10, `nic faults expire after ${s} s`)
})

t.test('the engine, with the shipped nic type: a link fault expires, an address fault does not', async (t) => {
  const s = nic.defaults!.failureTimeoutS!
  const config = buildConfig({
    groups: [{ name: 'g1', nodes: ['n1', 'n2'] }],
    resources: [
      { name: 'nic', type: 'nic', group: 'g1' },
      { name: 'addr', type: 'address', group: 'g1' },
    ],
    dependencies: ['addr>nic'],
  })
  const fault = (r: string, at: number): SimEvent => ({
    type: 'monitorResult',
    resource: r,
    node: 'n1',
    status: 'done',
    answer: 'failed',
    recoverable: false,
    at,
  })
  const run = (r: string, tickAt: number) =>
    simulate(
      config,
      { nic: nic.defaults! },
      ['n1', 'n2'],
      [{ type: 'start' }, { type: 'groupOnline', group: 'g1', user: 't' }, fault(r, 1000), { type: 'tick', at: tickAt }],
      { membership: { n2: 'fenced' } },
    )

  const early = run('nic', 1000 + s * 1000 - 1)
  t.equal(resourceState(early.state, 'nic', 'n1')?.state, 'faulted', `nic still faulted ${s} s - 1 ms after the fault`)

  const back = run('nic', 1000 + s * 1000)
  t.equal(resourceState(back.state, 'nic', 'n1')?.state, 'online', 'nic fault expired: online again')
  t.equal(back.state.groups['g1']!.activeNode, 'n1')
  t.same(back.running, ['addr@n1', 'nic@n1'], 'the group runs again on the only live node, without an operator')
  t.ok(
    back.steps.some((x) => x.plan.notices.some((n) => n.kind === 'faultExpired' && n.resource === 'nic')),
    'faultExpired notice',
  )

  const addr = run('addr', 3_600_000)
  t.equal(resourceState(addr.state, 'addr', 'n1')?.state, 'faulted', 'an address fault holds after an hour (type default off)')
  t.same(addr.running, [], 'the group stays down until clear')
})
