// Issue 16, Rename node, in the lab with real agents, 3 nodes and group `web` running on n1: the running n3
// cannot be renamed (nor to a taken or bad name, nor an unknown node: each refused naming the field, no
// file changed); n3 stops gracefully; `mccs node rename n3 db3` on n2 renames it on every member (hb.json
// and main.json together, no n3 left); an agent started on that host under the old name is never admitted;
// `mccs setup --rename db3` there, and the agent started again joins as db3; the group switches to db3 and
// back with the service answering; nobody is fenced.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'
import { rpc } from '../../core/cli/control-client.js'
import { writeDevLicense } from '../../core/license/dev-license.js'
import { packageRoot } from '../../core/paths.js'

const avail = await labAvailable()

/** mccs on a node's host, as an operator's shell runs it. `name: null`: the name comes from the settings file. */
function cli(
  c: AgentCluster,
  node: string,
  args: string[],
  name: string | null = node,
): Promise<{ code: number; out: string; err: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, MCCS_HOME: c.homes[node]!, MCCS_LANG: 'en' }
  if (name) env.MCCS_NODE_NAME = name
  else delete env.MCCS_NODE_NAME
  delete env.NODE_OPTIONS
  delete env.MCCS_CONFIG
  return new Promise((resolve) =>
    execFile(path.join(packageRoot(), 'bin/mccs'), args, { env, timeout: 120_000 }, (err, out, errOut) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut }),
    ),
  )
}
const sock = (c: AgentCluster, n: string) => path.join(c.homes[n]!, 'state/mccs.sock')
const refusal = async (p: Promise<unknown>): Promise<{ code?: string; field?: string; message: string }> => {
  try {
    await p
  } catch (e) {
    return e as { code?: string; field?: string; message: string }
  }
  throw new Error('the rename was accepted')
}
const rename = (c: AgentCluster, on: string, name: string, newName: string) =>
  rpc(sock(c, on), 'hb.change', { change: { op: 'renameNode', name, newName }, user: 'tester' }, 60_000)
const files = async (c: AgentCluster, n: string) => ({
  hb: await readFile(path.join(c.homes[n]!, 'config/hb.json'), 'utf8'),
  main: await readFile(path.join(c.homes[n]!, 'config/main.json'), 'utf8'),
})
/** Every node name main.json and hb.json use. */
const namesIn = (f: { hb: string; main: string }) => {
  const hb = JSON.parse(f.hb) as { nodes: Array<{ name: string }> }
  const main = JSON.parse(f.main) as { groups: Array<{ nodes: string[] }>; resources: Array<{ nodeAttrs?: Record<string, unknown> }> }
  return [
    ...hb.nodes.map((n) => n.name),
    ...main.groups.flatMap((g) => g.nodes),
    ...main.resources.flatMap((r) => Object.keys(r.nodeAttrs ?? {})),
  ]
}
const fences = async (c: AgentCluster) =>
  (
    await Promise.all(
      c.nodes.map(async (n) =>
        (await c.log(n)).split('\n').filter((l) => /"msg":"fence \S+ \(level|"msg":"fencing \S+ with|"notice":"needsFence"/.test(l)),
      ),
    )
  ).flat()
async function stopAgent(c: AgentCluster, n: string, expect0 = true): Promise<void> {
  const child = c.agents[n]!
  if (child.exitCode !== null) return
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)))
  child.kill('SIGTERM')
  const code = await Promise.race([exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 30_000).unref())])
  if (code === 'late' || (expect0 && code !== 0)) throw new Error(`the agent of ${n} did not exit 0 within 30 s of SIGTERM (${code})`)
}

if (!avail.ok) {
  t.test('node rename', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('3 nodes: a stopped n3 renamed db3 live; its host comes back as db3; the group goes there and back; nobody fenced', async (t) => {
    const c = await AgentCluster.create({ prefix: `mccs${process.pid}r-`, nodes: 3 })
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `r-${n}.log`), await c.log(n))
      await c.destroy()
    })
    c.start()
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
    await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1')
    for (const n of ['n2', 'n3'])
      await until(async () => (await c.status(n)).membership?.role === 'follower' || undefined, 15_000, `${n} following`)

    // Refusals: each names its field and changes no file anywhere.
    const before = await Promise.all(c.nodes.map((n) => files(c, n)))
    let r = await refusal(rename(c, 'n2', 'n3', 'db3'))
    t.equal(r.code, 'MCCS_ERR_CONFLICT', r.message)
    t.equal(r.field, 'name')
    t.match(r.message, /node n3 is running: stop n3 first/)
    r = await refusal(rename(c, 'n2', 'n3', 'n2'))
    t.equal(r.field, 'newName', `a taken name: ${r.message}`)
    t.match(r.message, /already taken/)
    r = await refusal(rename(c, 'n2', 'n3', '3db'))
    t.equal(r.field, 'newName', `a bad name: ${r.message}`)
    t.equal(r.code, 'MCCS_ERR_INVALID')
    r = await refusal(rename(c, 'n2', 'n3', 'n3'))
    t.equal(r.field, 'newName', `the same name: ${r.message}`)
    r = await refusal(rename(c, 'n1', 'n9', 'db9'))
    t.equal(r.field, 'name', `an unknown node: ${r.message}`)
    t.equal(r.code, 'MCCS_ERR_NOT_FOUND')
    // The host's own command refuses while its agent runs: a node never runs under two names.
    await writeFile(path.join(c.homes.n3!, 'config/mccs.config.json'), JSON.stringify({ nodeName: 'n3' }) + '\n') // as mccs setup writes it
    const running = await cli(c, 'n3', ['setup', '--rename', 'db3'], null)
    t.equal(running.code, 3, `setup --rename with the agent running: ${running.err}`)
    t.match(running.err, /agent is running as n3/)
    t.same(await Promise.all(c.nodes.map((n) => files(c, n))), before, 'no hb.json or main.json changed anywhere')

    // n3 stops gracefully (it runs nothing: nothing moves), then is renamed from n2 (not the coordinator).
    await stopAgent(c, 'n3')
    await until(
      async () => [...((await c.status('n1')).membership?.partition ?? [])].sort().join() === 'n1,n2' || undefined,
      15_000,
      'n3 out of the view',
    )
    const t0 = Date.now()
    const done = await cli(c, 'n2', ['node', 'rename', 'n3', 'db3'])
    t.comment(`mccs node rename took ${Date.now() - t0} ms`)
    t.equal(done.code, 0, `mccs node rename n3 db3: ${done.out}${done.err}`)
    t.match(done.out, /node n3 renamed db3: hb\.json generation 2 \(was 1\)/)
    t.match(done.out, /mccs setup --rename db3/, 'it tells the one command to run on the host')
    for (const n of ['n1', 'n2']) {
      const f = await until(
        async () => {
          const x = await files(c, n)
          return (JSON.parse(x.hb) as { generation: number }).generation === 2 ? x : undefined
        },
        10_000,
        `hb.json generation 2 on ${n}`,
      )
      const names = namesIn(f)
      t.ok(names.includes('db3') && !names.includes('n3'), `${n}: hb.json and main.json say db3, no n3 (${[...new Set(names)].join(',')})`)
      t.equal((JSON.parse(f.main) as { generation: number }).generation, 2, `${n}: main.json generation 2`)
      t.notOk(await readFile(path.join(c.homes[n]!, 'config/import.pending.json')).catch(() => null), `${n}: no journal left`)
    }
    const oplog = await readFile(path.join(c.homes.n2!, 'logs/operation.log'), 'utf8')
    t.match(oplog, /"command":"hb\.renameNode".*"result":"done"/, 'recorded in the operation log')

    // An agent started under the old name is never admitted.
    c.startAgent('n3')
    await until(async () => (await c.status('n3')).node === 'n3' || undefined, 30_000, 'the old-named agent answering')
    await new Promise((res) => setTimeout(res, 3000)) // heartbeats for five dead times
    const st1 = await c.status('n1')
    t.same([...(st1.membership?.partition ?? [])].sort(), ['n1', 'n2'], 'the old-named n3 is not a member')
    t.notOk(
      st1.nodes.some((x) => x.name === 'n3'),
      'n1 knows no n3',
    )
    t.notOk((await c.status('n3')).membership?.quorate, 'the old-named agent has no quorum')
    await stopAgent(c, 'n3', false)

    // On the host: the license for the new name (licenses name their node), then the one command.
    await writeDevLicense(path.join(c.homes.n3!, 'config'), 'db3')
    const host = await cli(c, 'n3', ['setup', '--rename', 'db3'], null)
    t.equal(host.code, 0, `mccs setup --rename db3: ${host.out}${host.err}`)
    t.match(host.out, /this node is now db3 \(was n3\)/, 'in English (MCCS_LANG=en here)')
    const again = await cli(c, 'n3', ['setup', '--rename', 'db3', '--lang', 'ko'], null)
    t.equal(again.code, 0, `run again: ${again.out}${again.err}`)
    t.match(again.out, /이미 db3입니다: 기록할 것이 없습니다/, 'and in Korean with --lang ko')
    c.startAgent('n3', { nameFromSettings: true })
    await until(
      async () => (await c.status('n1')).nodes.find((x) => x.name === 'db3')?.membership === 'up' || undefined,
      30_000,
      'db3 up on the coordinator',
    )
    const st3 = await c.status('n3')
    t.equal(st3.node, 'db3', 'the host runs as db3')
    t.same([...(st3.membership?.partition ?? [])].sort(), ['db3', 'n1', 'n2'], 'db3 is a member')
    const f3 = await until(
      async () => {
        const x = await files(c, 'n3')
        return (JSON.parse(x.main) as { generation: number }).generation === 2 &&
          (JSON.parse(x.hb) as { generation: number }).generation === 2
          ? x
          : undefined
      },
      15_000,
      "db3 took the cluster's generation 2 of both files",
    )
    t.same(f3, await files(c, 'n1'), "db3's hb.json and main.json are the coordinator's")

    // The group goes to db3 and back, the service answering from its host. First the coordinator's probes of
    // the node that just joined end: a switch while they run is refused (MCCS_ERR_GROUP_BUSY), and the command
    // line (bin/mccs-fast.pl) now reaches the agent within milliseconds of the join.
    await until(async () => ((await c.status('n1')).groups[0]?.busy === 0 ? true : undefined), 15_000, 'no action in progress on web')
    const from = c.rounds.length
    const sw = await cli(c, 'n1', ['group', 'switch', 'web', '--node', 'db3', '--wait', '--timeout', '30'])
    t.equal(sw.code, 0, `switch web to db3: ${sw.out}${sw.err}`)
    // The service's answer is its argv's text, which still says n3 (an attribute: renaming does not edit it).
    await until(async () => c.rounds.slice(from).find((x) => x.who.join() === 'n3'), 10_000, "the service answering from db3's host")
    t.equal((await c.status('n2')).groups[0]?.activeNode, 'db3')
    await until(async () => ((await c.status('n2')).groups[0]?.busy === 0 ? true : undefined), 15_000, 'no action in progress on web')
    const back = await cli(c, 'n2', ['group', 'switch', 'web', '--node', 'n1', '--wait', '--timeout', '30'])
    t.equal(back.code, 0, `switch web back to n1: ${back.out}${back.err}`)
    await until(async () => c.rounds.at(-1)?.who.join() === 'n1' || undefined, 10_000, 'the service answering from n1 again')
    t.equal(c.rounds.slice(from).filter((x) => x.who.length > 1).length, 0, 'never two answers in one round')
    t.same(await fences(c), [], 'nobody was fenced')
  })
}

if (avail.ok)
  t.test('3 nodes: n3 lost (killed) and fenced is renamed', async (t) => {
    const c = await AgentCluster.create({ prefix: `mccs${process.pid}q-`, nodes: 3 })
    t.teardown(async () => {
      if (process.env.MCCS_DEBUG_LAB)
        for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `q-${n}.log`), await c.log(n))
      await c.destroy()
    })
    c.start()
    await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
    for (const n of ['n2', 'n3'])
      await until(async () => (await c.status(n)).membership?.role === 'follower' || undefined, 15_000, `${n} following`)
    // n3 loses power: the coordinator fences it (the lab's fence script), then it may be renamed (before, the
    // engine's fence would be lost with its name: refused, agent.ts removable).
    await c.killNode('n3')
    await until(
      async () => {
        const st = await c.status('n1')
        const n3 = st.nodes.find((x) => x.name === 'n3')
        // Out of the view, and its fence done (the engine no longer waits on it).
        return (
          ([...(st.membership?.partition ?? [])].sort().join() === 'n1,n2' && n3?.membership === 'fenced' && !n3.needsFence && n3) ||
          undefined
        )
      },
      20_000,
      'n3 lost and fenced',
    )
    // n2 in the same view as n1: until then it refuses the change, naming the coordinator it does not follow
    // yet (ci9: 'n2 refused it: n1 is not this node's coordinator; nothing changed', a clean refusal).
    await until(
      async () => {
        const m = (await c.status('n2')).membership
        return (m?.role === 'follower' && [...(m.partition ?? [])].sort().join() === 'n1,n2') || undefined
      },
      15_000,
      'n2 following n1 in the view without n3',
    )
    const r = (await rename(c, 'n1', 'n3', 'db3')) as { generation: number; summary: string }
    t.same({ generation: r.generation, summary: r.summary }, { generation: 2, summary: 'node n3 renamed db3' })
    for (const n of ['n1', 'n2']) {
      const f = await until(
        async () => {
          const x = await files(c, n)
          return (JSON.parse(x.hb) as { generation: number }).generation === 2 ? x : undefined
        },
        10_000,
        `hb.json generation 2 on ${n}`,
      )
      t.notOk(namesIn(f).includes('n3'), `${n}: no n3 left`)
    }
    t.equal((await c.status('n1')).groups[0]?.nodes.n1, 'online', 'the group stayed on n1')
  })
