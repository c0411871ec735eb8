// Issue 13, What 4: no quorum and not coordinator answer their own statuses, never 500. A real cluster-mode
// agent n1 of a two-node cluster whose n2 never answers (one vote of two: no quorum) is asked through the
// console's API, the control socket and the CLI's configuration command, as an operator would.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeHome, until, type AgentHome } from '../agent/agent-home.js'
import { createClusterKey } from '../../core/cluster/cluster-key.js'
import type { Role } from '../../core/cluster/role.js'
import type { Agent } from '../../core/agent/agent.js'
import type { MainConfig } from '../../core/engine/model.js'
import { buildConsole, type ConsoleApp } from '../../core/console/server.js'
import { consoleSettings } from '../../core/console/settings.js'
import { readyClient, type Client } from '../console/api-helpers.js'
import { rpc } from '../../core/cli/control-client.js'
import { editCommand } from '../../core/cli/edit-cmd.js'
import { EXIT } from '../../core/cli/exit-codes.js'

t.setTimeout(120_000)

const MAIN: Omit<MainConfig, 'generation'> = {
  types: {},
  groups: [{ name: 'g', nodes: ['n1', 'n2'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
  resources: [
    { name: 'd0', type: 'dummy', group: 'g', critical: true, monitored: true, attrs: {}, nodeAttrs: {}, policy: { monitorIntervalS: 1 } },
  ],
  dependencies: [],
}

let h: AgentHome
let web: ConsoleApp
let c: Client
t.before(async () => {
  h = await makeHome(MAIN, { nodes: ['n1', 'n2'] })
  const hbFile = path.join(h.b.configDir, 'hb.json')
  const hb = JSON.parse(await readFile(hbFile, 'utf8')) as { port?: number; nodes: Array<{ name: string; votes?: number }> }
  hb.port = 20_000 + Math.floor(Math.random() * 20_000) // a port of its own: other tests run agents meanwhile
  for (const n of hb.nodes) n.votes = 1 // n1 alone holds one vote of two
  await writeFile(hbFile, JSON.stringify(hb, null, 2))
  await createClusterKey(path.join(h.b.configDir, 'cluster.key'))
  await h.start()
  web = await buildConsole(h.running!.agent, { ...consoleSettings(h.b, path.join(h.home, 'no-ui'), {}), listen: ['127.0.0.1'], port: 0 })
  c = await readyClient(web)
})
t.teardown(async () => {
  await web?.app.close()
  await h?.cleanup()
})

const agent = (): Agent => h.running!.agent
const role = (): Role => (agent() as unknown as { role: Role }).role

t.test('n1 settles inquorate', async (t) => {
  // n2 is never heard: after its wait for all (10 s), n1 decides it has no quorum.
  await until(() => role().current() === 'inquorate', 60_000, 50, 'n1 inquorate')
  t.equal(role().current(), 'inquorate')
})

t.test('console: a command without quorum answers 503 MCCS_ERR_NO_QUORUM, not 500', async (t) => {
  const r = await c.req('POST', '/api/groups/g/actions/online', {})
  t.equal(r.status, 503, `status (body ${JSON.stringify(r.body)})`)
  t.equal(r.body?.error?.code, 'MCCS_ERR_NO_QUORUM')
  t.match(r.body?.error?.message, /quorum/, 'the message says why')
  t.notMatch(r.body?.error?.message, /^MCCS_ERR_/, 'the message is the reason, not the code again')
  t.same(Object.keys(r.body?.error ?? {}).sort(), ['code', 'message', 'subject'], 'the error shape is unchanged')
})

t.test('console: a configuration change without quorum answers 503, not 400 or 500', async (t) => {
  const add = await c.req('POST', '/api/groups', { name: 'g2', nodes: ['n1'] })
  t.equal(add.status, 503, `add a group (body ${JSON.stringify(add.body)})`)
  t.equal(add.body?.error?.code, 'MCCS_ERR_NO_QUORUM')
  const cur = agent().store.current().main
  const put = await c.req('PUT', '/api/config', {
    text: JSON.stringify({ ...cur, groups: [...cur.groups, { ...cur.groups[0]!, name: 'g3' }] }),
    expectGeneration: cur.generation,
  })
  t.equal(put.status, 503, `replace main.json (body ${JSON.stringify(put.body)})`)
  t.equal(put.body?.error?.code, 'MCCS_ERR_NO_QUORUM')
  t.equal(agent().store.current().main.generation, cur.generation, 'nothing changed')
})

t.test('control socket: the same refusal, same fields as before', async (t) => {
  const err = await rpc(h.b.controlSocket, 'command', { cmd: { type: 'groupOnline', group: 'g', user: 'test' } }).then(
    () => null,
    (e: Error & { code?: string }) => e,
  )
  t.equal(err?.code, 'MCCS_ERR_NO_QUORUM')
  t.match(err?.message, /^MCCS_ERR_NO_QUORUM: n1: /, 'the CLI prints the message as before')
})

t.test('CLI: a configuration command refused for want of quorum exits 3 (rejected), not 6 (invalid configuration)', async (t) => {
  const out: string[] = []
  const io = {
    out: (s: string) => {
      out.push(s)
    },
    err: (s: string) => {
      out.push(s)
    },
  }
  const code = await editCommand('group', ['add', 'g2'], { nodes: 'n1' }, { socket: h.b.controlSocket, json: false }, io)
  t.equal(code, EXIT.REJECTED, out.join('\n'))
  t.match(out.join('\n'), /refused: .*quorum.*\(MCCS_ERR_NO_QUORUM\)/)
})

t.test('not the coordinator is its own code, as an outcome and as a peer refusal', async (t) => {
  const d = agent().dispatch({ type: 'groupOnline', group: 'g', user: 'test' })
  t.match(d.outcome, { status: 'rejected', code: 'MCCS_ERR_NOT_COORDINATOR' }, 'the engine loop of a non-coordinator refuses a command')
  // A command forwarded to n1 by a node that still takes it for the coordinator.
  const peer = (agent() as unknown as { rpc: { onRequest(from: string, m: unknown): Promise<unknown> } }).rpc
  const err = await peer.onRequest('n2', { t: 'command', cmd: { type: 'groupOnline', group: 'g', user: 'test' }, wait: false }).then(
    () => null,
    (e: Error & { code?: string }) => e,
  )
  t.equal(err?.code, 'MCCS_ERR_NOT_COORDINATOR')
})
