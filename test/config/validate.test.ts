import t from 'tap'
import { validateHb, validateMain } from '../../core/config/validate.js'
import { formatIssue } from '../../core/config/issue.js'
import { BAD_MAIN } from './bad-cases.js'
import { TYPES, validPair } from './fixture.js'

const { mainText, hbText } = await validPair()
const hbResult = validateHb(hbText, { file: 'hb.json' })
if (!hbResult.ok) throw new Error(`fixture hb.json invalid: ${JSON.stringify(hbResult.errors)}`)
const hb = hbResult.config

t.test('the valid fixture passes and gets its defaults', async (t) => {
  t.same(hb.timing, { intervalMs: 100, deadMs: 600 }) // the shipped timing (docs/heartbeat.md)
  t.equal(hb.port, 14321)
  const r = validateMain(mainText, { file: 'main.json', hb, types: TYPES })
  if (!r.ok) return t.fail(r.errors.map(formatIssue).join('\n'))
  const [nic, vip, app] = r.config.resources
  t.same(nic?.attrs, {}, 'attrs default {}')
  t.same(nic?.policy, {}, 'policy default {}')
  t.equal(vip?.critical, true)
  t.equal(vip?.monitored, true)
  t.equal(app?.critical, false)
  t.same(r.config.groups[0], { name: 'web', nodes: ['node1', 'node2'], failoverOnFailure: true, autoStart: true, autoFailback: false })
  t.equal(r.config.groups[1]?.autoFailback, true)
  t.equal(vip?.attrs['mask'], 24, 'attribute-schema defaults are not written into the config')
})

t.test('a parsed object is not mutated by defaults', async (t) => {
  const doc = { generation: 1 }
  const r = validateMain(doc, { file: 'main.json' })
  t.ok(r.ok)
  t.same(doc, { generation: 1 })
})

for (const c of BAD_MAIN) {
  t.test(`rejects: ${c.name}`, async (t) => {
    const r = validateMain(c.edit(mainText), { file: '/etc/mccs/main.json', hb, types: TYPES })
    if (r.ok) return t.fail('accepted')
    const hit = r.errors.find((i) => i.path === c.path && i.code === c.code)
    t.ok(hit, `an issue at ${c.path} with ${c.code}; got:\n${r.errors.map(formatIssue).join('\n')}`)
    t.match(hit?.reason, c.reason)
    t.equal(hit?.file, '/etc/mccs/main.json')
  })
}

t.test('all issues are collected, not only the first', async (t) => {
  const d = JSON.parse(mainText)
  d.resources[1].type = 'nope'
  d.groups[0].nodes.push('ghost')
  d.dependencies.push({ parent: 'vip', child: 'app' })
  d.resources.push({ name: 'pg', type: 'process', group: 'db', attrs: { command: 'relative' } })
  const r = validateMain(d, { file: 'main.json', hb, types: TYPES })
  if (r.ok) return t.fail('accepted')
  t.same(r.errors.map((i) => `${i.path} ${i.code}`).sort(), [
    '/dependencies/2 MCCS_ERR_DEP_CYCLE',
    '/groups/0/nodes/2 MCCS_ERR_CONFIG_REF',
    '/resources/1/type MCCS_ERR_CONFIG_REF',
    '/resources/4/attrs/command MCCS_ERR_CONFIG_ATTRS',
    '/resources/4/name MCCS_ERR_CONFIG_DUPLICATE',
  ])
})

t.test('several independent cycles are all named', async (t) => {
  const d = JSON.parse(mainText)
  d.resources.push({ name: 'pg2', type: 'process', group: 'db', attrs: { command: '/x' } })
  d.dependencies.push({ parent: 'nic', child: 'app' }, { parent: 'pg', child: 'pg2' }, { parent: 'pg2', child: 'pg' })
  const r = validateMain(d, { file: 'main.json', hb, types: TYPES })
  if (r.ok) return t.fail('accepted')
  const cycles = r.errors.filter((i) => i.code === 'MCCS_ERR_DEP_CYCLE')
  t.equal(cycles.length, 2, cycles.map(formatIssue).join('\n'))
})

t.test('a type-level error that differs per node names the node', async (t) => {
  const d = JSON.parse(mainText)
  d.resources[1].attrs.nic = 'eth0'
  d.resources[1].nodeAttrs = { node2: { nic: 5 } }
  const r = validateMain(d, { file: 'main.json', hb, types: TYPES })
  if (r.ok) return t.fail('accepted')
  t.same(
    r.errors.map((i) => i.path),
    ['/resources/1/nodeAttrs/node2/nic'],
  )
})

t.test('without hb or types only the file itself is checked', async (t) => {
  const d = JSON.parse(mainText)
  d.resources[1].type = 'unknown-type'
  d.groups[0].nodes.push('ghost')
  t.ok(validateMain(d, { file: 'main.json' }).ok)
})

t.test('syntax errors carry line and column', async (t) => {
  const cases: [string, number, number, RegExp][] = [
    ['{"generation": 1,\n  "groups": [}', 2, 14, /unexpected character "}"/],
    ['{"generation": 1', 1, 17, /unexpected end of input/],
    ['{"generation": tru}', 1, 16, /invalid literal/],
    ['{"generation": 1}\n x', 2, 2, /unexpected text after/],
    ['', 1, 1, /unexpected end of input/],
  ]
  for (const [text, line, column, reason] of cases) {
    const r = validateMain(text, { file: 'main.json' })
    if (r.ok) {
      t.fail(`accepted ${text}`)
      continue
    }
    t.match(r.errors, [{ path: '', code: 'MCCS_ERR_CONFIG_SYNTAX', line, column, reason }], text)
  }
})

t.test('a key given twice is reported (JSON.parse would keep the last silently)', async (t) => {
  const r = validateMain('{"generation": 1, "types": {"process": {"restartLimit": 1, "restartLimit": 2}}}', { file: 'main.json' })
  if (r.ok) return t.fail('accepted')
  t.match(r.errors, [{ path: '/types/process/restartLimit', code: 'MCCS_ERR_CONFIG_DUPLICATE', line: 1, column: 60 }])
})

t.test('a type whose attribute schema does not compile blames the type, not the resource', async (t) => {
  const broken = { has: () => true, attributeSchema: () => ({ type: 'object', properties: { a: { type: 'no-such-type' } } }) }
  const r = validateMain(mainText, { file: 'main.json', hb, types: broken })
  if (r.ok) return t.fail('accepted')
  t.equal(r.errors[0]?.code, 'MCCS_ERR_MANIFEST')
  t.equal(r.errors[0]?.path, '/resources/0/type')
})

t.test('hb.json checks', async (t) => {
  const base = JSON.parse(hbText)
  const bad = (f: (d: any) => void) => {
    const d = structuredClone(base)
    f(d)
    const r = validateHb(d, { file: 'hb.json' })
    return r.ok ? [] : r.errors.map((i) => `${i.path} ${i.code}`)
  }
  t.same(
    bad((d) => {
      d.nodes[1].name = 'node1'
    }),
    ['/nodes/1/name MCCS_ERR_CONFIG_DUPLICATE'],
  )
  t.same(
    bad((d) => {
      d.links.push({ name: 'lan', priority: 3 })
    }),
    ['/links/2/name MCCS_ERR_CONFIG_DUPLICATE'],
  )
  t.same(
    bad((d) => {
      d.nodes[0].addresses.wan = '10.9.0.1'
    }),
    ['/nodes/0/addresses/wan MCCS_ERR_CONFIG_REF'],
  )
  t.same(
    bad((d) => {
      d.nodes[1].addresses.lan = '10.0.0.1'
    }),
    ['/nodes/1/addresses/lan MCCS_ERR_CONFIG_DUPLICATE'],
  )
  t.same(
    bad((d) => {
      d.nodes[1].addresses.lan = 'not an address'
    }),
    ['/nodes/1/addresses/lan MCCS_ERR_CONFIG_SCHEMA'],
  )
  t.same(
    bad((d) => {
      d.timing = { intervalMs: 500, deadMs: 600 }
    }),
    ['/timing/deadMs MCCS_ERR_CONFIG_SCHEMA'],
  )
  t.same(
    bad((d) => {
      d.timing = { intervalMs: 1 }
    }),
    ['/timing/intervalMs MCCS_ERR_CONFIG_SCHEMA'],
  )
  t.same(
    bad((d) => {
      d.port = 70000
    }),
    ['/port MCCS_ERR_CONFIG_SCHEMA'],
  )
  t.same(
    bad((d) => {
      delete d.cluster
    }),
    ['/cluster MCCS_ERR_CONFIG_SCHEMA'],
  )
  t.same(
    bad((d) => {
      d.nodes[0].votes = 0
      d.nodes[1].votes = 0
    }),
    ['/nodes MCCS_ERR_CONFIG_SCHEMA'],
  )
  t.same(
    bad((d) => {
      d.nodes[0].addresses.lan = 'fd00::1'
      d.nodes[1].addresses.lan = 'node2.example'
    }),
    [],
    'IPv6 and host names are addresses',
  )
  // quorum of two-node clusters
  t.same(
    bad((d) => {
      d.quorum = { twoNode: true, fenceDelayMs: 3000 }
    }),
    [],
    'two-node mode with two nodes',
  )
  t.same(
    bad((d) => {
      d.quorum = { twoNode: true }
      d.nodes.push({ name: 'node3', addresses: { lan: '10.0.0.3' } })
    }),
    ['/quorum/twoNode MCCS_ERR_CONFIG_SCHEMA'],
  )
  t.same(
    bad((d) => {
      d.quorum = { twoNode: true, server: { host: '10.0.0.9', caFile: 'q/ca.crt', keyFile: 'q/key' } }
    }),
    ['/quorum/twoNode MCCS_ERR_CONFIG_SCHEMA'],
  )
  t.same(
    bad((d) => {
      d.quorum = { server: { host: '10.0.0.9', caFile: 'q/ca.crt' } }
    }),
    ['/quorum/server/keyFile MCCS_ERR_CONFIG_SCHEMA'],
    'the quorum key file is required',
  )
  t.same(
    bad((d) => {
      d.quorum = { fenceDelayMs: -1 }
    }),
    ['/quorum/fenceDelayMs MCCS_ERR_CONFIG_SCHEMA'],
  )
  // a fence level's effect time (the two-node fence delay is built from it)
  t.same(
    bad((d) => {
      d.nodes[0].fencing = [{ type: 'fence-script', attrs: { script: 'off.sh' }, effectMs: 300 }]
    }),
    [],
    'a fence level with its effect time',
  )
  for (const effectMs of [-1, 120_001, 1.5, '300'])
    t.same(
      bad((d) => {
        d.nodes[0].fencing = [{ type: 'fence-script', effectMs }]
      }),
      ['/nodes/0/fencing/0/effectMs MCCS_ERR_CONFIG_SCHEMA'],
      `effectMs ${JSON.stringify(effectMs)} refused`,
    )
  t.same(
    bad((d) => {
      d.quorum = { tieBreaker: 'coin' }
    }),
    ['/quorum/tieBreaker MCCS_ERR_CONFIG_SCHEMA'],
  )
  t.same(
    bad((d) => {
      d.nodes[0].isolationTestAddresses = ['10.0.0.254', 'gw.example']
    }),
    [],
    'isolation test addresses',
  )
})

// The cases the engine's second checker (core/engine/validate.ts, removed: nothing but tests called it)
// covered in test/scenarios/validate-references and cycle-rejected, held against the live checker.
t.test('references and cycles, as the removed engine checker had them', async (t) => {
  const issues = (main: object): string[] => {
    const r = validateMain({ generation: 1, ...main }, { file: 'main.json', hb })
    return r.ok ? [] : r.errors.map((i) => `${i.path} ${i.code}`)
  }
  const res = (name: string, group: string, extra: object = {}) => ({
    name,
    type: 'process',
    group,
    attrs: { command: '/bin/true' },
    ...extra,
  })
  t.same(
    issues({
      groups: [
        { name: 'g1', nodes: ['node1', 'n9'] },
        { name: 'g2', nodes: ['node1'] },
      ],
      resources: [res('a', 'g1', { nodeAttrs: { n7: {} } }), res('b', 'g2'), res('c', 'nope')],
      dependencies: [
        { parent: 'a', child: 'b' },
        { parent: 'a', child: 'zz' },
      ],
    }).sort(),
    [
      '/dependencies/0 MCCS_ERR_CONFIG_DEPENDENCY', // across groups
      '/dependencies/1/child MCCS_ERR_CONFIG_REF',
      '/groups/0/nodes/1 MCCS_ERR_CONFIG_REF',
      '/resources/0/nodeAttrs/n7 MCCS_ERR_CONFIG_REF',
      '/resources/2/group MCCS_ERR_CONFIG_REF',
    ],
  )
  const cycle = issues({
    groups: [{ name: 'g1', nodes: ['node1'] }],
    resources: [res('a', 'g1'), res('b', 'g1'), res('c', 'g1')],
    dependencies: [
      { parent: 'a', child: 'b' },
      { parent: 'b', child: 'c' },
      { parent: 'c', child: 'a' },
    ],
  })
  t.equal(cycle.length, 1, 'one cycle, one issue')
  t.match(cycle[0], /^\/dependencies\/[012] MCCS_ERR_DEP_CYCLE$/, 'names a dependency of the cycle')
  t.same(
    issues({
      groups: [{ name: 'g1', nodes: ['node1'] }],
      resources: [res('a', 'g1')],
      dependencies: [{ parent: 'a', child: 'a' }],
    }),
    ['/dependencies/0 MCCS_ERR_DEP_CYCLE'],
    'a self-dependency is a cycle',
  )
})
