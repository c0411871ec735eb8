// mccs status: groups, resources per node, states, faults and locks at a glance.
import type { AgentStatus } from '../agent/status.js'
import { table } from './table.js'
import { t, say, type Locale } from '../i18n/messages.js'

export function renderStatus(s: AgentStatus, locale: Locale = 'en'): string {
  const lines: string[] = []
  const m_ = (k: Parameters<typeof t>[1], p?: Parameters<typeof t>[2]) => t(locale, k, p)
  // A state word in the locale (an unknown word is shown as it is).
  const w = (x: string) => {
    const s = t(locale, `cli.state.${x}` as Parameters<typeof t>[1])
    return s.startsWith('cli.state.') ? x : s
  }
  lines.push(m_('cli.status.head', { cluster: s.cluster, node: s.node, generation: s.generation, uptime: s.uptimeS }))
  lines.push(
    m_('cli.status.nodes') +
      s.nodes.map((n) => `${n.name} ${w(n.membership)}${n.needsFence ? m_('cli.status.needsFence') : ''}`).join(', '),
  )
  const m = s.membership
  if (m) {
    lines.push(
      m_('cli.status.thisNode', {
        role: w(m.role),
        coordinator: m.coordinator ?? m_('cli.status.none'),
        partition: m.partition.join(','),
        quorum: m_(m.quorate ? 'cli.status.quorate' : 'cli.status.noQuorum'),
        votes: m.votes,
      }),
    )
    // Why: the cluster layer's reason, in the reader's language (its words, said.q.*).
    if (!m.quorate && m.quorum?.reason) lines.push(m_('cli.status.whyNoQuorum', { reason: say(locale, m.quorum.said, m.quorum.reason) }))
    for (const p of m.peers) {
      const links = Object.entries(p.links)
        .map(([l, x]) => `${l} ${w(x.up ? 'up' : 'DOWN')}${x.rttMs !== null ? ` ${x.rttMs.toFixed(2)}ms` : ''}`)
        .join(', ')
      lines.push(m_('cli.status.heartbeat', { node: p.node, state: w(p.up ? 'up' : 'DOWN'), links }))
      const refused = p.protocol?.refused ?? p.protocol?.channel?.refused
      if (refused) lines.push(m_('cli.status.protocolRefused', { node: p.node, reason: refused }))
    }
  }
  const logs = logTrouble(s)
  if (logs) lines.push(logs)
  // Licensing may stop failover: said before the groups (issue 17).
  for (const [n, l] of Object.entries(s.licenses ?? {})) {
    if (!l.valid)
      lines.push(m_('cli.status.limited', { node: n, reason: l.reason ? say(locale, l.said, l.reason) : m_('cli.status.noLicense') }))
    else if (l.warning) lines.push(m_('cli.status.licWarn', { node: n, warning: say(locale, l.warningSaid, l.warning) }))
  }
  lines.push('')
  for (const g of s.groups) {
    const where = Object.entries(g.nodes)
      .map(([n, st]) => `${n}:${w(st)}`)
      .join(' ')
    const flags = [
      g.lock !== 'none' ? m_('cli.status.locked', { kind: g.lock }) : '',
      g.failoverOnFailure ? '' : m_('cli.status.noFailover'),
      g.busy ? m_('cli.status.busy', { count: g.busy }) : '',
    ]
      .filter(Boolean)
      .join(' ')
    lines.push(
      m_('cli.status.group', { name: g.name, where }) +
        (g.activeNode ? m_('cli.status.activeOn', { node: g.activeNode }) : '') +
        (flags ? '  ' + flags : ''),
    )
    const nodes = [...new Set(g.resources.flatMap((r) => Object.keys(r.nodes)))]
    lines.push(
      table(
        [m_('cli.status.colResource'), m_('cli.status.colType'), ...nodes.map((n) => n.toUpperCase()), m_('cli.status.colFault')],
        g.resources.map((r) => [
          `  ${r.name}${r.critical ? '' : m_('cli.status.nonCritical')}`,
          r.type,
          ...nodes.map((n) => {
            const x = r.nodes[n]
            return x ? `${w(x.state)}${x.monitored ? '' : m_('cli.status.unmonitored')}${x.restarts ? ` r${x.restarts}` : ''}` : '-'
          }),
          Object.entries(r.nodes)
            .map(([n, x]) => (x.fault ? `${n}: ${say(locale, x.faultSaid, x.fault)}` : '')) // the agent's words, in the reader's language
            .filter(Boolean)
            .join('; ') || '',
        ]),
      ),
    )
    lines.push('')
  }
  if (!s.groups.length) lines.push(m_('cli.status.noGroups'))
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
