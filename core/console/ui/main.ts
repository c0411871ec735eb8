// The MCCS web console: login, then the main screen (manual 5.3): menu bar, toolbar, management tree,
// detail screen, log web console. Live state comes from /api/events; every view re-renders from the
// store on change.
import { h, replace } from './dom.js'
import { api, ApiError, setCsrf, whenUnauthorized, type Session } from './api.js'
import { state, subscribe, changed, loadConfig, setStatus } from './store.js'
import { loginScreen, passwordScreen } from './login.js'
import { connectEvents, disconnectEvents, whenSessionEnded } from './events.js'
import { menuBar, toolbar } from './menus.js'
import { TOOLBAR } from './actions.js'
import { renderTree } from './tree.js'
import { renderDetail } from './detail.js'
import { logConsole, fullLogPage } from './logconsole.js'
import { badge } from './states.js'
import { licenseBanner } from './license-banner.js'
import { eventBanner } from './event-banner.js'
import { tr, setLang, whenLanguageChanges } from './i18n.js'

const root = document.getElementById('app')!

async function start(): Promise<void> {
  whenUnauthorized(() => {
    disconnectEvents()
    feeds = false
    state.session = null
    loginScreen(root, enter)
  })
  // The server ended this session (logout in another tab, password changed on any node): say why.
  whenSessionEnded((reason) => {
    feeds = false // the stream is closed: the next login in this page opens it again
    state.session = null
    loginScreen(root, enter, endedNotice(reason))
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

function endedNotice(reason: string): string {
  switch (reason) {
    case 'passwordChanged':
      return tr('ui.login.ended.passwordChanged')
    case 'userDeleted':
      return tr('ui.login.ended.userDeleted')
    case 'logout':
      return tr('ui.login.ended.logout')
    case 'logoutEverywhere':
      return tr('ui.login.ended.logoutEverywhere')
    case 'expired':
      return tr('ui.login.ended.expired')
    default:
      return tr('ui.login.ended.other')
  }
}

// A language switch (Preferences) builds the main screen again; the session and the store stay.
let entered = false
whenLanguageChanges(() => {
  if (!entered || !state.session) return
  enter(state.session)
  // Type names and descriptions may come from the plugins' own locale files.
  void api.types().then(
    (t) => {
      state.types = t
      changed()
    },
    () => {},
  )
})

/** Whether the event stream is open for the session in force (a login after an ended session opens it again). */
let feeds = false

function enter(s: Session): void {
  state.session = s
  setLang(s.lang ?? 'en')
  entered = true
  rebuild(s)
  if (feeds) return
  feeds = true
  startFeeds()
}

let unsubscribe: () => void = () => {}
let logPane: HTMLElement | undefined

function rebuild(s: Session): void {
  unsubscribe()
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
  const tree = h('nav', { class: 'treepane', id: 'tree', 'aria-label': tr('ui.tree.label') })
  const detail = h('main', { class: 'detail', id: 'detail' })
  // The log pane is made once (it follows the log stream); a rebuild moves it into the new screen.
  logPane ??= logConsole()
  const log = logPane
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
  unsubscribe = subscribe(() => {
    tb.update()
    renderTree(tree)
    renderDetail(detail)
    app.classList.toggle('stale', !!state.stale)
    replace(staleBar, state.stale ? [h('strong', null, tr('ui.main.notLive')), tr('ui.main.staleText', { reason: state.stale })] : '')
    replace(
      conn,
      state.stale
        ? badge('unknown', state.stale, tr('ui.state.not-live'))
        : state.connected
          ? badge('up', tr('ui.main.live'))
          : badge('down', tr('ui.main.reconnecting')),
      state.stale || !state.connected ? '' : ` ${tr('ui.main.liveShort')}`,
    )
    const st = state.status
    replace(banner, ...licenseBanner(st))
    replace(events, ...eventBanner(st, changed))
    document.title = st ? `MCCS — ${st.cluster} (${st.node})` : 'MCCS'
  })
  changed()
}

function startFeeds(): void {
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
        h('h1', null, tr('ui.main.console')),
        h('p', { class: 'field-error' }, tr('ui.main.couldNotStart', { message: (e as Error).message })),
      ),
    ),
  ),
)
