// Login (manual 5.2) and the forced password change. The rules are shown as a checklist before the
// first try, each ticked live as the user types (the server checks the same list, password-rules.ts);
// a refusal shows its message under the new-password field, and "already used" likewise.
import { h, replace } from './dom.js'
import { api, ApiError, setCsrf, type Session } from './api.js'
import { tr, setLang } from './i18n.js'
import { passwordChecklist } from './password-checklist.js'

/** `notice`: why the previous session ended, shown above the form. */
export function loginScreen(root: HTMLElement, done: (s: Session) => void, notice?: string): void {
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true, value: 'mcuser' })
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })
  const err = h('p', { id: 'login-error', class: 'field-error', role: 'alert' })
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'login-submit' }, tr('ui.login.submit'))
  const form = h(
    'form',
    { class: 'login-box', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '◆'), ` ${tr('ui.login.title')}`),
    h('p', { class: 'muted' }, tr('ui.login.on', { host: location.host })),
    notice ? h('p', { id: 'login-notice', class: 'field-error', role: 'status' }, notice) : null,
    h('label', { for: 'login-user' }, tr('ui.login.user')),
    user,
    h('label', { for: 'login-password' }, tr('ui.login.password')),
    pass,
    err,
    submit,
  )
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    submit.disabled = true
    err.textContent = ''
    api.login(user.value.trim(), pass.value).then(
      (s) => {
        setCsrf(s.csrfToken)
        if (s.lang) setLang(s.lang)
        if (s.mustChangePassword) passwordScreen(root, s, pass.value, done)
        else done(s)
      },
      (e: unknown) => {
        err.textContent = e instanceof ApiError && e.status === 401 ? tr('ui.login.wrong') : (e as Error).message
        submit.disabled = false
        pass.select()
      },
    )
  })
  replace(root, h('div', { class: 'login-page' }, form))
  pass.focus()
}

/** The forced change after the first login (or after expiry); also reachable from File. */
export function passwordScreen(root: HTMLElement, s: Session, current: string, done: (s: Session) => void): void {
  const cur = h('input', { id: 'pw-current', type: 'password', autocomplete: 'current-password', value: current })
  const next = h('input', { id: 'pw-next', type: 'password', autocomplete: 'new-password', 'aria-describedby': 'pw-error' })
  const again = h('input', { id: 'pw-again', type: 'password', autocomplete: 'new-password' })
  const err = h('p', { id: 'pw-error', class: 'field-error', role: 'alert' })
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'pw-submit' }, tr('ui.pw.submit'))
  const rules = passwordChecklist(next, s.user, 'pw-rules')
  // "Change next time" (manual 5.2): only for an expired password, once; the default one must change now.
  const later = s.canPostpone ? h('button', { type: 'button', class: 'btn', id: 'pw-later' }, tr('ui.pw.later')) : null
  const why =
    s.passwordChangeReason === 'expired'
      ? tr('ui.pw.expired', { user: s.user }) + tr(s.canPostpone ? 'ui.pw.expiredCanPostpone' : 'ui.pw.expiredPostponed')
      : tr('ui.pw.required', { user: s.user })
  const form = h(
    'form',
    { class: 'login-box', 'aria-labelledby': 'pw-title' },
    h('h1', { id: 'pw-title' }, tr('ui.pw.title')),
    h('p', { class: 'muted', id: 'pw-why' }, why),
    h('label', { for: 'pw-current' }, tr('ui.pw.current')),
    cur,
    h('label', { for: 'pw-next' }, tr('ui.pw.next')),
    next,
    rules,
    h('label', { for: 'pw-again' }, tr('ui.pw.again')),
    again,
    err,
    h('div', { class: 'button-row' }, submit, later),
  )
  later?.addEventListener('click', () => {
    later.disabled = true
    api
      .postponePasswordChange()
      .then(() => api.session())
      .then(
        (fresh) => {
          setCsrf(fresh.csrfToken)
          done(fresh)
        },
        (e: unknown) => {
          err.textContent = (e as Error).message
          later.disabled = false
        },
      )
  })
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    err.textContent = ''
    if (next.value !== again.value) {
      err.textContent = tr('ui.pw.differ')
      again.focus()
      return
    }
    submit.disabled = true
    api
      .changePassword(cur.value, next.value)
      .then(() => api.session())
      .then(
        (fresh) => {
          setCsrf(fresh.csrfToken)
          done(fresh)
        },
        (e: unknown) => {
          const ae = e instanceof ApiError ? e : null
          err.textContent = ae?.code === 'MCCS_ERR_PASSWORD_REUSED' ? tr('ui.pw.reused', { message: ae.message }) : (e as Error).message
          err.dataset.code = ae?.code ?? ''
          submit.disabled = false
          next.select()
        },
      )
  })
  replace(root, h('div', { class: 'login-page' }, form))
  next.focus()
}
