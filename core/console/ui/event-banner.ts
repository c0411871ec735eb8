// The event banner (issue 18): what an operator must not miss, above the tree on every screen — faults,
// failovers, fences (needed, done, failed), a lost node and lost quorum. Conditions (a lost node, no
// quorum) stay while they hold; events stay until dismissed. Events come from the status' notices (the
// coordinator's engine, also written to the log); the ones older than the console's page by more than
// RECENT_MS are history, not news.
import { h, type Child } from './dom.js'
import type { AgentStatus } from '../../agent/status.js'
import { nodeLost } from './states.js'
import { fmtClock, tr, trOr, trSaid } from './i18n.js'

const RECENT_MS = 10 * 60_000
const MAX_SHOWN = 6
/** The notices shown, with their look; the words are ui.ev.<kind> in the locale files. */
const SHOWN: Record<string, { icon: string; level: 'error' | 'warn' | 'info' }> = {
  resourceFaulted: { icon: '✖', level: 'error' },
  groupFaulted: { icon: '✖', level: 'error' },
  groupFailover: { icon: '⇄', level: 'warn' },
  noFailoverTarget: { icon: '✖', level: 'error' },
  needsFence: { icon: '⊘', level: 'error' },
  nodeFenced: { icon: '⊘', level: 'warn' },
  fenceFailed: { icon: '✖', level: 'error' },
  fenceWithdrawn: { icon: '⊘', level: 'info' },
}
const openedAt = Date.now()
const dismissed = new Set<string>()
const keyOf = (n: AgentStatus['notices'][number]) => `${n.at}|${n.kind}|${n.group ?? ''}|${n.resource ?? ''}|${n.node ?? ''}`

export function eventBanner(st: AgentStatus | null, rerender: () => void): Child[] {
  if (!st) return []
  const out: Child[] = []
  const line = (kind: string, level: string, icon: string, text: string, dismiss?: string) =>
    h(
      'div',
      { class: ['ev-line', `ev-${level}`], 'data-kind': kind, role: level === 'info' ? 'status' : 'alert' },
      h('span', { class: 'ev-icon', 'aria-hidden': 'true' }, icon),
      ' ',
      text,
      dismiss
        ? h(
            'button',
            {
              type: 'button',
              class: 'ev-x',
              'aria-label': tr('ui.btn.dismiss'),
              title: tr('ui.btn.dismiss'),
              onclick: () => {
                dismissed.add(dismiss)
                rerender()
              },
            },
            '✕',
          )
        : null,
    )
  const m = st.membership
  if (m && !m.quorate)
    out.push(
      line(
        'noQuorum',
        'error',
        '⊘',
        `${tr('ui.ev.noQuorum', { votes: m.votes })}${m.quorum?.reason ? ` — ${trSaid(m.quorum.said, m.quorum.reason)}` : ''}.`,
      ),
    )
  for (const n of st.nodes) {
    if (n.name === st.node || !nodeLost(st, n.name).lost) continue
    out.push(
      line(
        'nodeLost',
        'error',
        '✖',
        n.membership === 'fenced'
          ? tr('ui.ev.lostFenced', { node: n.name })
          : `${tr('ui.ev.lost', { node: n.name })}${n.needsFence ? tr('ui.ev.lostUnknown') : ''}.`,
      ),
    )
  }
  const news = st.notices.filter((n) => SHOWN[n.kind] && Date.parse(n.at) >= openedAt - RECENT_MS && !dismissed.has(keyOf(n)))
  for (const n of news.slice(-MAX_SHOWN).reverse()) {
    const look = SHOWN[n.kind]!
    const t = fmtClock(n.at)
    const what = [
      n.group && tr('ui.ev.group', { name: n.group }),
      n.resource && tr('ui.ev.resource', { name: n.resource }),
      n.node && tr('ui.ev.node', { name: n.node }),
    ]
      .filter(Boolean)
      .join(', ')
    out.push(
      line(
        n.kind,
        look.level,
        look.icon,
        `${t} ${trOr(`ui.ev.${n.kind}`, n.kind)}${what ? ` (${what})` : ''}: ${trSaid(n.said, n.reason)}`,
        keyOf(n),
      ),
    )
  }
  // One fault gives a fault, a group fault, a failover and the same on the next node: six lines that pushed
  // the tree half off the screen, each closed alone while older ones took its place (issue 18, Acceptance 4).
  if (news.length > 1)
    out.push(
      h(
        'div',
        { class: 'ev-all' },
        h(
          'button',
          {
            type: 'button',
            class: 'btn',
            id: 'ev-dismiss-all',
            onclick: () => {
              for (const n of news) dismissed.add(keyOf(n))
              rerender()
            },
          },
          tr('ui.ev.dismissAll', { n: news.length }),
        ),
      ),
    )
  return out
}
