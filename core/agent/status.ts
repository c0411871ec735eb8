// What `mccs status` shows (crm_mon / hastatus style): nodes, groups and their resources per node.
import type { MainConfig, EngineState, Notice } from '../engine/index.js'
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
        { state: string; monitored: boolean; fault: string | null; restarts: number; misses: number; needsFence: boolean }
      >
    }>
  }>
  types: Array<{ name: string; version: string }>
  /** This node's view of the cluster (role, membership, heartbeat links); absent on a single node. */
  membership?: ClusterStatus
  notices: Array<Notice & { at: string }>
  /** This node's logs: whether they are written, and what was dropped or held (a full disk). */
  logs?: { agent: LogHealth; operations: OpLogHealth }
  /** Every node's license as known here: valid, or limited mode (no automatic failover) and why (issue 17). */
  licenses?: Record<string, BookEntry>
}

export interface ClusterStatus {
  role: string
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
  quorum: { reason: string; twoNode: boolean; server: { vote: string; connected: boolean; holder: string[] | null; reason: string } | null }
}

export function clusterStatus(c: Role, channel: Record<string, ChannelProtocol> = {}): ClusterStatus {
  const s = c.state()
  return {
    role: s.role,
    coordinator: s.membership?.coordinator ?? null,
    partition: s.membership?.partition ?? [],
    quorate: s.membership?.quorate ?? false,
    votes: s.membership ? `${s.membership.votes}/${s.membership.totalVotes}` : '-',
    protocol: s.heartbeat.protocol,
    peers: s.heartbeat.peers.map((p) => ({
      node: p.node,
      up: p.up,
      links: Object.fromEntries(Object.entries(p.links).map(([l, x]) => [l, { up: x.up, rttMs: x.rttMs, lastHeardMs: x.lastHeardMs }])),
      protocol: { ...p.protocol, channel: channel[p.node] ?? null },
    })),
    rejected: { ...s.heartbeat.rejected },
    timing: { ...s.heartbeat.timing },
    hbGeneration: c.config().generation,
    quorum: {
      reason: s.membership?.reason ?? 'starting',
      twoNode: s.twoNode,
      server: s.quorumServer
        ? { vote: s.quorumServer.vote, connected: s.quorumServer.connected, holder: s.quorumServer.holder, reason: s.quorumServer.reason }
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
