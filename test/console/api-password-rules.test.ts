// The password rules at the API (issue 18, What 4): the user id inside a password is refused with 400
// naming the field and the broken rule, and nothing changes (the old password still logs in, the
// accounts file is untouched); each rule is named on its own.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { harness, Client, readyClient, FIRST } from './api-helpers.js'
import { passwordChecks, brokenPasswordRule } from '../../core/console/auth/password-rules.js'

t.test('a password containing the user id is refused: 400, field /next, the rule named, nothing changed', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const before = await readFile(h.settings.accountsFile, 'utf8')
  for (const next of ['mcuser-pass1!ok', 'xxMCUSERxx12345', 'abc1mcuser.def9']) {
    const r = await c.req('POST', '/api/password', { current: FIRST, next })
    t.equal(r.status, 400, `refused: ${next}`)
    t.equal(r.body.error.code, 'MCCS_ERR_PASSWORD_RULE')
    t.equal(r.body.error.field, '/next')
    t.match(r.body.error.message, /must not contain the user id/, 'the broken rule is named')
  }
  t.equal(await readFile(h.settings.accountsFile, 'utf8'), before, 'the accounts file is unchanged')
  const again = new Client(h)
  t.equal((await again.login('mcuser', FIRST)).status, 200, 'the old password still logs in')
  t.equal((await again.login('mcuser', 'mcuser-pass1!ok')).status, 401, 'the refused one does not')
})

t.test('each rule is named on its own when it is the one broken', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const cases: Array<[string, RegExp]> = [
    ['ABCDEFGHIJKL1!', /lowercase letter/],
    ['abcdefghijkl!!', /digit/],
    ['abcdefgh1xyz', /at least 12 characters with one of/],
    ['a1'.repeat(129), /256 characters/],
  ]
  for (const [next, rule] of cases) {
    const r = await c.req('POST', '/api/password', { current: FIRST, next })
    t.equal(r.status, 400, `refused: ${next.slice(0, 20)}`)
    t.equal(r.body.error.field, '/next')
    t.match(r.body.error.message, rule)
  }
  t.equal((await c.req('POST', '/api/password', { current: FIRST, next: 'second-pass2!ok' })).status, 204, 'a good one is taken')
})

t.test('the checklist the console shows is the same list the server checks', async (t) => {
  t.same(passwordChecks('', 'mcuser'), { lower: false, digit: false, length: false, noUser: true, max: true })
  t.same(passwordChecks('xmcuser12345!', 'mcuser'), { lower: true, digit: true, length: true, noUser: false, max: true })
  t.equal(brokenPasswordRule('first-pass1!ok', 'mcuser'), null)
  t.equal(brokenPasswordRule('first-pass1!ok', 'pass'), 'noUser')
})
