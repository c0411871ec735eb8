// File → Users (administrators): the console accounts of the cluster, one store for every node. Add a
// user (the password checklist follows the id typed, which may not be inside the password) and delete
// one with one confirmation; one's own account and the last administrator cannot be deleted (the button
// says why). File → Log out everywhere ends every session of the user on every node.
import { h, replace } from './dom.js'
import { api, ApiError, type UserEntry } from './api.js'
import { dialog, button, confirm, notify } from './dialogs.js'
import { passwordChecklist } from './password-checklist.js'
import { state } from './store.js'
import { tr, fmtTime } from './i18n.js'

export function usersDialog(): void {
  const d = dialog(tr('ui.users.title'), { id: 'users', wide: true })
  const list = h('div', { id: 'users-list' })
  const load = async () => {
    try {
      draw((await api.users()).users)
    } catch (e) {
      replace(list, h('p', { class: 'field-error' }, errorText(e)))
    }
  }
  const draw = (users: UserEntry[]) => {
    const admins = users.filter((u) => u.role === 'admin').length
    replace(
      list,
      h(
        'table',
        { class: 'grid' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', null, tr('ui.users.user')),
            h('th', null, tr('ui.users.role')),
            h('th', null, tr('ui.users.changed')),
            h('th'),
          ),
        ),
        h(
          'tbody',
          null,
          users.map((u) => {
            const why = u.self ? tr('ui.users.selfDelete') : u.role === 'admin' && admins <= 1 ? tr('ui.users.lastAdmin') : ''
            return h(
              'tr',
              { 'data-user': u.user },
              h('td', null, u.user, u.self ? ` ${tr('ui.users.you')}` : ''),
              h('td', { class: 'user-role' }, tr(u.role === 'admin' ? 'ui.users.role.admin' : 'ui.users.role.operator')),
              h('td', null, u.changedAt ? fmtTime(u.changedAt) : tr('ui.users.never')),
              h(
                'td',
                null,
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'btn user-del',
                    'data-user': u.user,
                    disabled: !!why,
                    title: why,
                    onclick: () => void remove(u.user),
                  },
                  tr('ui.btn.delete'),
                ),
              ),
            )
          }),
        ),
      ),
    )
  }
  const remove = async (user: string) => {
    if (!(await confirm(tr('ui.users.what.delete', { user }), tr('ui.users.deleteConfirm', { user }), tr('ui.btn.delete')))) return
    try {
      await api.deleteUser(user)
      notify(tr('ui.users.deleted', { user }), 'ok')
    } catch (e) {
      notify(`${tr('ui.users.what.delete', { user })}: ${errorText(e)}`, 'error')
    }
    await load()
  }

  // The new account's form.
  const id = h('input', { id: 'user-new-id', autocomplete: 'off', maxlength: 64 })
  const role = h(
    'select',
    { id: 'user-new-role' },
    h('option', { value: 'operator' }, tr('ui.users.role.operator')),
    h('option', { value: 'admin' }, tr('ui.users.role.admin')),
  )
  const pw = h('input', { id: 'user-new-password', type: 'password', autocomplete: 'new-password', 'aria-describedby': 'user-error' })
  const again = h('input', { id: 'user-new-again', type: 'password', autocomplete: 'new-password' })
  const err = h('div', { class: 'field-error', id: 'user-error', role: 'alert' })
  const rules = passwordChecklist(pw, () => id.value.trim(), 'user-rules')
  id.addEventListener('input', () => rules.tick())
  const add = async () => {
    err.textContent = ''
    delete err.dataset.field
    if (pw.value !== again.value) {
      err.textContent = tr('ui.pw.differ')
      return
    }
    const user = id.value.trim()
    const r = role.value === 'admin' ? 'admin' : 'operator'
    try {
      await api.addUser(user, pw.value, r)
      notify(tr('ui.users.added', { user, role: tr(r === 'admin' ? 'ui.users.role.admin' : 'ui.users.role.operator') }), 'ok')
      id.value = pw.value = again.value = ''
      rules.tick()
      await load()
    } catch (e) {
      if (e instanceof ApiError && e.field) err.dataset.field = e.field
      err.textContent = errorText(e)
    }
  }
  d.body.append(
    list,
    h(
      'fieldset',
      { class: 'user-add' },
      h('legend', null, tr('ui.users.add')),
      h('label', { for: 'user-new-id' }, tr('ui.users.user')),
      id,
      h('label', { for: 'user-new-role' }, tr('ui.users.role')),
      role,
      h('label', { for: 'user-new-password' }, tr('ui.users.password')),
      pw,
      rules,
      h('label', { for: 'user-new-again' }, tr('ui.users.again')),
      again,
      err,
      h(
        'div',
        null,
        button(tr('ui.btn.add'), () => void add(), { primary: true, id: 'user-add-submit' }),
      ),
    ),
  )
  d.footer.append(button(tr('ui.btn.close'), () => d.close()))
  void load()
}

/** File → Log out everywhere: after one confirmation, every session of this user on every node ends. */
export async function logoutEverywhere(): Promise<void> {
  const user = state.session?.user ?? ''
  if (!(await confirm(tr('ui.cmd.logout-everywhere'), tr('ui.logoutEverywhere.confirm', { user }), tr('ui.btn.ok')))) return
  // This window's stream ends with sessionEnded (logoutEverywhere) and main.ts shows the login with it.
  await api.logoutEverywhere()
}

function errorText(e: unknown): string {
  return e instanceof ApiError ? `${e.message}${e.field ? ` [${e.field}]` : ''}` : (e as Error).message
}
