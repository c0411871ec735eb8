// The random-fault run (issue 14, acceptance 2): real agents in the namespace lab (2 or 3 nodes, the
// shipped heartbeat timing) keep a group nic <- address (VIP) <- process up while a seeded schedule
// injects faults — kill -9 of an agent, SIGSTOP, a link or both links down, packet loss, one-way loss into
// a node, a partition at the switch, a graceful stop and start — one at a time or two overlapping. A
// fenced node is powered off (every process killed, links down) and boots again 2 s later; an agent
// killed with -9 is restarted 2 s later, as systemd would.
//
// Three verdicts, from witnesses outside the agents:
//  - overlap: the service ran on two nodes at once (each service records its own up/down on one shared
//    clock, cut at its node's fence), two nodes answered the prober on their own addresses in one round,
//    or two nodes held the VIP on an up interface in one sample;
//  - bad fence: a fence of a node that was in the fencer's view when the fence completed (the fencer's own
//    "node X up/down" log lines give its view), or of a node no fault touched (a healthy node);
//  - liveness: the VIP did not answer within 5 s of the end of an episode's last fault.
// And per fault kind: the worst outage of the VIP and the median outage when the fault hit the node
// running the group.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { AgentCluster, SERVICE_PORT, until } from './agent-cluster.js'
import { addressOf, run } from './lab.js'
import { intervalsOf, overlapsOf, watchMirrors, type Interval, type MirrorReport, type Transition } from './safety.js'
import { createLabMirror, firstPrimary, type LabMirror } from './mirror-group.js'

export const CHAOS_KINDS = ['kill9', 'sigstop', 'linkdown', 'loss', 'oneway', 'partition', 'stop'] as const
export type ChaosKind = (typeof CHAOS_KINDS)[number]

const VIP = '10.80.0.100'
/** The liveness bound: a group with a healthy candidate answers again within this long after the faults end. */
export const LIVENESS_MS = 5000

export interface ChaosOptions {
  prefix: string
  nodes: 2 | 3
  /** Length of the fault schedule (episodes start until this much time has passed). */
  seconds: number
  seed: number
  /** Two faults overlapping per episode (on different nodes) instead of one. */
  overlap: boolean
  kinds?: readonly ChaosKind[]
  /** The group also holds a mirror-disk `md` (two nodes only) the service depends on; the run starts it
   *  as an operator starts a new volume (forced first promotion on n1), then checks "never primary on
   *  two nodes" with the mirror witness. */
  mirror?: boolean
  log?: (msg: string) => void
}

export interface FaultRecord {
  kind: ChaosKind
  node: string
  /** The fault hit the node running the group. */
  active: boolean
  detail: string
  start: number
  end: number
  /** Nodes a fence of which this fault can explain. */
  affected: string[]
}

export interface Episode {
  faults: FaultRecord[]
  start: number
  end: number
  /** Longest stretch of VIP probes without an answer between the episode's start and its recovery. */
  outageMs: number
  /** When the VIP answered again after the last fault ended, or after a quorum of agents ran again if that
   *  was later (ms; 0 if it never stopped). */
  backAfterEndMs: number | null
}

export interface FenceRecord {
  fencer: string
  target: string
  at: number
  inView: boolean
  healthy: boolean
}

export interface ChaosReport {
  seed: number
  nodes: number
  overlap: boolean
  episodes: Episode[]
  intervals: Interval[]
  overlaps: Array<[Interval, Interval]>
  twoAnswers: number
  vipTwoHolders: number
  fences: FenceRecord[]
  badFences: FenceRecord[]
  liveness: Array<{ episode: number; backAfterEndMs: number | null }>
  probeRounds: number
  /** The mirror witness's verdict (empty without a mirror-disk). */
  mirror: MirrorReport
}

/** mulberry32: a small seeded generator, so a failing schedule can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Teardowns of the runs in progress, so a bench killed by its time limit (SIGTERM) leaves no namespace,
 *  agent or service behind: its `finally` never runs when the process is ended from outside. */
const inProgress = new Set<() => Promise<void>>()
export async function abortChaosRuns(): Promise<void> {
  for (const t of [...inProgress]) await t().catch(() => {})
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const rand = rng(o.seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const between = (a: number, b: number) => Math.round(a + rand() * (b - a))
  const say = o.log ?? (() => {})
  const kinds = o.kinds ?? CHAOS_KINDS
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-chaos-'))
  const file = path.join(dir, 'transitions.jsonl')
  const server = (n: string) =>
    `const fs=require('fs');const rec=(e)=>fs.appendFileSync(${JSON.stringify(file)},JSON.stringify({node:'${n}',ev:e,at:Date.now()})+'\\n');` +
    `process.on('SIGTERM',()=>{rec('down');process.exit(0)});` +
    `require('http').createServer((q,s)=>s.end('${n}')).listen(${SERVICE_PORT},'0.0.0.0',()=>rec('up'))`
  // A fence is a power-off: every process of the node killed and its links down (its kernel would
  // otherwise keep answering for the VIP), and a mark left for the run, which boots the node again (links
  // up, the VIP gone, agent started). A mirror's nbdfuse is killed first (AgentCluster.killNode says why).
  if (o.mirror && o.nodes !== 2) throw new Error('a mirror disk needs exactly two nodes')
  const md: LabMirror | null = o.mirror ? createLabMirror(['n1', 'n2']) : null
  const fence = `#!/bin/sh\nns="${o.prefix}$2"\ncase "$1" in\n  fence) for p in $(ip netns pids "$ns"); do [ "$(cat /proc/$p/comm 2>/dev/null)" = nbdfuse ] && kill -9 "$p" 2>/dev/null; done\n    for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null || true; done\n    ip -n "$ns" link set eth0 down; ip -n "$ns" link set eth1 down; : > "${dir}/fenced-$2" ;;\n  status) [ -z "$(ip netns pids "$ns")" ] ;;\nesac\n`
  const c = await AgentCluster.create({
    prefix: o.prefix,
    nodes: o.nodes,
    timing: { intervalMs: 100, deadMs: 600 },
    fenceEffectMs: 1000,
    files: () => ({ 'script/fence-lab.sh': fence }),
    hb: (hb) => {
      // Two nodes: two-node mode with the client's addresses as isolation test addresses (the
      // configuration a two-node operator is told to use).
      if (o.nodes === 2) {
        hb.quorum = { twoNode: true }
        for (const n of hb.nodes) n.isolationTestAddresses = [addressOf('client', 0), addressOf('client', 1)]
      }
    },
    main: (_lab, nodes) => ({
      generation: 1,
      types: {},
      // A new mirror volume's first promotion is the operator's: the run brings the group online itself.
      groups: [{ name: 'web', nodes, failoverOnFailure: true, autoStart: !md, autoFailback: false }],
      resources: [
        ...(md ? [md.resource(_lab, nodes, 'md', 'web')] : []),
        {
          name: 'nic0',
          type: 'nic',
          group: 'web',
          critical: true,
          monitored: true,
          policy: { monitorIntervalS: 1 },
          attrs: { device: 'eth0' },
        },
        {
          name: 'vip',
          type: 'address',
          group: 'web',
          critical: true,
          monitored: true,
          policy: { monitorIntervalS: 2 },
          attrs: { address: `${VIP}/24`, nic: 'eth0', outbound: 'None' },
        },
        {
          name: 'svc',
          type: 'process',
          group: 'web',
          critical: true,
          monitored: true,
          policy: { monitorIntervalS: 2 },
          attrs: { argv: [process.execPath, '-e', server('x')], stopGraceS: 1 },
          nodeAttrs: Object.fromEntries(nodes.map((n) => [n, { argv: [process.execPath, '-e', server(n)] }])),
        },
      ],
      dependencies: [{ parent: 'vip', child: 'nic0' }, { parent: 'svc', child: 'vip' }, ...(md ? [{ parent: 'svc', child: 'md' }] : [])],
    }),
  }).catch((e: unknown) => {
    md?.release()
    throw e
  })
  const mirrors = watchMirrors(c)
  const lab = c.lab
  const vipRounds: Array<{ at: number; who: string | null }> = []
  const holders: Array<{ at: number; nodes: string[] }> = []
  let vipProber: ChildProcess | undefined
  let sampler: ChildProcess | undefined
  // Agents the run means to be down (a graceful stop in progress); any other exit is a crash or a
  // power-off, and the node comes back 2 s later.
  const heldDown = new Set<string>()
  const booting = new Set<string>()
  let closing = false
  let tornDown: Promise<void> | undefined
  const teardown = (): Promise<void> =>
    (tornDown ??= (async () => {
      inProgress.delete(teardown)
      closing = true
      vipProber?.kill('SIGKILL')
      sampler?.kill('SIGKILL')
      // MCCS_CHAOS_LOGS=<dir>: every agent's log kept there (<prefix><node>.log) to read an episode after the run.
      const keep = process.env.MCCS_CHAOS_LOGS
      if (keep)
        for (const n of c.nodes) await writeFile(path.join(keep, `${o.prefix}${n}.log`), await c.log(n).catch((e: Error) => e.message))
      await c.destroy()
      md?.release()
      await rm(dir, { recursive: true, force: true })
    })())
  inProgress.add(teardown)
  const started: Array<{ node: string; at: number }> = []
  const startAgent = (n: string) => {
    c.startAgent(n)
    started.push({ node: n, at: Date.now() })
    const me = c.agents[n]!
    me.once('exit', () => {
      if (closing || heldDown.has(n) || c.agents[n] !== me || booting.has(n)) return
      booting.add(n)
      void (async () => {
        await sleep(2000)
        if (closing) return
        // After a fence the node boots from a clean network configuration: the VIP it held is gone. An agent
        // that crashed alone (kill -9) is restarted as systemd's Restart= would: the node's kernel kept its
        // addresses, and the restarted agent finds them (before 2026-12-07 the run removed the VIP here too,
        // so every kill -9 on two nodes cost an outage no real host has).
        const mark = path.join(dir, `fenced-${n}`)
        if (existsSync(mark)) {
          await rm(mark, { force: true })
          await run(['ip', '-n', lab.ns(n), 'addr', 'del', `${VIP}/24`, 'dev', 'eth0'], { check: false }).catch(() => {})
        }
        await lab.linkUp(n, 0).catch(() => {})
        await lab.linkUp(n, 1).catch(() => {})
        booting.delete(n)
        if (!heldDown.has(n) && c.agents[n] === me) startAgent(n)
      })()
    })
  }
  const alive = (n: string) => {
    const a = c.agents[n]
    return !!a && a.exitCode === null && a.signalCode === null
  }
  const episodes: Episode[] = []
  try {
    for (const n of c.nodes) startAgent(n)
    c.startProber()
    if (md) await firstPrimary(c, { resource: 'md', group: 'web', node: 'n1' })
    const probe = `const http=require('http');
      const ask=()=>new Promise((r)=>{const q=http.get({host:'${VIP}',port:${SERVICE_PORT},timeout:200,agent:false},(s)=>{let b='';s.on('data',(d)=>b+=d);s.on('end',()=>r(b))});q.on('error',()=>r(null));q.on('timeout',()=>{q.destroy();r(null)})});
      (async()=>{for(;;){const at=Date.now();const w=await ask();process.stdout.write(JSON.stringify({at,who:w})+'\\n');await new Promise((r)=>setTimeout(r,10))}})()`
    vipProber = lab.spawn('client', [process.execPath, '-e', probe], { stdio: ['ignore', 'pipe', 'ignore'] })
    createInterface({ input: vipProber.stdout! }).on('line', (l) => {
      try {
        vipRounds.push(JSON.parse(l) as { at: number; who: string | null })
      } catch {
        /* partial */
      }
    })
    // Who holds the VIP on an up interface, every 200 ms, from the root namespace (a fence kills
    // everything inside a node's namespace, this included).
    const loop = `while :; do for n in ${c.nodes.join(' ')}; do if ip -n ${o.prefix}$n -o -4 addr show up to ${VIP}/32 2>/dev/null | grep -q .; then printf "%s " $n; fi; done; echo .; sleep 0.2; done`
    sampler = spawn('sh', ['-c', loop], { stdio: ['ignore', 'pipe', 'ignore'] })
    createInterface({ input: sampler.stdout! }).on('line', (l) =>
      holders.push({ at: Date.now(), nodes: l.split(' ').filter((x) => x && x !== '.') }),
    )

    const answering = () => {
      const r = vipRounds.at(-1)
      return r && r.who && Date.now() - r.at < 500 ? r.who : null
    }
    await until(async () => answering() ?? undefined, 90_000, 'the VIP answering')
    // Everyone joined before the first fault.
    await until(
      async () => {
        const s = await c.status(c.nodes[0]!)
        return s.nodes.every((n) => n.membership === 'up') || undefined
      },
      60_000,
      'every node up',
    )
    await sleep(2000)

    const t0 = Date.now()
    while (Date.now() - t0 < o.seconds * 1000) {
      const epStart = Date.now()
      const running = answering()
      const first = pick(kinds)
      const victim = running && rand() < 0.6 ? running : pick(c.nodes)
      const plan: Array<{ kind: ChaosKind; node: string; delay: number }> = [{ kind: first, node: victim, delay: 0 }]
      if (o.overlap) {
        // The second fault on another node, of another kind (two partitions would replace each other).
        const others = kinds.filter((k) => k !== first && !(first === 'partition' && k === 'partition'))
        const other = c.nodes.filter((n) => n !== victim)
        if (others.length && other.length) plan.push({ kind: pick(others), node: pick(other), delay: between(300, 1500) })
      }
      const faults = await Promise.all(
        plan.map(async (p) => {
          await sleep(p.delay)
          return inject(p.kind, p.node, p.node === running)
        }),
      )
      const end = Math.max(...faults.map((f) => f.end))
      // Liveness: the VIP answers within LIVENESS_MS of the last fault's end, or, when the faults left no
      // quorate set of started agents (a fenced node still booting while another was stopped), of the moment
      // one runs again: the acceptance's "a group that has a healthy, quorate candidate".
      // An agent counts once it has started (its control socket answers), not from the moment its process
      // was spawned: at load a start takes seconds (the fifteenth session's run at load 20: 4–13 s). With two
      // nodes, a lone agent counts only when it is quorate: two-node mode waits for all after a start (a
      // node that restarted alone runs nothing until it has seen its peer, as corosync's wait_for_all), so
      // after a stop of one node while the other was booting there is no quorate candidate until both run.
      const quorumOfAgents = o.nodes === 3 ? 2 : 1
      const ready = async (n: string) => {
        if (!alive(n) || booting.has(n)) return null
        return c.status(n).catch(() => null)
      }
      const agentsUp = async () => {
        const st = (await Promise.all(c.nodes.map(ready))).filter((x) => x !== null)
        if (st.length < quorumOfAgents) return false
        return o.nodes !== 2 || st.length === 2 || st.some((x) => x.membership?.quorate === true)
      }
      let clockFrom = end
      if (!(await agentsUp())) {
        await until(async () => (await agentsUp()) || undefined, 30_000, 'a quorum of agents').catch(() => {})
        clockFrom = Date.now() // within one poll of the moment it held (lenient by at most that)
      }
      let back: number | null = null
      const deadline = clockFrom + Math.max(LIVENESS_MS, 6000)
      while (Date.now() < deadline) {
        const r = vipRounds.filter((x) => x.at >= end).find((x) => x.who)
        if (r) {
          back = Math.max(0, r.at - clockFrom)
          break
        }
        await sleep(50)
      }
      const stillOut = vipRounds.filter((x) => x.at >= epStart && x.at <= end).every((x) => !x.who)
      if (back === null) {
        // Wait for it anyway (up to 30 s) so the next episode starts from a running service.
        await until(async () => answering() ?? undefined, 30_000, 'the VIP answering again').catch(() => {})
      }
      const rounds = vipRounds.filter((x) => x.at >= epStart && (back === null || x.at <= clockFrom + back))
      let worst = 0
      let from: number | null = null
      for (const r of rounds) {
        if (!r.who) from ??= r.at
        else if (from !== null) {
          worst = Math.max(worst, r.at - from)
          from = null
        }
      }
      if (from !== null) worst = Math.max(worst, (rounds.at(-1)?.at ?? from) - from)
      const ep: Episode = {
        faults,
        start: epStart,
        end,
        outageMs: worst,
        backAfterEndMs: back === null ? null : stillOut || back > 0 ? back : 0,
      }
      episodes.push(ep)
      say(
        `#${episodes.length} ${faults.map((f) => `${f.kind}@${f.node}${f.active ? '*' : ''} ${f.detail}`).join(' + ')}: outage ${worst} ms, back ${back === null ? 'NOT' : `${back} ms`} after the end`,
      )
      // Quiet time: every agent running again and a few seconds of calm before the next episode.
      await until(async () => c.nodes.every(alive) || undefined, 30_000, 'every agent running').catch(() => {})
      await sleep(between(2500, 4000))
    }

    closing = true
    const endAt = Date.now()
    const fencesRaw = await fenceLog(c)
    const trans = await readTransitions(file)
    const fenced = fencesRaw.map((f) => ({ node: f.target, at: f.at }))
    const intervals = intervalsOf(trans, fenced, endAt)
    const mirror = await mirrors.stop(fenced, endAt)
    const allFaults = episodes.flatMap((e) => e.faults)
    // A node powered off by a fence is not healthy until it has booted and had time to be heard again: a
    // coordinator of a later view that fences it meanwhile harms nothing (it cannot know the node is off).
    const bootAfter = (n: string, at: number) => started.find((s) => s.node === n && s.at > at)?.at ?? Infinity
    const offAfterFence = (f: { target: string; at: number }) =>
      fencesRaw.some((g) => g.target === f.target && g.at < f.at && f.at <= bootAfter(g.target, g.at) + 8000)
    const fences = fencesRaw.map((f) => ({
      ...f,
      healthy: !offAfterFence(f) && !allFaults.some((x) => x.affected.includes(f.target) && x.start - 1000 <= f.at && f.at <= x.end + 8000),
    }))
    const twoInRound = c.rounds.filter((r) => r.who.length > 1).length
    return {
      seed: o.seed,
      nodes: o.nodes,
      overlap: o.overlap,
      episodes,
      intervals,
      overlaps: overlapsOf(intervals),
      twoAnswers: twoInRound,
      vipTwoHolders: holders.filter((h) => h.nodes.length > 1).length,
      fences,
      badFences: fences.filter((f) => f.inView || f.healthy),
      liveness: episodes
        .map((e, i) => ({ episode: i, backAfterEndMs: e.backAfterEndMs }))
        .filter((x) => x.backAfterEndMs === null || x.backAfterEndMs > LIVENESS_MS),
      probeRounds: vipRounds.length,
      mirror,
    }
  } finally {
    closing = true
    await mirrors.stop([], Date.now())
    if (process.env.MCCS_DEBUG_LAB) {
      const { writeFile } = await import('node:fs/promises')
      for (const n of c.nodes)
        await writeFile(path.join(process.env.MCCS_DEBUG_LAB, `chaos-${o.seed}-${n}.log`), await c.log(n)).catch(() => {})
    }
    await teardown()
  }

  /** Injects one fault and resolves when it has ended. */
  async function inject(kind: ChaosKind, node: string, active: boolean): Promise<FaultRecord> {
    const start = Date.now()
    const two = o.nodes === 2
    const others = c.nodes.filter((n) => n !== node)
    let detail = ''
    let affected = [node]
    switch (kind) {
      case 'kill9': {
        c.agents[node]?.kill('SIGKILL') // restarted 2 s later by startAgent's watcher
        await sleep(2500)
        break
      }
      case 'sigstop': {
        const ms = between(1000, 4000)
        detail = `${ms} ms`
        const a = c.agents[node]
        a?.kill('SIGSTOP')
        await sleep(ms)
        a?.kill('SIGCONT')
        break
      }
      case 'linkdown': {
        const links = rand() < 0.5 ? [0, 1] : [between(0, 1)]
        const ms = between(1000, 4000)
        detail = `eth${links.join('+eth')} ${ms} ms`
        // Both links down cuts a two-node pair in two: either side may be fenced.
        if (two && links.length === 2) affected = [...c.nodes]
        for (const l of links) await lab.linkDown(node, l).catch(() => {})
        await sleep(ms)
        if (!booting.has(node)) for (const l of links) await lab.linkUp(node, l).catch(() => {})
        break
      }
      case 'loss': {
        const pct = between(50, 95)
        detail = `${pct} % both ways 3 s`
        if (two) affected = [...c.nodes]
        await lab.loss(node, pct, { direction: 'both' })
        await sleep(3000)
        await lab.clearLoss(node)
        break
      }
      case 'oneway': {
        detail = '90 % into it 3 s'
        // Two nodes: the node that stops hearing its peer cannot tell it from a dead one (there is no third
        // vote), so either side may be fenced; the active side wins the race by the fence delay.
        if (two) affected = [...c.nodes]
        await lab.loss(node, 90, { direction: 'in' })
        await sleep(3000)
        await lab.clearLoss(node)
        break
      }
      case 'partition': {
        const ms = between(1000, 4000)
        detail = `${ms} ms`
        if (two) affected = [...c.nodes]
        await lab.partition([[node], [...others, 'client']])
        await sleep(ms)
        await lab.heal()
        break
      }
      case 'stop': {
        // A planned stop: nobody may be fenced for it.
        affected = []
        heldDown.add(node)
        const a = c.agents[node]
        if (a && a.exitCode === null && a.signalCode === null) {
          a.kill('SIGTERM')
          await new Promise<void>((r) => {
            const t = setTimeout(r, 30_000)
            a.once('exit', () => {
              clearTimeout(t)
              r()
            })
          })
        }
        const ms = between(1500, 4000)
        detail = `${Date.now() - start} ms to stop, down ${ms} ms`
        await sleep(ms)
        heldDown.delete(node)
        if (!booting.has(node)) startAgent(node)
        break
      }
    }
    return { kind, node, active, detail, start, end: Date.now(), affected }
  }
}

/** Every completed fence, with whether its target was in the fencer's view at that moment: its last
 *  installed view (the members logged with "view N installed", "this node is the coordinator (view N)"
 *  or "following coordinator X (view N)"), or, from an agent that logs no views, its own "node X up|down" lines
 *  200 ms before the fence completed. */
async function fenceLog(c: AgentCluster): Promise<Array<{ fencer: string; target: string; at: number; inView: boolean }>> {
  const out: Array<{ fencer: string; target: string; at: number; inView: boolean }> = []
  for (const fencer of c.nodes) {
    const seen = new Map<string, Array<{ at: number; up: boolean }>>()
    let view: string[] | null = null
    for (const line of (await c.log(fencer)).split('\n')) {
      if (!line) continue
      let e: { time?: string; msg?: string; partition?: unknown }
      try {
        e = JSON.parse(line) as { time?: string; msg?: string; partition?: unknown }
      } catch {
        continue
      }
      const at = Date.parse(e.time ?? '')
      const msg = e.msg ?? ''
      if (
        /^((this node is the coordinator|following coordinator \S+) \(view \d+\)|view \d+ installed)/.test(msg) &&
        Array.isArray(e.partition)
      ) {
        view = e.partition.map(String)
        continue
      }
      if (/^quorum lost/.test(msg) || /^(re-attached to running processes|agent started)/.test(msg)) view = null
      const m = /^node (n\d+) (up|down)$/.exec(msg)
      if (m) {
        const l = seen.get(m[1]!) ?? []
        l.push({ at, up: m[2] === 'up' })
        seen.set(m[1]!, l)
        continue
      }
      const f = /^fence (n\d+) \(level \d+, [^)]+\): done\/ok/.exec(msg)
      if (f) {
        const target = f[1]!
        const before = (seen.get(target) ?? []).filter((x) => x.at <= at - 200).at(-1)
        out.push({ fencer, target, at, inView: view ? view.includes(target) : before?.up === true })
      }
    }
  }
  return out.sort((a, b) => a.at - b.at)
}

async function readTransitions(file: string): Promise<Transition[]> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Transition)
}
