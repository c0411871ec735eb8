// What GET /metrics says: the cluster as `mccs status` shows it at this moment (the same AgentStatus
// object, so the two agree), this node's engine counters, its AWS API calls, and its mirror disks.
// Names and labels are documented in docs/metrics.md; where ha_cluster_exporter has the same concept the
// shape follows it (one line per entity with value 1 and its state as a label, `*_total` counts of what
// is configured, a fail count per resource and node, quorate as 0/1).
import type { AgentStatus } from '../../agent/status.js'
import type { VolumeStatus } from '../../mirror/volume.js'
import { Exposition } from './exposition.js'
import type { EngineCounters } from './observer.js'

export interface AwsCounters {
  apiCalls: Record<string, number>
  retries: number
  throttles: number
}

export interface MetricsInput {
  status: AgentStatus
  counters: EngineCounters | null
  aws: AwsCounters | null
  /** This node's copy of each mirror disk, or null for one whose status did not come in time. */
  mirrors: Array<{ resource: string; status: VolumeStatus | null }>
  /** This node's event timeline: writes that failed (a full or read-only disk). */
  timelineFailures?: number
  /** How long the scrape took to gather (seconds). */
  gatherS: number
}

const b = (v: boolean) => (v ? 1 : 0)

export function renderMetrics(m: MetricsInput): string {
  const s = m.status
  const x = new Exposition()
  const node = s.node
  x.family('mccs_info', 'gauge', 'Always 1: the node answering and its cluster.').add('mccs_info', { node, cluster: s.cluster }, 1)
  x.family('mccs_config_generation', 'gauge', 'Generation of the configuration (main.json) in force.').add(
    'mccs_config_generation',
    {},
    s.generation,
  )
  x.family('mccs_uptime_seconds', 'gauge', 'Seconds since the agent that answered status started.').add(
    'mccs_uptime_seconds',
    {},
    s.uptimeS,
  )

  // Nodes (ha_cluster_pacemaker_nodes / _nodes_total).
  x.family(
    'mccs_nodes',
    'gauge',
    'The configured nodes; one line per node, value 1, status as mccs status shows it (up, down, fenced, standby, left, maintenance, unknown).',
  )
  for (const n of s.nodes) x.add('mccs_nodes', { name: n.name, status: n.membership }, 1)
  x.family('mccs_nodes_total', 'gauge', 'Number of configured nodes.').add('mccs_nodes_total', {}, s.nodes.length)
  x.family('mccs_node_needs_fence', 'gauge', '1 while a node must be fenced before its groups can move.')
  for (const n of s.nodes) x.add('mccs_node_needs_fence', { name: n.name }, b(n.needsFence))

  // View, quorum and links (ha_cluster_corosync_quorate / _quorum_votes / _ring_errors_total).
  const ms = s.membership
  x.family('mccs_node_role', 'gauge', "This node's role in the cluster (value 1); absent on a single node.")
  x.family('mccs_coordinator', 'gauge', 'The coordinator of the view this node is in (value 1).')
  x.family('mccs_view_members', 'gauge', "Nodes in this node's view (partition).")
  x.family('mccs_view_member', 'gauge', "A node in this node's view (value 1).")
  x.family('mccs_quorate', 'gauge', "1 when this node's partition has quorum.")
  x.family('mccs_quorum_votes', 'gauge', 'Quorum votes: type=votes (held by this partition) or total.')
  x.family('mccs_quorum_server_connected', 'gauge', '1 while the quorum server (tie-breaker) answers; absent without one.')
  x.family('mccs_peer_up', 'gauge', '1 while a peer is heard on at least one heartbeat link.')
  x.family('mccs_link_up', 'gauge', '1 while a heartbeat link to a peer is up.')
  x.family('mccs_link_rtt_seconds', 'gauge', 'Round-trip time of a heartbeat link (absent while unknown).')
  x.family('mccs_link_last_heard_seconds', 'gauge', 'Seconds since a heartbeat was last heard on a link (absent if never).')
  x.family('mccs_heartbeat_rejected_total', 'counter', 'Heartbeat packets refused, by reason (bad signature, replay, unknown node...).')
  if (ms) {
    x.add('mccs_node_role', { node, role: ms.role }, 1)
    if (ms.coordinator) x.add('mccs_coordinator', { name: ms.coordinator }, 1)
    x.add('mccs_view_members', {}, ms.partition.length)
    for (const p of ms.partition) x.add('mccs_view_member', { name: p }, 1)
    x.add('mccs_quorate', {}, b(ms.quorate))
    const [held, total] = ms.votes.split('/').map(Number)
    if (Number.isFinite(held) && Number.isFinite(total))
      x.add('mccs_quorum_votes', { type: 'votes' }, held!).add('mccs_quorum_votes', { type: 'total' }, total!)
    if (ms.quorum.server) x.add('mccs_quorum_server_connected', {}, b(ms.quorum.server.connected))
    for (const p of ms.peers) {
      x.add('mccs_peer_up', { peer: p.node }, b(p.up))
      for (const [link, l] of Object.entries(p.links)) {
        x.add('mccs_link_up', { peer: p.node, link }, b(l.up))
        if (l.rttMs !== null) x.add('mccs_link_rtt_seconds', { peer: p.node, link }, l.rttMs / 1000)
        if (l.lastHeardMs !== null) x.add('mccs_link_last_heard_seconds', { peer: p.node, link }, l.lastHeardMs / 1000)
      }
    }
    for (const [reason, n] of Object.entries(ms.rejected)) x.add('mccs_heartbeat_rejected_total', { reason }, n)
  } else {
    // A single node is its own quorate view.
    x.add('mccs_quorate', {}, 1)
  }

  // Groups and resources (ha_cluster_pacemaker_resources / _resources_total / _fail_count).
  x.family('mccs_groups', 'gauge', 'A group on a node (value 1), with its state there as mccs status shows it.')
  x.family('mccs_group_active', 'gauge', 'The node a group runs on (value 1); absent while it runs nowhere.')
  x.family('mccs_group_locked', 'gauge', "A group's lock (none, temporary, persistent) as a label, value 1.")
  x.family('mccs_group_pending_actions', 'gauge', 'Actions of a group in flight.')
  x.family('mccs_groups_total', 'gauge', 'Number of configured groups.').add('mccs_groups_total', {}, s.groups.length)
  x.family(
    'mccs_resources',
    'gauge',
    'A resource on a node (value 1): its state there, whether monitored, and faulted (a fault is recorded).',
  )
  x.family('mccs_resources_total', 'gauge', 'Number of configured resources.')
  x.family('mccs_fail_count', 'gauge', 'Local restarts of a resource on a node since its last clear (the engine counts failures this way).')
  x.family(
    'mccs_monitor_misses',
    'gauge',
    'Consecutive monitor results that said the resource is not running (below the confidence limit).',
  )
  let resources = 0
  for (const g of s.groups) {
    for (const [n, st] of Object.entries(g.nodes)) x.add('mccs_groups', { name: g.name, node: n, state: st }, 1)
    if (g.activeNode) x.add('mccs_group_active', { name: g.name, node: g.activeNode }, 1)
    x.add('mccs_group_locked', { name: g.name, lock: g.lock }, 1)
    x.add('mccs_group_pending_actions', { name: g.name }, g.busy)
    for (const r of g.resources) {
      resources++
      for (const [n, rs] of Object.entries(r.nodes)) {
        x.add(
          'mccs_resources',
          { id: r.name, group: g.name, type: r.type, node: n, state: rs.state, monitored: rs.monitored, faulted: rs.fault !== null },
          1,
        )
        x.add('mccs_fail_count', { resource: r.name, node: n }, rs.restarts)
        x.add('mccs_monitor_misses', { resource: r.name, node: n }, rs.misses)
      }
    }
  }
  x.add('mccs_resources_total', {}, resources)

  // Licences (limited mode stops automatic failover).
  x.family('mccs_license_valid', 'gauge', "1 when a node's license is valid; 0 in limited mode (no automatic failover).")
  for (const [n, l] of Object.entries(s.licenses ?? {})) x.add('mccs_license_valid', { node: n }, b(l.valid))

  // This node's engine (counters since the agent started; only the node running the engine counts).
  const c = m.counters
  x.family('mccs_engine_steps_total', 'counter', 'Engine steps (events) on this node.')
  x.family('mccs_action_results_total', 'counter', 'Actions finished on the engine of this node, by kind and executor status.')
  x.family(
    'mccs_action_duration_seconds',
    'histogram',
    'Time from an action starting (its plan, or its last predecessor finishing) to its result, by kind.',
  )
  x.family('mccs_fences_total', 'counter', 'Fence actions finished, by fenced node and result (ok, failed, timeout...).')
  x.family(
    'mccs_notices_total',
    'counter',
    'Decisions and events the engine reported, by kind (groupFailover, resourceFaulted, nodeFenced...).',
  )
  if (c) {
    x.add('mccs_engine_steps_total', {}, c.steps)
    for (const [k, v] of c.actionResults) {
      const [kind, status] = k.split('\0')
      x.add('mccs_action_results_total', { kind: kind!, status: status! }, v)
    }
    for (const [kind, h] of c.durations) x.histogram('mccs_action_duration_seconds', { kind }, h)
    for (const [k, v] of c.fences) {
      const [target, result] = k.split('\0')
      x.add('mccs_fences_total', { node: target!, result: result! }, v)
    }
    for (const [kind, v] of c.notices) x.add('mccs_notices_total', { kind }, v)
  }

  // AWS (this node's calls made for plugins; cached answers are not calls).
  x.family('mccs_aws_api_calls_total', 'counter', 'EC2 API calls made by this node for plugins, by action (retries included).')
  x.family('mccs_aws_api_retries_total', 'counter', 'EC2 API calls retried after throttling, a 5xx answer or a network failure.')
  x.family('mccs_aws_api_throttles_total', 'counter', 'EC2 API answers that were throttling errors (RequestLimitExceeded...).')
  if (m.aws) {
    for (const [action, v] of Object.entries(m.aws.apiCalls)) x.add('mccs_aws_api_calls_total', { action }, v)
    x.add('mccs_aws_api_retries_total', {}, m.aws.retries)
    x.add('mccs_aws_api_throttles_total', {}, m.aws.throttles)
  }

  // Mirror disks, this node's copy (ha_cluster_drbd_resources / _connections_sync).
  x.family(
    'mccs_mirror_status_up',
    'gauge',
    "1 when this node's mirror status answered within the scrape's bound; 0 if not (the other mirror lines are then absent).",
  )
  x.family('mccs_mirror_role', 'gauge', "This node's role for a mirror disk (primary, secondary, down), value 1.")
  x.family(
    'mccs_mirror_replication',
    'gauge',
    'Primary: replication state to the peer (Connected, SyncSource, Disconnected, Suspended...), value 1.',
  )
  x.family('mccs_mirror_sync_percent', 'gauge', 'Primary: how much of the peer copy is in sync, 0-100 (absent when unknown).')
  x.family('mccs_mirror_dirty_bytes', 'gauge', 'Primary: bytes written since the generation the peer holds (the lag).')
  x.family('mccs_mirror_resync_remaining_bytes', 'gauge', 'Primary: bytes left of the running resync.')
  x.family('mccs_mirror_split_brain', 'gauge', '1 when a split brain is recorded for the mirror disk.')
  for (const mr of m.mirrors) {
    x.add('mccs_mirror_status_up', { resource: mr.resource }, b(mr.status !== null))
    const v = mr.status
    if (!v) continue
    x.add('mccs_mirror_role', { resource: mr.resource, role: v.role }, 1)
    x.add('mccs_mirror_split_brain', { resource: mr.resource }, b(v.splitBrain !== null))
    if (v.replication) {
      x.add('mccs_mirror_replication', { resource: mr.resource, state: v.replication.state }, 1)
      if (v.replication.percent !== null) x.add('mccs_mirror_sync_percent', { resource: mr.resource }, v.replication.percent)
      if (v.replication.resync)
        x.add(
          'mccs_mirror_resync_remaining_bytes',
          { resource: mr.resource },
          Math.max(0, v.replication.resync.bytes - v.replication.resync.done),
        )
    }
    if (v.dirtyBytes !== null) x.add('mccs_mirror_dirty_bytes', { resource: mr.resource }, v.dirtyBytes)
  }

  x.family(
    'mccs_timeline_write_failures_total',
    'counter',
    "Writes of this node's event timeline (docs/timeline.md) that failed: decisions may be missing from it.",
  )
  if (m.timelineFailures !== undefined) x.add('mccs_timeline_write_failures_total', {}, m.timelineFailures)

  x.family('mccs_scrape_duration_seconds', 'gauge', 'Time this scrape took to gather its values.').add(
    'mccs_scrape_duration_seconds',
    {},
    m.gatherS,
  )
  return x.text()
}
