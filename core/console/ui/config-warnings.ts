// The configuration warnings of a change's answer (issue 18, What 7): the same list `mccs resource add`
// etc. print (core/config/order-warnings.ts), shown as one warning notice that stays until dismissed.
// Each answer carries every warning in force, so it replaces the previous notice, and an answer with none
// removes it (the operator fixed what it said).
import { h } from './dom.js'
import { notify } from './dialogs.js'
import { api, type ConfigWarning } from './api.js'
import { loadConfig } from './store.js'
import { tr } from './i18n.js'

const ID = 'config-warnings'

/** After `what` was done: the answer's warnings, if it is a configuration change's answer. */
export function showConfigWarnings(what: string, answer: unknown): void {
  const list = (answer as { warnings?: unknown } | null | undefined)?.warnings
  if (!Array.isArray(list)) return
  const warnings = list as ConfigWarning[]
  if (!warnings.length) {
    document.getElementById(ID)?.remove()
    return
  }
  notify(
    [
      h('strong', null, warnings.length === 1 ? tr('ui.cw.savedOne', { what }) : tr('ui.cw.savedMany', { what, n: warnings.length })),
      h(
        'ul',
        null,
        warnings.map((w) => h('li', { 'data-resource': w.resource }, w.message, w.link ? [' ', linkButton(w.link)] : null)),
      ),
    ],
    'warn',
    { id: ID },
  )
}

/** The warning's fix as a button (issue 18, Acceptance 4): a newcomer read "does not depend on …" and had to
 *  find the dependency tab, whose Link button this notice then covered at 1280×800. */
function linkButton(link: { parent: string; child: string }): HTMLElement {
  const b = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-small',
      onclick: async () => {
        b.disabled = true
        try {
          const done = await api.link(link.parent, link.child)
          notify(tr('ui.dd.nowDepends', link), 'ok')
          showConfigWarnings(tr('ui.what.linked', link), done)
          await loadConfig().catch(() => {})
        } catch (e) {
          notify((e as Error).message, 'error')
          b.disabled = false
        }
      },
    },
    tr('ui.cw.link', link),
  ) as HTMLButtonElement
  return b
}
