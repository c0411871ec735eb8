// The operator's configuration commands on a real agent, through the mccs CLI: a group built from
// nothing with add / link, brought online; refusals (cycle, unknown type, missing attribute, reserved
// or taken name, online resource, stale generation) change nothing; everything is in the operation log.
import t, { type Test } from 'tap'
import os from 'node:os'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { makeHome, jsonLines, until, NODE, type AgentHome } from './agent-home.js'
import { resourceState } from '../../core/engine/state.js'
import type { ConfigPair } from '../../core/config/store.js'

// Some 70 CLI processes (~0.6 s of CPU each) on a busy host: more than the default 120 s may be needed.
t.setTimeout(300_000)

let h: AgentHome
t.before(async () => {
  // One node: an hb.json with two nodes makes a cluster, which needs both agents (test/cluster/).
  h = await makeHome(undefined, { nodes: [NODE] })
  await h.start()
})
t.teardown(async () => {
  await h?.cleanup()
})

const generation = () => h.running!.agent.store.current().main.generation
const exported = async (): Promise<ConfigPair> => {
  const r = await h.cli('config', 'export')
  if (r.code !== 0) throw new Error(r.err)
  return JSON.parse(r.out) as ConfigPair
}
const ok = async (tt: Test, ...args: string[]) => {
  const r = await h.cli(...args)
  tt.equal(r.code, 0, `mccs ${args.join(' ')}: ${r.err}${r.out}`)
  return r
}

t.test('a group built from nothing with add and link commands', async (t) => {
  const g0 = generation()
  let r = await ok(t, 'group', 'add', 'web', '--nodes', NODE, '--no-autostart')
  t.match(r.out, /group web added .*generation/)
  await ok(t, 'resource', 'add', 'base', '--type', 'dummy', '--group', 'web')
  await ok(t, 'resource', 'add', 'hook', '--type', 'dummy', '--group', 'web', '--node-attr', `${NODE}:note=hello`, '--non-critical')
  r = await ok(
    t,
    'resource',
    'add',
    'svc',
    '--type',
    'process',
    '--group',
    'web',
    '--attr',
    'argv=["/bin/sleep","100000"]',
    '--attr',
    'stopGraceS=1',
    '--policy',
    'monitorIntervalS=1',
    '--policy',
    'restartLimit=1',
    '--json',
  )
  const reply = JSON.parse(r.out) as { ok: boolean; generation: number; previousGeneration: number; target: string }
  t.match(reply, { ok: true, target: 'svc' }, '--json prints the agent reply')
  t.equal(reply.generation, reply.previousGeneration + 1)
  await ok(t, 'resource', 'link', 'svc', 'hook')
  await ok(t, 'resource', 'link', 'hook', 'base')
  t.equal(generation(), g0 + 6, 'one generation per change')

  const { main } = await exported()
  t.same(main.groups, [{ name: 'web', nodes: [NODE], failoverOnFailure: true, autoStart: false, autoFailback: false }])
  const svc = main.resources.find((x) => x.name === 'svc')!
  t.same(svc.attrs, { argv: ['/bin/sleep', '100000'], stopGraceS: 1 }, 'JSON values parsed: a list and a number')
  t.same(svc.policy, { monitorIntervalS: 1, restartLimit: 1 })
  const hook = main.resources.find((x) => x.name === 'hook')!
  t.same(hook.nodeAttrs, { [NODE]: { note: 'hello' } }, 'a per-node attribute, a plain string')
  t.equal(hook.critical, false)
  t.same(main.dependencies, [
    { parent: 'svc', child: 'hook' },
    { parent: 'hook', child: 'base' },
  ])

  await ok(t, 'group', 'edit', 'web', '--failback')
  await ok(t, 'resource', 'edit', 'hook', '--attr', 'delayMs=10', '--unset', `${NODE}:note`)
  const after = (await exported()).main
  t.equal(after.groups[0]!.autoFailback, true)
  t.same(after.resources.find((x) => x.name === 'hook')!.attrs, { delayMs: 10 })
  t.same(after.resources.find((x) => x.name === 'hook')!.nodeAttrs, {})
  await ok(t, 'group', 'edit', 'web', '--no-failback')

  // A second group: flags edited, then deleted (it has no resources). Failover order edits are
  // covered by test/agent/config-ops-unit.test.ts.
  await ok(t, 'group', 'add', 'spare', '--nodes', NODE, '--no-failover')
  await ok(t, 'group', 'edit', 'spare', '--failover', '--no-autostart')
  t.same((await exported()).main.groups[1], {
    name: 'spare',
    nodes: [NODE],
    failoverOnFailure: true,
    autoStart: false,
    autoFailback: false,
  })
  const same = await h.cli('group', 'edit', 'spare', '--failover')
  t.equal(same.code, 6, 'an edit that changes nothing is refused')
  t.match(same.err, /nothing to change/)
  await ok(t, 'group', 'delete', 'spare')
})

t.test('invalid changes are refused with the reason, and the configuration stays as it was', async (t) => {
  const g0 = generation()
  const before = JSON.stringify((await exported()).main)

  // Independent refusals, sent together (the agent takes configuration changes one at a time).
  const [
    cycle,
    json,
    type,
    missing,
    badValue,
    reserved,
    nic,
    taken,
    groupTaken,
    node,
    groupNode,
    policy,
    attr,
    unknownRes,
    unknownGroup,
    stale,
    usage,
  ] = await Promise.all([
    h.cli('resource', 'link', 'base', 'svc'),
    h.cli('resource', 'link', 'base', 'hook', '--json'),
    h.cli('resource', 'add', 'x1', '--type', 'nosuch', '--group', 'web'),
    h.cli('resource', 'add', 'p2', '--type', 'process', '--group', 'web', '--attr', 'stopGraceS=1'),
    h.cli('resource', 'add', 'p3', '--type', 'process', '--group', 'web', '--attr', 'argv=["relative"]'),
    h.cli('resource', 'add', 'process', '--type', 'dummy', '--group', 'web'),
    h.cli('resource', 'add', 'NIC', '--type', 'dummy', '--group', 'web'),
    h.cli('resource', 'add', 'svc', '--type', 'dummy', '--group', 'web'),
    h.cli('group', 'add', 'web', '--nodes', NODE),
    h.cli('resource', 'add', 'd9', '--type', 'dummy', '--group', 'web', '--node-attr', 'n9:note=x'),
    h.cli('group', 'add', 'g9', '--nodes', 'n9'),
    h.cli('resource', 'add', 'd8', '--type', 'dummy', '--group', 'web', '--policy', 'monitorIntervalS=0'),
    h.cli('resource', 'edit', 'base', '--attr', 'online=sometimes'),
    h.cli('resource', 'link', 'svc', 'ghost'),
    h.cli('resource', 'add', 'd7', '--type', 'dummy', '--group', 'nogroup'),
    h.cli('group', 'add', 'late', '--nodes', NODE, '--expect-generation', String(g0 - 1)),
    h.cli('resource', 'add', 'u1', '--type', 'dummy'),
  ])
  t.equal(cycle.code, 6, 'a cycle is an invalid configuration: exit 6')
  t.match(cycle.err, /MCCS_ERR_DEP_CYCLE/)
  t.match(cycle.err, /cycle: base -> svc -> hook -> base/, 'the cycle is named')

  t.equal(json.code, 6)
  t.match(JSON.parse(json.out), { ok: false, code: 'MCCS_ERR_DEP_CYCLE', generation: g0 })

  t.equal(type.code, 6, 'unknown type')
  t.match(type.err, /unknown resource type "nosuch"/)
  t.match(type.err, /MCCS_ERR_CONFIG_REF/)

  t.equal(missing.code, 6, 'missing required attribute')
  t.match(
    missing.err,
    /main\.json: \/resources\/3\/attrs\/argv: required attribute 'argv' is missing \(MCCS_ERR_CONFIG_ATTRS\) \[resource p2\]/,
    'names the attribute path',
  )

  t.equal(badValue.code, 6)
  t.match(badValue.err, /\/resources\/3\/attrs\/argv\/0/, 'a bad value names its path')

  t.equal(reserved.code, 6)
  t.match(reserved.err, /reserved keyword/)
  t.equal(nic.code, 6, 'NIC is reserved too, whatever its case')

  t.equal(taken.code, 6)
  t.match(taken.err, /already used by a resource of group web/)

  t.equal(groupTaken.code, 6)

  t.equal(node.code, 6, 'per-node value for an unknown node')
  t.match(node.err, /n9/)

  t.equal(groupNode.code, 6)
  t.match(groupNode.err, /no node named "n9"/)

  t.equal(policy.code, 6, 'a policy value out of bounds')
  t.match(policy.err, /\/resources\/3\/policy\/monitorIntervalS/)

  t.equal(attr.code, 6, 'an edit that breaks the attribute schema')
  t.match(attr.err, /\/resources\/0\/attrs\/online/)

  t.equal(unknownRes.code, 3, 'unknown resource: refused')
  t.match(unknownRes.err, /no resource named "ghost"/)
  t.equal(unknownGroup.code, 3)
  t.match(unknownGroup.err, /no group named "nogroup"/)

  t.equal(stale.code, 3, 'a stale generation is refused')
  t.match(stale.err, /MCCS_ERR_CONFIG_GENERATION/)

  t.equal(usage.code, 2, 'a missing --group is a usage error')

  t.equal(generation(), g0, 'same generation')
  t.equal(JSON.stringify((await exported()).main), before, 'same configuration')
})

t.test('the group comes online and shows in mccs status', async (t) => {
  const on = await ok(t, 'group', 'online', 'web', '--wait', '--timeout', '60')
  t.match(on.out, new RegExp(`group web\\s+${NODE}:online`))
  const st = await ok(t, 'status')
  t.match(st.out, new RegExp(`group web\\s+${NODE}:online`))
  t.match(st.out, /svc\s+process\s+online/)
  t.match(st.out, /hook \(non-critical\)\s+dummy\s+online/)
})

t.test('what runs is not deleted or changed under it', async (t) => {
  const g0 = generation()
  const [del, edit, gdel, gedit, dependents] = await Promise.all([
    h.cli('resource', 'delete', 'svc'),
    h.cli('resource', 'edit', 'svc', '--attr', 'stopGraceS=2'),
    h.cli('group', 'delete', 'web', '--force'),
    h.cli('group', 'edit', 'web', '--no-failover'),
    h.cli('resource', 'delete', 'base'),
  ])
  t.equal(del.code, 3, 'deleting an online resource is refused')
  t.match(del.err, new RegExp(`online on ${NODE}; take it offline first`))
  t.equal(edit.code, 3, 'editing an online resource is refused')
  t.equal(gdel.code, 3, 'deleting an online group is refused, even with --force')
  t.match(gdel.err, /take it offline first/)
  t.equal(gedit.code, 3, 'editing an online group is refused')
  t.equal(dependents.code, 3)
  t.match(dependents.err, /hook depends on it/)
  t.equal(generation(), g0)
  t.equal(resourceState(h.running!.agent.engineState(), 'svc', NODE)?.state, 'online', 'still online')

  // Adding to an online group is fine: the new resource stays offline.
  await ok(t, 'resource', 'add', 'extra', '--type', 'dummy', '--group', 'web')
  // Until its first probe it is unknown, and may not be deleted (it might run).
  await until(() => resourceState(h.running!.agent.engineState(), 'extra', NODE)?.state === 'offline', 10_000, 20, 'extra probed offline')
  t.equal(resourceState(h.running!.agent.engineState(), 'svc', NODE)?.state, 'online', 'adding did not disturb the group')
  await ok(t, 'resource', 'delete', 'extra')
})

t.test('offline, then delete with --force', async (t) => {
  await ok(t, 'group', 'offline', 'web', '--wait', '--timeout', '60')
  await ok(t, 'resource', 'edit', 'svc', '--attr', 'stopGraceS=2', '--unset-policy', 'restartLimit')
  const svc = (await exported()).main.resources.find((x) => x.name === 'svc')!
  t.same(svc.policy, { monitorIntervalS: 1 })
  const refused = await h.cli('resource', 'delete', 'base')
  t.equal(refused.code, 3, 'still has dependents')
  const forced = await ok(t, 'resource', 'delete', 'base', '--force')
  t.match(forced.out, /deleted with its links hook -> base/)
  await ok(t, 'resource', 'unlink', 'svc', 'hook')
  t.same((await exported()).main.dependencies, [])
  const has = await h.cli('group', 'delete', 'web')
  t.equal(has.code, 3, 'a group with resources is not deleted without --force')
  t.match(has.err, /still has resources \(hook, svc\)/)
  const gone = await ok(t, 'group', 'delete', 'web', '--force')
  t.match(gone.out, /deleted with its resources hook, svc/)
  const { main } = await exported()
  t.same([main.groups, main.resources, main.dependencies], [[], [], []])
  t.match((await ok(t, 'status')).out, /no groups configured/)
})

// Engine (core/engine/align.ts, aligned()): on every new configuration generation the runtime
// failover-on-failure switch is reset from the group's configuration, so an operator's
// `mccs group failover <g> --off` is silently undone by any unrelated configuration change.
t.test("an unrelated configuration change keeps the operator's failover switch", async (t) => {
  await ok(t, 'group', 'add', 'fo', '--nodes', NODE, '--no-autostart')
  await ok(t, 'group', 'failover', 'fo', '--off')
  t.equal(h.running!.agent.engineState().groups['fo']?.failoverOnFailure, false, 'switched off')
  await ok(t, 'group', 'add', 'other', '--nodes', NODE, '--no-autostart')
  t.equal(h.running!.agent.engineState().groups['fo']?.failoverOnFailure, false, 'still off after another group was added')
  await ok(t, 'group', 'delete', 'other')
  await ok(t, 'group', 'delete', 'fo')
})

t.test('every command is in the operation log with its user', async (t) => {
  const user = os.userInfo().username
  const ops = jsonLines<{ user: string; node: string; command: string; target?: string; result: string; code?: string }>(
    await readFile(path.join(h.home, 'logs/operation.log'), 'utf8'),
  )
  const cfg = ops.filter((o) => /^(group|resource)(Add|Edit|Delete|Link|Unlink)$/.test(o.command))
  t.ok(cfg.length >= 35, `${cfg.length} configuration commands logged`)
  t.ok(
    cfg.every((o) => o.user === user && o.node === NODE),
    'each with the user and the node',
  )
  const find = (command: string, target: string, result: string, code?: string) =>
    cfg.some((o) => o.command === command && o.target === target && o.result === result && (!code || o.code === code))
  t.ok(find('groupAdd', 'web', 'done'))
  t.ok(find('resourceAdd', 'svc', 'done'))
  t.ok(find('resourceLink', 'svc', 'done'))
  t.ok(find('resourceLink', 'base', 'rejected', 'MCCS_ERR_DEP_CYCLE'), 'the refused cycle')
  t.ok(find('resourceAdd', 'x1', 'rejected'), 'the unknown type')
  t.ok(find('resourceAdd', 'p2', 'rejected', 'MCCS_ERR_CONFIG_INVALID'), 'the missing attribute')
  t.ok(find('resourceDelete', 'svc', 'rejected', 'MCCS_ERR_CONFLICT'), 'the online resource')
  t.ok(find('groupAdd', 'late', 'rejected', 'MCCS_ERR_CONFIG_GENERATION'), 'the stale generation')
  t.ok(find('resourceDelete', 'base', 'done'))
  t.ok(find('resourceUnlink', 'svc', 'done'))
  t.ok(find('groupDelete', 'web', 'done'))
  t.ok(
    ops.some((o) => o.command === 'groupOnline' && o.user === user),
    'operator commands are there too',
  )
})
