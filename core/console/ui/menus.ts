// The menu bar (manual 5.3.1), keyboard-usable as a WAI-ARIA menubar: Alt+<letter> or Enter/↓ opens
// a menu, ↑/↓ move, ←/→ go to the next menu, Enter runs, Escape closes. A disabled item still answers
// (with the reason it is disabled) rather than doing nothing.
import { h } from './dom.js'
import { COMMANDS, commandLabel, type Menu, type Command } from './actions.js'
import { notify } from './dialogs.js'
import { tr, trOr } from './i18n.js'
import type { MessageKey } from '../../i18n/messages.js'

const MENUS: Array<{ id: Menu; labelKey: MessageKey; key: string }> = [
  { id: 'file', labelKey: 'ui.menu.file', key: 'f' },
  { id: 'edit', labelKey: 'ui.menu.edit', key: 'e' },
  { id: 'action', labelKey: 'ui.menu.action', key: 'a' },
  { id: 'window', labelKey: 'ui.menu.window', key: 'w' },
  { id: 'help', labelKey: 'ui.menu.help', key: 'h' },
]

export function runCommand(c: Command): void {
  const ok = c.enabled()
  if (ok !== true) {
    notify(tr('ui.menu.notNow', { command: commandLabel(c), why: ok }), 'info')
    return
  }
  void Promise.resolve(c.run()).catch((e: unknown) => notify(`${commandLabel(c)}: ${(e as Error).message}`, 'error'))
}

export function menuBar(): HTMLElement {
  const bar = h('nav', { class: 'menubar', role: 'menubar', 'aria-label': tr('ui.menu.main') })
  const tops: HTMLButtonElement[] = []
  let open: { index: number; popup: HTMLElement } | null = null

  const close = (focusTop = false) => {
    if (!open) return
    const i = open.index
    open.popup.remove()
    tops[i]!.setAttribute('aria-expanded', 'false')
    open = null
    if (focusTop) tops[i]!.focus()
  }
  const items = () => [...(open?.popup.querySelectorAll<HTMLElement>('[role=menuitem]') ?? [])]
  const openMenu = (index: number, focusFirst = true) => {
    close()
    const m = MENUS[index]!
    const popup = h('ul', { class: 'menu-popup', role: 'menu', 'aria-label': tr(m.labelKey), id: `menu-${m.id}` })
    for (const c of COMMANDS.filter((x) => x.menu === m.id)) {
      const ok = c.enabled()
      if (c.separatorBefore) popup.append(h('li', { role: 'separator', class: 'menu-sep' }))
      const li = h(
        'li',
        {
          role: 'menuitem',
          tabindex: -1,
          'data-command': c.id,
          'aria-disabled': ok === true ? 'false' : 'true',
          title: ok === true ? '' : ok,
        },
        h('span', { class: 'menu-icon', 'aria-hidden': 'true' }, c.icon ?? ''),
        commandLabel(c),
      )
      li.addEventListener('click', (e) => {
        e.stopPropagation()
        close(true)
        runCommand(c)
      })
      popup.append(li)
    }
    tops[index]!.after(popup)
    tops[index]!.setAttribute('aria-expanded', 'true')
    open = { index, popup }
    if (focusFirst) items()[0]?.focus()
  }
  MENUS.forEach((m, i) => {
    const b = h(
      'button',
      {
        type: 'button',
        class: 'menu-top',
        role: 'menuitem',
        'aria-haspopup': 'true',
        'aria-expanded': 'false',
        id: `menubtn-${m.id}`,
        tabindex: i === 0 ? 0 : -1,
      },
      h('u', null, tr(m.labelKey)[0]!),
      tr(m.labelKey).slice(1),
    )
    b.addEventListener('click', (e) => {
      e.stopPropagation()
      if (open?.index === i) close()
      else openMenu(i, false)
    })
    b.addEventListener('mouseenter', () => {
      if (open && open.index !== i) openMenu(i, false)
    })
    b.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' || e.key === 'Enter' || e.key === ' ') {
        e.preventDefault()
        openMenu(i)
      }
      if (e.key === 'ArrowRight') {
        e.preventDefault()
        tops[(i + 1) % tops.length]!.focus()
      }
      if (e.key === 'ArrowLeft') {
        e.preventDefault()
        tops[(i + tops.length - 1) % tops.length]!.focus()
      }
    })
    tops.push(b)
    bar.append(h('div', { class: 'menu-wrap' }, b))
  })
  bar.addEventListener('keydown', (e) => {
    if (!open) return
    const list = items()
    const at = list.indexOf(document.activeElement as HTMLElement)
    if (e.key === 'ArrowDown') {
      e.preventDefault()
      list[(at + 1) % list.length]?.focus()
    } else if (e.key === 'ArrowUp') {
      e.preventDefault()
      list[(at - 1 + list.length) % list.length]?.focus()
    } else if (e.key === 'ArrowRight') {
      e.preventDefault()
      openMenu((open.index + 1) % MENUS.length)
    } else if (e.key === 'ArrowLeft') {
      e.preventDefault()
      openMenu((open.index + MENUS.length - 1) % MENUS.length)
    } else if (e.key === 'Escape') {
      e.preventDefault()
      close(true)
    } else if (e.key === 'Tab') close()
    else if ((e.key === 'Enter' || e.key === ' ') && at >= 0) {
      e.preventDefault()
      list[at]!.click()
    } else if (e.key === 'Home') {
      e.preventDefault()
      list[0]?.focus()
    } else if (e.key === 'End') {
      e.preventDefault()
      list.at(-1)?.focus()
    }
  })
  document.addEventListener('click', () => close())
  document.addEventListener('keydown', (e) => {
    if (!e.altKey || e.ctrlKey || e.metaKey) return
    const i = MENUS.findIndex((m) => m.key === e.key.toLowerCase())
    if (i >= 0) {
      e.preventDefault()
      openMenu(i)
    }
  })
  return bar
}

export function toolbar(ids: string[]): { el: HTMLElement; update(): void } {
  const el = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': tr('ui.tb.aria') })
  const buttons: Array<{ c: Command; b: HTMLButtonElement }> = []
  for (const id of ids) {
    if (id === '|') {
      el.append(h('span', { class: 'tb-sep', role: 'separator' }))
      continue
    }
    const c = COMMANDS.find((x) => x.id === id)!
    const b = h(
      'button',
      { type: 'button', class: 'tb-btn', id: `tb-${c.id}`, 'data-command': c.id },
      h('span', { class: 'tb-icon', 'aria-hidden': 'true' }, c.icon ?? ''),
      h('span', { class: 'tb-label' }, shortLabel(c)),
    )
    b.addEventListener('click', () => runCommand(c))
    buttons.push({ c, b })
    el.append(b)
  }
  // Roving arrow keys inside the toolbar.
  el.addEventListener('keydown', (e) => {
    const list = buttons.map((x) => x.b).filter((b) => !b.disabled)
    const at = list.indexOf(document.activeElement as HTMLButtonElement)
    if (e.key === 'ArrowRight') {
      e.preventDefault()
      list[(at + 1) % list.length]?.focus()
    }
    if (e.key === 'ArrowLeft') {
      e.preventDefault()
      list[(at - 1 + list.length) % list.length]?.focus()
    }
  })
  const update = () => {
    for (const { c, b } of buttons) {
      const ok = c.enabled()
      b.disabled = ok !== true
      b.title = ok === true ? commandLabel(c) : `${commandLabel(c)}: ${ok}`
    }
  }
  return { el, update }
}

/** The toolbar's short word for a command (ui.tb.<id>), else the command's label. */
function shortLabel(c: Command): string {
  return trOr(`ui.tb.${c.id}`, commandLabel(c))
}
