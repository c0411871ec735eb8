// The "Mirror" tab of a mirror-disk resource (issue 15, What 4): both copies' state — UpToDate, SyncSource /
// SyncTarget with percent, rate and ETA, Outdated, Disconnected, SplitBrain — from GET /api/mirror, the
// data `mccs mirror status` prints. A resync's percent moves without any cluster event, so the view asks
// again every POLL_MS while it is shown (and at once on Refresh); it stops when the tab is closed.
import { h, morph } from './dom.js'
import { call, ApiError } from './api.js'
import { button } from './dialogs.js'
import { fmtClock, tr, trOr } from './i18n.js'
import { state, resourceConfig } from './store.js'
import type { MirrorSides } from '../../mirror/control.js'
import type { VolumeStatus } from '../../mirror/volume.js'

const POLL_MS = 2000

/** One copy's words: its role, its disk state, the connection as it sees it. */
export interface MirrorSide {
  node: string
  role: VolumeStatus['role'] | 'unknown'
  disk: 'UpToDate' | 'Outdated' | 'Inconsistent' | 'SyncTarget' | 'Unknown'
  generation: string | null
  error?: string
}
export interface MirrorView {
  /** Connected, SyncSource, Disconnected, Suspended, SplitBrain, StandAlone; Unknown with no primary. */
  connection: string
  sides: MirrorSide[]
  sync: { percent: number | null; rateBps: number | null; etaS: number | null } | null
  splitBrain: VolumeStatus['splitBrain']
  dirtyBytes: number | null
}

/** The state words from both sides' status: the primary's replication is the connection's state; a
 *  secondary's disk state is what the last primary recorded for it (peer record), SyncTarget while the
 *  primary copies to it. */
export function mirrorView(s: MirrorSides): MirrorView {
  const statuses: Array<VolumeStatus | { node: string; error: string }> = [
    s.local,
    'error' in s.peer ? { node: '', error: s.peer.error } : s.peer,
  ]
  const primary = statuses.find((x): x is VolumeStatus => !('error' in x) && x.role === 'primary') ?? null
  const rep = primary?.replication ?? null
  const syncing = rep?.state === 'SyncSource'
  const sides: MirrorSide[] = statuses.map((x) => {
    if ('error' in x) return { node: x.node, role: 'unknown', disk: 'Unknown', generation: null, error: x.error }
    let disk: MirrorSide['disk']
    if (x.role === 'primary') disk = 'UpToDate'
    else if (syncing && primary && x.node !== primary.node) disk = 'SyncTarget'
    else {
      const st = x.peerRecord?.state
      disk = st === 'UpToDate' || st === 'Outdated' || st === 'SyncTarget' ? (st === 'SyncTarget' ? 'Inconsistent' : st) : 'Unknown'
    }
    return { node: x.node, role: x.role, disk, generation: x.generation?.current ?? null }
  })
  return {
    connection: rep?.state ?? (s.local.splitBrain ? 'SplitBrain' : 'Unknown'),
    sides,
    sync: syncing ? { percent: rep?.percent ?? null, rateBps: rep?.resync?.rateBps ?? null, etaS: rep?.resync?.etaS ?? null } : null,
    splitBrain: primary?.splitBrain ?? s.local.splitBrain ?? null,
    dirtyBytes: primary?.dirtyBytes ?? null,
  }
}

const mib = (b: number): string => (b / 1048576).toFixed(1)

function render(r: MirrorSides, resource: string): Array<Node | null> {
  const v = mirrorView(r)
  const rows = v.sides.map((x) =>
    h(
      'tr',
      { 'data-node': x.node, 'data-role': x.role, 'data-disk': x.disk },
      h('td', null, x.node || '?'),
      h('td', null, trOr(`ui.mv.role.${x.role}`, x.role)),
      h('td', null, h('span', { class: `mv-disk mv-${x.disk}` }, x.disk)),
      h('td', null, x.error ? h('span', { class: 'field-error' }, tr('ui.mv.noAnswer', { message: x.error })) : (x.generation ?? '—')),
    ),
  )
  const s = v.sync
  return [
    h(
      'p',
      { id: 'mirror-state', 'data-state': v.connection, class: 'mv-connection' },
      h('strong', null, tr('ui.mv.connection')),
      ' ',
      h('span', { class: `mv-${v.connection}` }, v.connection),
      s &&
        h(
          'span',
          { id: 'mirror-sync', 'data-percent': s.percent ?? '' },
          ' — ',
          tr('ui.mv.sync', {
            percent: s.percent ?? '?',
            rate: s.rateBps !== null ? mib(s.rateBps) : '?',
            eta: s.etaS !== null ? s.etaS : '?',
          }),
        ),
    ),
    v.dirtyBytes !== null && v.dirtyBytes > 0 && v.connection !== 'Connected'
      ? h('p', { id: 'mirror-dirty' }, tr('ui.mv.dirty', { mib: mib(v.dirtyBytes) }))
      : null,
    v.splitBrain
      ? h(
          'p',
          { id: 'mirror-split', class: 'field-error', role: 'alert' },
          tr('ui.mv.splitBrain', {
            local: `${v.splitBrain.local.node} ${v.splitBrain.local.generation}`,
            peer: `${v.splitBrain.peer.node ?? '?'} ${v.splitBrain.peer.generation ?? '?'}`,
            resource,
          }),
        )
      : null,
    h(
      'table',
      { class: 'grid', id: 'mirror-sides' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          [tr('ui.mv.node'), tr('ui.mv.role'), tr('ui.mv.disk'), tr('ui.mv.generation')].map((x) => h('th', { scope: 'col' }, x)),
        ),
      ),
      h('tbody', null, rows),
    ),
  ]
}

export function mirrorTab(resource: string): { el: HTMLElement; update(): void } {
  const body = h('div', { id: 'mirror-body' }, h('p', { class: 'muted' }, tr('ui.mv.loading')))
  const updated = h('span', { class: 'muted', id: 'mirror-updated', 'aria-live': 'polite' })
  const el = h(
    'div',
    { class: 'mirror-view', id: 'mirror-view', 'data-resource': resource },
    h(
      'div',
      { class: 'tl-bar' },
      button(tr('ui.btn.refresh'), () => void load(), { id: 'mirror-refresh' }),
      ' ',
      updated,
    ),
    body,
  )
  let inFlight = false
  let timer: ReturnType<typeof setTimeout> | null = null

  async function load(): Promise<void> {
    if (inFlight) return
    inFlight = true
    try {
      const [r] = await call<MirrorSides[]>('GET', `/api/mirror?${new URLSearchParams({ resource })}`)
      if (r) morph(body, ...render(r, resource))
      updated.textContent = tr('ui.tl.updated', { time: fmtClock(Date.now()) })
    } catch (e) {
      if (e instanceof ApiError && e.code === 'MCCS_ERR_NOT_FOUND') {
        // This node has no volume of the resource (not one of its copies' nodes): not an error; its
        // state is read on a node that holds a copy.
        const copies = Object.keys((resourceConfig(resource) as { nodeAttrs?: Record<string, unknown> } | undefined)?.nodeAttrs ?? {})
        morph(
          body,
          h(
            'p',
            { class: 'muted', id: 'mirror-no-copy' },
            tr('ui.mv.noCopy', { node: state.status?.node ?? '?', resource, nodes: copies.join(', ') || '?' }),
          ),
        )
        return
      }
      const msg = e instanceof ApiError ? e.message : String(e)
      morph(body, h('p', { class: 'field-error', role: 'alert', id: 'mirror-error' }, tr('ui.mv.cannotRead', { message: msg })))
    } finally {
      inFlight = false
      el.dataset.loaded = String(Date.now())
    }
  }
  // The first fetch once the tab is in the page; then every POLL_MS while it stays there.
  const tick = (): void => {
    timer = null
    if (!el.isConnected) return
    void load().finally(() => {
      if (el.isConnected && !timer) timer = setTimeout(tick, POLL_MS)
    })
  }
  timer = setTimeout(tick, 0)
  return {
    el,
    update() {
      // Status events (a role change) arrive between polls: the next poll shows them within POLL_MS.
      if (!timer && el.isConnected) timer = setTimeout(tick, 0)
    },
  }
}
