// The "Timeline" tab of a group (and of the cluster): why it is here, why it moved, why it won't start —
// the words `mccs explain` prints, from GET /api/timeline — on top, then the merged events of every node
// in time order. Fetched again when the status shows something changed (a state, a notice, a node), so
// it follows the live stream without polling; Refresh asks at once.
import { h, replace } from './dom.js'
import { api, ApiError, type TimelineReply } from './api.js'
import { state, groupStatus } from './store.js'
import { button } from './dialogs.js'
import { fmtTime, fmtClock, tr, trOr, trSaid } from './i18n.js'

/** The Since choices; their words are ui.tl.since.<value> ('all' for everything kept). */
const SINCE = ['', '15m', '1h', '6h', '1d']
/** The least time between two fetches the live status causes (Refresh and Since ask at once). */
const MIN_GAP_MS = 2000
const pad = (n: number, w = 2) => String(n).padStart(w, '0')
/** Local date and time to the millisecond: entries a few ms apart must read in order. */
const fmtWall = (iso: string) => fmtTime(iso, { ms: true })

/** What in the status means the timeline has grown: the group's states, the nodes, the newest notice. */
function fingerprint(group: string | null): string {
  const st = state.status
  if (!st) return ''
  const last = st.notices.at(-1)
  return JSON.stringify([group ? groupStatus(group) : st.groups, st.nodes, st.notices.length, last?.at, st.membership?.partition])
}

export function timelineTab(group: string | null): { el: HTMLElement; update(): void } {
  const since = h(
    'select',
    { id: 'tl-since' },
    SINCE.map((v) => h('option', { value: v }, trOr(`ui.tl.since.${v || 'all'}`, v))),
  )
  const updated = h('span', { class: 'muted', id: 'tl-updated', 'aria-live': 'polite' }, tr('ui.tl.loading'))
  const why = h('section', { id: 'tl-why', class: 'tl-why', 'aria-label': tr('ui.tl.why') })
  const missing = h('p', { id: 'tl-missing', class: 'field-error', role: 'status' })
  const events = h('div', { id: 'tl-events' })
  const el = h(
    'div',
    { class: 'timeline-view', id: 'timeline-view', 'data-group': group ?? '' },
    h(
      'div',
      { class: 'tl-bar' },
      h('label', null, tr('ui.tl.since'), since),
      ' ',
      button(tr('ui.btn.refresh'), () => void load(), { id: 'tl-refresh' }),
      ' ',
      updated,
    ),
    why,
    missing,
    events,
  )

  let inFlight = false
  let again = false
  let seen = fingerprint(group)
  let timer: ReturnType<typeof setTimeout> | null = null
  let lastLoad = 0

  async function load(): Promise<void> {
    if (inFlight) {
      again = true
      return
    }
    inFlight = true
    lastLoad = Date.now()
    el.setAttribute('aria-busy', 'true')
    try {
      render(await api.timeline({ group, since: since.value || undefined }))
      updated.textContent = tr('ui.tl.updated', { time: fmtClock(Date.now()) })
    } catch (e) {
      updated.textContent = ''
      const msg = e instanceof ApiError ? e.message : String(e)
      replace(why, h('p', { class: 'field-error', role: 'alert' }, tr('ui.tl.cannotRead', { message: msg })))
    } finally {
      inFlight = false
      el.removeAttribute('aria-busy')
      if (again) {
        again = false
        void load()
      }
    }
  }

  function render(r: TimelineReply): void {
    el.dataset.loaded = String(Date.now())
    replace(
      why,
      h('h3', null, group ? tr('ui.tl.whyGroup', { group }) : tr('ui.tl.whyAll')),
      r.explanation.length
        ? r.explanation.map((x) =>
            h(
              'div',
              { class: 'tl-explain', 'data-group': x.group },
              !group && h('h4', null, x.group),
              h(
                'ul',
                { class: 'tl-summary' },
                x.summary.map((line) => h('li', { class: line.startsWith('  ') ? 'tl-detail' : 'tl-answer' }, line.trim())),
              ),
            ),
          )
        : h('p', { class: 'muted' }, tr('ui.tl.noGroups')),
    )
    missing.textContent = r.missing.length ? tr('ui.tl.missing', { nodes: r.missing.map((m) => `${m.node} (${m.reason})`).join(', ') }) : ''
    if (!r.entries.length) {
      replace(events, h('p', { class: 'muted' }, `Nothing in the timeline${r.since ? ` since ${fmtWall(r.since)}` : ''}.`))
      return
    }
    replace(
      events,
      h(
        'h3',
        null,
        `Events, oldest first${r.total > r.entries.length ? ` (the newest ${r.entries.length} of ${r.total})` : ` (${r.total})`}`,
      ),
      h(
        'table',
        { class: 'grid timeline', id: 'timeline' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            [tr('ui.tl.col.time'), tr('ui.tl.col.node'), tr('ui.tl.col.kind'), tr('ui.tl.col.what')].map((x) =>
              h('th', { scope: 'col' }, x),
            ),
          ),
        ),
        h(
          'tbody',
          null,
          r.entries.map((e) =>
            h(
              'tr',
              { 'data-node': e.node, 'data-kind': e.kind, 'data-what': e.what, 'data-wall': e.wall, 'data-seq': e.seq },
              h('td', { class: 'tl-time' }, h('time', { datetime: e.wall, title: e.wall }, fmtWall(e.wall))),
              h('td', null, e.node),
              h(
                'td',
                null,
                h('span', { class: `tl-kind tl-kind-${e.kind}` }, trOr(`cli.explain.kind.${e.kind}`, e.kind)),
                ' ',
                h('span', { class: 'muted' }, e.what),
              ),
              h('td', null, trSaid(e.said, e.text), e.rule && h('div', { class: 'tl-rule' }, `→ ${e.rule}`)),
            ),
          ),
        ),
      ),
    )
  }

  since.addEventListener('change', () => void load())
  void load()
  return {
    el,
    update() {
      const f = fingerprint(group)
      if (f === seen) return
      seen = f
      // A burst of status frames (an online's steps) is one fetch, and a busy cluster costs every node
      // one timeline read per MIN_GAP_MS per open view at most.
      if (timer) return
      timer = setTimeout(
        () => {
          timer = null
          if (el.isConnected) void load()
        },
        Math.max(400, lastLoad + MIN_GAP_MS - Date.now()),
      )
    },
  }
}
