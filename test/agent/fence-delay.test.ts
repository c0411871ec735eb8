// The two-node fence delay (core/agent/fencing.ts fenceDelayMs): what a node that runs nothing waits before
// it fences its peer, so that the active peer wins a fence race. It was a flat 5 s, most of a two-node
// takeover after the active node lost its links (random-fault runs: 5.8–6.8 s). Now the default is what the
// peer needs to fence this node first: the detection skew (a dead time + 2 intervals), the peer's isolation test when it
// has one (500 ms), and this node's own fence devices' effect time, level by level (the hb.json level's
// effectMs, else the type's manifest fenceEffectMs, else 2000 ms). An explicit quorum.fenceDelayMs wins.
import t from 'tap'
import { fenceDelayMs, DEFAULT_FENCE_EFFECT_MS } from '../../core/agent/fencing.js'
import type { HbConfig } from '../../core/config/hb-model.js'
import { validateManifest } from '../../core/plugins/manifest.js'
import { readFileSync } from 'node:fs'

const hb = (o: {
  quorum?: HbConfig['quorum']
  deadMs?: number
  iso?: boolean
  fencing?: NonNullable<HbConfig['nodes'][number]['fencing']>
}) =>
  ({
    generation: 1,
    cluster: 'c',
    port: 14321,
    timing: { intervalMs: 100, deadMs: o.deadMs ?? 600 },
    links: [{ name: 'l', priority: 0 }],
    ...(o.quorum ? { quorum: o.quorum } : {}),
    nodes: ['n1', 'n2'].map((n, i) => ({
      name: n,
      addresses: { l: `10.0.0.${i + 1}` },
      ...(o.iso ? { isolationTestAddresses: ['10.0.0.254'] } : {}),
      ...(o.fencing ? { fencing: o.fencing } : {}),
    })),
  }) as unknown as HbConfig

const manifests: Record<string, number | undefined> = { 'fence-script': 2000, 'fence-aws': 4000, 'fence-x': undefined }
const effectOf = (type: string) => manifests[type]

t.test('no delay without two-node mode (a majority or a quorum server: one side fences)', async (t) => {
  t.equal(fenceDelayMs(hb({ fencing: [{ type: 'fence-script' }] }), 'n1', effectOf), 0)
  t.equal(fenceDelayMs(hb({ quorum: { twoNode: false }, fencing: [{ type: 'fence-script' }] }), 'n1', effectOf), 0)
})

t.test('an explicit fenceDelayMs wins, 0 included', async (t) => {
  t.equal(fenceDelayMs(hb({ quorum: { twoNode: true, fenceDelayMs: 5000 }, iso: true }), 'n1', effectOf), 5000)
  t.equal(fenceDelayMs(hb({ quorum: { twoNode: true, fenceDelayMs: 0 }, iso: true }), 'n1', effectOf), 0)
})

t.test('two-node default: skew, the isolation test, and this node’s own devices’ effect', async (t) => {
  const script = [{ type: 'fence-script' }]
  t.equal(fenceDelayMs(hb({ quorum: { twoNode: true }, fencing: script }), 'n1', effectOf), 800 + 2000, 'fence-script, no isolation test')
  t.equal(
    fenceDelayMs(hb({ quorum: { twoNode: true }, fencing: script, iso: true }), 'n1', effectOf),
    800 + 500 + 2000,
    'with isolation test',
  )
  t.equal(
    fenceDelayMs(hb({ quorum: { twoNode: true }, fencing: script, deadMs: 3000 }), 'n1', effectOf),
    3000 + 200 + 2000,
    'a longer dead time',
  )
  t.equal(
    fenceDelayMs(hb({ quorum: { twoNode: true }, fencing: [{ type: 'fence-script', effectMs: 300 }] }), 'n1', effectOf),
    800 + 300,
    "the level's effectMs over the manifest's",
  )
  t.equal(
    fenceDelayMs(hb({ quorum: { twoNode: true }, fencing: [{ type: 'fence-x' }] }), 'n1', effectOf),
    800 + DEFAULT_FENCE_EFFECT_MS,
    'a type that says nothing: 2000 ms',
  )
  t.equal(
    fenceDelayMs(hb({ quorum: { twoNode: true }, fencing: [{ type: 'fence-script' }, { type: 'fence-aws' }] }), 'n1', effectOf),
    800 + 2000 + 4000,
    'two levels: the peer may need both',
  )
  t.equal(fenceDelayMs(hb({ quorum: { twoNode: true } }), 'n1', effectOf), 800, 'no device can fence this node: the skew only')
  t.equal(
    fenceDelayMs(
      hb({
        quorum: { twoNode: true },
        fencing: [
          { type: 'fence-x', effectMs: 120_000 },
          { type: 'fence-x', effectMs: 120_000 },
        ],
      }),
      'n1',
      effectOf,
    ),
    120_000,
    'capped at the largest explicit delay',
  )
})

t.test('the built-in fence types declare their effect time; a resource type may not', async (t) => {
  for (const [type, ms] of [
    ['fence-script', 2000],
    ['fence-aws', 4000],
  ] as const) {
    const m = validateManifest(JSON.parse(readFileSync(new URL(`../../plugins/${type}/plugin.json`, import.meta.url), 'utf8')), type)
    t.equal(m.fenceEffectMs, ms, `${type}: ${ms} ms`)
  }
  const dummy = JSON.parse(readFileSync(new URL('../../plugins/dummy/plugin.json', import.meta.url), 'utf8'))
  t.throws(() => validateManifest({ ...dummy, fenceEffectMs: 100 }, 'dummy'), { code: 'MCCS_ERR_MANIFEST', field: '/fenceEffectMs' })
  const script = JSON.parse(readFileSync(new URL('../../plugins/fence-script/plugin.json', import.meta.url), 'utf8'))
  t.throws(() => validateManifest({ ...script, fenceEffectMs: -1 }, 'fence-script'), { code: 'MCCS_ERR_MANIFEST', field: '/fenceEffectMs' })
  t.throws(() => validateManifest({ ...script, fenceEffectMs: 1.5 }, 'fence-script'), {
    code: 'MCCS_ERR_MANIFEST',
    field: '/fenceEffectMs',
  })
})
