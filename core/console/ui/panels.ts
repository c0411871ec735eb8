// The dialogs behind File, Edit, Action, Window and Help that are more than one call: add group,
// manual operation log, support files, preferences with licenses, heartbeat view, about (help: help.ts).
import { h, replace } from './dom.js'
import { api, ApiError, type OpEntry } from './api.js'
import { state, select } from './store.js'
import { dialog, button, message, notify } from './dialogs.js'
import { onOplog } from './events.js'
import { showConfigWarnings } from './config-warnings.js'
import { hbTimingForm, hbQuorumForm } from './hb-edit.js'
import { passwordChecklist } from './password-checklist.js'
import { withFinals, acceptedFor, type OplogEntry } from '../oplog-view.js'
import { fmtTime, tr, trOr, trSaid, lang, setLang } from './i18n.js'

const unavailable = (e: unknown) => e instanceof ApiError && (e.status === 404 || e.status === 501)

export function addGroupDialog(): void {
  const d = dialog(tr('ui.ag.title'), { id: 'add-group' })
  const nodes = state.status?.nodes.map((n) => n.name) ?? []
  const name = h('input', { id: 'ag-name', 'aria-describedby': 'ag-name-err' })
  const nameErr = h('div', { class: 'field-error', id: 'ag-name-err', role: 'alert' })
  const boxes = nodes.map((n) => h('input', { type: 'checkbox', value: n, checked: true, id: `ag-node-${n}` }))
  const nodesErr = h('div', { class: 'field-error', id: 'ag-nodes-err', role: 'alert' })
  const fof = h('input', { type: 'checkbox', id: 'ag-fof', checked: true })
  const auto = h('input', { type: 'checkbox', id: 'ag-autostart', checked: true })
  const back = h('input', { type: 'checkbox', id: 'ag-failback' })
  const err = h('div', { class: 'field-error', role: 'alert', id: 'ag-error' })
  d.body.append(
    h('label', { for: 'ag-name' }, tr('ui.ag.name')),
    name,
    nameErr,
    h(
      'fieldset',
      null,
      h('legend', null, tr('ui.ag.nodes')),
      boxes.map((b) => h('label', { class: 'check' }, b, ` ${b.value}`)),
      nodesErr,
    ),
    h('label', { class: 'check' }, fof, ` ${tr('ui.ag.fof')}`),
    h('label', { class: 'check' }, auto, ` ${tr('ui.ag.auto')}`),
    h('label', { class: 'check' }, back, ` ${tr('ui.ag.back')}`),
    err,
  )
  d.footer.append(
    button(tr('ui.btn.cancel'), () => d.close()),
    button(
      tr('ui.btn.add'),
      async () => {
        nameErr.textContent = nodesErr.textContent = err.textContent = ''
        const chosen = boxes.filter((b) => b.checked).map((b) => b.value)
        if (!/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(name.value)) {
          nameErr.textContent = tr('ui.ar.nameRule')
          return
        }
        if (!chosen.length) {
          nodesErr.textContent = tr('ui.ag.nodesRule')
          return
        }
        try {
          const done = await api.addGroup({
            name: name.value,
            nodes: chosen,
            failoverOnFailure: fof.checked,
            autoStart: auto.checked,
            autoFailback: back.checked,
          })
          notify(tr('ui.ag.added', { name: name.value }), 'ok')
          showConfigWarnings(tr('ui.ag.added', { name: name.value }), done)
          d.close()
          select({ kind: 'group', name: name.value })
        } catch (e) {
          const ae = e instanceof ApiError ? e : null
          const issues = ae ? [...ae.issues, ...(ae.field ? [{ field: ae.field, message: ae.message }] : [])] : []
          for (const i of issues)
            (i.field.startsWith('/name') ? nameErr : i.field.startsWith('/nodes') ? nodesErr : err).textContent = i.message
          if (!issues.length) err.textContent = ae ? `${ae.message} (${ae.code})` : (e as Error).message
        }
      },
      { primary: true, id: 'ag-add' },
    ),
  )
}

export function oplogDialog(): void {
  const d = dialog(tr('ui.op.title'), { wide: true, id: 'oplog' })
  d.el.classList.add('dlg-oplog')
  const tbody = h('tbody')
  // One row per command: its "accepted" and its final "done"/"failed" records are paired (oplog-view.ts).
  let entries: Array<OpEntry & OplogEntry> = []
  const resultCell = (e: OpEntry) => {
    const f = e.final
    if (f) {
      const secs = (Date.parse(f.at) - Date.parse(e.at)) / 1000
      return [
        h(
          'span',
          { class: ['badge', f.result === 'done' ? 'st-online' : 'st-faulted'] },
          f.result === 'done' ? tr('ui.op.done') : tr('ui.op.failed'),
        ),
        Number.isFinite(secs) ? h('span', { class: 'muted' }, ` ${secs.toFixed(1)} s`) : '',
        f.reason ? h('div', { class: 'op-reason' }, trSaid(f.said, f.reason)) : '',
      ]
    }
    if (e.result === 'accepted')
      return [h('span', { class: 'badge st-busy' }, tr('ui.op.accepted')), h('div', { class: 'op-reason muted' }, tr('ui.op.running'))]
    const bad = e.result === 'rejected' || e.result === 'failed'
    return [
      h('span', { class: ['badge', bad ? 'st-faulted' : 'st-online'] }, `${bad ? '✖' : '✔'} ${trOr(`ui.op.result.${e.result}`, e.result)}`),
      e.reason ? h('div', { class: 'op-reason' }, trSaid(e.said, e.reason)) : '',
    ]
  }
  const row = (e: OpEntry) =>
    h(
      'tr',
      {
        'data-op': e.op ?? e.command ?? '',
        'data-target': e.target ?? '',
        'data-result': e.final?.result ?? e.result,
        'data-node': e.node ?? '',
        ...(e.via ? { 'data-via': e.via } : {}),
      },
      h('td', { class: 'op-time' }, fmtTime(e.at)),
      h('td', null, e.user),
      h('td', null, e.node ?? '', e.via ? h('div', { class: 'muted' }, tr('ui.op.givenOn', { node: e.via })) : ''),
      h('td', null, e.op ?? e.command ?? ''),
      h('td', { class: 'op-target' }, e.target ?? ''),
      h('td', { class: 'op-args' }, e.args && Object.keys(e.args).length ? JSON.stringify(e.args) : ''),
      h('td', { class: 'op-result' }, resultCell(e)),
    )
  // Every node's log (the manual: "for each node"), filtered by node: a command counts for the node that
  // recorded it and for the node it was given on (a follower's commands are decided and logged by the coordinator).
  const filter = h(
    'select',
    { id: 'oplog-node', 'aria-label': tr('ui.lic.node') },
    h('option', { value: '' }, tr('ui.op.allNodes')),
    (state.status?.nodes ?? []).map((n) => h('option', { value: n.name }, n.name)),
  )
  const missing = h('p', { id: 'oplog-missing', class: 'field-error', role: 'status' })
  const shown = () => (filter.value ? entries.filter((e) => e.node === filter.value || e.via === filter.value) : entries)
  const draw = () => {
    const list = shown()
    replace(tbody, list.length ? [...list].reverse().map(row) : h('tr', null, h('td', { colspan: 7, class: 'muted' }, tr('ui.op.none'))))
  }
  filter.addEventListener('change', draw)
  d.body.append(h('div', { class: 'oplog-tools' }, h('label', { for: 'oplog-node' }, tr('ui.op.nodeFilter')), filter), missing)
  d.body.append(
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'grid oplog-grid' },
        h(
          'colgroup',
          null,
          ['op-c-time', 'op-c-user', 'op-c-node', 'op-c-op', 'op-c-target', 'op-c-args', 'op-c-result'].map((c) => h('col', { class: c })),
        ),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            (['time', 'user', 'node', 'operation', 'target', 'arguments', 'result'] as const).map((x) =>
              h('th', { scope: 'col' }, tr(`ui.op.col.${x}`)),
            ),
          ),
        ),
        tbody,
      ),
    ),
  )
  d.footer.append(button(tr('ui.btn.close'), () => d.close(), { primary: true }))
  replace(tbody, h('tr', null, h('td', { colspan: 7, class: 'muted' }, tr('ui.op.loading'))))
  // The live stream carries this node's records; other nodes' are fetched again every few seconds while open.
  const load = () =>
    api.oplogAll(1000).then(
      (r) => {
        entries = withFinals(r.entries.map(asEntry))
        missing.textContent = r.missing.map((m) => tr('ui.op.noAnswer', { node: m.node, reason: m.reason })).join(' · ')
        draw()
      },
      (e) =>
        replace(
          tbody,
          h('tr', null, h('td', { colspan: 7, class: 'field-error' }, tr('ui.op.cannotRead', { message: (e as Error).message }))),
        ),
    )
  // One fetch at a time: a node that does not answer holds one up to 5 s.
  let loading: Promise<void> | null = load().finally(() => (loading = null))
  const poll = setInterval(() => {
    loading ??= load().finally(() => (loading = null))
  }, 5000)
  const off = onOplog((raw) => {
    const e = asEntry(raw)
    // A record written while the list was fetched comes in both: shown once.
    const same = (x: { at: string; result: string }) => x.at === e.at && x.result === e.result
    if (entries.some((x) => x.op === e.op && x.user === e.user && x.target === e.target && (same(x) || (x.final && same(x.final))))) return
    const acc = e.result === 'done' || e.result === 'failed' ? acceptedFor(entries, e) : undefined
    if (acc) acc.final = { result: e.result, at: e.at, ...(e.reason ? { reason: e.reason } : {}), ...(e.said ? { said: e.said } : {}) }
    else entries.push(e)
    draw()
  })
  void d.closed.then(() => {
    off()
    clearInterval(poll)
  })
}
/** The API's entry with the fields the pairing needs. */
const asEntry = (e: OpEntry): OpEntry & OplogEntry =>
  ({ ...e, op: e.op ?? e.command ?? '', target: e.target ?? null, user: e.user, node: e.node ?? '', args: e.args ?? {} }) as OpEntry &
    OplogEntry

export function supportDialog(): void {
  const d = dialog(tr('ui.sup.title'), { id: 'support' })
  const nodes = state.status?.nodes.map((n) => n.name) ?? []
  const all = h('input', { type: 'radio', name: 'sup', id: 'sup-all', checked: true })
  const some = h('input', { type: 'radio', name: 'sup', id: 'sup-some' })
  const boxes = nodes.map((n) => h('input', { type: 'checkbox', value: n, id: `sup-${n}` }))
  const list = h('ul', { class: 'plain', id: 'sup-list' })
  const out = h('div', { role: 'status', id: 'sup-out' })
  d.body.append(
    h('p', null, tr('ui.sup.what')),
    h('label', { class: 'check' }, all, ' All nodes'),
    h('label', { class: 'check' }, some, ' Only these nodes:'),
    h(
      'div',
      { class: 'indent' },
      boxes.map((b) => h('label', { class: 'check' }, b, ` ${b.value}`)),
    ),
    out,
    h('h3', null, tr('ui.sup.earlier')),
    list,
  )
  const refresh = () =>
    api.supportList().then(
      (bs) =>
        replace(
          list,
          bs.length
            ? bs.map((b) =>
                h(
                  'li',
                  null,
                  h(
                    'a',
                    { href: `/api/support/${encodeURIComponent(b.id)}`, download: `mccs-support-${b.id}.tar.gz` },
                    fmtTime(b.createdAt),
                  ),
                  ` — ${b.nodes.join(', ')}, ${(b.size / 1024).toFixed(0)} KiB`,
                ),
              )
            : h('li', { class: 'muted' }, tr('ui.sup.noneYet')),
        ),
      (e) =>
        replace(
          list,
          h('li', { class: unavailable(e) ? 'muted' : 'field-error' }, unavailable(e) ? tr('ui.sup.unavailable') : (e as Error).message),
        ),
    )
  void refresh()
  d.footer.append(
    button(tr('ui.btn.close'), () => d.close()),
    button(
      tr('ui.btn.ok'),
      async () => {
        const chosen = all.checked ? ('all' as const) : boxes.filter((b) => b.checked).map((b) => b.value)
        if (chosen !== 'all' && !chosen.length) {
          out.textContent = tr('ui.sup.chooseNode')
          return
        }
        out.textContent = tr('ui.sup.collecting')
        try {
          const b = await api.supportCollect(chosen)
          replace(
            out,
            tr('ui.sup.ready'),
            h('a', { href: `/api/support/${encodeURIComponent(b.id)}` }, tr('ui.sup.download')),
            ` (${(b.size / 1024).toFixed(0)} KiB)`,
          )
          void refresh()
        } catch (e) {
          out.textContent = unavailable(e)
            ? tr('ui.sup.notAvailable', { message: (e as Error).message })
            : tr('ui.sup.failed', { message: (e as Error).message })
        }
      },
      { primary: true, id: 'sup-ok' },
    ),
  )
}

export function preferencesDialog(): void {
  const d = dialog(tr('ui.pref.title'), { wide: true, id: 'preferences' })
  const keep = h('input', {
    type: 'number',
    id: 'pref-loglines',
    min: 50,
    max: 10000,
    value: localStorage.getItem('mccs.logLines') ?? '500',
  })
  // The console language, kept per user on the agent (PUT /api/preferences).
  const language = h(
    'select',
    { id: 'pref-lang' },
    (['ko', 'en'] as const).map((l) => h('option', { value: l, selected: l === lang() }, tr(`ui.lang.${l}`))),
  )
  const lic = h('tbody')
  const node = h(
    'select',
    { id: 'lic-node' },
    (state.status?.nodes ?? []).map((n) => h('option', { value: n.name }, n.name)),
  )
  const text = h('textarea', { id: 'lic-text', rows: 4, placeholder: tr('ui.lic.paste') })
  const licErr = h('div', { class: 'field-error', role: 'alert' })
  // Renew License (manual 5.4.2.2): per node, picks the node below and waits for the new license text.
  const renew = (n: string) =>
    button(tr('ui.lic.renew'), () => {
      node.value = n
      text.focus()
    })
  const load = () =>
    api.licenses().then(
      (ls) =>
        replace(
          lic,
          ls.length
            ? ls.map((l) =>
                h(
                  'tr',
                  null,
                  h('td', null, l.node),
                  h('td', null, l.type),
                  h('td', null, l.expires ? `${l.expires}${l.daysLeft != null ? ` (${l.daysLeft} d)` : ''}` : tr('ui.lic.never')),
                  h('td', null, l.hostId),
                  h(
                    'td',
                    null,
                    h(
                      'span',
                      { class: ['badge', l.valid ? 'st-online' : 'st-faulted'] },
                      l.valid
                        ? l.warning
                          ? `⚠ ${trSaid(l.warningSaid, l.warning)}`
                          : `✔ ${tr('ui.lic.valid')}`
                        : `✖ ${tr('ui.lic.limited', { reason: l.reason ? trSaid(l.said, l.reason) : tr('ui.lic.invalid') })}`,
                    ),
                  ),
                  h('td', null, renew(l.node)),
                ),
              )
            : h('tr', null, h('td', { colspan: 6, class: 'muted' }, tr('ui.lic.none'))),
        ),
      (e) =>
        replace(
          lic,
          h('tr', null, h('td', { colspan: 6, class: 'muted' }, unavailable(e) ? tr('ui.lic.unavailable') : (e as Error).message)),
        ),
    )
  void load()
  d.body.append(
    h('h3', null, tr('ui.pref.console')),
    h('label', { for: 'pref-lang' }, tr('ui.pref.language')),
    language,
    h(
      'p',
      { class: 'muted' },
      tr('ui.pref.languageHelp', { user: state.session?.user ?? '', product: tr(`ui.lang.${state.session?.productLang ?? 'en'}`) }),
    ),
    h('label', { for: 'pref-loglines' }, tr('ui.pref.logLines')),
    keep,
    h('h3', null, tr('ui.lic.title')),
    h(
      'table',
      { class: 'grid' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          [tr('ui.lic.node'), tr('ui.lic.type'), tr('ui.lic.expires'), tr('ui.lic.hostId'), tr('ui.lic.state'), ''].map((x) =>
            h('th', { scope: 'col' }, x),
          ),
        ),
      ),
      lic,
    ),
    h('h4', null, tr('ui.lic.register')),
    h('label', { for: 'lic-node' }, tr('ui.lic.node')),
    node,
    h('label', { for: 'lic-text' }, tr('ui.lic.license')),
    text,
    licErr,
    button(tr('ui.lic.registerBtn'), async () => {
      licErr.textContent = ''
      try {
        await api.addLicense(node.value, text.value)
        notify(tr('ui.lic.registered', { node: node.value }), 'ok')
        text.value = ''
        void load()
      } catch (e) {
        licErr.textContent = (e as Error).message
      }
    }),
  )
  d.footer.append(
    button(tr('ui.btn.cancel'), () => d.close()),
    button(
      tr('ui.btn.save'),
      async () => {
        const n = Number(keep.value)
        if (!Number.isInteger(n) || n < 50 || n > 10000) {
          notify(tr('ui.pref.linesRule'), 'error')
          return
        }
        localStorage.setItem('mccs.logLines', String(n))
        const chosen = language.value === 'ko' ? 'ko' : 'en'
        if (chosen === lang()) return d.close()
        try {
          const fresh = await api.setLanguage(chosen)
          d.close()
          if (state.session) state.session = { ...state.session, lang: fresh.lang }
          setLang(fresh.lang) // the main screen is built again in it (main.ts)
        } catch (e) {
          notify((e as Error).message, 'error')
        }
      },
      { primary: true },
    ),
  )
}

export function heartbeatDialog(): void {
  const hb = state.config?.hb
  const view = hb
    ? h(
        'div',
        null,
        h('p', null, tr('ui.hb.summary', { cluster: hb.cluster, port: hb.port, interval: hb.timing.intervalMs, dead: hb.timing.deadMs })),
        h(
          'table',
          { class: 'grid' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, tr('ui.lic.node')),
              hb.links.map((l) => h('th', null, tr('ui.hb.priority', { link: l.name, priority: l.priority }))),
            ),
          ),
          h(
            'tbody',
            null,
            hb.nodes.map((n) =>
              h(
                'tr',
                null,
                h('th', { scope: 'row' }, n.name),
                hb.links.map((l) => h('td', null, n.addresses[l.name] ?? '—')),
              ),
            ),
          ),
        ),
      )
    : h('p', { class: 'muted' }, tr('ui.hb.noExport'))
  void message(
    tr('ui.hb.title'),
    view,
    hb ? hbTimingForm(hb, () => {}) : '',
    hb ? hbQuorumForm(hb, () => {}) : '',
    h('p', null, tr('ui.hb.liveHint')),
  )
}

export function aboutDialog(): void {
  api
    .openapi()
    .then(
      (doc) => doc.info?.version ?? 'unknown',
      () => 'unknown',
    )
    .then((v) =>
      message(
        tr('ui.about.title'),
        h('p', { id: 'about-version' }, h('strong', null, 'MCCS', ` ${v}`), tr('ui.about.what')),
        h(
          'p',
          null,
          tr('ui.about.connected', { node: state.status?.node ?? '?', cluster: state.status?.cluster ?? '?', types: state.types.length }),
        ),
      ),
    )
}

/** File → Change password: the same rules and refusals as the forced change. */
export function passwordDialog(): void {
  const d = dialog(tr('ui.cp.title'), { id: 'password' })
  const cur = h('input', { id: 'cp-current', type: 'password', autocomplete: 'current-password' })
  const next = h('input', { id: 'cp-next', type: 'password', autocomplete: 'new-password', 'aria-describedby': 'cp-error' })
  const again = h('input', { id: 'cp-again', type: 'password', autocomplete: 'new-password' })
  const err = h('div', { class: 'field-error', id: 'cp-error', role: 'alert' })
  d.body.append(
    h('label', { for: 'cp-current' }, tr('ui.pw.current')),
    cur,
    h('label', { for: 'cp-next' }, tr('ui.pw.next')),
    next,
    passwordChecklist(next, state.session?.user ?? '', 'cp-rules'),
    h('label', { for: 'cp-again' }, tr('ui.pw.again')),
    again,
    err,
  )
  d.footer.append(
    button(tr('ui.btn.cancel'), () => d.close()),
    button(
      tr('ui.cp.change'),
      async () => {
        err.textContent = ''
        if (next.value !== again.value) {
          err.textContent = tr('ui.pw.differ')
          return
        }
        try {
          await api.changePassword(cur.value, next.value)
          notify(tr('ui.cp.changed'), 'ok')
          d.close()
        } catch (e) {
          const ae = e instanceof ApiError ? e : null
          err.dataset.code = ae?.code ?? ''
          err.textContent = ae?.code === 'MCCS_ERR_PASSWORD_REUSED' ? tr('ui.pw.reused', { message: ae.message }) : (e as Error).message
        }
      },
      { primary: true, id: 'cp-submit' },
    ),
  )
}
