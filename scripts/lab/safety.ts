// The safety checker (issue 4, acceptance 3): repeated faults on the node running the group — a
// partition of all its links, or SIGSTOP of its agent for 3 dead times then SIGCONT — in a 3-node lab
// cluster with real agents. Every node's service records its own transitions ({node, up|down, at}, one
// shared clock: the lab is one host), every agent logs its fences; from both the checker builds each
// node's running intervals (an interval ends at the service's own 'down', or at the latest when its node
// was fenced) and proves that no two nodes ever ran the group at the same time, and that a paused node
// never started it again. The client's prober (every node every 10 ms) is a second, independent witness.
//
// The lab's fence here kills the services but not the agent (AgentCluster fence: 'services'), so a
// paused agent really resumes after SIGCONT with its old role and state — the dangerous case.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { AgentCluster, until } from './agent-cluster.js'
import { MirrorWitness } from './mirror-witness.js'
import { createLabMirror, firstPrimary, mirrorStatus } from './mirror-group.js'

export type FaultKind = 'partition' | 'sigstop'

export interface Transition {
  node: string
  ev: 'up' | 'down'
  at: number
}
export interface Interval {
  node: string
  from: number
  to: number
  end: 'down' | 'fenced' | 'running'
}
export interface RunRecord {
  kind: FaultKind
  victim: string
  to: string
  faultAt: number
  recoveredAt: number
  outageMs: number
}
export interface SafetyReport {
  runs: RunRecord[]
  intervals: Interval[]
  /** Pairs of intervals of different nodes that overlap. */
  overlaps: Array<[Interval, Interval]>
  /** A paused (or cut-off) node started the service again after its fault without being given the group. */
  resumed: Array<{ run: number; node: string; at: number }>
  /** Prober rounds in which two nodes answered. */
  twoAnswers: number
  probeRounds: number
  /** The mirror disk (issue 15, acceptance 6): every node's primary intervals from the mirror witness
   *  (mirror-witness.ts: the process table, not the agents' word), cut at fences, and the overlaps. */
  mirror: MirrorReport
}
export interface MirrorReport {
  intervals: Interval[]
  overlaps: Array<[Interval, Interval]>
  samples: number
}

/** Intervals from the services' own records, cut at the node's fence when no 'down' was written. */
export function intervalsOf(trans: Transition[], fences: Array<{ node: string; at: number }>, end: number): Interval[] {
  const out: Interval[] = []
  const open = new Map<string, number>()
  const events = [
    ...trans.map((x) => ({ ...x, kind: x.ev as string })),
    ...fences.map((f) => ({ node: f.node, at: f.at, kind: 'fenced' })),
  ].sort((a, b) => a.at - b.at || (a.kind === 'up' ? 1 : -1))
  for (const e of events) {
    const from = open.get(e.node)
    if (e.kind === 'up') {
      if (from === undefined) open.set(e.node, e.at)
      continue
    }
    if (from !== undefined) {
      out.push({ node: e.node, from, to: e.at, end: e.kind as 'down' | 'fenced' })
      open.delete(e.node)
    }
  }
  for (const [node, from] of open) out.push({ node, from, to: end, end: 'running' })
  return out.sort((a, b) => a.from - b.from)
}

export function overlapsOf(iv: Interval[]): Array<[Interval, Interval]> {
  const bad: Array<[Interval, Interval]> = []
  for (let i = 0; i < iv.length; i++) {
    for (let j = i + 1; j < iv.length; j++) {
      const a = iv[i]!
      const b = iv[j]!
      if (a.node !== b.node && a.from < b.to && b.from < a.to) bad.push([a, b])
    }
  }
  return bad
}

/** The mirror disk (issue 15, acceptance 6): never primary on two nodes at once. `primaries` are the
 *  witness's transitions (mirror-witness.ts: a node's primary daemon appears / is gone), cut at a node's
 *  fence as the services' are. */
export function mirrorVerdict(
  primaries: Transition[],
  fences: Array<{ node: string; at: number }>,
  end: number,
): { intervals: Interval[]; overlaps: Array<[Interval, Interval]> } {
  const intervals = intervalsOf(primaries, fences, end)
  return { intervals, overlaps: overlapsOf(intervals) }
}

/** The mirror witness over every node of an agent cluster (a node with no mirror-disk resource never
 *  runs a primary: its verdict is empty). */
export function watchMirrors(c: AgentCluster): { stop(fences: Array<{ node: string; at: number }>, end: number): Promise<MirrorReport> } {
  const w = new MirrorWitness(Object.fromEntries(c.nodes.map((n) => [n, c.lab.ns(n)]))).start()
  return {
    stop: async (fences, end) => ({ ...mirrorVerdict(await w.stop(), fences, end), samples: w.samples }),
  }
}

export async function fencesFromLogs(c: AgentCluster): Promise<Array<{ node: string; at: number }>> {
  const out: Array<{ node: string; at: number }> = []
  for (const n of c.nodes) {
    for (const line of (await c.log(n)).split('\n')) {
      const m = /"time":"([^"]+)".*"msg":"fence (n\d+) \(level \d+, [^)]+\): done\/ok"/.exec(line)
      if (m) out.push({ node: m[2]!, at: Date.parse(m[1]!) })
    }
  }
  return out
}

export interface SafetyOptions {
  prefix: string
  kinds: FaultKind[]
  runsEach: number
  /** The group also holds a mirror-disk `md` the service depends on, on n1 and n2 (n3 votes): a fault
   *  moves the volume too, and the next fault waits until the other copy is up to date again. */
  mirror?: boolean
  log?: (msg: string) => void
}

/** Runs the faults in turn (kind by kind) on one cluster; returns what the checker found. */
export async function runSafety(o: SafetyOptions): Promise<SafetyReport> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-safety-'))
  const file = path.join(dir, 'transitions.jsonl')
  const md = o.mirror ? createLabMirror(['n1', 'n2']) : null
  const c = await AgentCluster.create({
    prefix: o.prefix,
    nodes: 3,
    fence: 'services',
    transitions: file,
    ...(md
      ? {
          adjustMain: (main, lab) => {
            // A new volume's first promotion is the operator's: the run brings the group online itself.
            main.groups[0] = { ...main.groups[0]!, nodes: ['n1', 'n2'], autoStart: false }
            main.resources.unshift(md.resource(lab, ['n1', 'n2'], 'md', 'web'))
            main.dependencies.push({ parent: 'svc', child: 'md' })
          },
        }
      : {}),
  }).catch((e: unknown) => {
    md?.release()
    throw e
  })
  const runs: RunRecord[] = []
  const resumed: SafetyReport['resumed'] = []
  const say = o.log ?? (() => {})
  const mirrors = watchMirrors(c)
  try {
    c.start()
    if (md) await firstPrimary(c, { resource: 'md', group: 'web', node: 'n1' })
    await until(async () => (c.rounds.at(-1)?.who.length === 1 ? true : undefined), 90_000, 'the service answering from one node')
    // With a mirror: the other copy is up to date (else it rightly refuses to take over at the next fault).
    const mirrorSynced = async (node: string) => {
      if (!md) return true
      const [m] = await mirrorStatus(c, node, 'md')
      return m?.local.replication?.state === 'Connected' && 'role' in m.peer && m.peer.peerRecord?.state === 'UpToDate'
    }
    const stable = async () => {
      // Every node back in one quorate partition, the group online on one node and answering. Asked of every
      // node: a victim just resumed from SIGSTOP still answers with the view it had before its pause, so
      // asking n1 alone started the next fault while n1 was still held out by its peers.
      await until(
        async () => {
          const all = await Promise.all(c.nodes.map((n) => c.status(n)))
          const s = all[0]!
          const g = s.groups[0]
          const ok =
            all.every((x) => x.membership?.partition.length === 3 && x.membership.quorate) &&
            s.nodes.every((n) => n.membership === 'up') &&
            g &&
            Object.values(g.nodes).filter((x) => x === 'online').length === 1 &&
            g.busy === 0
          const on = g && Object.entries(g.nodes).find(([, x]) => x === 'online')?.[0]
          return ok && on && (await mirrorSynced(on)) && c.rounds.at(-1)?.who.length === 1 ? true : undefined
        },
        60_000,
        'the cluster stable again',
      )
    }
    for (const kind of o.kinds) {
      for (let i = 0; i < o.runsEach; i++) {
        await stable()
        const victim = c.rounds.at(-1)!.who[0]!
        const from = c.rounds.length
        const faultAt = Date.now()
        if (kind === 'partition') {
          await c.lab.partition([[victim], [...c.nodes.filter((n) => n !== victim), 'client']])
        } else {
          c.agents[victim]!.kill('SIGSTOP')
        }
        const back = await until(
          async () => c.rounds.slice(from).find((r) => r.who.length > 0 && !r.who.includes(victim)),
          30_000,
          `the service moved off ${victim}`,
        )
        if (kind === 'partition') {
          await new Promise((r) => setTimeout(r, 1000))
          await c.lab.heal()
        } else {
          await new Promise((r) => setTimeout(r, Math.max(0, 1800 - (Date.now() - faultAt)))) // 3 dead times paused
          c.agents[victim]!.kill('SIGCONT')
        }
        const resumedAt = Date.now()
        await stable()
        // The victim was not given the group back (no failback): any start of its service after the fault is a resume.
        const trans = await readTransitions(file)
        for (const t of trans)
          if (t.node === victim && t.ev === 'up' && t.at > faultAt) resumed.push({ run: runs.length, node: victim, at: t.at })
        runs.push({ kind, victim, to: back.who[0]!, faultAt, recoveredAt: back.at, outageMs: back.at - faultAt })
        say(`${kind} #${i + 1}: ${victim} -> ${back.who[0]} in ${back.at - faultAt} ms (resumed ${Date.now() - resumedAt} ms ago)`)
      }
    }
    const end = Date.now()
    const fences = await fencesFromLogs(c)
    const intervals = intervalsOf(await readTransitions(file), fences, end)
    return {
      runs,
      intervals,
      overlaps: overlapsOf(intervals),
      resumed,
      twoAnswers: c.rounds.filter((r) => r.who.length > 1).length,
      probeRounds: c.rounds.length,
      mirror: await mirrors.stop(fences, end),
    }
  } finally {
    await mirrors.stop([], Date.now())
    if (process.env.MCCS_DEBUG_LAB) {
      const { writeFile } = await import('node:fs/promises')
      for (const n of c.nodes) await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `safety-${n}.log`), await c.log(n)).catch(() => {})
    }
    await c.destroy()
    md?.release()
    await rm(dir, { recursive: true, force: true })
  }
}

async function readTransitions(file: string): Promise<Transition[]> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Transition)
}
