// What `mccs status` shows (crm_mon / hastatus style): nodes, groups and their resources per node.
import type { MainConfig, EngineState, Notice, Said } from '../engine/index.js'
import type { HbConfig } from '../config/hb-model.js'
import type { PluginHost } from '../plugins/host.js'
import type { Role } from '../cluster/role.js'
import type { PeerProtocol } from '../cluster/heartbeat.js'
import type { ChannelProtocol } from '../cluster/peer-channel.js'
import type { ProtocolRange } from '../cluster/protocol-version.js'
import type { LogHealth } from '../log/logger.js'
import type { OpLogHealth } from '../log/oplog.js'
import type { BookEntry } from '../license/cluster-book.js'

export interface AgentStatus {
  node: string
  cluster: string
  generation: number
  uptimeS: number
  nodes: Array<{ name: string; membership: string; needsFence: boolean }>
  groups: Array<{
    name: string
    activeNode: string | null
    lock: string
    failoverOnFailure: boolean
    nodes: Record<string, string>
    busy: number
    resources: Array<{
      name: string
      type: string
      critical: boolean
      nodes: Record<
        string,
        {
          state: string
          monitored: boolean
          fault: string | null
          /** The fault in words of the locale files (absent from older agents and from a plugin's own reason). */
          faultSaid?: Said
          restarts: number
          misses: number
          needsFence: boolean
        }
      >
    }>
  }>
  types: Array<{ name: string; version: string }>
  /** This node's view of the cluster (role, membership, heartbeat links); absent on a single node. */
  membership?: ClusterStatus
  notices: Array<Notice & { at: string }>
  /** This node's logs: whether they are written, and what was dropped or held (a full disk). */
  logs?: { agent: LogHealth; operations: OpLogHealth }
  /** Set when the groups and nodes above are not the cluster's current state, and why: this node is not a
   *  coordinator acting in a current view and no coordinator answered (a resumed agent, a node out of the
   *  view). Their states then read 'unknown' rather than what was last known here. */
  stale?: string
  /** Every node's license as known here: valid, or limited mode (no automatic failover) and why (issue 17). */
  licenses?: Record<string, BookEntry>
}

export interface ClusterStatus {
  role: string
  /** The view below is the last one decided and is not current (the agent was paused, or its heartbeat
   *  thread has not reported since): role, coordinator and quorum are re-learned, peers show as up only on a
   *  current verdict. Absent: current. */
  stale?: boolean
  coordinator: string | null
  partition: string[]
  quorate: boolean
  votes: string
  /** The protocol versions this node speaks (heartbeat and peer channel). */
  protocol?: ProtocolRange
  peers: Array<{
    node: string
    up: boolean
    links: Record<string, { up: boolean; rttMs: number | null; lastHeardMs: number | null }>
    /** The share of the peer's recent packets that reached this node (0..1; null: too few yet). */
    received: number | null
    /** The version in use with the peer on the heartbeat, its range, or why it is refused (not a member); and
     *  the same as settled by the peer channel's last hello (null: no connection yet). */
    protocol?: PeerProtocol & { channel: ChannelProtocol | null }
  }>
  rejected: Record<string, number>
  /** The heartbeat timing in force here (a live change passes through a transitional one) and hb.json's generation. */
  timing?: { intervalMs: number; deadMs: number }
  hbGeneration?: number
  /** Why this node starts no resources (its configuration diverged from the coordinator's), or null. */
  configDiverged?: string | null
  /** Quorum state: how a tie is broken (quorum server's vote, or two-node mode), and why the partition is (not) quorate. */
  quorum: {
    reason: string
    /** The reason in words of the locale files (core/cluster's `said.q.*`), for the reader's language (an
     *  older agent's status lacks it: readers fall back to the reason). */
    said: Said
    twoNode: boolean
    server: { address: string; vote: string; connected: boolean; holder: string[] | null; reason: string; said?: Said } | null
  }
}

export function clusterStatus(c: Role, channel: Record<string, ChannelProtocol> = {}): ClusterStatus {
  // Asked first: it takes in what the heartbeat thread sent meanwhile (a paused agent's first answer).
  const current = c.decisionCurrent()
  const s = c.state()
  // Not current: the last decision is from before a pause; none of it is claimed (role, view, quorum, peers).
  const m = current ? s.membership : null
  return {
    role: current ? s.role : 'unknown',
    ...(current ? {} : { stale: true }),
    coordinator: m?.coordinator ?? null,
    partition: m?.partition ?? (current ? [] : [c.self]),
    quorate: m?.quorate ?? false,
    votes: m ? `${m.votes}/${m.totalVotes}` : '-',
    protocol: s.heartbeat.protocol,
    peers: s.heartbeat.peers.map((p) => ({
      node: p.node,
      up: current ? p.up : c.peerUpNow(p.node),
      links: Object.fromEntries(Object.entries(p.links).map(([l, x]) => [l, { up: x.up, rttMs: x.rttMs, lastHeardMs: x.lastHeardMs }])),
      received: p.received,
      protocol: { ...p.protocol, channel: channel[p.node] ?? null },
    })),
    rejected: { ...s.heartbeat.rejected },
    timing: { ...s.heartbeat.timing },
    hbGeneration: c.config().generation,
    quorum: {
      ...(current
        ? s.membership
          ? { reason: s.membership.reason, said: s.membership.said }
          : { reason: 'starting', said: { id: 'said.q.starting' } }
        : {
            reason:
              'stale: the view this node last decided on no longer holds (a member stopped answering, or this agent was paused); it decides again and acts on nothing meanwhile',
            said: { id: 'said.q.stale' },
          }),
      twoNode: s.twoNode,
      server: s.quorumServer
        ? {
            address: s.quorumServer.address,
            vote: s.quorumServer.vote,
            connected: s.quorumServer.connected,
            holder: s.quorumServer.holder,
            reason: s.quorumServer.reason,
            ...(s.quorumServer.said ? { said: s.quorumServer.said } : {}),
          }
        : null,
    },
  }
}

export function buildStatus(
  node: string,
  main: MainConfig,
  hb: HbConfig,
  s: EngineState,
  host: PluginHost,
  startedAt: number,
  notices: Array<Notice & { at: string }>,
): AgentStatus {
  return {
    node,
    cluster: hb.cluster,
    generation: main.generation,
    uptimeS: Math.round((Date.now() - startedAt) / 1000),
    nodes: hb.nodes.map((n) => ({
      name: n.name,
      membership: s.nodes[n.name]?.membership ?? 'unknown',
      needsFence: s.nodes[n.name]?.needsFence ?? false,
    })),
    groups: main.groups.map((g) => {
      const gr = s.groups[g.name]
      return {
        name: g.name,
        activeNode: gr?.activeNode ?? null,
        lock: gr?.lock ?? 'none',
        failoverOnFailure: gr?.failoverOnFailure ?? g.failoverOnFailure,
        nodes: { ...(gr?.nodes ?? {}) },
        busy: Object.keys(gr?.pending ?? {}).length,
        resources: main.resources
          .filter((r) => r.group === g.name)
          .map((r) => ({
            name: r.name,
            type: r.type,
            critical: r.critical,
            nodes: Object.fromEntries(
              Object.entries(gr?.resources[r.name] ?? {}).map(([n, rs]) => [
                n,
                {
                  state: rs.state,
                  monitored: rs.monitored,
                  fault: rs.lastFault,
                  ...(rs.lastFaultSaid ? { faultSaid: rs.lastFaultSaid } : {}),
                  restarts: rs.restarts,
                  misses: rs.misses,
                  needsFence: rs.needsFence,
                },
              ]),
            ),
          })),
      }
    }),
    types: host.list().map((p) => ({ name: p.manifest.name, version: p.manifest.version })),
    notices: notices.slice(-20),
  }
}

/** The groups' and nodes' states made 'unknown', with the reason (AgentStatus.stale): what this node last
 *  knew of them is not claimed as current (issue 14: a resumed coordinator showed its group online on itself
 *  after its peers had fenced it and moved the group). */
export function markUnknown(st: AgentStatus, why: string): AgentStatus {
  st.stale = why
  for (const n of st.nodes) n.membership = 'unknown'
  for (const g of st.groups) {
    g.activeNode = null
    for (const n of Object.keys(g.nodes)) g.nodes[n] = 'unknown'
    for (const r of g.resources) for (const rs of Object.values(r.nodes)) rs.state = 'unknown'
  }
  return st
}
