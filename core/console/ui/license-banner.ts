// The license banner (issue 17): licensing may stop failover, so the console says so on every screen,
// above the tree, until it is fixed — a node in limited mode (red, with the reason) and a license that
// ends soon (amber, with the days left). From the status' `licenses`, which follows every change live.
import { h, type Child } from './dom.js'
import type { AgentStatus } from '../../agent/status.js'
import { tr, trSaid } from './i18n.js'

export function licenseBanner(st: AgentStatus | null): Child[] {
  const out: Child[] = []
  for (const [node, l] of Object.entries(st?.licenses ?? {})) {
    if (l.mode === 'limited' || (l.mode === undefined && !l.valid)) {
      out.push(
        h(
          'div',
          { class: 'lic-limited', role: 'alert' },
          h('strong', null, tr('ui.licb.limited', { node })),
          tr('ui.licb.what', { reason: l.reason ? trSaid(l.said, l.reason) : '' }),
          tr('ui.licb.install'),
        ),
      )
    } else if (l.warning) {
      out.push(
        h(
          'div',
          { class: 'lic-warning', role: 'status' },
          h('strong', null, tr('ui.licb.warning', { node })),
          ` — ${trSaid(l.warningSaid, l.warning)}${l.daysLeft != null ? (l.daysLeft === 1 ? tr('ui.licb.dayLeft') : tr('ui.licb.daysLeft', { days: l.daysLeft })) : ''}`,
        ),
      )
    }
  }
  return out
}
