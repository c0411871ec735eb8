// Issue 14 (liveness), random-fault runs: "a resumed node briefly shows a stale status". An agent paused
// (SIGSTOP) past the dead time is taken out of the view by its peers and fenced; resumed (SIGCONT), it must
// not answer `mccs status` with its pre-pause view as current (a quorate view with its peers, its old role,
// peers up that it has not heard since). Three real agents; the fence stops the services and spares the
// agent (the lab's 'services' fence), so the resumed agent answers. The status is asked while the agent is
// paused: the request waits in its socket and is the first thing it answers after SIGCONT.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'
import type { AgentStatus } from '../../core/agent/status.js'

const avail = await labAvailable()

/** The view a status speaks of (its quorum reason says "view N"); 0: none. */
const epochOf = (reason: string | undefined) => Number(/view (\d+)/.exec(reason ?? '')?.[1] ?? 0)

/** What a status claims as current: a view with peers in it, a role in it, peers up. */
function claims(s: AgentStatus): string {
  const m = s.membership
  if (!m) return 'no membership'
  const up = m.peers.filter((p) => p.up).map((p) => p.node)
  const nodes = s.nodes.map((n) => `${n.name}:${n.membership}`).join(' ')
  const web = Object.entries(s.groups[0]?.nodes ?? {})
    .map(([n, st]) => `${n}:${st}`)
    .join(' ')
  return `${s.stale ? `[stale: ${s.stale}] ` : ''}view ${epochOf(m.quorum.reason)}: role ${m.role}, ${m.quorate ? 'quorate' : 'inquorate'} [${m.partition.join(', ')}], peers up [${up.join(', ')}]${m.stale ? ', marked stale' : ''}; nodes ${nodes}; web ${web}`
}

if (!avail.ok) {
  t.test('a resumed agent does not show a stale status', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  for (const who of ['n2', 'n1'] as const) {
    t.test(
      `${who === 'n1' ? 'the coordinator' : 'a follower'} (${who}) paused past the dead time, resumed: its status is fresh or marked stale`,
      async (t) => {
        const c = await AgentCluster.create({ prefix: `mccs${process.pid}p${who}-`, fence: 'services' })
        t.teardown(async () => {
          if (process.env.MCCS_DEBUG_LAB)
            for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `resume-${who}-${n}.log`), await c.log(n))
          await c.destroy()
        })
        c.start()
        await until(async () => (await c.status('n1')).groups[0]?.nodes.n1 === 'online' || undefined, 60_000, 'web online on n1')
        for (const n of c.nodes)
          await until(
            async () => (await c.status(n)).membership?.partition.length === 3 || undefined,
            15_000,
            `${n} in the view of all three`,
          )
        const other = who === 'n1' ? 'n2' : 'n1'

        const agent = c.agents[who]!
        agent.kill('SIGSTOP')
        let resumed = false
        t.teardown(() => {
          if (!resumed) agent.kill('SIGCONT')
        })
        await until(
          async () => (await c.status(other)).nodes.find((n) => n.name === who)?.membership === 'fenced' || undefined,
          15_000,
          `${who} fenced by the others`,
        )
        await until(
          async () => !(await c.status(other)).membership?.partition.includes(who) || undefined,
          5000,
          `${who} out of ${other}'s view`,
        )
        // The view the others installed without it: anything it claims from an older view is its pre-pause one.
        const without = epochOf((await c.status(other)).membership?.quorum.reason)
        t.ok(without > 0, `${other} installed view ${without} without ${who}`)
        // Asked while paused (the requests wait in its socket), then again and again at once after SIGCONT.
        const answers: Array<{ ms: number; s: AgentStatus }> = []
        let cont = 0
        const ask = () => c.status(who).then((s) => void answers.push({ ms: Date.now() - cont, s }))
        const queued = Array.from({ length: 4 }, ask)
        await new Promise((r) => setTimeout(r, 300))
        cont = Date.now()
        agent.kill('SIGCONT')
        resumed = true
        await Promise.all(queued)
        while (Date.now() - cont < 1000) await ask()
        // An answer not marked stale must be one of a current quorate view (not the pre-pause one): a node
        // outside any such view knows no current state of the groups and nodes.
        const stale = answers.filter(({ s }) => {
          const m = s.membership!
          return !s.stale && !m.stale && !(m.quorate && epochOf(m.quorum.reason) >= without)
        })
        const kinds = [...new Set(answers.map((a) => claims(a.s)))]
        t.comment(`${answers.length} answers within 1 s of SIGCONT, ${kinds.length} kinds:\n${kinds.join('\n')}`)
        t.same(
          stale.map((a) => `${a.ms} ms: ${claims(a.s)}`),
          [],
          'no answer after SIGCONT claims the pre-pause view or role as current',
        )
        // It re-learns the view: admitted again after its readmission hold, and then fresh.
        await until(
          async () => {
            const m = (await c.status(who)).membership
            return (m && !m.stale && m.quorate && m.partition.length === 3) || undefined
          },
          30_000,
          `${who} back in the view of all three, fresh`,
        )
        t.pass(`${who} re-learned its view`)
      },
    )
  }
}
