// Configuration replication between the nodes of a cluster (main.json).
//
//   - A change is accepted only on a quorate partition and only through its coordinator: a node that is
//     not the coordinator forwards it; a node without quorum refuses it (MCCS_ERR_NO_QUORUM). The
//     coordinator commits it (generation + 1, validated, atomic) and pushes it to every member before it
//     answers, so the operator's next command on any member sees it.
//   - Every node shows (generation, digest) of its configuration in its heartbeat view. A node of a
//     quorate partition that sees a member with a newer generation fetches it and adopts it: a node that
//     was down during a change takes it when it returns, and a coordinator that returns with an old
//     configuration takes the newer one before it runs the engine.
//   - Same generation, other digest: diverged (a file edited by hand on one node). The coordinator's
//     configuration is authoritative; a diverged member refuses to start resources and says why until
//     it is reconciled (`mccs config reconcile`, or any newer change pushed by the coordinator).
//   - The schema version travels beside main (`schemaVersion` in the message, not in main, which agents
//     from before the field refuse as an unknown property; version 2's content is version 1's, so they
//     read it as it is). A configuration of a newer version than this agent reads is refused, logged,
//     and the local one kept; one without a version is of version 1 and is migrated.
// hb.json is not replicated: membership itself depends on it (see docs/cluster.md).
import type { Role } from '../cluster/role.js'
import type { MembershipResult } from '../cluster/membership.js'
import type { HbView } from '../cluster/packet.js'
import { configDigest, type ConfigStore } from '../config/store.js'
import { invalidConfigError } from '../config/issue.js'
import { readVersion, SCHEMA_VERSION, VERSION_FIELD, versionedFile } from '../config/schema-version.js'
import type { MainConfig } from '../engine/index.js'
import { MccsError } from '../errors.js'
import type { Log } from '../log/logger.js'
import type { PeerRpc } from './peer-rpc.js'

/** Configuration replication's peer messages: a change sent to the coordinator, a configuration pushed
 *  by it, ours asked for. `schemaVersion` is main's schema version (absent: 1, an agent from before the
 *  field); in configGet, the highest the asker reads (absent: it wants main without the field). */
export type ConfigMessage =
  | { t: 'configCommit'; main: unknown; expectGeneration: number; schemaVersion?: number }
  | { t: 'config'; main: unknown; force?: boolean; schemaVersion?: number }
  | { t: 'configGet'; schemaVersion?: number }

export interface ConfigSyncHost {
  node: string
  log: Log
  store: ConfigStore
  /** Whom we follow, and where our generation is shown to peers. */
  role: Role
  rpc: PeerRpc
  /** The main.json in force changed (committed here or adopted from a peer). */
  changed(): void
}

const PUSH_TIMEOUT_MS = 5000
const PULL_RETRY_MS = 1000

export class ConfigSync {
  private divergedFrom: { node: string; reason: string } | null = null
  private pulling: Promise<void> | null = null
  private lastPullFailure = 0
  private readonly warnedDiverged = new Set<string>()
  /** node@generation of configurations refused for a newer schema version (not fetched again). */
  private readonly refusedNewer = new Set<string>()

  constructor(private readonly h: ConfigSyncHost) {}

  /** Why this node must not start resources, or null. */
  get diverged(): string | null {
    return this.divergedFrom?.reason ?? null
  }

  /** Settles once a fetch of a newer configuration in progress has ended. */
  settled(): Promise<void> {
    return this.pulling ?? Promise.resolve()
  }

  /** Answers the configuration messages of other nodes. */
  serve(): void {
    const rpc = this.h.rpc
    rpc.serve<ConfigMessage>({
      configCommit: (from, m) => {
        rpc.assertCoordinator('MCCS_ERR_NOT_COORDINATOR')
        if (typeof m.expectGeneration !== 'number')
          throw new MccsError('MCCS_ERR_INVALID', 'expectGeneration must be a number', { field: 'expectGeneration' })
        return this.onConfigCommit(from, withVersion(m.main, m.schemaVersion), m.expectGeneration)
      },
      config: (from, m) => {
        rpc.assertOurCoordinator(from) // only our coordinator replicates to us
        return this.onConfigPush(from, withVersion(m.main, m.schemaVersion), m.force === true)
      },
      configGet: (_from, m) => this.onConfigGet(m.schemaVersion !== undefined),
    })
  }

  /** Shows our configuration to the peers (after load, commit or adoption). */
  announce(): void {
    const m = this.h.store.current().main
    this.h.role.setGeneration(m.generation, configDigest(m))
  }

  /** A change made on this node (CLI, console): committed by the coordinator, replicated, then answered. */
  async commit(next: MainConfig, expectGeneration: number): Promise<Readonly<MainConfig>> {
    next = this.ownVersion(next)
    const c = this.h.role
    if (c.isCoordinator()) return this.commitHere(next, expectGeneration)
    const coord = c.coordinator()
    if (!coord || coord === this.h.node) {
      throw new MccsError(
        'MCCS_ERR_NO_QUORUM',
        'configuration changes are accepted only on a quorate partition, and this node has no quorum',
        { subject: this.h.node },
      )
    }
    const r = await this.h.rpc.request<{ generation: number }>(
      coord,
      { t: 'configCommit', main: next, expectGeneration, schemaVersion: SCHEMA_VERSION.main } satisfies ConfigMessage,
      15_000,
    )
    // The coordinator pushed it to us before answering; if that push was lost, fetch it now.
    if (this.h.store.current().main.generation < r.generation) await this.pullFrom(coord, false)
    return this.h.store.current().main
  }

  /** Coordinator: a change from a member (its main.json document, schemaVersion included). */
  async onConfigCommit(from: string, main: unknown, expectGeneration: number): Promise<{ generation: number }> {
    const doc = this.readable(asMain(main), from)
    const m = await this.commitHere(doc, expectGeneration, 'v1')
    this.h.log.log('info', `configuration change from ${from} committed as generation ${m.generation}`, { from, generation: m.generation })
    return { generation: m.generation }
  }

  /** Member: the coordinator's configuration (after a commit, or to reconcile us): its main.json
   *  document, schemaVersion included. */
  async onConfigPush(from: string, main: unknown, force: boolean): Promise<{ generation: number; diverged?: boolean }> {
    const next = this.readable(asMain(main), from)
    const cur = this.h.store.current().main
    if (next.generation < cur.generation || (next.generation === cur.generation && !force)) {
      if (next.generation === cur.generation && configDigest(next) !== configDigest(cur)) this.markDiverged(from)
      return { generation: cur.generation, ...(this.divergedFrom ? { diverged: true } : {}) }
    }
    await this.adopt(next, from, force)
    return { generation: next.generation }
  }

  /** Ours, with its schemaVersion for an asker that reads the field; without it for an agent from before
   *  the field (which reads version 2's content as version 1; a version whose content it could not read
   *  would have to refuse such an asker here). */
  onConfigGet(versioned: boolean): unknown {
    const main = this.h.store.current().main
    return versioned ? versionedFile('main', main) : main
  }

  /** `mccs config reconcile`: take the coordinator's configuration, even at the same generation. */
  async reconcile(): Promise<{ generation: number; from: string }> {
    const coord = this.h.role.coordinator()
    if (!coord)
      throw new MccsError('MCCS_ERR_NO_QUORUM', 'no coordinator to reconcile with: this node has no quorum', { subject: this.h.node })
    if (coord === this.h.node) {
      this.divergedFrom = null
      return { generation: this.h.store.current().main.generation, from: coord }
    }
    await this.pullFrom(coord, true)
    return { generation: this.h.store.current().main.generation, from: coord }
  }

  /** After every membership decision: fetch a newer configuration, notice divergence. */
  viewsChanged(m: MembershipResult, views: Record<string, HbView>): void {
    if (!m.quorate) return
    const cur = this.h.store.current().main
    const mine = configDigest(cur)
    let newest: { node: string; generation: number } | null = null
    for (const n of m.partition) {
      const v = views[n]
      if (n === this.h.node || v?.generation === undefined) continue
      if (v.generation > cur.generation && (!newest || v.generation > newest.generation)) newest = { node: n, generation: v.generation }
      if (v.generation === cur.generation && v.digest && v.digest !== mine) {
        if (n === m.coordinator) this.markDiverged(n)
        else if (m.coordinator === this.h.node && !this.warnedDiverged.has(`${n}@${cur.generation}`)) {
          this.warnedDiverged.add(`${n}@${cur.generation}`)
          this.h.log.log(
            'error',
            `node ${n} runs another configuration at generation ${cur.generation}: it will not start resources until reconciled (mccs config reconcile on ${n})`,
            { node: n },
          )
        }
      }
      if (n === m.coordinator && v.generation === cur.generation && v.digest === mine && this.divergedFrom) {
        this.h.log.log('info', 'configuration reconciled with the coordinator')
        this.divergedFrom = null
      }
    }
    if (
      newest &&
      !this.refusedNewer.has(`${newest.node}@${newest.generation}`) &&
      !this.pulling &&
      Date.now() - this.lastPullFailure > PULL_RETRY_MS
    ) {
      void this.pullFrom(newest.node, false).catch(() => {})
    }
  }

  private async commitHere(next: MainConfig, expectGeneration: number, unversioned?: 'v1'): Promise<Readonly<MainConfig>> {
    const main = await this.h.store.commit(next, { expectGeneration, ...(unversioned ? { unversioned } : {}) })
    this.announce()
    // Members get it before our engine sees it: the probes it plans for a new resource on a member must
    // find the resource there.
    const peers = this.h.role.partitionPeers()
    const results = await Promise.allSettled(
      peers.map((n) =>
        this.h.rpc.request(n, { t: 'config', main, schemaVersion: SCHEMA_VERSION.main } satisfies ConfigMessage, PUSH_TIMEOUT_MS),
      ),
    )
    results.forEach((r, i) => {
      // Not fatal: the member fetches it when its heartbeat shows the older generation.
      if (r.status === 'rejected')
        this.h.log.log('warn', `configuration generation ${main.generation} not pushed to ${peers[i]}: ${(r.reason as Error).message}`, {
          node: peers[i],
        })
    })
    this.h.changed()
    return main
  }

  private pullFrom(node: string, force: boolean): Promise<void> {
    const run = (async () => {
      try {
        const reply = await this.h.rpc.request<unknown>(
          node,
          { t: 'configGet', schemaVersion: SCHEMA_VERSION.main } satisfies ConfigMessage,
          PUSH_TIMEOUT_MS,
        )
        const main = this.readable(asMain(reply), node)
        const cur = this.h.store.current().main
        if (main.generation > cur.generation || (force && main.generation === cur.generation)) await this.adopt(main, node, force)
      } catch (err) {
        this.lastPullFailure = Date.now()
        this.h.log.log('warn', `cannot fetch the configuration from ${node}: ${(err as Error).message}`, { node })
        throw err
      } finally {
        this.pulling = null
      }
    })()
    this.pulling = run
    return run
  }

  /** A change made here is of this agent's version; one that names its version (an imported file) is
   *  brought to it first, or refused here when newer, before it goes to the coordinator. */
  private ownVersion(next: MainConfig): MainConfig {
    if (!(VERSION_FIELD in next)) return next
    const r = readVersion('main', next as unknown as Record<string, unknown>, 'main.json (the change)', 'v1')
    if (!r.ok) throw invalidConfigError(r.issue.file, [r.issue])
    return r.doc as unknown as MainConfig
  }

  /**
   * A peer's main.json document, refused here when its schema version is newer than this agent reads:
   * logged (once per node and generation), the local configuration kept, and not fetched again from that
   * node at that generation (a newer agent's configuration does not become readable by asking again).
   */
  private readable(doc: MainConfig, from: string): MainConfig {
    const r = readVersion('main', doc as unknown as Record<string, unknown>, `main.json from ${from}`, 'v1')
    if (r.ok || r.issue.code !== 'MCCS_ERR_CONFIG_VERSION') return doc // the store reports any other problem
    const key = `${from}@${doc.generation}`
    if (!this.refusedNewer.has(key)) {
      this.refusedNewer.add(key)
      this.h.log.log(
        'error',
        `configuration generation ${doc.generation} from ${from} refused: schemaVersion ${r.issue.found} is newer than this agent reads ` +
          `(up to ${r.issue.supported}); this node keeps generation ${this.h.store.current().main.generation} until it is upgraded`,
        { from, generation: doc.generation, schemaVersion: r.issue.found, supported: r.issue.supported },
      )
    }
    throw invalidConfigError(r.issue.file, [r.issue])
  }

  private async adopt(main: MainConfig, from: string, force: boolean): Promise<void> {
    const before = this.h.store.current().main.generation
    await this.h.store.adoptMain(main, { force })
    this.divergedFrom = null
    this.afterChange()
    this.h.log.log('info', `configuration generation ${main.generation} taken from ${from} (was ${before})`, {
      from,
      generation: main.generation,
    })
  }

  private afterChange(): void {
    this.announce()
    this.h.changed()
  }

  private markDiverged(coordinator: string): void {
    if (this.divergedFrom?.node === coordinator) return
    const g = this.h.store.current().main.generation
    const reason =
      `this node's configuration differs from coordinator ${coordinator}'s at generation ${g}: ` +
      `it starts no resources until reconciled (mccs config reconcile takes the coordinator's)`
    this.divergedFrom = { node: coordinator, reason }
    this.h.log.log('error', reason, { coordinator, generation: g })
  }
}

/** A pushed main with the message's schemaVersion put in, as in the file (a version in main itself stays). */
function withVersion(main: unknown, schemaVersion: unknown): unknown {
  if (schemaVersion === undefined || !main || typeof main !== 'object' || Array.isArray(main) || VERSION_FIELD in main) return main
  return { ...main, schemaVersion }
}

function asMain(v: unknown): MainConfig {
  if (!v || typeof v !== 'object' || Array.isArray(v) || typeof (v as { generation?: unknown }).generation !== 'number') {
    throw new MccsError('MCCS_ERR_INVALID', 'replicated configuration must be a main.json object with a generation', { field: 'main' })
  }
  return v as MainConfig
}
