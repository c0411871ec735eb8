// Planned work on a node (as `mccs node <verb>`): standby moves its groups off, maintenance leaves what runs
// there as it is. One list for the node's detail buttons and its right-click menu: each verb enabled by the
// node's state, or the reason it is not.
import { api } from './api.js'
import { state } from './store.js'
import { report } from './actions.js'
import { h } from './dom.js'
import { button, dialog, message } from './dialogs.js'
import { stateWord } from './states.js'
import { tr } from './i18n.js'

export interface NodeWork {
  verb: 'standby' | 'unstandby' | 'maintenance' | 'unmaintenance' | 'rename'
  label: string
  /** null: allowed now; else why not. */
  why: string | null
  run(): void
}

/** The node's membership as the status says it ('unknown' when the node is not in it). */
export const membershipOf = (n: string): string => state.status?.nodes.find((x) => x.name === n)?.membership ?? 'unknown'

export function nodeWork(n: string, membership = membershipOf(n)): NodeWork[] {
  const maint = membership.startsWith('maintenance')
  const item = (verb: NodeWork['verb'], label: string, what: string, why: string | null): NodeWork => ({
    verb,
    label,
    why,
    run: () => void report(`${what} ${n}`, api.nodeAction(n, verb)),
  })
  return [
    item(
      'standby',
      tr('ui.work.standby'),
      'standby',
      membership === 'standby'
        ? tr('ui.work.alreadyStandby')
        : maint
          ? tr('ui.work.inMaintenance')
          : membership === 'up'
            ? null
            : tr('ui.work.nodeIs', { state: stateWord(membership) }),
    ),
    item('unstandby', tr('ui.work.unstandby'), 'end standby of', membership === 'standby' ? null : tr('ui.work.notStandby')),
    item('maintenance', tr('ui.work.maintenance'), 'maintenance of', maint ? tr('ui.work.alreadyMaintenance') : null),
    item('unmaintenance', tr('ui.work.unmaintenance'), 'end maintenance of', maint ? null : tr('ui.work.notMaintenance')),
    {
      // Issue 16: a node is renamed only while stopped (the agent refuses a running one with the same reason).
      verb: 'rename',
      label: tr('ui.cmd.rename-node'),
      why:
        n === state.status?.node || membership === 'up' || membership === 'member' || membership === 'standby' || maint
          ? tr('ui.rename.stopFirst', { node: n })
          : null,
      run: () => renameNodeDialog(n),
    },
  ]
}

/** Rename node: the new name, then (done) the one command to run on the node's host. */
function renameNodeDialog(n: string): void {
  const d = dialog(tr('ui.rename.title', { node: n }), { id: 'rename-node' })
  const input = h('input', { id: 'rename-new', maxlength: 64, pattern: '[A-Za-z][A-Za-z0-9_.\\-]{0,63}', autocomplete: 'off' })
  d.body.append(h('label', { for: 'rename-new' }, tr('ui.rename.new')), input, h('p', { class: 'muted' }, tr('ui.rename.help')))
  d.footer.append(
    button(tr('ui.btn.cancel'), () => d.close()),
    button(
      tr('ui.btn.rename'),
      async () => {
        const name = input.value.trim()
        if (await report(tr('ui.what.renameNode', { node: n }), api.renameNode(n, name))) {
          d.close()
          void message(tr('ui.rename.done', { node: n, name }), tr('ui.rename.host', { node: n, name }))
        }
      },
      { primary: true, id: 'rename-save' },
    ),
  )
  input.focus()
}
