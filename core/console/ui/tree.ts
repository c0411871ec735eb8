// The management tree (manual 5.3.3): cluster → resource groups → resources; nodes; resource types.
// A WAI-ARIA tree: ↑/↓ move, ←/→ collapse/expand, Enter selects. Rendered on every status and morphed
// into what is on screen (only what changed is replaced); the focused item is kept by its key.
import { h, morph } from './dom.js'
import { state, select, type Selection } from './store.js'
import { badge, groupSummary, groupView, nodeState } from './states.js'
import { tr } from './i18n.js'
import { openContextMenu, hasContextMenu } from './context-menu.js'

const collapsed = new Set<string>()
const keyOf = (s: Selection) => ('name' in s ? `${s.kind}:${s.name}` : s.kind)

interface Item {
  key: string
  label: string
  sel?: Selection
  extra?: HTMLElement | null
  children?: Item[]
  icon: string
}

function items(): Item[] {
  const st = state.status
  if (!st) return []
  return [
    {
      key: 'cluster',
      icon: '◆',
      label: tr('ui.tree.cluster', { name: st.cluster }),
      sel: { kind: 'cluster' },
      extra: st.membership
        ? badge(st.membership.quorate ? 'up' : 'down', tr(st.membership.quorate ? 'ui.state.quorate' : 'ui.tree.noQuorum'))
        : null,
      children: [
        {
          key: 'groups',
          icon: '▣',
          label: tr('ui.tree.groups'),
          children: st.groups.map((g) => {
            // Where it runs, and apart from that where it left faults (cleared by Remove fault indication).
            const v = groupView(st, g)
            return {
              key: `group:${g.name}`,
              icon: '▣',
              label: g.name,
              sel: { kind: 'group', name: g.name } as Selection,
              extra: h(
                'span',
                null,
                badge(
                  v.state,
                  v.node ? (v.state === 'unknown' ? v.perNode[v.node]?.why : tr('ui.tree.onNode', { node: v.node })) : undefined,
                  v.text,
                ),
                v.node && v.state !== 'unknown' ? h('span', { class: 'muted' }, ` ${v.node}`) : null,
                v.faults.length > 0 && v.state !== 'faulted'
                  ? h(
                      'span',
                      { class: 'fault-mark', title: tr('ui.tree.faultLeftTitle', { nodes: v.faults.join(', ') }) },
                      ` ⚠ ${tr('ui.tree.faultOn', { nodes: v.faults.join(', ') })}`,
                    )
                  : null,
                g.lock !== 'none'
                  ? h('span', { class: 'lock', title: tr('ui.tree.lockedTitle', { kind: g.lock }) }, ` ⊠ ${tr('ui.tree.locked')}`)
                  : null,
              ),
              children: g.resources.map((r) => {
                const at = v.node ?? g.activeNode
                const part = at ? v.perNode[at] : undefined
                const on =
                  part?.state === 'unknown'
                    ? 'unknown'
                    : at && r.nodes[at]
                      ? r.nodes[at]!.state
                      : groupSummary(Object.fromEntries(Object.entries(r.nodes).map(([n, x]) => [n, x.state]))).state
                return {
                  key: `resource:${r.name}`,
                  icon: '◇',
                  label: r.name,
                  sel: { kind: 'resource', name: r.name } as Selection,
                  extra: h(
                    'span',
                    null,
                    badge(on, on === 'unknown' && part ? part.why : undefined),
                    h('span', { class: 'muted' }, ` ${r.type}`),
                  ),
                }
              }),
            }
          }),
        },
        {
          key: 'nodes',
          icon: '▤',
          label: tr('ui.tree.nodes'),
          children: st.nodes.map((n) => ({
            key: `node:${n.name}`,
            icon: '▤',
            label: n.name,
            sel: { kind: 'node', name: n.name } as Selection,
            extra: h(
              'span',
              null,
              badge(nodeState(st, n.name)),
              n.name === st.node ? h('span', { class: 'muted' }, ` ${tr('ui.tree.thisNode')}`) : null,
            ),
          })),
        },
        {
          key: 'types',
          icon: '▥',
          label: tr('ui.tree.types'),
          sel: { kind: 'types' },
          children: state.types.map((t) => ({
            key: `type:${t.name}`,
            icon: '▥',
            label: t.name,
            sel: { kind: 'type', name: t.name } as Selection,
            extra: h('span', { class: 'muted' }, ` ${t.version}${t.kind === 'fence' ? ` ${tr('ui.tree.fence')}` : ''}`),
          })),
        },
      ],
    },
  ]
}

export function renderTree(root: HTMLElement): void {
  const focusedKey = (document.activeElement as HTMLElement | null)?.closest?.('[role=treeitem]')?.getAttribute('data-key')
  const current = keyOf(state.selection)
  const build = (list: Item[], level: number): HTMLElement[] =>
    list.map((it) => {
      const hasKids = !!it.children?.length
      const open = hasKids && !collapsed.has(it.key)
      const li = h(
        'li',
        {
          role: 'treeitem',
          'data-key': it.key,
          'aria-level': level,
          'aria-selected': it.key === current ? 'true' : 'false',
          'aria-expanded': hasKids ? String(open) : undefined,
          // By the selection, not the focus: a press focuses the item, and an attribute that followed the focus
          // would make the next status event replace the item under the pointer before the release.
          tabindex: it.key === current ? 0 : -1,
        },
        h(
          'div',
          { class: ['tree-row', it.key === current && 'selected'], style: { 'padding-left': `${(level - 1) * 16 + 4}px` } },
          h('span', { class: 'twisty', 'aria-hidden': 'true' }, hasKids ? (open ? '▾' : '▸') : ' '),
          h('span', { class: 'tree-icon', 'aria-hidden': 'true' }, it.icon),
          h('span', { class: 'tree-label' }, it.label),
          it.extra ? h('span', { class: 'tree-extra' }, it.extra) : null,
        ),
        open ? h('ul', { role: 'group' }, build(it.children!, level + 1)) : null,
      )
      // The item is found from the event, not this render's `li`: morph() may keep the item already on screen
      // and put this render's row into it.
      const itemOf = (e: Event) => (e.currentTarget as HTMLElement).parentElement as HTMLElement
      li.querySelector('.tree-row')!.addEventListener('click', (e) => {
        e.stopPropagation()
        if ((e.target as HTMLElement).classList.contains('twisty') && hasKids) toggle(it.key)
        else if (it.sel) select(it.sel)
        else if (hasKids) toggle(it.key)
        itemOf(e).focus()
      })
      // Right click: the item is selected, then its menu opens (the same commands as the detail view's buttons).
      const sel = it.sel
      if (sel && hasContextMenu(sel))
        li.querySelector('.tree-row')!.addEventListener('contextmenu', (e) => {
          e.preventDefault()
          e.stopPropagation()
          select(sel)
          openContextMenu(sel, (e as MouseEvent).clientX, (e as MouseEvent).clientY, itemOf(e))
        })
      return li
    })
  const ul = h('ul', { role: 'tree', 'aria-label': tr('ui.tree.label'), class: 'tree' }, build(items(), 1))
  ul.addEventListener('keydown', onKey)
  // Only what changed is replaced (dom.ts morph): a row under the pointer survives a status event between
  // the press and the release of a click (drawn whole, such a click was lost: test/console/ui-tree-morph).
  morph(root, ul)
  if (focusedKey) root.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusedKey)}"]`)?.focus()
  function toggle(k: string) {
    if (collapsed.has(k)) collapsed.delete(k)
    else collapsed.add(k)
    renderTree(root)
  }
  function onKey(e: KeyboardEvent) {
    const all = [...root.querySelectorAll<HTMLElement>('[role=treeitem]')]
    const cur = (document.activeElement as HTMLElement).closest<HTMLElement>('[role=treeitem]')
    const at = cur ? all.indexOf(cur) : -1
    const move = (i: number) => {
      const t = all[Math.max(0, Math.min(all.length - 1, i))]
      if (t) {
        all.forEach((x) => x.setAttribute('tabindex', '-1'))
        t.setAttribute('tabindex', '0')
        t.focus()
      }
    }
    if (e.key === 'ArrowDown') {
      e.preventDefault()
      move(at + 1)
    } else if (e.key === 'ArrowUp') {
      e.preventDefault()
      move(at - 1)
    } else if (e.key === 'Home') {
      e.preventDefault()
      move(0)
    } else if (e.key === 'End') {
      e.preventDefault()
      move(all.length - 1)
    } else if ((e.key === 'ArrowRight' || e.key === 'ArrowLeft') && cur) {
      e.preventDefault()
      const k = cur.dataset.key!
      const exp = cur.getAttribute('aria-expanded')
      if (e.key === 'ArrowRight' && exp === 'false') toggle(k)
      else if (e.key === 'ArrowLeft' && exp === 'true') toggle(k)
    } else if ((e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) && cur) {
      e.preventDefault()
      const row = cur.querySelector('.tree-row') as HTMLElement
      const r = row.getBoundingClientRect()
      row.dispatchEvent(new MouseEvent('contextmenu', { bubbles: true, cancelable: true, clientX: r.left + 24, clientY: r.bottom }))
    } else if ((e.key === 'Enter' || e.key === ' ') && cur) {
      e.preventDefault()
      ;(cur.querySelector('.tree-row') as HTMLElement).click()
    }
  }
}
