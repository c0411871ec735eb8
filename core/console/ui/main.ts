// The MCCS web console: login, then the main screen (manual 5.3): menu bar, toolbar, management tree,
// detail screen, log web console. Live state comes from /api/events; every view re-renders from the
// store on change.
import { h, replace } from './dom.js'
import { api, ApiError, setCsrf, whenUnauthorized, type Session } from './api.js'
import { state, subscribe, changed, loadConfig, setStatus } from './store.js'
import { loginScreen, passwordScreen } from './login.js'
import { connectEvents, disconnectEvents } from './events.js'
import { menuBar, toolbar } from './menus.js'
import { TOOLBAR } from './actions.js'
import { renderTree } from './tree.js'
import { renderDetail } from './detail.js'
import { logConsole, fullLogPage } from './logconsole.js'
import { badge } from './states.js'
import { licenseBanner } from './license-banner.js'
import { eventBanner } from './event-banner.js'

const root = document.getElementById('app')!

async function start(): Promise<void> {
  whenUnauthorized(() => {
    disconnectEvents()
    state.session = null
    loginScreen(root, enter)
  })
  let s: Session | null = null
  try {
    s = await api.session()
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e
  }
  if (location.hash === '#log' && s && !s.mustChangePassword) {
    setCsrf(s.csrfToken)
    return fullLogPage(root)
  }
  if (!s) return loginScreen(root, enter)
  setCsrf(s.csrfToken)
  if (s.mustChangePassword) return passwordScreen(root, s, '', enter)
  enter(s)
}

function enter(s: Session): void {
  state.session = s
  const tb = toolbar(TOOLBAR)
  const conn = h('span', { class: 'conn', id: 'conn' })
  const who = h('span', { class: 'who' }, `${s.user}`)
  const header = h(
    'header',
    { class: 'top' },
    h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '◆'), ' MCCS'),
    menuBar(),
    h('div', { class: 'top-right' }, conn, who),
  )
  const tree = h('nav', { class: 'treepane', id: 'tree', 'aria-label': 'Management tree' })
  const detail = h('main', { class: 'detail', id: 'detail' })
  const log = logConsole()
  const banner = h('div', { class: 'license-banner', id: 'license-banner' })
  // Faults, failovers, fences, a lost node, lost quorum; and, when the agent stops answering, why the view is grey.
  const events = h('div', { class: 'event-banner', id: 'event-banner', 'aria-live': 'polite' })
  const staleBar = h('div', { class: 'stale-bar', id: 'stale-reason', role: 'alert' })
  const app = h(
    'div',
    { class: 'app' },
    header,
    tb.el,
    h('div', { class: 'banners' }, staleBar, banner, events),
    h('div', { class: 'panes' }, tree, detail),
    log,
    h('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite' }),
  )
  replace(root, app)
  subscribe(() => {
    tb.update()
    renderTree(tree)
    renderDetail(detail)
    app.classList.toggle('stale', !!state.stale)
    replace(
      staleBar,
      state.stale
        ? [h('strong', null, 'Not live'), ` — ${state.stale}. What you see may be out of date; commands wait until it answers.`]
        : '',
    )
    replace(
      conn,
      state.stale
        ? badge('unknown', state.stale, 'not live')
        : state.connected
          ? badge('up', 'live updates')
          : badge('down', 'reconnecting'),
      state.stale || !state.connected ? '' : ' live',
    )
    const st = state.status
    replace(banner, ...licenseBanner(st))
    replace(events, ...eventBanner(st, changed))
    document.title = st ? `MCCS — ${st.cluster} (${st.node})` : 'MCCS'
  })
  // Types and configuration once; status at once (the stream's first frame may take a moment) and then live.
  void api.types().then(
    (t) => {
      state.types = t
      changed()
    },
    () => {},
  )
  void api.status().then(setStatus, () => {})
  void loadConfig().catch(() => {})
  connectEvents()
  changed()
}

start().catch((e: unknown) =>
  replace(
    root,
    h(
      'div',
      { class: 'login-page' },
      h(
        'div',
        { class: 'login-box' },
        h('h1', null, 'MCCS console'),
        h('p', { class: 'field-error' }, `The console could not start: ${(e as Error).message}`),
      ),
    ),
  ),
)
