// Live heartbeat configuration (issue 16, What 3): hb.json changes in a running cluster through the
// coordinator, in two phases with a generation, as main.json's replication does (config-sync.ts) — but
// hb.json is what membership itself is built from, so no member may take a new one before every member can
// live with it:
//
//   1. prepare: the coordinator checks the change (hb-change.ts, then what only the running cluster knows:
//      a node to remove must be stopped or have left, a link to remove must not be the only one a member is
//      heard on) and sends the new hb.json to every member of its partition. Each member checks it (newer
//      generation than its own, valid with its main.json, its own new addresses on this host) and prepares:
//      the role reads announcements of the new node list and takes the transitional timing (the shorter
//      interval, the longer dead time; role.ts prepareConfig). One refusal withdraws it everywhere and the
//      operator gets that member's reason; nothing was written anywhere.
//   2. commit: every member prepared, the coordinator writes hb.json (atomic) and takes it into force, then
//      tells every member to do the same. A member that misses the commit (a lost message) takes it when
//      its heartbeat shows a peer with the newer generation (`ext.hbg`), or when its prepared change has not
//      been committed after PREPARE_TTL_MS and a peer shows it; otherwise it withdraws it.
//
// A generation at or below the one in force is refused (a stale change, or a stale coordinator's). Changes
// run one at a time. Every change is recorded in the operation log of the node it was given on.
//
// A rename (renameNode) changes main.json with hb.json: each names the node, so neither is valid with the
// other's old copy. The prepare carries both, the commit writes both through the store's journal
// (ConfigStore.adoptPair), and a member that missed it fetches both (hbGet with pair).
import { versionedFile } from '../config/schema-version.js'
import { validateHb, validateMain } from '../config/validate.js'
import { invalidConfigError } from '../config/issue.js'
import type { HbConfig } from '../config/hb-model.js'
import type { ConfigStore } from '../config/store.js'
import type { Role } from '../cluster/role.js'
import type { MembershipResult } from '../cluster/membership.js'
import type { HbView } from '../cluster/packet.js'
import { checkOnHost } from '../setup/host-addresses.js'
import { MccsError, isMccsError } from '../errors.js'
import type { Log } from '../log/logger.js'
import type { OpLog } from '../log/oplog.js'
import type { PeerRpc } from './peer-rpc.js'
import { applyChange, checkHbChange, describeHbChange, type HbChange } from './hb-change.js'
import type { MainConfig } from '../engine/index.js'

export type HbMessage =
  | { t: 'hbChange'; change: unknown; expectGeneration?: number; user: string }
  /** main: with a rename, the main.json that goes with hb (each names the node; neither is valid alone). */
  | { t: 'hbPrepare'; hb: unknown; main?: unknown }
  | { t: 'hbCommit'; generation: number }
  | { t: 'hbAbort'; generation: number }
  /** pair: answer {hb, main} (an agent from before renames answers hb.json alone). */
  | { t: 'hbGet'; pair?: boolean }

export interface HbSyncHost {
  node: string
  log: Log
  oplog: OpLog
  store: ConfigStore
  role: Role
  rpc: PeerRpc
  /** Why `node` cannot be removed (or renamed) now as far as the engine knows (a fence pending, groups
   *  there; for a rename also maintenance, which the operator's intent keeps under the old name), or null. */
  removable(node: string, op?: 'removeNode' | 'renameNode'): string | null
  /** The hb.json in force changed here (committed or adopted): the agent follows it. */
  changed(prev: HbConfig, next: HbConfig): Promise<void>
}

export interface HbChangeResult {
  generation: number
  previousGeneration: number
  summary: string
}

const PREPARE_TIMEOUT_MS = 5000
const COMMIT_TIMEOUT_MS = 5000
/** How often a member that does not follow this coordinator yet is asked again to prepare. */
const PREPARE_RETRY_MS = 200
/** A new quorum server must answer each member within this (inside PREPARE_TIMEOUT_MS) or the change is refused. */
const QUORUM_ANSWER_MS = 3000
/** A prepared change not committed after this long is taken from a peer that has it, or withdrawn. */
export const PREPARE_TTL_MS = 20_000

export class HbSync {
  private pending: { hb: HbConfig; main?: MainConfig; from: string; timer: NodeJS.Timeout } | null = null
  private running: Promise<unknown> | null = null
  private pulling = false
  private lastPullFailure = 0

  constructor(private readonly h: HbSyncHost) {}

  serve(): void {
    const rpc = this.h.rpc
    rpc.serve<HbMessage>({
      hbChange: (from, m) => {
        rpc.assertCoordinator('MCCS_ERR_NOT_COORDINATOR')
        if (typeof m.user !== 'string' || !m.user) throw new MccsError('MCCS_ERR_INVALID', 'must name the user', { field: 'user' })
        return this.runHere(checkHbChange(m.change), m.expectGeneration, from)
      },
      hbPrepare: async (from, m) => {
        rpc.assertOurCoordinator(from)
        return this.onPrepare(from, m.hb, m.main)
      },
      hbCommit: (from, m) => {
        rpc.assertOurCoordinator(from)
        return this.onCommit(from, m.generation)
      },
      hbAbort: (from, m) => {
        rpc.assertOurCoordinator(from)
        this.withdraw(m.generation, `withdrawn by ${from}`)
        return { ok: true }
      },
      hbGet: (_from, m) => {
        const cur = this.h.store.current()
        return m.pair === true ? { hb: versionedFile('hb', cur.hb), main: versionedFile('main', cur.main) } : versionedFile('hb', cur.hb)
      },
    })
  }

  /** A change given on this node (CLI, console): run by the coordinator; recorded in our operation log. */
  async change(raw: unknown, o: { user: string; expectGeneration?: unknown }): Promise<HbChangeResult> {
    let summary = ''
    const args = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {}
    try {
      if (o.expectGeneration !== undefined && (typeof o.expectGeneration !== 'number' || !Number.isSafeInteger(o.expectGeneration)))
        throw new MccsError('MCCS_ERR_INVALID', 'must be the hb.json generation the change was made from', { field: 'expectGeneration' })
      const change = checkHbChange(raw)
      summary = describeHbChange(change)
      const expect = o.expectGeneration as number | undefined
      let r: HbChangeResult
      if (this.h.role.isCoordinator()) r = await this.runHere(change, expect, this.h.node)
      else {
        const coord = this.h.role.coordinator()
        if (!coord || coord === this.h.node)
          throw new MccsError(
            'MCCS_ERR_NO_QUORUM',
            'hb.json changes are accepted only on a quorate partition, and this node has no quorum',
            {
              subject: this.h.node,
            },
          )
        r = await this.h.rpc.request<HbChangeResult>(
          coord,
          { t: 'hbChange', change, ...(expect !== undefined ? { expectGeneration: expect } : {}), user: o.user } satisfies HbMessage,
          30_000,
        )
        // The coordinator told us to commit before it answered; if that was lost, fetch it now.
        if (this.h.store.current().hb.generation < r.generation) await this.pullFrom(coord)
      }
      await this.h.oplog.append({ user: o.user, node: this.h.node, command: `hb.${change.op}`, target: 'hb.json', args, result: 'done' })
      this.h.log.log('info', `hb.json change done: ${summary} (generation ${r.generation})`, { user: o.user, generation: r.generation })
      return r
    } catch (err) {
      const e = isMccsError(err) ? err : new MccsError('MCCS_ERR_INTERNAL', String((err as Error)?.message ?? err))
      await this.h.oplog
        .append({
          user: o.user,
          node: this.h.node,
          command: `hb.${typeof args.op === 'string' ? args.op : 'change'}`,
          target: 'hb.json',
          args,
          result: isMccsError(err) ? 'rejected' : 'failed',
          code: e.code,
          reason: e.reason,
        })
        .catch(() => {})
      this.h.log.log('warn', `hb.json change refused: ${summary || 'invalid change'}: ${e.message}`, {
        user: o.user,
        code: e.code,
        field: e.field,
      })
      throw e
    }
  }

  /** Coordinator: one change at a time, in two phases. */
  private runHere(change: HbChange, expectGeneration: number | undefined, from: string): Promise<HbChangeResult> {
    if (this.running || this.pending)
      throw new MccsError('MCCS_ERR_CONFLICT', 'another hb.json change is in progress: try again when it is done', { subject: this.h.node })
    const run = this.twoPhase(change, expectGeneration, from)
    this.running = run
    return run.finally(() => {
      this.running = null
    })
  }

  private async twoPhase(change: HbChange, expectGeneration: number | undefined, from: string): Promise<HbChangeResult> {
    const { store, role, rpc, log } = this.h
    const cur = store.current()
    if (expectGeneration !== undefined && expectGeneration !== cur.hb.generation)
      throw new MccsError(
        'MCCS_ERR_CONFIG_GENERATION',
        `hb.json is at generation ${cur.hb.generation}, not ${expectGeneration} (the change was made from an older one): look again and retry`,
        { field: 'expectGeneration', data: { expected: expectGeneration, current: cur.hb.generation } },
      )
    const pair = applyChange(cur, change, store.hbPath)
    const next = pair.hb
    this.checkRuntime(change)
    const members = role.partitionPeers()
    this.checkOwn(next) // this host's own addresses, before anyone prepares
    await role.prepareQuorum(next, QUORUM_ANSWER_MS) // a new quorum server must answer here first
    role.prepareConfig(next)
    const prepare: HbMessage = {
      t: 'hbPrepare',
      hb: versionedFile('hb', next),
      ...(pair.main ? { main: versionedFile('main', pair.main) } : {}),
    }
    const answers = await Promise.allSettled(members.map((n) => this.prepareOn(n, prepare)))
    const refused = answers.map((a, i) => ({ a, n: members[i]! })).find((x) => x.a.status === 'rejected')
    if (refused) {
      role.abortConfig()
      await Promise.allSettled(
        members.map((n) => rpc.request(n, { t: 'hbAbort', generation: next.generation } satisfies HbMessage, PREPARE_TIMEOUT_MS)),
      )
      const e = (refused.a as PromiseRejectedResult).reason as Error & { code?: string; field?: string; reason?: string }
      throw new MccsError(
        isMccsError(e) ? e.code : 'MCCS_ERR_PEER_UNREACHABLE',
        `node ${refused.n} refused it: ${isMccsError(e) ? e.reason : e.message}; nothing changed`,
        { subject: refused.n, ...(e.field ? { field: e.field } : {}) },
      )
    }
    const prev = cur.hb
    try {
      // The node to remove or rename may have started while the members prepared: checked again, so it
      // never runs under a name the cluster has just dropped.
      if (change.op === 'removeNode' || change.op === 'renameNode') this.checkRuntime(change)
      // A main.json change committed meanwhile makes the rename's main.json stale: refused, withdrawn.
      if (pair.main) await store.adoptPair({ hb: next, main: pair.main })
      else await store.adoptHb(next)
    } catch (err) {
      // Not written here (the node came back, a disk error): nobody commits it; the members withdraw it.
      role.abortConfig()
      await Promise.allSettled(
        members.map((n) => rpc.request(n, { t: 'hbAbort', generation: next.generation } satisfies HbMessage, PREPARE_TIMEOUT_MS)),
      )
      throw err
    }
    role.commitConfig(next)
    await this.h.changed(prev, next)
    const commits = await Promise.allSettled(
      members.map((n) => rpc.request(n, { t: 'hbCommit', generation: next.generation } satisfies HbMessage, COMMIT_TIMEOUT_MS)),
    )
    commits.forEach((c, i) => {
      // Not fatal: the member takes it when its heartbeat shows it a peer with the newer generation.
      if (c.status === 'rejected')
        log.log('warn', `hb.json generation ${next.generation} not committed on ${members[i]}: ${(c.reason as Error).message}`, {
          node: members[i],
        })
    })
    log.log('info', `hb.json change from ${from} committed as generation ${next.generation}: ${describeHbChange(change)}`, {
      from,
      generation: next.generation,
    })
    return { generation: next.generation, previousGeneration: prev.generation, summary: describeHbChange(change) }
  }

  /** Sends the prepare to member `n`. A member of our partition that does not follow us yet (it is still
   *  installing the view that has us as coordinator: within a second or two of a node's loss or return)
   *  refuses with MCCS_ERR_NOT_COORDINATOR; it is asked again until it follows us or PREPARE_TIMEOUT_MS
   *  has passed, as long as this node is still the coordinator. Any other refusal is final. */
  private async prepareOn(n: string, m: HbMessage): Promise<unknown> {
    const until = Date.now() + PREPARE_TIMEOUT_MS
    for (;;) {
      try {
        return await this.h.rpc.request(n, m, Math.max(500, until - Date.now()))
      } catch (err) {
        const retry = isMccsError(err) && err.code === 'MCCS_ERR_NOT_COORDINATOR' && Date.now() + PREPARE_RETRY_MS < until
        if (!retry || !this.h.role.isCoordinator() || !this.h.role.partitionPeers().includes(n)) throw err
        await new Promise((r) => setTimeout(r, PREPARE_RETRY_MS))
      }
    }
  }

  /** What only the running cluster knows: refusals that keep the membership whole. */
  private checkRuntime(change: HbChange): void {
    const { role } = this.h
    if (change.op === 'removeNode' || change.op === 'renameNode') {
      // A node renamed while it runs would run under two names: as Pacemaker asks, it is stopped first.
      const n = change.name
      const verb = change.op === 'removeNode' ? 'remove' : 'rename'
      if (n === this.h.node || (role.hb.isUp(n) && !role.hasLeft(n)) || (role.inView(n) && !role.hasLeft(n)))
        throw new MccsError(
          'MCCS_ERR_CONFLICT',
          `node ${n} is running: stop ${n} first (systemctl stop mccs_agent there: a graceful stop moves its groups and leaves without a fence), then ${verb} it`,
          { field: 'name', subject: n },
        )
      const why = this.h.removable(n, change.op)
      if (why) throw new MccsError('MCCS_ERR_CONFLICT', `node ${n} cannot be ${verb}d yet: ${why}`, { field: 'name', subject: n })
    }
    if (change.op === 'removeLink') {
      const st = role.hb.status()
      for (const p of role.partitionPeers()) {
        const links = st.peers.find((x) => x.node === p)?.links ?? {}
        const others = Object.entries(links).filter(([name, l]) => name !== change.name && l.up)
        if (!others.length)
          throw new MccsError(
            'MCCS_ERR_CONFLICT',
            `node ${p} is heard on no link but ${change.name} now: removing it would cut ${p} off (repair another link first)`,
            { field: 'name', subject: p },
          )
      }
    }
  }

  /** A member's own addresses in the new hb.json must be on this host (a typo makes a node that hears no one). */
  private checkOwn(next: HbConfig): void {
    const self = this.h.node
    const mine = next.nodes.find((n) => n.name === self)
    if (!mine) throw new MccsError('MCCS_ERR_CONFLICT', `the change removes this node (${self}), which is running`, { field: 'name' })
    const before = this.h.store.current().hb.nodes.find((n) => n.name === self)?.addresses ?? {}
    for (const [link, a] of Object.entries(mine.addresses)) if (before[link] !== a) checkOnHost(a, `addresses.${self}`)
  }

  /** Member: phase 1. */
  private async onPrepare(from: string, doc: unknown, mainDoc: unknown): Promise<{ generation: number }> {
    const next = this.readable(doc, from)
    const main = mainDoc === undefined ? undefined : this.readableMain(mainDoc, next, from)
    const cur = this.h.store.current().hb
    if (next.generation <= cur.generation)
      throw new MccsError(
        'MCCS_ERR_CONFIG_GENERATION',
        `hb.json generation ${next.generation} is not newer than generation ${cur.generation} in force here`,
        { field: '/generation', subject: this.h.node },
      )
    if (next.cluster !== cur.cluster) throw new MccsError('MCCS_ERR_HB_CONFIG', 'the cluster name cannot change', { field: '/cluster' })
    if (main && main.generation <= this.h.store.current().main.generation)
      throw new MccsError(
        'MCCS_ERR_CONFIG_GENERATION',
        `main.json generation ${main.generation} is not newer than generation ${this.h.store.current().main.generation} in force here`,
        { field: '/main/generation', subject: this.h.node },
      )
    this.checkOwn(next)
    if (this.pending) this.withdraw(this.pending.hb.generation, `replaced by generation ${next.generation}`)
    await this.h.role.prepareQuorum(next, QUORUM_ANSWER_MS) // refused (nothing prepared) if the new server does not answer here
    this.h.role.prepareConfig(next)
    const timer = setTimeout(() => this.expire(next.generation), PREPARE_TTL_MS)
    timer.unref()
    this.pending = { hb: next, ...(main ? { main } : {}), from, timer }
    return { generation: next.generation }
  }

  /** Member: phase 2. */
  private async onCommit(from: string, generation: number): Promise<{ generation: number }> {
    const p = this.pending
    if (p && p.hb.generation === generation) {
      clearTimeout(p.timer)
      this.pending = null
      await this.adopt(p.hb, from, p.main)
    } else if (generation > this.h.store.current().hb.generation) await this.pullFrom(from)
    return { generation: this.h.store.current().hb.generation }
  }

  private withdraw(generation: number, why: string): void {
    const p = this.pending
    if (!p || p.hb.generation !== generation) return
    clearTimeout(p.timer)
    this.pending = null
    this.h.role.abortConfig()
    this.h.log.log('info', `hb.json generation ${generation} ${why}`, { generation })
  }

  /** A prepared change that was never committed: a peer that has it gives it; otherwise it is withdrawn. */
  private expire(generation: number): void {
    const st = this.h.role.hb.status()
    const holder = st.peers.find((p) => p.up && hbGenerationOf(p.view) >= generation)
    if (holder) {
      void this.pullFrom(holder.node).catch(() => this.withdraw(generation, 'not committed in time'))
      return
    }
    this.withdraw(generation, `not committed within ${PREPARE_TTL_MS / 1000} s: generation ${this.h.store.current().hb.generation} stays`)
  }

  /** After every membership decision: a member of our quorate partition with a newer hb.json gives it to us.
   *  Without quorum, any peer heard that shows a newer one does: only a coordinator commits a generation, so
   *  a newer one is the cluster's, and a node whose hb.json is too old to join a view (its node list lacks a
   *  node added meanwhile) would otherwise never get it. */
  viewsChanged(m: MembershipResult, views: Record<string, HbView>): void {
    if (this.pulling || this.running || Date.now() - this.lastPullFailure < 1000) return
    const cur = this.h.store.current().hb.generation
    for (const n of m.quorate ? m.partition : Object.keys(views).sort()) {
      if (n === this.h.node || hbGenerationOf(views[n]) <= cur) continue
      if (this.pending && hbGenerationOf(views[n]) === this.pending.hb.generation) {
        // It committed what we prepared: the commit to us was lost.
        const p = this.pending
        clearTimeout(p.timer)
        this.pending = null
        this.pulling = true
        void this.adopt(p.hb, n, p.main)
          .catch(() => {})
          .finally(() => {
            this.pulling = false
          })
        return
      }
      void this.pullFrom(n).catch(() => {})
      return
    }
  }

  private async pullFrom(node: string): Promise<void> {
    this.pulling = true
    try {
      const reply = await this.h.rpc.request<unknown>(node, { t: 'hbGet', pair: true } satisfies HbMessage, PREPARE_TIMEOUT_MS)
      const isPair = !!reply && typeof reply === 'object' && 'hb' in reply && 'main' in reply
      const next = this.readable(isPair ? (reply as { hb: unknown }).hb : reply, node)
      if (next.generation <= this.h.store.current().hb.generation) return
      // A rename we missed: our main.json names a node the new hb.json no longer has, so both are taken.
      const cur = this.h.store.current()
      const needsMain = !validateMain(cur.main, { file: this.h.store.mainPath, hb: next }).ok
      const main = isPair && needsMain ? this.readableMain((reply as { main: unknown }).main, next, node) : undefined
      this.checkOwn(next) // one that removed this node, or moved it off this host, is not taken
      if (this.pending) {
        clearTimeout(this.pending.timer)
        this.pending = null
      }
      // Not prepared here: take the transitional timing first, for the instant before it is in force; the
      // cluster already moved, so a new quorum server is taken whether it answers yet or not.
      await this.h.role.prepareQuorum(next, 0)
      this.h.role.prepareConfig(next)
      await this.adopt(next, node, main)
    } catch (err) {
      this.lastPullFailure = Date.now()
      this.h.log.log('warn', `cannot fetch hb.json from ${node}: ${(err as Error).message}`, { node })
      throw err
    } finally {
      this.pulling = false
    }
  }

  private async adopt(next: HbConfig, from: string, main?: MainConfig): Promise<void> {
    const prev = this.h.store.current().hb
    try {
      if (main) await this.h.store.adoptPair({ hb: next, main })
      else await this.h.store.adoptHb(next)
    } catch (err) {
      this.h.role.abortConfig()
      throw err
    }
    this.h.role.commitConfig(next)
    await this.h.changed(prev, next)
    this.h.log.log('info', `hb.json generation ${next.generation} taken from ${from} (was ${prev.generation})`, {
      from,
      generation: next.generation,
    })
  }

  /** A peer's main.json document sent with an hb.json (a rename): of a version this agent reads, valid with it. */
  private readableMain(doc: unknown, hb: HbConfig, from: string): MainConfig {
    if (!doc || typeof doc !== 'object' || Array.isArray(doc))
      throw new MccsError('MCCS_ERR_INVALID', 'must be a main.json object', { field: 'main', subject: from })
    const file = `main.json from ${from}`
    const v = validateMain(doc, { file, hb })
    if (!v.ok) throw invalidConfigError(file, v.errors)
    return v.config
  }

  /** A peer's hb.json document: of a schema version this agent reads, valid. */
  private readable(doc: unknown, from: string): HbConfig {
    if (!doc || typeof doc !== 'object' || Array.isArray(doc))
      throw new MccsError('MCCS_ERR_INVALID', 'must be an hb.json object', { field: 'hb', subject: from })
    const file = `hb.json from ${from}`
    const v = validateHb(doc, { file }) // its schema version too: a newer one than this agent reads is refused
    if (!v.ok) throw invalidConfigError(file, v.errors)
    return v.config
  }
}

/** The hb.json generation a peer's heartbeat view shows (0: none, an agent from before live changes). */
export function hbGenerationOf(v: HbView | null | undefined): number {
  const g = v?.ext?.['hbg']
  return typeof g === 'number' && Number.isSafeInteger(g) ? g : 0
}
