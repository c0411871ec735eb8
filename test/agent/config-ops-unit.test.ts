// The configuration operations as pure functions: every refusal is an MccsError with a catalogue code
// and the field; the input configuration is never changed.
import t, { type Test } from 'tap'
import { applyConfigOp, type OpsContext } from '../../core/agent/config-ops.js'
import type { MainConfig } from '../../core/engine/model.js'
import { isMccsError, type ErrorCode } from '../../core/errors.js'

const freeze = <T>(v: T): T => {
  if (typeof v === 'object' && v !== null) {
    Object.freeze(v)
    for (const x of Object.values(v)) freeze(x)
  }
  return v
}
const r = (name: string, group = 'g', type = 'dummy') => ({
  name,
  type,
  group,
  critical: true,
  attrs: {},
  nodeAttrs: {},
  policy: {},
  monitored: true,
})
const BASE: MainConfig = freeze({
  generation: 7,
  types: {},
  groups: [
    { name: 'g', nodes: ['n1', 'n2'], failoverOnFailure: true, autoStart: true, autoFailback: false },
    { name: 'h', nodes: ['n2'], failoverOnFailure: true, autoStart: true, autoFailback: false },
  ],
  resources: [r('a'), r('b'), r('c'), r('x', 'h')],
  dependencies: [
    { parent: 'a', child: 'b' },
    { parent: 'b', child: 'c' },
  ],
})
const CTX: OpsContext = { nodes: ['n1', 'n2'], types: ['dummy', 'process', 'webapp'] }

const refused = (t: Test, code: ErrorCode, field: string | undefined, fn: () => unknown, msg: string) => {
  try {
    fn()
    t.fail(`${msg}: not refused`)
  } catch (e) {
    t.ok(isMccsError(e, code), `${msg}: ${code} (${(e as Error).message})`)
    if (field !== undefined) t.equal((e as { field?: string }).field, field, `${msg}: names ${field}`)
    return e as { data?: Record<string, unknown>; message: string }
  }
  return undefined
}

t.test('add, edit and delete a group', async (t) => {
  let n = applyConfigOp(BASE, 'groupAdd', { group: 'k', nodes: ['n2', 'n1'], autoStart: false }, CTX).next
  t.same(n.groups[2], { name: 'k', nodes: ['n2', 'n1'], failoverOnFailure: true, autoStart: false, autoFailback: false })
  n = applyConfigOp(n, 'groupEdit', { group: 'k', nodes: ['n1'], autoFailback: true }, CTX).next
  t.same(n.groups[2], { name: 'k', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: true })
  n = applyConfigOp(n, 'groupDelete', { group: 'k' }, CTX).next
  t.same(
    n.groups.map((g) => g.name),
    ['g', 'h'],
  )
  t.equal(BASE.groups.length, 2, 'the input is not changed')
  refused(
    t,
    'MCCS_ERR_CONFIG_DUPLICATE',
    'group',
    () => applyConfigOp(BASE, 'groupAdd', { group: 'g', nodes: ['n1'] }, CTX),
    'group name taken',
  )
  refused(
    t,
    'MCCS_ERR_CONFIG_REF',
    'nodes[1]',
    () => applyConfigOp(BASE, 'groupAdd', { group: 'k', nodes: ['n1', 'n9'] }, CTX),
    'unknown node',
  )
  refused(t, 'MCCS_ERR_INVALID', 'nodes', () => applyConfigOp(BASE, 'groupAdd', { group: 'k' }, CTX), 'no nodes')
  refused(t, 'MCCS_ERR_INVALID', 'args.nodes', () => applyConfigOp(BASE, 'groupAdd', { group: 'k', nodes: 'n1' }, CTX), 'nodes not a list')
  refused(t, 'MCCS_ERR_INVALID', 'args.group', () => applyConfigOp(BASE, 'groupAdd', { group: '1bad', nodes: ['n1'] }, CTX), 'bad name')
  refused(t, 'MCCS_ERR_NOT_FOUND', 'group', () => applyConfigOp(BASE, 'groupEdit', { group: 'zz', autoStart: false }, CTX), 'unknown group')
  refused(t, 'MCCS_ERR_INVALID', 'op', () => applyConfigOp(BASE, 'groupRename', { group: 'g' }, CTX), 'unknown operation')
})

t.test('deleting a group with resources needs --force, which deletes them and their links', async (t) => {
  const e = refused(t, 'MCCS_ERR_CONFLICT', 'group', () => applyConfigOp(BASE, 'groupDelete', { group: 'g' }, CTX), 'has resources')
  t.same(e?.data?.['resources'], ['a', 'b', 'c'])
  const res = applyConfigOp(BASE, 'groupDelete', { group: 'g', force: true }, CTX)
  t.same(
    res.next.resources.map((x) => x.name),
    ['x'],
  )
  t.same(res.next.dependencies, [])
  t.same(res.removed?.resources, ['a', 'b', 'c'])
})

t.test('resources: add, edit, delete', async (t) => {
  const add = applyConfigOp(
    BASE,
    'resourceAdd',
    {
      resource: 'd',
      type: 'dummy',
      group: 'g',
      critical: false,
      attrs: { note: 'x' },
      nodeAttrs: { n1: { note: 'y' } },
      policy: { restartLimit: 2 },
    },
    CTX,
  )
  t.same(add.next.resources[4], {
    name: 'd',
    type: 'dummy',
    group: 'g',
    critical: false,
    attrs: { note: 'x' },
    nodeAttrs: { n1: { note: 'y' } },
    policy: { restartLimit: 2 },
    monitored: true,
  })
  const edit = applyConfigOp(
    add.next,
    'resourceEdit',
    { resource: 'd', attrs: { delayMs: 5 }, unsetAttrs: ['note', 'n1:note'], unsetPolicy: ['restartLimit'], monitored: false },
    CTX,
  )
  t.same(edit.next.resources[4], {
    name: 'd',
    type: 'dummy',
    group: 'g',
    critical: false,
    attrs: { delayMs: 5 },
    nodeAttrs: {},
    policy: {},
    monitored: false,
  })
  refused(
    t,
    'MCCS_ERR_INVALID',
    'args',
    () => applyConfigOp(add.next, 'resourceEdit', { resource: 'd', critical: false }, CTX),
    'nothing to change',
  )
  refused(
    t,
    'MCCS_ERR_NOT_FOUND',
    'attrs.zz',
    () => applyConfigOp(add.next, 'resourceEdit', { resource: 'd', unsetAttrs: ['zz'] }, CTX),
    'unset a missing attribute',
  )
  // A name every object inherits is not an attribute of the resource (it was accepted as a change that removed nothing).
  for (const inherited of ['toString', '__proto__', 'n1:constructor'])
    refused(
      t,
      'MCCS_ERR_NOT_FOUND',
      inherited.includes(':') ? 'nodeAttrs.n1.constructor' : `attrs.${inherited}`,
      () => applyConfigOp(add.next, 'resourceEdit', { resource: 'd', unsetAttrs: [inherited] }, CTX),
      `unset an inherited name (${inherited})`,
    )
  refused(
    t,
    'MCCS_ERR_CONFIG_REF',
    'type',
    () => applyConfigOp(BASE, 'resourceAdd', { resource: 'd', type: 'nosuch', group: 'g' }, CTX),
    'unknown type',
  )
  refused(
    t,
    'MCCS_ERR_NOT_FOUND',
    'group',
    () => applyConfigOp(BASE, 'resourceAdd', { resource: 'd', type: 'dummy', group: 'zz' }, CTX),
    'unknown group',
  )
  refused(
    t,
    'MCCS_ERR_CONFIG_DUPLICATE',
    'resource',
    () => applyConfigOp(BASE, 'resourceAdd', { resource: 'a', type: 'dummy', group: 'h' }, CTX),
    'name taken in another group',
  )
  for (const name of ['nic', 'NIC', 'process', 'Process', 'webapp']) {
    refused(
      t,
      'MCCS_ERR_INVALID',
      'resource',
      () => applyConfigOp(BASE, 'resourceAdd', { resource: name, type: 'dummy', group: 'g' }, CTX),
      `reserved keyword ${name}`,
    )
  }
  refused(
    t,
    'MCCS_ERR_CONFIG_REF',
    'nodeAttrs.n9',
    () => applyConfigOp(BASE, 'resourceAdd', { resource: 'd', type: 'dummy', group: 'g', nodeAttrs: { n9: { note: 'x' } } }, CTX),
    'per-node value for an unknown node',
  )
  refused(
    t,
    'MCCS_ERR_INVALID',
    'policy.often',
    () => applyConfigOp(BASE, 'resourceAdd', { resource: 'd', type: 'dummy', group: 'g', policy: { often: 1 } }, CTX),
    'unknown policy field',
  )
  refused(
    t,
    'MCCS_ERR_INVALID',
    'policy.restartLimit',
    () => applyConfigOp(BASE, 'resourceAdd', { resource: 'd', type: 'dummy', group: 'g', policy: { restartLimit: 'two' } }, CTX),
    'policy not a number',
  )
  refused(
    t,
    'MCCS_ERR_DEP_GROUP',
    'group',
    () => applyConfigOp(BASE, 'resourceEdit', { resource: 'a', group: 'h' }, CTX),
    'moving a linked resource to another group',
  )
  t.equal(applyConfigOp(BASE, 'resourceEdit', { resource: 'x', group: 'g' }, CTX).next.resources[3]!.group, 'g', 'an unlinked one moves')
})

t.test('deleting a resource others depend on needs --force, which unlinks', async (t) => {
  const e = refused(
    t,
    'MCCS_ERR_CONFLICT',
    'resource',
    () => applyConfigOp(BASE, 'resourceDelete', { resource: 'b' }, CTX),
    'has dependents',
  )
  t.same(e?.data?.['dependents'], ['a'])
  const f = applyConfigOp(BASE, 'resourceDelete', { resource: 'b', force: true }, CTX)
  t.same(f.next.dependencies, [])
  t.same(f.removed?.dependencies, [
    { parent: 'a', child: 'b' },
    { parent: 'b', child: 'c' },
  ])
  t.same(
    applyConfigOp(BASE, 'resourceDelete', { resource: 'a' }, CTX).next.dependencies,
    [{ parent: 'b', child: 'c' }],
    'a parent goes without --force',
  )
})

t.test('link and unlink', async (t) => {
  const n = applyConfigOp(BASE, 'resourceLink', { parent: 'a', child: 'c' }, CTX).next
  t.same(n.dependencies[2], { parent: 'a', child: 'c' })
  const e = refused(t, 'MCCS_ERR_DEP_CYCLE', 'child', () => applyConfigOp(BASE, 'resourceLink', { parent: 'c', child: 'a' }, CTX), 'cycle')
  t.same(e?.data?.['cycle'], ['a', 'b', 'c', 'a'])
  t.match(e?.message, /a -> b -> c -> a/)
  refused(t, 'MCCS_ERR_DEP_CYCLE', 'child', () => applyConfigOp(BASE, 'resourceLink', { parent: 'a', child: 'a' }, CTX), 'self')
  refused(t, 'MCCS_ERR_DEP_GROUP', 'child', () => applyConfigOp(BASE, 'resourceLink', { parent: 'a', child: 'x' }, CTX), 'across groups')
  refused(t, 'MCCS_ERR_CONFIG_DUPLICATE', 'child', () => applyConfigOp(BASE, 'resourceLink', { parent: 'a', child: 'b' }, CTX), 'twice')
  refused(t, 'MCCS_ERR_NOT_FOUND', 'child', () => applyConfigOp(BASE, 'resourceLink', { parent: 'a', child: 'zz' }, CTX), 'unknown child')
  t.same(applyConfigOp(BASE, 'resourceUnlink', { parent: 'a', child: 'b' }, CTX).next.dependencies, [{ parent: 'b', child: 'c' }])
  refused(t, 'MCCS_ERR_NOT_FOUND', 'child', () => applyConfigOp(BASE, 'resourceUnlink', { parent: 'a', child: 'c' }, CTX), 'no such link')
})

t.test('nothing that may run is deleted or changed', async (t) => {
  const running: OpsContext = {
    ...CTX,
    resourceActivity: (x) => (x === 'a' || x === 'b' || x === 'c' ? 'online on n1' : null),
    groupActivity: (g) => (g === 'g' ? 'active (a online on n1)' : null),
  }
  refused(
    t,
    'MCCS_ERR_CONFLICT',
    'resource',
    () => applyConfigOp(BASE, 'resourceDelete', { resource: 'a' }, running),
    'delete online resource',
  )
  refused(
    t,
    'MCCS_ERR_CONFLICT',
    'resource',
    () => applyConfigOp(BASE, 'resourceEdit', { resource: 'a', attrs: { note: 'x' } }, running),
    'edit online resource',
  )
  refused(
    t,
    'MCCS_ERR_CONFLICT',
    'group',
    () => applyConfigOp(BASE, 'groupDelete', { group: 'g', force: true }, running),
    'delete active group',
  )
  refused(
    t,
    'MCCS_ERR_CONFLICT',
    'group',
    () => applyConfigOp(BASE, 'groupEdit', { group: 'g', autoStart: false }, running),
    'edit active group',
  )
  refused(
    t,
    'MCCS_ERR_CONFLICT',
    'group',
    () => applyConfigOp(BASE, 'resourceEdit', { resource: 'x', group: 'g' }, running),
    'move into an active group',
  )
  t.ok(applyConfigOp(BASE, 'resourceAdd', { resource: 'd', type: 'dummy', group: 'g' }, running), 'adding to an active group is fine')
  const n = applyConfigOp(BASE, 'resourceAdd', { resource: 'd', type: 'dummy', group: 'g' }, running).next
  refused(
    t,
    'MCCS_ERR_CONFLICT',
    'parent',
    () => applyConfigOp(n, 'resourceLink', { parent: 'a', child: 'd' }, running),
    'a running parent gains a stopped child',
  )
  t.ok(applyConfigOp(n, 'resourceLink', { parent: 'd', child: 'a' }, running), 'a stopped parent may depend on a running child')
})
