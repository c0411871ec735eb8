// The detail screen (manual 5.3.3/5.3.4): tabs for what is selected in the tree. Live tabs (states,
// graph, quorum) refresh on every status; form tabs (attributes, properties) are built once per
// selection and configuration generation, so a live update never wipes what the operator is typing.
import { nodeWork } from './node-work.js'
import { h, morph, replace } from './dom.js'
import { api, ApiError, type TypeDetail } from './api.js'
import {
  state,
  select,
  groupStatus,
  groupConfig,
  resourceConfig,
  resourceStatus,
  groupOf,
  groupNodes,
  loadConfig,
  type Selection,
} from './store.js'
import { badge, groupView, roleLabel, stateWord } from './states.js'
import { dependencyGraph } from './graph.js'
import { schemaForm, fieldsOf } from './wizard.js'
import { button, notify } from './dialogs.js'
import { showError, report } from './actions.js'
import { showConfigWarnings } from './config-warnings.js'
import { timelineTab } from './timeline-view.js'
import { mirrorTab } from './mirror-view.js'
import { fmtClock, tr, trOr, trSaid, lang } from './i18n.js'

interface View {
  el: HTMLElement
  update?(): void
}
interface Tab {
  id: string
  label: string
  build(): View
}
const activeTab = new Map<string, string>()
let mounted: { key: string; view: View } | null = null
const typeCache = new Map<string, Promise<TypeDetail>>()
/** A type's manifest in the console's language (a plugin may carry its own labels per language). */
export const typeDetail = (t: string): Promise<TypeDetail> => {
  const key = `${lang()}:${t}`
  let p = typeCache.get(key)
  if (!p) {
    p = api.type(t)
    typeCache.set(key, p)
    p.catch(() => typeCache.delete(key))
  }
  return p
}

const live = (render: () => Node | Node[]): View => {
  const el = h('div', { class: 'tab-live' })
  const update = () => {
    const n = render()
    morph(el, ...(Array.isArray(n) ? n : [n]))
  }
  update()
  return { el, update }
}
const kv = (rows: Array<[string, Node | string | number | boolean | null | undefined]>) =>
  h(
    'dl',
    { class: 'kv' },
    rows.map(([k, v]) => [
      h('dt', null, k),
      h(
        'dd',
        null,
        v === undefined || v === null || v === '' ? '—' : typeof v === 'boolean' ? (v ? 'yes' : 'no') : v instanceof Node ? v : String(v),
      ),
    ]),
  )

function tabsFor(sel: Selection): { title: string; tabs: Tab[] } {
  switch (sel.kind) {
    case 'cluster':
      return {
        title: tr('ui.d.clusterTitle', { name: state.status?.cluster ?? '' }),
        tabs: [
          { id: 'groups', label: tr('ui.d.resource-group-state'), build: () => live(groupStateTable) },
          { id: 'attrs', label: tr('ui.d.cluster-attribute'), build: () => live(clusterAttrs) },
          { id: 'quorum', label: tr('ui.d.quorum-state'), build: () => live(quorumView) },
          { id: 'timeline', label: tr('ui.d.timeline-why'), build: () => timelineTab(null) },
        ],
      }
    case 'group':
      return {
        title: tr('ui.d.groupTitle', { name: sel.name }),
        tabs: [
          { id: 'state', label: tr('ui.d.resource-state'), build: () => live(() => resourceStateTable(sel.name)) },
          { id: 'deps', label: tr('ui.d.resource-dependency'), build: () => dependencyTab(sel.name) },
          { id: 'props', label: tr('ui.d.resource-group-property'), build: () => groupProps(sel.name) },
          { id: 'timeline', label: tr('ui.d.timeline-why'), build: () => timelineTab(sel.name) },
        ],
      }
    case 'resource':
      return {
        title: tr('ui.d.resourceTitle', { name: sel.name }),
        tabs: [
          { id: 'state', label: tr('ui.d.resource-state'), build: () => live(() => oneResourceState(sel.name)) },
          { id: 'attrs', label: tr('ui.d.resource-attribute'), build: () => resourceAttrs(sel.name) },
          ...(resourceConfig(sel.name)?.type === 'mirror-disk'
            ? [{ id: 'mirror', label: tr('ui.mv.tab'), build: () => mirrorTab(sel.name) }]
            : []),
        ],
      }
    case 'node':
      return {
        title: tr('ui.d.nodeTitle', { name: sel.name }),
        tabs: [{ id: 'attrs', label: tr('ui.d.node-attribute'), build: () => live(() => nodeAttrs(sel.name)) }],
      }
    case 'types':
      return { title: tr('ui.d.resource-types'), tabs: [{ id: 'list', label: tr('ui.d.resource-types'), build: () => live(typeList) }] }
    case 'type':
      return {
        title: tr('ui.d.typeTitle', { name: sel.name }),
        tabs: [
          { id: 'state', label: tr('ui.d.resource-state'), build: () => live(() => typeResources(sel.name)) },
          { id: 'attrs', label: tr('ui.d.resource-type-attribute'), build: () => typeAttrs(sel.name) },
        ],
      }
  }
}

export function renderDetail(root: HTMLElement): void {
  if (!state.status) {
    replace(root, h('p', { class: 'muted' }, tr('ui.dd.waiting')))
    return
  }
  const sel = state.selection
  const { title, tabs } = tabsFor(sel)
  const kind = sel.kind
  const tabId = tabs.some((t) => t.id === activeTab.get(kind)) ? activeTab.get(kind)! : tabs[0]!.id
  const key = `${JSON.stringify(sel)}|${tabId}|${state.config?.generation ?? 0}`
  if (mounted?.key === key && root.contains(mounted.view.el)) {
    mounted.view.update?.()
    return
  }
  const tab = tabs.find((t) => t.id === tabId)!
  const view = tab.build()
  mounted = { key, view }
  const tablist = h(
    'div',
    { role: 'tablist', class: 'tabs', 'aria-label': title },
    tabs.map((t) => {
      const b = h(
        'button',
        {
          type: 'button',
          role: 'tab',
          id: `tab-${t.id}`,
          'aria-selected': String(t.id === tabId),
          tabindex: t.id === tabId ? 0 : -1,
          'aria-controls': 'tabpanel',
        },
        t.label,
      )
      b.addEventListener('click', () => {
        activeTab.set(kind, t.id)
        renderDetail(root)
      })
      b.addEventListener('keydown', (e) => {
        const i = tabs.indexOf(t)
        const go =
          e.key === 'ArrowRight' ? tabs[(i + 1) % tabs.length] : e.key === 'ArrowLeft' ? tabs[(i - 1 + tabs.length) % tabs.length] : null
        if (go) {
          e.preventDefault()
          activeTab.set(kind, go.id)
          renderDetail(root)
          root.querySelector<HTMLElement>(`#tab-${go.id}`)?.focus()
        }
      })
      return b
    }),
  )
  replace(
    root,
    h('h2', { class: 'detail-title' }, title),
    tablist,
    h('div', { role: 'tabpanel', id: 'tabpanel', 'aria-labelledby': `tab-${tabId}`, class: 'tabpanel' }, view.el),
  )
}

// ---- cluster
function groupStateTable(): Node {
  const st = state.status!
  if (!st.groups.length) return h('p', { class: 'muted' }, tr('ui.dd.noGroups'))
  const nodes = st.nodes.map((n) => n.name)
  return h(
    'table',
    { class: 'grid state-grid', id: 'group-state' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, tr('ui.d.group')),
        nodes.map((n) => h('th', { scope: 'col' }, n)),
        h('th', { scope: 'col' }, tr('ui.d.lock')),
        h('th', { scope: 'col' }, tr('ui.d.failover-on-failure')),
      ),
    ),
    h(
      'tbody',
      null,
      st.groups.map((g) =>
        h(
          'tr',
          { 'data-group': g.name },
          h(
            'th',
            { scope: 'row' },
            h(
              'a',
              {
                href: '#',
                onclick: (e: Event) => {
                  e.preventDefault()
                  select({ kind: 'group', name: g.name })
                },
              },
              g.name,
            ),
          ),
          nodes.map((n) => {
            const p = groupView(st, g).perNode[n]
            return h('td', { 'data-node': n }, p ? badge(p.state, p.why, p.text) : h('span', { class: 'muted' }, tr('ui.d.notMember')))
          }),
          h('td', null, g.lock === 'none' ? tr('ui.d.notLocked') : `⊠ ${g.lock}`),
          h('td', null, g.failoverOnFailure ? 'yes' : 'no'),
        ),
      ),
    ),
  )
}
function clusterAttrs(): Node {
  const st = state.status!
  const hb = state.config?.hb
  return h(
    'div',
    null,
    kv([
      [tr('ui.d.cluster-name'), st.cluster],
      [tr('ui.d.this-node'), st.node],
      [tr('ui.d.configuration-generation'), st.generation],
      [tr('ui.d.agent-uptime'), `${st.uptimeS} s`],
      [tr('ui.d.nodes'), st.nodes.map((n) => n.name).join(', ')],
      [tr('ui.d.heartbeat'), hb ? tr('ui.d.hbSummary', { port: hb.port, interval: hb.timing.intervalMs, dead: hb.timing.deadMs }) : null],
      [tr('ui.d.resource-types'), st.types.map((t) => `${t.name} ${t.version}`).join(', ')],
    ]),
    st.notices.length
      ? h(
          'div',
          null,
          h('h3', null, tr('ui.d.recent-notices')),
          h(
            'ul',
            { class: 'notices' },
            [...st.notices]
              .reverse()
              .slice(0, 10)
              .map((n) =>
                h(
                  'li',
                  null,
                  h('span', { class: 'muted' }, fmtClock(n.at)),
                  ' ',
                  (n as unknown as { text?: string; message?: string }).text ??
                    (n as unknown as { message?: string }).message ??
                    JSON.stringify(n),
                ),
              ),
          ),
        )
      : null,
  )
}
function quorumView(): Node {
  const m = state.status!.membership
  if (!m) return h('p', { class: 'muted' }, tr('ui.dd.single'))
  return h(
    'div',
    null,
    kv([
      [tr('ui.d.quorum'), badge(m.quorate ? 'up' : 'down', undefined, tr(m.quorate ? 'ui.state.quorate' : 'ui.tree.noQuorum'))],
      [tr('ui.d.votes'), m.votes],
      [tr('ui.d.role-of-this-node'), m.role],
      [tr('ui.d.coordinator'), m.coordinator],
      [tr('ui.d.partition'), m.partition.join(', ')],
      [tr('ui.d.why'), m.quorum ? trSaid(m.quorum.said, m.quorum.reason) : undefined],
    ]),
    tieBreaker(m),
    h('h3', null, tr('ui.d.peers-and-heartbeat-links')),
    h(
      'table',
      { class: 'grid' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          [tr('ui.d.peer'), tr('ui.d.state'), tr('ui.d.links')].map((x) => h('th', { scope: 'col' }, x)),
        ),
      ),
      h(
        'tbody',
        null,
        m.peers.map((p) =>
          h(
            'tr',
            null,
            h('th', { scope: 'row' }, p.node),
            h('td', null, badge(p.up ? 'up' : 'down')),
            h(
              'td',
              null,
              Object.entries(p.links).map(([l, x]) =>
                h(
                  'span',
                  { class: 'link-chip' },
                  badge(x.up ? 'up' : 'down'),
                  ` ${l}${x.rttMs !== null ? ` ${x.rttMs.toFixed(1)} ms` : ''}`,
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  )
}

/** How a tie is broken (issue 18, What 6): the quorum server's connection, vote and holder, two-node mode, or neither. */
function tieBreaker(m: NonNullable<NonNullable<typeof state.status>['membership']>): Node {
  const q = m.quorum
  const cfg = state.config?.hb?.quorum?.server
  const title = h('h3', null, tr('ui.d.tie-breaker'))
  if (q?.server)
    return h(
      'div',
      { id: 'quorum-server' },
      title,
      kv([
        [tr('ui.d.quorum-server'), cfg ? `${cfg.host}:${cfg.port ?? 14322}` : tr('ui.d.configured')],
        [
          tr('ui.d.connected'),
          badge(q.server.connected ? 'up' : 'down', undefined, tr(q.server.connected ? 'ui.state.connected' : 'ui.state.not-connected')),
        ],
        [tr('ui.d.vote'), h('span', { class: 'quorum-vote' }, voteText(q.server.vote))],
        [tr('ui.d.holder'), q.server.holder?.length ? q.server.holder.join(', ') : tr('ui.d.noHolder')],
        [tr('ui.d.server-says'), trSaid(q.server.said, q.server.reason)],
      ]),
    )
  if (q?.twoNode) return h('div', { id: 'quorum-server' }, title, h('p', null, tr('ui.dd.twoNode')))
  return h('div', { id: 'quorum-server' }, title, h('p', { class: 'quorum-none', role: 'note' }, tr('ui.dd.neither')))
}
/** The quorum server's vote in words: ui.vote.<vote>. */
const voteText = (v: string): string => trOr(`ui.vote.${v}`, v)

// ---- group
function resourceStateTable(g: string): Node {
  const gs = groupStatus(g)
  if (!gs) return h('p', { class: 'muted' }, tr('ui.dd.groupGone', { name: g }))
  const nodes = groupNodes(g)
  const v = groupView(state.status!, gs)
  // Column labels are live roles (where it runs now, where it faulted, a lost node), not the configured order.
  const role = (n: string) => {
    const p = v.perNode[n]
    return p ? roleLabel(p.role) : tr('ui.d.notMember')
  }
  return h(
    'div',
    null,
    h(
      'p',
      { class: 'group-line' },
      tr('ui.gl.group'),
      badge(v.state, undefined, v.text),
      v.node && v.state !== 'unknown' ? tr('ui.gl.on', { node: v.node }) : v.node ? tr('ui.gl.lost', { node: v.node }) : '',
      v.faults.length > 0 && v.state !== 'faulted'
        ? h('span', { class: 'fault-mark' }, tr('ui.gl.fault', { nodes: v.faults.join(', ') }))
        : '',
      gs.lock !== 'none' ? tr('ui.gl.locked', { kind: gs.lock }) : '',
      gs.busy ? tr('ui.gl.busy', { n: gs.busy }) : '',
      tr('ui.gl.fof', { value: tr(gs.failoverOnFailure ? 'ui.gl.yes' : 'ui.gl.no') }),
    ),
    h(
      'table',
      { class: 'grid state-grid', id: 'resource-state' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, tr('ui.d.resource')),
          h('th', { scope: 'col' }, tr('ui.d.type')),
          h('th', { scope: 'col' }, tr('ui.d.monitoring')),
          nodes.map((n) =>
            h(
              'th',
              { scope: 'col', 'data-node': n, 'data-role': v.perNode[n]?.role ?? '' },
              n,
              h('span', { class: 'muted' }, ` (${role(n)})`),
            ),
          ),
        ),
      ),
      h(
        'tbody',
        null,
        h(
          'tr',
          { class: 'group-row', 'data-resource': '' },
          h('th', { scope: 'row' }, tr('ui.d.groupSuffix', { name: g })),
          h('td', null, ''),
          h('td', null, ''),
          nodes.map((n) => {
            const p = v.perNode[n]
            return h('td', { 'data-node': n }, p ? badge(p.state, p.why, p.text) : badge(undefined))
          }),
        ),
        gs.resources.map((r) =>
          h(
            'tr',
            { 'data-resource': r.name },
            h(
              'th',
              { scope: 'row' },
              h(
                'a',
                {
                  href: '#',
                  onclick: (e: Event) => {
                    e.preventDefault()
                    select({ kind: 'resource', name: r.name })
                  },
                },
                r.name,
              ),
              r.critical ? '' : h('span', { class: 'muted' }, ` ${tr('ui.gl.nonCritical')}`),
            ),
            h('td', null, r.type),
            h(
              'td',
              null,
              activationToggle(
                r.name,
                nodes.map((n) => r.nodes[n]?.monitored),
              ),
            ),
            nodes.map((n) => {
              const x = r.nodes[n]
              const lost = v.perNode[n]?.state === 'unknown'
              return h(
                'td',
                { 'data-node': n },
                x
                  ? [
                      lost && x.state !== 'unknown'
                        ? badge(
                            'unknown',
                            tr('ui.dd.lastHeard', { state: stateWord(x.state), why: v.perNode[n]!.why ?? '' }),
                            v.perNode[n]!.text,
                          )
                        : badge(x.state, x.fault ? trSaid(x.faultSaid, x.fault) : undefined),
                      !x.monitored && h('span', { class: 'muted' }, ` ${tr('ui.dd.notMonitored')}`),
                      x.fault && h('div', { class: 'fault' }, trSaid(x.faultSaid, x.fault)),
                    ]
                  : badge('unknown'),
              )
            }),
          ),
        ),
      ),
    ),
  )
}

function dependencyTab(g: string): View {
  const graphHost = h('div', { id: 'dep-graph' })
  const deps = () => (state.config?.main.dependencies ?? []).filter((d) => resourceConfig(d.parent)?.group === g)
  const names = () => groupStatus(g)?.resources.map((r) => r.name) ?? []
  const parent = h(
    'select',
    { id: 'dep-parent', 'aria-label': tr('ui.dd.parentAria') },
    names().map((n) => h('option', { value: n }, n)),
  )
  const child = h(
    'select',
    { id: 'dep-child', 'aria-label': tr('ui.dd.childAria') },
    names().map((n, i) => h('option', { value: n, selected: i === 1 }, n)),
  )
  const err = h('div', { class: 'field-error', role: 'alert', id: 'dep-error' })
  const list = h('ul', { class: 'plain dep-list' })
  const update = () => {
    const gs = groupStatus(g)
    replace(graphHost, gs ? dependencyGraph(gs.resources, deps(), gs.activeNode, (r) => select({ kind: 'resource', name: r })) : '')
    replace(
      list,
      deps().length
        ? deps().map((d) =>
            h(
              'li',
              null,
              tr('ui.dd.dependsOn', { parent: d.parent, child: d.child }),
              button(
                tr('ui.dd.unlink'),
                () =>
                  void report(tr('ui.what.unlink', { parent: d.parent, child: d.child }), api.unlink(d.parent, d.child)).then(() =>
                    loadConfig(),
                  ),
                {},
              ),
            ),
          )
        : h('li', { class: 'muted' }, tr('ui.dd.noDeps')),
    )
  }
  update()
  const el = h(
    'div',
    null,
    h('p', { class: 'muted' }, tr('ui.dd.depHelp')),
    graphHost,
    h(
      'div',
      { class: 'dep-form' },
      parent,
      h('span', null, tr('ui.dd.dependsWord')),
      child,
      button(
        tr('ui.dd.link'),
        async () => {
          err.textContent = ''
          if (parent.value === child.value) {
            err.textContent = tr('ui.dd.self')
            return
          }
          try {
            const done = await api.link(parent.value, child.value)
            notify(tr('ui.dd.nowDepends', { parent: parent.value, child: child.value }), 'ok')
            showConfigWarnings(tr('ui.what.linked', { parent: parent.value, child: child.value }), done)
            await loadConfig()
          } catch (e) {
            err.textContent = e instanceof ApiError ? `${e.message} (${e.code})` : (e as Error).message
          }
        },
        { primary: true, id: 'dep-link' },
      ),
    ),
    err,
    list,
  )
  return { el, update }
}

function groupProps(g: string): View {
  const cfg = groupConfig(g)
  if (!cfg) return { el: h('p', { class: 'muted' }, tr('ui.dd.loadingConfig')) }
  const all = state.status?.nodes.map((n) => n.name) ?? []
  let order = [...cfg.nodes, ...all.filter((n) => !cfg.nodes.includes(n))]
  const chosen = new Set(cfg.nodes)
  const list = h('ol', { class: 'node-order' })
  const draw = () =>
    replace(
      list,
      order.map((n, i) => {
        const cb = h('input', {
          type: 'checkbox',
          checked: chosen.has(n),
          id: `gp-node-${n}`,
          onchange: () => {
            if (cb.checked) chosen.add(n)
            else chosen.delete(n)
          },
        })
        return h(
          'li',
          null,
          h('label', { class: 'check' }, cb, ` ${n}`),
          button(
            '↑',
            () => {
              if (i > 0) {
                order = [...order]
                ;[order[i - 1], order[i]] = [order[i]!, order[i - 1]!]
                draw()
              }
            },
            { disabled: i === 0 },
          ),
          button(
            '↓',
            () => {
              if (i < order.length - 1) {
                order = [...order]
                ;[order[i + 1], order[i]] = [order[i]!, order[i + 1]!]
                draw()
              }
            },
            { disabled: i === order.length - 1 },
          ),
        )
      }),
    )
  draw()
  const fof = h('input', { type: 'checkbox', id: 'gp-fof', checked: cfg.failoverOnFailure })
  const auto = h('input', { type: 'checkbox', id: 'gp-auto', checked: cfg.autoStart })
  const back = h('input', { type: 'checkbox', id: 'gp-back', checked: cfg.autoFailback })
  const err = h('div', { class: 'field-error', role: 'alert' })
  return {
    el: h(
      'div',
      { class: 'form' },
      h('h3', null, tr('ui.d.nodes-in-failover-order')),
      list,
      h('label', { class: 'check' }, fof, ' Fail over when a critical resource fails'),
      h('label', { class: 'check' }, auto, ' Start automatically'),
      h('label', { class: 'check' }, back, ' Fail back to the preferred node'),
      err,
      button(
        tr('ui.btn.save'),
        async () => {
          err.textContent = ''
          const nodes = order.filter((n) => chosen.has(n))
          if (!nodes.length) {
            err.textContent = tr('ui.ag.nodesRule')
            return
          }
          try {
            const done = await api.editGroup(g, {
              nodes,
              failoverOnFailure: fof.checked,
              autoStart: auto.checked,
              autoFailback: back.checked,
            })
            notify(tr('ui.dd.groupSaved', { name: g }), 'ok')
            showConfigWarnings(tr('ui.dd.groupSaved', { name: g }), done)
          } catch (e) {
            err.textContent = e instanceof ApiError ? `${e.message}${e.field ? ` [${e.field}]` : ''}` : (e as Error).message
          }
        },
        { primary: true, id: 'gp-save' },
      ),
    ),
  }
}

// ---- resource
function oneResourceState(r: string): Node {
  const rs = resourceStatus(r)
  if (!rs) return h('p', { class: 'muted' }, tr('ui.dd.resourceGone', { name: r }))
  const g = groupOf(r)!
  return h(
    'div',
    null,
    kv([
      [tr('ui.d.group'), g],
      [tr('ui.d.type'), rs.type],
      [tr('ui.d.critical'), rs.critical],
      // What the engine does now (the operator's activation), not what the configuration started with.
      [
        tr('ui.d.monitoring'),
        activationToggle(
          r,
          groupNodes(g).map((n) => rs.nodes[n]?.monitored),
        ),
      ],
    ]),
    h(
      'table',
      { class: 'grid state-grid', id: 'one-resource-state' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          [tr('ui.d.node'), tr('ui.d.state'), tr('ui.d.monitoring'), tr('ui.d.fault'), tr('ui.d.restarts'), tr('ui.d.misses')].map((x) =>
            h('th', { scope: 'col' }, x),
          ),
        ),
      ),
      h(
        'tbody',
        null,
        groupNodes(g).map((n) => {
          const x = rs.nodes[n]
          return h(
            'tr',
            { 'data-node': n },
            h('th', { scope: 'row' }, n),
            h('td', null, badge(x?.state)),
            h('td', null, x ? activationToggle(r, [x.monitored], n) : '—'),
            h('td', null, x?.fault ? trSaid(x.faultSaid, x.fault) : ''),
            h('td', null, x?.restarts ?? ''),
            h('td', null, x?.misses ?? ''),
          )
        }),
      ),
    ),
  )
}

/** The manual's resource activation as a switch: monitoring of the resource on every node of its group (or
 *  on `node` only). On where every node monitors it, off where none does, mixed (indeterminate) between; a
 *  click asks the engine (activate / deactivate, an operator command in the operation log), and the switch
 *  follows the status that comes back, whoever changed it. */
function activationToggle(r: string, monitored: Array<boolean | undefined>, node?: string): HTMLElement {
  const known = monitored.filter((m): m is boolean => m !== undefined)
  const on = known.length > 0 && known.every(Boolean)
  const mixed = !on && known.some(Boolean)
  const input = h('input', {
    type: 'checkbox',
    role: 'switch',
    class: 'act-toggle',
    checked: on,
    // The state as an attribute too: a re-render then replaces a switch whose state changed (morph keeps an
    // element whose attributes are equal, and `checked` is not one).
    'data-on': on ? 'on' : mixed ? 'mixed' : 'off',
    'data-resource': r,
    'data-node': node,
    'aria-checked': mixed ? 'mixed' : String(on),
    'aria-label': node ? tr('ui.act.switchOn', { name: r, node }) : tr('ui.act.switch', { name: r }),
    title: mixed ? tr('ui.act.mixed') : on ? tr('ui.act.onTitle') : tr('ui.act.offTitle'),
    onchange: (e: Event) => {
      const want = (e.target as HTMLInputElement).checked
      void report(
        tr(want ? 'ui.what.activate' : 'ui.what.deactivate', { name: r }) + (node ? ` (${node})` : ''),
        api.resourceAction(r, want ? 'activate' : 'deactivate', node ? { node } : {}),
      )
    },
  })
  input.indeterminate = mixed
  return h('label', { class: 'act-switch' }, input, ` ${tr(on ? 'ui.d.active' : mixed ? 'ui.act.partly' : 'ui.d.inactive')}`)
}

function resourceAttrs(r: string): View {
  const el = h('div', { class: 'form' }, h('p', { class: 'muted' }, tr('ui.dd.loading')))
  const cfg = resourceConfig(r)
  if (!cfg) return { el: h('p', { class: 'muted' }, tr('ui.dd.loadingConfig')) }
  void typeDetail(cfg.type).then(
    (t) => {
      const form = schemaForm({
        type: cfg.type,
        schema: t.wizard,
        nodes: groupNodes(cfg.group),
        initial: { attrs: cfg.attrs, nodeAttrs: cfg.nodeAttrs },
        overrides: true,
      })
      const critical = h('input', { type: 'checkbox', id: 'ra-critical', checked: cfg.critical })
      const err = h('div', { class: 'field-error', role: 'alert', id: 'ra-error' })
      replace(
        el,
        h('p', null, tr('ui.dd.typeLine', { type: t.displayName, name: t.name, version: t.version, group: cfg.group })),
        form.el,
        h('label', { class: 'check' }, critical, ' Critical (its fault fails the group)'),
        Object.keys(cfg.policy).length
          ? h(
              'p',
              { class: 'muted' },
              `Policy overrides: ${Object.entries(cfg.policy)
                .map(([k, v]) => `${k}=${String(v)}`)
                .join(', ')}`,
            )
          : null,
        err,
        h(
          'div',
          { class: 'row-buttons' },
          button(tr('ui.ar.check'), () => void form.validateRemote()),
          button(
            tr('ui.btn.save'),
            async () => {
              err.textContent = ''
              const v = form.values()
              if (!v || !(await form.validateRemote())) {
                err.textContent = tr('ui.dd.fixAbove')
                return
              }
              try {
                // An edit merges over what is there: what the form no longer holds (a cleared field, an
                // override switched off) is removed by name — only the form's own fields, never others.
                const props = new Set(fieldsOf(t.wizard).map((f) => f.prop))
                const unsetAttrs = [
                  ...Object.keys(cfg.attrs).filter((k) => props.has(k) && !(k in v.attrs)),
                  ...Object.entries(cfg.nodeAttrs).flatMap(([n, kv]) =>
                    Object.keys(kv)
                      .filter((k) => props.has(k) && !(k in (v.nodeAttrs[n] ?? {})))
                      .map((k) => `${n}:${k}`),
                  ),
                ]
                const done = await api.editResource(r, {
                  attrs: v.attrs,
                  nodeAttrs: v.nodeAttrs,
                  critical: critical.checked,
                  ...(unsetAttrs.length ? { unsetAttrs } : {}),
                })
                notify(tr('ui.dd.resourceSaved', { name: r }), 'ok')
                showConfigWarnings(tr('ui.dd.resourceSaved', { name: r }), done)
              } catch (e) {
                if (e instanceof ApiError && e.issues.length) form.showIssues(e.issues)
                err.textContent = e instanceof ApiError ? `${e.message} (${e.code})` : (e as Error).message
              }
            },
            { primary: true, id: 'ra-save' },
          ),
        ),
      )
    },
    (e) => replace(el, h('p', { class: 'field-error' }, tr('ui.dd.cannotLoadType', { type: cfg.type, message: (e as Error).message }))),
  )
  return { el }
}

// ---- node
/** Planned work on the node: the buttons of node-work.ts's list (the right-click menu offers the same). */
function nodeWorkButtons(n: string, membership: string): Node {
  return h(
    'div',
    { class: 'node-work' },
    h('h3', null, tr('ui.d.planned-work')),
    h('p', { class: 'muted' }, tr('ui.work.help')),
    h(
      'div',
      { class: 'btn-row' },
      nodeWork(n, membership).map((w) => {
        const b = button(w.label, () => w.run(), { id: `node-${w.verb}`, disabled: w.why !== null })
        if (w.why) b.title = w.why
        return b
      }),
    ),
  )
}

function nodeAttrs(n: string): Node {
  const st = state.status!
  const ns = st.nodes.find((x) => x.name === n)
  const hb = state.config?.hb?.nodes.find((x) => x.name === n)
  const peer = st.membership?.peers.find((p) => p.node === n)
  const links = state.config?.hb?.links ?? []
  return h(
    'div',
    null,
    kv([
      [tr('ui.d.name'), n],
      [tr('ui.d.membership'), badge(ns?.membership === 'up' || ns?.membership === 'member' ? 'up' : ns?.membership)],
      [tr('ui.d.this-node'), n === st.node],
      [tr('ui.d.needs-fencing'), ns?.needsFence ?? false],
      [tr('ui.d.votes'), hb?.votes ?? 1],
    ]),
    nodeWorkButtons(n, ns?.membership ?? 'unknown'),
    h('h3', null, tr('ui.d.heartbeat-addresses')),
    links.length
      ? h(
          'table',
          { class: 'grid' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              [tr('ui.d.link'), tr('ui.d.address'), tr('ui.d.state')].map((x) => h('th', { scope: 'col' }, x)),
            ),
          ),
          h(
            'tbody',
            null,
            links.map((l) => {
              const x = peer?.links[l.name]
              return h(
                'tr',
                null,
                h('th', { scope: 'row' }, l.name),
                h('td', null, hb?.addresses[l.name] ?? '—'),
                h(
                  'td',
                  null,
                  n === st.node
                    ? tr('ui.stale.thisNode')
                    : x
                      ? [badge(x.up ? 'up' : 'down'), x.rttMs !== null ? ` ${x.rttMs.toFixed(1)} ms` : '']
                      : '—',
                ),
              )
            }),
          ),
        )
      : h('p', { class: 'muted' }, tr('ui.dd.notExported')),
    h('h3', null, tr('ui.d.self-fencing')),
    h(
      'p',
      null,
      tr('ui.dd.selfFence'),
      hb?.isolationTestAddresses?.length ? hb.isolationTestAddresses.join(', ') : tr('ui.dd.noneConfigured'),
    ),
    h('h3', null, tr('ui.d.remote-fencing')),
    hb?.fencing?.length
      ? h(
          'ol',
          null,
          hb.fencing.map((f, i) =>
            h('li', null, tr('ui.dd.level', { n: i + 1, type: f.type }), f.attrs ? h('code', null, ` ${JSON.stringify(f.attrs)}`) : ''),
          ),
        )
      : h(
          'p',
          { class: 'muted' },
          hb ? 'No fence device: a lost node cannot be fenced remotely, so its groups wait for it to self-fence.' : tr('ui.dd.notExported'),
        ),
  )
}

// ---- types
function typeList(): Node {
  return h(
    'table',
    { class: 'grid' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        [tr('ui.d.type'), tr('ui.d.name'), tr('ui.d.version'), tr('ui.d.kind'), tr('ui.d.permissions')].map((x) =>
          h('th', { scope: 'col' }, x),
        ),
      ),
    ),
    h(
      'tbody',
      null,
      state.types.map((t) =>
        h(
          'tr',
          null,
          h(
            'th',
            { scope: 'row' },
            h(
              'a',
              {
                href: '#',
                onclick: (e: Event) => {
                  e.preventDefault()
                  select({ kind: 'type', name: t.name })
                },
              },
              t.name,
            ),
          ),
          h('td', null, t.displayName),
          h('td', null, t.version),
          h('td', null, t.kind),
          h('td', null, t.permissions.join(', ') || tr('ui.d.none')),
        ),
      ),
    ),
  )
}
function typeResources(t: string): Node {
  const rs = (state.status?.groups ?? []).flatMap((g) => g.resources.filter((r) => r.type === t).map((r) => ({ g, r })))
  if (!rs.length) return h('p', { class: 'muted' }, tr('ui.dd.noResourceOfType', { type: t }))
  return h(
    'table',
    { class: 'grid' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        [tr('ui.d.resource'), tr('ui.d.group'), tr('ui.d.states')].map((x) => h('th', { scope: 'col' }, x)),
      ),
    ),
    h(
      'tbody',
      null,
      rs.map(({ g, r }) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row' }, r.name),
          h('td', null, g.name),
          h(
            'td',
            null,
            Object.entries(r.nodes).map(([n, x]) => h('span', { class: 'link-chip' }, `${n}: `, badge(x.state))),
          ),
        ),
      ),
    ),
  )
}
function typeAttrs(t: string): View {
  const el = h('div', null, h('p', { class: 'muted' }, tr('ui.dd.loading')))
  void typeDetail(t).then(
    (d) => {
      const props = Object.entries((d.wizard.properties ?? {}) as Record<string, Record<string, unknown>>)
      const overrides = state.config?.main.types[t] ?? {}
      replace(
        el,
        kv([
          [tr('ui.d.name'), d.displayName],
          [tr('ui.d.version'), d.version],
          [tr('ui.d.kind'), d.kind],
          [tr('ui.d.description'), d.description ?? ''],
          [tr('ui.d.permissions'), d.permissions.join(', ') || tr('ui.d.none')],
          [
            tr('ui.d.defaults'),
            Object.entries(d.defaults ?? {})
              .map(([k, v]) => `${k}=${v}`)
              .join(', '),
          ],
          [
            tr('ui.d.cluster-overrides'),
            Object.entries(overrides)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(', '),
          ],
        ]),
        h('h3', null, tr('ui.d.attributes')),
        h(
          'table',
          { class: 'grid' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              [tr('ui.d.attribute'), tr('ui.d.title'), tr('ui.d.type'), tr('ui.d.scope'), tr('ui.d.description')].map((x) =>
                h('th', { scope: 'col' }, x),
              ),
            ),
          ),
          h(
            'tbody',
            null,
            props.map(([k, s]) =>
              h(
                'tr',
                null,
                h('th', { scope: 'row' }, k),
                h('td', null, String(s.title ?? '')),
                h('td', null, String(s.type ?? (s.$ref ? 'choice' : ''))),
                h('td', null, (s['x-mccs'] as { scope?: string } | undefined)?.scope === 'node' ? tr('ui.dd.perNode') : tr('ui.dd.global')),
                h('td', null, String(s.description ?? '')),
              ),
            ),
          ),
        ),
        h('p', { class: 'muted' }, tr('ui.dd.typeAttrs')),
      )
    },
    (e) => {
      showError(tr('ui.what.type', { name: t }), e)
      replace(el, h('p', { class: 'field-error' }, (e as Error).message))
    },
  )
  return { el }
}
