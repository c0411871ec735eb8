// The password rules as a checklist under the new-password field, shown before the first try and
// ticked live as the user types: the same list the server checks (../auth/password-rules.ts).
import { h } from './dom.js'
import { tr } from './i18n.js'
import { passwordChecks, PASSWORD_RULE_IDS, SPECIALS, MAX_PASSWORD_LENGTH, type PasswordRuleId } from '../auth/password-rules.js'

/** The list element (id `id`) that follows `input`; `user` is the account's id (refused inside a password),
 *  or where to read it as it is typed (a new account's form: its `tick` then follows the id too). */
export function passwordChecklist(input: HTMLInputElement, userOf: string | (() => string), id: string): HTMLElement & { tick(): void } {
  const userNow = () => (typeof userOf === 'string' ? userOf : userOf())
  const text = (rule: PasswordRuleId) => tr(`ui.pw.rule.${rule}`, { specials: SPECIALS, user: userNow(), max: MAX_PASSWORD_LENGTH })
  const items = PASSWORD_RULE_IDS.map((rule) => h('li', { 'data-rule': rule, 'data-ok': 'false' }))
  const list = h('ul', { id, class: 'pw-rules', 'aria-live': 'polite', 'aria-label': tr('ui.pw.rules') }, ...items)
  const tick = () => {
    const c = passwordChecks(input.value, userNow())
    PASSWORD_RULE_IDS.forEach((rule, i) => {
      const li = items[i]!
      li.dataset.ok = String(c[rule])
      li.textContent = `${c[rule] ? '✔' : '✖'} ${text(rule)}`
    })
  }
  input.addEventListener('input', tick)
  tick()
  return Object.assign(list, { tick })
}
