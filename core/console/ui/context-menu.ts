// Right-click menus on the tree's groups, resources and nodes (issue 18, What 5; every procedure of the
// manual starts with one). The item is selected first, so each entry is the same command the menu bar,
// the toolbar and the detail view's buttons run, enabled the same way; a disabled entry says why when
// chosen. Also opened by the keyboard (the context-menu key or Shift+F10 on a tree item). Arrow keys move,
// Enter runs, Escape closes and gives focus back to the tree item.
import { h } from './dom.js'
import { COMMANDS, commandLabel } from './actions.js'
import { runCommand } from './menus.js'
import { notify } from './dialogs.js'
import { nodeWork } from './node-work.js'
import { tr } from './i18n.js'
import type { Selection } from './store.js'

/** The commands each kind of item offers, in the manual's order; '|' separates. */
const ITEMS: Partial<Record<Selection['kind'], string[]>> = {
  group: [
    'online',
    'offline',
    'switch',
    '|',
    'lock',
    'unlock',
    'clear',
    'flush',
    'probe',
    '|',
    'add-resource',
    'failover-on-failure',
    'delete-group',
  ],
  resource: ['online', 'offline', 'probe', '|', 'activate', 'delete-resource'],
}

interface Entry {
  id: string
  label: string
  why: string | null
  run(): void
}

let open: { el: HTMLElement; back: HTMLElement | null } | null = null

export function closeContextMenu(focusBack = false): void {
  if (!open) return
  const { el, back } = open
  open = null
  el.remove()
  document.removeEventListener('mousedown', outside, true)
  document.removeEventListener('keydown', onKey, true)
  if (focusBack) back?.focus()
}

/** Whether this kind of tree item has a right-click menu. */
export const hasContextMenu = (sel: Selection): boolean => sel.kind === 'node' || !!ITEMS[sel.kind]

/** Opens the menu of `sel` (already selected) at x, y; `back` gets the focus when it closes. */
export function openContextMenu(sel: Selection, x: number, y: number, back: HTMLElement | null): void {
  closeContextMenu()
  const entries: Array<Entry | '|'> =
    sel.kind === 'node'
      ? nodeWork(sel.name).map((w) => ({ id: `node-${w.verb}`, label: w.label, why: w.why, run: () => w.run() }))
      : (ITEMS[sel.kind] ?? []).map((id) => {
          if (id === '|') return '|'
          const c = COMMANDS.find((x) => x.id === id)!
          const ok = c.enabled()
          return { id, label: commandLabel(c), why: ok === true ? null : ok, run: () => runCommand(c) }
        })
  const name = 'name' in sel ? sel.name : sel.kind
  const el = h('ul', {
    class: 'menu-popup context-menu',
    role: 'menu',
    id: 'context-menu',
    'aria-label': tr('ui.ctx.label', { item: name }),
  })
  for (const e of entries) {
    if (e === '|') {
      el.append(h('li', { role: 'separator', class: 'menu-sep' }))
      continue
    }
    const li = h(
      'li',
      { role: 'menuitem', tabindex: -1, 'data-command': e.id, 'aria-disabled': e.why === null ? 'false' : 'true', title: e.why ?? '' },
      e.label,
    )
    li.addEventListener('click', (ev) => {
      ev.stopPropagation()
      closeContextMenu(true)
      if (e.why !== null) notify(tr('ui.menu.notNow', { command: e.label, why: e.why }), 'info')
      else e.run()
    })
    el.append(li)
  }
  document.body.append(el)
  // Kept inside the window: opened up or left of the pointer when there is no room below or right.
  const r = el.getBoundingClientRect()
  el.style.setProperty('position', 'fixed')
  el.style.setProperty('left', `${Math.max(0, Math.min(x, innerWidth - r.width - 4))}px`)
  el.style.setProperty('top', `${Math.max(0, y + r.height > innerHeight ? y - r.height : y)}px`)
  open = { el, back }
  document.addEventListener('mousedown', outside, true)
  document.addEventListener('keydown', onKey, true)
  el.querySelector<HTMLElement>('[role=menuitem]')?.focus()
}

function outside(e: MouseEvent): void {
  if (open && !open.el.contains(e.target as Node)) closeContextMenu()
}

function onKey(e: KeyboardEvent): void {
  if (!open) return
  const list = [...open.el.querySelectorAll<HTMLElement>('[role=menuitem]')]
  const at = list.indexOf(document.activeElement as HTMLElement)
  const stop = () => {
    e.preventDefault()
    e.stopPropagation()
  }
  if (e.key === 'Escape' || e.key === 'Tab') {
    stop()
    closeContextMenu(true)
  } else if (e.key === 'ArrowDown') {
    stop()
    list[(at + 1) % list.length]?.focus()
  } else if (e.key === 'ArrowUp') {
    stop()
    list[(at - 1 + list.length) % list.length]?.focus()
  } else if ((e.key === 'Enter' || e.key === ' ') && at >= 0) {
    stop()
    list[at]!.click()
  }
}
