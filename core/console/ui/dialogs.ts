// Modal dialogs and notices. A dialog traps focus, closes on Escape, and gives focus back to what had
// it. Notices (toasts) are an aria-live list at the bottom right, above the log console.
import { h, append, type Child } from './dom.js'
import { tr } from './i18n.js'

export interface DialogHandle {
  el: HTMLElement
  body: HTMLElement
  footer: HTMLElement
  close(): void
  closed: Promise<void>
}

export function dialog(title: string, o: { wide?: boolean; id?: string } = {}): DialogHandle {
  const before = document.activeElement as HTMLElement | null
  const body = h('div', { class: 'dlg-body' })
  const footer = h('div', { class: 'dlg-footer' })
  const titleId = `dlg-title-${Math.random().toString(36).slice(2, 8)}`
  const box = h(
    'div',
    {
      class: ['dlg', o.wide && 'dlg-wide'],
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': titleId,
      ...(o.id ? { id: o.id } : {}),
    },
    h(
      'div',
      { class: 'dlg-head' },
      h('h2', { id: titleId }, title),
      h('button', { class: 'dlg-x', type: 'button', 'aria-label': tr('ui.btn.close'), onclick: () => close() }, '✕'),
    ),
    body,
    footer,
  )
  const backdrop = h('div', { class: 'backdrop' }, box)
  let done!: () => void
  const closed = new Promise<void>((r) => {
    done = r
  })
  const close = () => {
    backdrop.remove()
    document.removeEventListener('keydown', onKey, true)
    before?.focus?.()
    done()
  }
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault()
      e.stopPropagation()
      close()
    }
    if (e.key === 'Tab') {
      const f = [...box.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [tabindex="0"]')].filter(
        (x) => !(x as HTMLButtonElement).disabled,
      )
      if (!f.length) return
      const first = f[0]!,
        last = f[f.length - 1]!
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault()
        last.focus()
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault()
        first.focus()
      }
    }
  }
  document.addEventListener('keydown', onKey, true)
  document.body.appendChild(backdrop)
  queueMicrotask(() => (box.querySelector<HTMLElement>('input, select, textarea, button:not(.dlg-x)') ?? box).focus())
  return { el: box, body, footer, close, closed }
}

export function button(
  label: string,
  onclick: () => void,
  o: { primary?: boolean; id?: string; disabled?: boolean } = {},
): HTMLButtonElement {
  return h(
    'button',
    { type: 'button', class: ['btn', o.primary && 'btn-primary'], onclick, ...(o.id ? { id: o.id } : {}), disabled: o.disabled },
    label,
  )
}

/** A message box: the answer to a menu item, an error, an unavailable function. */
export function message(title: string, ...content: Child[]): Promise<void> {
  const d = dialog(title)
  d.el.classList.add('dlg-message')
  append(
    d.body,
    content.map((c) => (typeof c === 'string' ? h('p', null, c) : c)),
  )
  d.footer.append(button(tr('ui.btn.ok'), () => d.close(), { primary: true }))
  return d.closed
}

export function confirm(title: string, text: string, okLabel = tr('ui.btn.ok')): Promise<boolean> {
  const d = dialog(title)
  let ok = false
  d.body.append(h('p', null, text))
  d.footer.append(
    button(tr('ui.btn.cancel'), () => d.close()),
    button(
      okLabel,
      () => {
        ok = true
        d.close()
      },
      { primary: true },
    ),
  )
  return d.closed.then(() => ok)
}

let toasts: HTMLElement | null = null
/** A notice at the bottom right. Errors stay 15 s, others 6 s; a warning stays until dismissed or replaced
 *  (`id`: a notice of the same id is replaced, so a newer answer never sits beside an outdated one). */
export function notify(text: Child, kind: 'info' | 'error' | 'ok' | 'warn' = 'info', o: { id?: string } = {}): HTMLElement | null {
  // Looked up again after a language switch builds the screen anew.
  if (!toasts?.isConnected) toasts = document.getElementById('toasts')
  if (!toasts) return null
  if (o.id) document.getElementById(o.id)?.remove()
  const t = h(
    'div',
    { class: ['toast', `toast-${kind}`], role: kind === 'error' || kind === 'warn' ? 'alert' : 'status', id: o.id },
    h('span', { 'aria-hidden': 'true' }, kind === 'error' ? '✖ ' : kind === 'ok' ? '✔ ' : kind === 'warn' ? '⚠ ' : 'ℹ '),
    h('div', { class: 'toast-text' }, text),
    h('button', { class: 'toast-x', type: 'button', 'aria-label': tr('ui.btn.dismiss'), onclick: () => t.remove() }, '✕'),
  )
  toasts.append(t)
  // At most 4 notices: the oldest passing ones go first, a warning only when nothing else is left.
  while (toasts.children.length > 4) (toasts.querySelector(':scope > :not(.toast-warn)') ?? toasts.firstElementChild)?.remove()
  if (kind !== 'warn') setTimeout(() => t.remove(), kind === 'error' ? 15_000 : 6000)
  return t
}
