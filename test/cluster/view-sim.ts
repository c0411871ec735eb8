// Deterministic simulation of the agreed-membership protocol (core/cluster/view.ts) over a model of the
// heartbeat (heartbeat.ts): every node sends to every peer each interval, a packet counts only when it echoes
// one of the receiver's own last sends (freshness), sequence numbers must grow per incarnation, a peer is up
// after an accepted packet within the dead time. Membership is what the role wants (computeMembership over
// who sees whom); the protocol decides what is installed.
//
// Faults, at random and overlapping: one-way and two-way loss (partial or total), partitions, delays (with
// reordering), pauses of a node (SIGSTOP: its clock runs on, packets queue and are read after its next tick's
// sends, as libuv runs timers before I/O), crashes and restarts (new incarnation, state lost). Every node has
// its own clock offset and rate. Then the network heals.
//
// Checked after every event: no two nodes act in different installed quorate views at the same instant
// (`violations`); after the heal, when every node is in one view with every node and ready (`convergedMs`).
//
// `policy: 'legacy'` replays the decision rule before issue 14 (act on the computed quorate partition once it
// held for 3 heartbeats, no agreement) on the same schedules, to show what the checker catches.
import { computeMembership, quorum } from '../../core/cluster/membership.js'
import { ViewCodec } from '../../core/cluster/view-messages.js'
import { ViewNode, viewKey, type Announce, type PeerFacts } from '../../core/cluster/view.js'

export interface SimOptions {
  seed: number
  nodes?: number
  policy?: 'view' | 'legacy'
  intervalMs?: number
  deadMs?: number
  leaseMs?: number
  holdMs?: number
  /** Faults happen in [0, faultMs); everything heals at faultMs. */
  faultMs?: number
  /** Simulated time after the heal. */
  afterMs?: number
  /** A fixed fault plan instead of random ones. */
  faults?: Fault[]
  /** Encode/decode every announcement with the wire codec (slower; catches codec mismatches). */
  wire?: boolean
}

export type Fault =
  | { kind: 'loss'; from: string; to: string; p: number; at: number; ms: number }
  | { kind: 'delay'; from: string; to: string; extraMs: number; at: number; ms: number }
  | { kind: 'pause'; node: string; at: number; ms: number }
  | { kind: 'crash'; node: string; at: number; ms: number }

export interface Violation {
  t: number
  acting: Record<string, string>
}
export interface SimResult {
  seed: number
  nodes: number
  violations: Violation[]
  /** ms from the heal until every node acts in one view of all nodes, all ready, for good (null: never). */
  convergedMs: number | null
  faults: Fault[]
  packets: number
  /** Distinct views installed somewhere (how much the schedule moved things). */
  views: number
}

/** Seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed | 0
  return () => {
    s = (s + 0x6d2b79f5) | 0
    let x = Math.imul(s ^ (s >>> 15), 1 | s)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

interface Packet {
  from: string
  to: string
  inc: number
  seq: number
  sentAt: number
  echo: number | null
  ann: Announce | null
  wire: unknown
  up: string[]
}

interface PeerSim extends PeerFacts {
  inc: number
  lastSeq: number
  echoSentAt: number | null
  echoRecvAt: number
  lastAccepted: number | null
  up: boolean
  upList: string[]
  upKey: string
}

interface NodeSim {
  name: string
  alive: boolean
  pausedUntil: number
  inc: number
  off: number
  rate: number
  seq: number
  ring: number[]
  peers: Map<string, PeerSim>
  view: ViewNode | null
  ann: Announce | null
  readyAt: number
  startedAt: number
  queue: Packet[]
  // legacy
  legacyKey: string
  legacySince: number
  legacyQuorate: boolean
  legacyPartition: string[]
  /** The acting view key and since when (real time), for convergence. */
  actKey: string | null
  actSince: number
  /** The acting key holds until this time (real) unless the node has an event first. */
  actUntil: number
  facts: Record<string, PeerFacts>
  lastUp: string[]
  /** Members of the last view installed here (the role prefers them in a tie). */
  incumbent: readonly string[] | null
}

class Heap<T> {
  private a: Array<{ t: number; s: number; v: T }> = []
  private n = 0
  get size() {
    return this.a.length
  }
  push(t: number, v: T) {
    const a = this.a
    a.push({ t, s: this.n++, v })
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (less(a[p]!, a[i]!)) break
      ;[a[p], a[i]] = [a[i]!, a[p]!]
      i = p
    }
  }
  pop(): { t: number; v: T } | undefined {
    const a = this.a
    if (!a.length) return undefined
    const top = a[0]!
    const last = a.pop()!
    if (a.length) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1
        let m = i
        if (l < a.length && less(a[l]!, a[m]!)) m = l
        if (r < a.length && less(a[r]!, a[m]!)) m = r
        if (m === i) break
        ;[a[m], a[i]] = [a[i]!, a[m]!]
        i = m
      }
    }
    return top
  }
}
const less = (x: { t: number; s: number }, y: { t: number; s: number }) => x.t < y.t || (x.t === y.t && x.s < y.s)

type Ev =
  | { k: 'tick'; node: string; inc: number }
  | { k: 'deliver'; p: Packet }
  | { k: 'pause'; node: string; ms: number }
  | { k: 'resume'; node: string }
  | { k: 'crash'; node: string; ms: number }
  | { k: 'restart'; node: string }
  | { k: 'heal' }
  | { k: 'step'; node: string; inc: number }

/** Random faults for a schedule. */
export function randomFaults(r: () => number, names: string[], faultMs: number): Fault[] {
  const out: Fault[] = []
  const pick = () => names[Math.floor(r() * names.length)]!
  const pair = () => {
    const a = pick()
    let b = pick()
    while (b === a) b = pick()
    return [a, b] as const
  }
  const count = 1 + Math.floor(r() * 6)
  for (let i = 0; i < count; i++) {
    const at = r() * (faultMs - 200)
    const ms = Math.min(faultMs - at, 150 + r() * 3500)
    const x = r()
    if (x < 0.3) {
      const [from, to] = pair()
      out.push({ kind: 'loss', from, to, p: r() < 0.5 ? 1 : 0.5 + r() * 0.5, at, ms })
    } else if (x < 0.42) {
      // Two-way loss between a pair.
      const [a, b] = pair()
      const p = r() < 0.5 ? 1 : 0.6 + r() * 0.4
      out.push({ kind: 'loss', from: a, to: b, p, at, ms }, { kind: 'loss', from: b, to: a, p, at, ms })
    } else if (x < 0.57) {
      // A partition: one side against the rest, maybe one-way.
      const side = names.filter(() => r() < 0.5)
      if (!side.length || side.length === names.length) continue
      const oneWay = r() < 0.3
      for (const a of side)
        for (const b of names)
          if (!side.includes(b)) {
            out.push({ kind: 'loss', from: a, to: b, p: 1, at, ms })
            if (!oneWay) out.push({ kind: 'loss', from: b, to: a, p: 1, at, ms })
          }
    } else if (x < 0.67) {
      // Loss into one node from everyone (the finding: 90 % of the heartbeats into n2).
      const n = pick()
      const p = 0.7 + r() * 0.3
      for (const a of names) if (a !== n) out.push({ kind: 'loss', from: a, to: n, p, at, ms })
    } else if (x < 0.8) {
      const [from, to] = pair()
      out.push({ kind: 'delay', from, to, extraMs: 20 + r() * 900, at, ms })
    } else if (x < 0.92) {
      out.push({ kind: 'pause', node: pick(), at, ms: Math.min(ms, 100 + r() * 2500) })
    } else {
      out.push({ kind: 'crash', node: pick(), at, ms: Math.min(ms, 200 + r() * 2500) })
    }
  }
  return out
}

export function simulate(o: SimOptions): SimResult {
  const r = rng(o.seed)
  const n = o.nodes ?? 3 + Math.floor(r() * 5)
  const names = Array.from({ length: n }, (_, i) => `n${i + 1}`)
  const interval = o.intervalMs ?? 100
  const dead = o.deadMs ?? 600
  const leaseMs = o.leaseMs ?? 540 // as the role: 90 % of the dead time
  const holdMs = o.holdMs ?? 600
  const faultMs = o.faultMs ?? 6000
  const afterMs = o.afterMs ?? 5000
  const end = faultMs + afterMs
  const policy = o.policy ?? 'view'
  const ring = Math.ceil(dead / interval) + 1
  const codec = o.wire ? new ViewCodec(names) : null
  const nodesCfg = names.map((name) => ({ name }))
  const qCache = new Map<string, boolean>()
  const quorate = (ms: readonly string[]) => {
    const k = ms.join(',')
    let q = qCache.get(k)
    if (q === undefined) qCache.set(k, (q = quorum(ms, nodesCfg).quorate))
    return q
  }
  const faults = o.faults ?? randomFaults(r, names, faultMs)
  const heap = new Heap<Ev>()
  const nodes = new Map<string, NodeSim>()
  const violations: Violation[] = []
  const installedViews = new Set<string>()
  let packets = 0
  let now = 0
  let healed = false

  const local = (s: NodeSim) => s.off + now * s.rate
  const newPeer = (): PeerSim => ({
    ann: null,
    annAt: null,
    leaseAt: null,
    grantAt: null,
    inc: -1,
    lastSeq: 0,
    echoSentAt: null,
    echoRecvAt: 0,
    lastAccepted: null,
    up: false,
    upList: [],
    upKey: '',
  })
  const boot = (name: string, inc: number, prev?: NodeSim): NodeSim => {
    const s: NodeSim = {
      name,
      alive: true,
      pausedUntil: 0,
      inc,
      off: prev?.off ?? r() * 1e6,
      rate: prev?.rate ?? 1 + (r() - 0.5) * 0.02,
      seq: 0,
      ring: [],
      peers: new Map(names.filter((x) => x !== name).map((x) => [x, newPeer()])),
      view: null,
      ann: null,
      readyAt: now + 100 + r() * 1400,
      startedAt: now,
      queue: [],
      legacyKey: '',
      legacySince: 0,
      legacyQuorate: false,
      legacyPartition: [name],
      actKey: null,
      actSince: 0,
      actUntil: -1,
      facts: {},
      lastUp: [],
      incumbent: null,
    }
    s.facts = Object.fromEntries(s.peers)
    s.view = new ViewNode({ self: name, leaseMs, holdMs, quorate, now: local(s) })
    heap.push(now + r() * interval, { k: 'tick', node: name, inc })
    return s
  }
  for (const name of names) nodes.set(name, boot(name, 1))

  // Faults as time windows, looked up per packet.
  const byPair = new Map<string, Fault[]>()
  for (const f of faults)
    if (f.kind === 'loss' || f.kind === 'delay') {
      const k = `${f.from}>${f.to}`
      byPair.set(k, [...(byPair.get(k) ?? []), f])
    }
  const lossP = (from: string, to: string): number => {
    const fs = healed || !byPair.size ? undefined : byPair.get(`${from}>${to}`)
    if (!fs) return 0
    let keep = 1
    for (const f of fs) if (f.kind === 'loss' && now >= f.at && now < f.at + f.ms) keep *= 1 - f.p
    return 1 - keep
  }
  const extraDelay = (from: string, to: string): number => {
    const fs = healed || !byPair.size ? undefined : byPair.get(`${from}>${to}`)
    if (!fs) return 0
    let d = 0
    for (const f of fs) if (f.kind === 'delay' && now >= f.at && now < f.at + f.ms) d = Math.max(d, r() * f.extraMs)
    return d
  }
  for (const f of faults) {
    if (f.kind === 'pause') heap.push(f.at, { k: 'pause', node: f.node, ms: f.ms })
    if (f.kind === 'crash') heap.push(f.at, { k: 'crash', node: f.node, ms: f.ms })
  }
  heap.push(faultMs, { k: 'heal' })

  const mCache = new Map<string, ReturnType<typeof computeMembership>>()
  const desire = (s: NodeSim) => {
    const up: string[] = []
    const prefer = s.incumbent ?? undefined
    let key = `${s.name}/${prefer?.join(',') ?? ''}`
    for (const [x, p] of s.peers)
      if (p.up) {
        up.push(x)
        key += `|${x}:${p.upKey}`
      }
    let m = mCache.get(key)
    if (!m) {
      const views = Object.fromEntries(up.map((x) => [x, { up: s.peers.get(x)!.upList }]))
      mCache.set(key, (m = computeMembership({ self: s.name, nodes: nodesCfg, up, views, ...(prefer ? { prefer } : {}) })))
    }
    return m
  }
  const facts = (s: NodeSim) => s.facts

  const decide = (s: NodeSim) => {
    const m = desire(s)
    if (policy === 'legacy') {
      const key = m.quorate ? m.partition.join(',') : ''
      if (key !== s.legacyKey) {
        s.legacyKey = key
        s.legacySince = now
      }
      s.legacyPartition = m.partition
      s.legacyQuorate = m.quorate
      return
    }
    const t = local(s)
    s.ann = s.view!.step(t, { members: m.partition, ready: now >= s.readyAt }, facts(s))
    const inst = s.view!.installed(t, facts(s))
    if (inst) s.incumbent = inst.view.members
    const wake = s.view!.wakeAt(facts(s))
    if (wake !== null && wake > t) heap.push(now + (wake - t) / s.rate + 0.01, { k: 'step', node: s.name, inc: s.inc })
  }

  const viewKeys = new WeakMap<object, string>()
  /** The view a node acts in now, and until when that answer holds without an event at the node. */
  const actingKey = (s: NodeSim): { key: string | null; until: number } => {
    if (!s.alive || s.pausedUntil > now) return { key: null, until: s.alive ? s.pausedUntil : Infinity }
    if (policy === 'legacy') {
      if (!s.legacyQuorate || !s.legacyKey) return { key: null, until: Infinity }
      const at = s.legacySince + 3 * interval
      return now >= at ? { key: s.legacyKey, until: Infinity } : { key: null, until: at }
    }
    const t = local(s)
    const a = s.view!.acting(t, facts(s))
    if (!a) return { key: null, until: Infinity }
    let until = Infinity
    for (const x of a.view.members) {
      if (x === s.name) continue
      until = Math.min(until, now + (s.peers.get(x)!.leaseAt! + leaseMs - t) / s.rate)
    }
    let key = viewKeys.get(a.view)
    if (key === undefined) viewKeys.set(a.view, (key = viewKey(a.view)))
    return { key, until }
  }

  const tick = (s: NodeSim) => {
    const t = local(s)
    s.ring.push(t)
    if (s.ring.length > ring) s.ring.shift()
    s.seq++
    const up: string[] = []
    for (const [x, p] of s.peers) if (p.up) up.push(x)
    const upSame = s.lastUp.length === up.length && up.every((x, i) => x === s.lastUp[i])
    if (!upSame) s.lastUp = up
    for (const [to, p] of s.peers) {
      const ann = s.ann
      if (ann?.joined && p.echoSentAt !== null) p.grantAt = Math.max(p.grantAt ?? -Infinity, p.echoRecvAt)
      packets++
      if (r() < lossP(s.name, to)) continue
      const pkt: Packet = {
        from: s.name,
        to,
        inc: s.inc,
        seq: s.seq,
        sentAt: t,
        echo: p.echoSentAt,
        ann,
        wire: ann && codec ? codec.encode(ann) : null,
        up: s.lastUp,
      }
      heap.push(now + 0.2 + r() * 2 + extraDelay(s.name, to), { k: 'deliver', p: pkt })
    }
  }

  const silence = (s: NodeSim) => {
    const t = local(s)
    for (const p of s.peers.values()) if (p.up && p.lastAccepted !== null && t - p.lastAccepted >= dead) p.up = false
  }

  const receive = (s: NodeSim, pkt: Packet): boolean => {
    const p = s.peers.get(pkt.from)!
    if (pkt.inc < p.inc) return false // an older incarnation: refused
    if (pkt.inc > p.inc) {
      p.inc = pkt.inc
      p.lastSeq = 0
      p.ann = null
      p.annAt = null
      p.leaseAt = null
    }
    if (pkt.seq <= p.lastSeq) return false
    p.lastSeq = pkt.seq
    const t = local(s)
    p.echoSentAt = pkt.sentAt
    p.echoRecvAt = t
    if (pkt.echo === null || !s.ring.includes(pkt.echo)) return false // unconfirmed
    p.lastAccepted = t
    p.up = true
    if (p.upList !== pkt.up) {
      p.upList = pkt.up
      p.upKey = pkt.up.join(',')
    }
    const ann = codec && pkt.wire ? codec.decode(pkt.wire, pkt.from) : pkt.ann
    const same =
      ann === p.ann ||
      (ann &&
        p.ann &&
        ann.joined === p.ann.joined &&
        ann.floor === p.ann.floor &&
        ann.rd === p.ann.rd &&
        ann.epoch === p.ann.epoch &&
        ann.members.join() === p.ann.members.join() &&
        ann.ready.join() === p.ann.ready.join())
    if (!same) {
      p.ann = ann
      p.leaseAt = pkt.echo
    } else p.leaseAt = Math.max(p.leaseAt ?? -Infinity, pkt.echo)
    p.annAt = t
    return !same
  }

  // After every event: the touched node is re-evaluated, the others when their answer may have expired.
  const acting = new Map<string, number>() // acting view -> how many nodes act in it
  const setAct = (s: NodeSim, key: string | null) => {
    if (key === s.actKey) return
    if (s.actKey) {
      const c = acting.get(s.actKey)! - 1
      if (c) acting.set(s.actKey, c)
      else acting.delete(s.actKey)
    }
    s.actKey = key
    s.actSince = now
    if (key) {
      acting.set(key, (acting.get(key) ?? 0) + 1)
      installedViews.add(key)
    }
  }
  let minUntil = Infinity
  const check = (touched: string | null) => {
    if (touched !== null && now < minUntil) {
      const s = nodes.get(touched)!
      const { key, until } = actingKey(s)
      s.actUntil = until
      if (until < minUntil) minUntil = until
      setAct(s, key)
    } else {
      minUntil = Infinity
      for (const s of nodes.values()) {
        if (s.name === touched || touched === null || now >= s.actUntil) {
          const { key, until } = actingKey(s)
          s.actUntil = until
          setAct(s, key)
        }
        if (s.actUntil < minUntil) minUntil = s.actUntil
      }
    }
    if (acting.size > 1 && violations.length < 5) {
      const acting: Record<string, string> = {}
      for (const s of nodes.values()) if (s.actKey) acting[s.name] = s.actKey
      violations.push({ t: now, acting })
    }
  }

  while (heap.size) {
    const e = heap.pop()!
    if (e.t > end) break
    now = e.t
    const v = e.v
    const touched = v.k === 'deliver' ? v.p.to : v.k === 'heal' ? null : v.node
    switch (v.k) {
      case 'tick': {
        const s = nodes.get(v.node)!
        if (!s.alive || s.inc !== v.inc) break
        heap.push(now + interval / s.rate, { k: 'tick', node: s.name, inc: s.inc })
        if (s.pausedUntil > now) break
        tick(s)
        silence(s)
        decide(s)
        break
      }
      case 'step': {
        const s = nodes.get(v.node)!
        if (s.alive && s.inc === v.inc && s.pausedUntil <= now) decide(s)
        break
      }
      case 'deliver': {
        const s = nodes.get(v.p.to)!
        if (!s.alive) break
        if (s.pausedUntil > now) {
          s.queue.push(v.p)
          break
        }
        if (receive(s, v.p)) decide(s)
        break
      }
      case 'pause': {
        const s = nodes.get(v.node)!
        if (!s.alive) break
        s.pausedUntil = Math.max(s.pausedUntil, now + v.ms)
        heap.push(s.pausedUntil, { k: 'resume', node: s.name })
        break
      }
      case 'resume': {
        const s = nodes.get(v.node)!
        if (!s.alive || s.pausedUntil > now) break
        // Timers run before I/O: the tick's sends go out, then the queued packets are read, then silence.
        tick(s)
        const q = s.queue
        s.queue = []
        for (const p of q) receive(s, p)
        silence(s)
        decide(s)
        break
      }
      case 'crash': {
        const s = nodes.get(v.node)!
        if (!s.alive) break
        s.alive = false
        s.queue = []
        heap.push(now + v.ms, { k: 'restart', node: s.name })
        break
      }
      case 'restart': {
        const s = nodes.get(v.node)!
        if (s.alive) break
        nodes.set(s.name, boot(s.name, s.inc + 1, s))
        break
      }
      case 'heal': {
        healed = true
        for (const s of nodes.values()) {
          if (!s.alive) nodes.set(s.name, boot(s.name, s.inc + 1, s))
          if (s.pausedUntil > now) {
            s.pausedUntil = now
            heap.push(now, { k: 'resume', node: s.name })
          }
        }
        break
      }
    }
    check(touched)
  }
  now = end
  check(null)
  // Converged: every node acts in the same view of all nodes, all ready.
  let convergedMs: number | null = null
  const keys = new Set([...nodes.values()].map((s) => s.actKey))
  const all = names.join(',')
  const [k] = [...keys]
  if (keys.size === 1 && k && (policy === 'legacy' ? k === all : k.split(':')[1] === all && k.split(':')[2] === all)) {
    convergedMs = Math.max(0, Math.max(...[...nodes.values()].map((s) => s.actSince)) - faultMs)
  }
  return { seed: o.seed, nodes: n, violations, convergedMs, faults, packets, views: installedViews.size }
}
