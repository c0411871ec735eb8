// mccs status: groups, resources per node, states, faults and locks at a glance.
import type { AgentStatus } from '../agent/status.js'
import { table } from './table.js'

export function renderStatus(s: AgentStatus): string {
  const lines: string[] = []
  lines.push(`cluster ${s.cluster}  node ${s.node}  config generation ${s.generation}  up ${s.uptimeS}s`)
  lines.push('nodes: ' + s.nodes.map((n) => `${n.name} ${n.membership}${n.needsFence ? ' (needs fencing)' : ''}`).join(', '))
  const m = s.membership
  if (m) {
    lines.push(
      `this node: ${m.role}; coordinator ${m.coordinator ?? 'none'}; partition ${m.partition.join(',')} (${m.quorate ? 'quorate' : 'NO QUORUM'}, votes ${m.votes})`,
    )
    for (const p of m.peers) {
      const links = Object.entries(p.links)
        .map(([l, x]) => `${l} ${x.up ? 'up' : 'DOWN'}${x.rttMs !== null ? ` ${x.rttMs.toFixed(2)}ms` : ''}`)
        .join(', ')
      lines.push(`  heartbeat ${p.node}: ${p.up ? 'up' : 'DOWN'} (${links})`)
    }
  }
  const logs = logTrouble(s)
  if (logs) lines.push(logs)
  // Licensing may stop failover: said before the groups (issue 17).
  for (const [n, l] of Object.entries(s.licenses ?? {})) {
    if (!l.valid) lines.push(`LIMITED MODE on ${n} (no automatic failover or auto-start): ${l.reason ?? 'no valid license'}`)
    else if (l.warning) lines.push(`license warning on ${n}: ${l.warning}`)
  }
  lines.push('')
  for (const g of s.groups) {
    const where = Object.entries(g.nodes)
      .map(([n, st]) => `${n}:${st}`)
      .join(' ')
    const flags = [
      g.lock !== 'none' ? `LOCKED(${g.lock})` : '',
      g.failoverOnFailure ? '' : 'no-failover',
      g.busy ? `${g.busy} action(s) running` : '',
    ]
      .filter(Boolean)
      .join(' ')
    lines.push(`group ${g.name}  ${where}${g.activeNode ? `  active on ${g.activeNode}` : ''}${flags ? '  ' + flags : ''}`)
    const nodes = [...new Set(g.resources.flatMap((r) => Object.keys(r.nodes)))]
    lines.push(
      table(
        ['  RESOURCE', 'TYPE', ...nodes.map((n) => n.toUpperCase()), 'FAULT'],
        g.resources.map((r) => [
          `  ${r.name}${r.critical ? '' : ' (non-critical)'}`,
          r.type,
          ...nodes.map((n) => {
            const x = r.nodes[n]
            return x ? `${x.state}${x.monitored ? '' : ' (unmonitored)'}${x.restarts ? ` r${x.restarts}` : ''}` : '-'
          }),
          Object.entries(r.nodes)
            .map(([n, x]) => (x.fault ? `${n}: ${x.fault}` : ''))
            .filter(Boolean)
            .join('; ') || '',
        ]),
      ),
    )
    lines.push('')
  }
  if (!s.groups.length) lines.push('no groups configured')
  return lines.join('\n')
}

/** One line when this node's logs are not being written (a full disk): what is lost or held, since when. */
export function logTrouble(s: AgentStatus): string | null {
  const a = s.logs?.agent,
    o = s.logs?.operations
  const parts: string[] = []
  if (a && ((!a.writing && a.target !== 'none') || a.droppedLines > 0)) {
    parts.push(`${a.target}: ${a.reason ?? 'not written'}${a.since ? ` since ${a.since}` : ''}, ${a.droppedTotal} line(s) dropped`)
  }
  if (o && (o.held > 0 || o.lost > 0))
    parts.push(`operation log: ${o.held} record(s) held${o.lost ? `, ${o.lost} lost` : ''}${o.code ? ` (${o.code})` : ''}`)
  return parts.length ? `LOGS NOT WRITTEN: ${parts.join('; ')}` : null
}
