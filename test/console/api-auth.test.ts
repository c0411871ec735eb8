// Console accounts and sessions through the HTTP API: forced first change, password rules, no reuse,
// expiry with one postponement, login rate limit, forged/expired sessions, CSRF, logout.
import t from 'tap'
import { readFile, stat } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { harness, Client, readyClient, FIRST, SECOND } from './api-helpers.js'
import { PASSWORD_RULE } from '../../core/console/auth/password-rules.js'

const DAY = 86_400_000

t.test('first login forces a password change; weak passwords are refused with the rule; no reuse', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = new Client(h)
  const bad = await c.login('mcuser', 'wrong')
  t.equal(bad.status, 401)
  t.equal(bad.body.error.code, 'MCCS_ERR_LOGIN_FAILED')

  const r = await c.login('mcuser', 'mccs')
  t.equal(r.status, 200)
  t.equal(r.body.mustChangePassword, true)
  t.equal(r.body.passwordChangeReason, 'initial')
  t.equal(r.body.canPostpone, false, 'the default password cannot be postponed')
  t.match(r.headers['strict-transport-security'], /max-age=\d+/)
  const cookie = [r.headers['set-cookie']].flat().find((x) => String(x).startsWith('mccs_session='))!
  t.match(cookie, /HttpOnly/i)
  t.match(cookie, /Secure/i)
  t.match(cookie, /SameSite=Strict/i)
  t.match(cookie, /Path=\//)
  t.match(c.cookie, /^[A-Za-z0-9_-]{43}$/, 'a 256-bit id')

  const blocked = await c.req('GET', '/api/status')
  t.equal(blocked.status, 403)
  t.equal(blocked.body.error.code, 'MCCS_ERR_PASSWORD_CHANGE_REQUIRED')
  t.equal((await c.req('POST', '/api/groups', { name: 'x', nodes: ['n1'] })).body.error.code, 'MCCS_ERR_PASSWORD_CHANGE_REQUIRED')
  t.equal((await c.req('GET', '/api/session')).status, 200, 'the session route answers while a change is due')
  t.equal((await c.req('POST', '/api/password/postpone')).status, 409, 'no postponing the default password')

  for (const weak of ['short1!a', 'abcdefghijk1', 'abcdefghijkl1', 'ABCDEFGHIJKL1!', 'abcdefghijkl!!', 'abcdefghijklmnopq']) {
    const w = await c.req('POST', '/api/password', { current: 'mccs', next: weak })
    t.equal(w.status, 400, `refused: ${weak}`)
    t.equal(w.body.error.code, 'MCCS_ERR_PASSWORD_RULE')
    t.equal(w.body.error.field, '/next')
    t.match(w.body.error.message, PASSWORD_RULE, 'the broken rule, then the whole rule, is shown')
  }
  const wrongCurrent = await c.req('POST', '/api/password', { current: 'nope', next: FIRST })
  t.equal(wrongCurrent.status, 400)
  t.equal(wrongCurrent.body.error.field, '/current')

  t.equal(
    (await c.req('POST', '/api/password', { current: 'mccs', next: 'abcdefgh1!xy' })).status,
    204,
    '12 characters with lower, digit, special',
  )
  t.equal((await c.req('GET', '/api/status')).status, 200, 'the API answers after the change')
  t.equal(
    (await c.req('POST', '/api/password', { current: 'abcdefgh1!xy', next: 'abcdefghijklm1' })).status,
    204,
    '14 characters with lower and digit',
  )
  t.equal((await c.req('POST', '/api/password', { current: 'abcdefghijklm1', next: SECOND })).status, 204)
  for (const earlier of ['abcdefgh1!xy', 'abcdefghijklm1', SECOND]) {
    const again = await c.req('POST', '/api/password', { current: SECOND, next: earlier })
    t.equal(again.status, 400, 'an earlier password is refused')
    t.equal(again.body.error.code, 'MCCS_ERR_PASSWORD_REUSED')
    t.equal(again.body.error.field, '/next')
  }

  // The file: 0600, hashes only (current + every earlier one), no password text.
  const st = await stat(h.settings.accountsFile)
  t.equal(st.mode & 0o777, 0o600)
  const text = await readFile(h.settings.accountsFile, 'utf8')
  for (const pw of ['abcdefgh1!xy', 'abcdefghijklm1', SECOND]) t.notOk(text.includes(pw), 'no password in accounts.json')
  t.equal(JSON.parse(text).users.mcuser.previous.length, 3, 'the default and two earlier hashes kept')
  h.ta.agent.log.flush()
  const log = await readFile(h.settings.logFile, 'utf8')
  t.match(log, /console password changed/)
  for (const pw of ['mccs"', 'abcdefgh1!xy', SECOND, 'scrypt$']) t.notOk(log.includes(pw), `the log does not hold ${pw}`)
})

t.test('a password expires after 90 days; "change next time" postpones once', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  h.advance(89 * DAY)
  t.equal((await c.login('mcuser', FIRST)).body.mustChangePassword, false, 'not yet at 89 days')
  h.advance(2 * DAY)
  const s = await c.login('mcuser', FIRST)
  t.equal(s.body.mustChangePassword, true, 'due at 91 days')
  t.equal(s.body.passwordChangeReason, 'expired')
  t.equal(s.body.canPostpone, true)
  t.equal((await c.req('GET', '/api/status')).body.error.code, 'MCCS_ERR_PASSWORD_CHANGE_REQUIRED')
  t.equal((await c.req('POST', '/api/password/postpone')).status, 204)
  t.equal((await c.req('GET', '/api/status')).status, 200, 'postponed: the API answers')
  h.advance(91 * DAY)
  const again = await c.login('mcuser', FIRST)
  t.equal(again.body.mustChangePassword, true, 'due again 90 days after postponing')
  t.equal(again.body.canPostpone, false, 'only once')
  const p = await c.req('POST', '/api/password/postpone')
  t.equal(p.status, 409)
  t.equal((await c.req('POST', '/api/password', { current: FIRST, next: SECOND })).status, 204)
  t.equal((await c.req('GET', '/api/status')).status, 200)
})

t.test('login rate limit: 5 failures per user and address in 5 minutes, then 429 with Retry-After', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  await readyClient(h) // the shipped password logs in from loopback only (api-hardening.test.ts)
  const c = new Client(h, '10.0.0.7')
  for (let i = 0; i < 5; i++) t.equal((await c.login('mcuser', `guess${i}`)).status, 401)
  const limited = await c.login('mcuser', FIRST)
  t.equal(limited.status, 429, 'even the right password is refused now')
  t.equal(limited.body.error.code, 'MCCS_ERR_RATE_LIMITED')
  t.ok(
    Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 300,
    `Retry-After ${limited.headers['retry-after']}`,
  )
  t.equal((await new Client(h, '10.0.0.8').login('mcuser', FIRST)).status, 200, 'another address is not blocked')
  h.advance(5 * 60_000 + 1000)
  t.equal((await c.login('mcuser', FIRST)).status, 200, 'allowed again after the window')
})

t.test('forged, expired and ended sessions are refused; CSRF token required on changes', async (t) => {
  const h = await harness({ settings: { session: { idleMs: 10 * 60_000, absoluteMs: 60 * 60_000 } } })
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  t.equal((await c.req('GET', '/api/status')).status, 200)

  for (const forged of [
    randomBytes(32).toString('base64url'),
    'x',
    c.cookie!.slice(0, -1) + (c.cookie!.endsWith('A') ? 'B' : 'A'),
    '../../etc',
  ]) {
    const r = await c.req('GET', '/api/status', undefined, { cookie: forged })
    t.equal(r.status, 401, `forged id refused: ${forged}`)
    t.equal(r.body.error.code, 'MCCS_ERR_UNAUTHENTICATED')
  }
  t.equal((await c.req('GET', '/api/status', undefined, { cookie: null })).status, 401, 'no cookie')

  // CSRF
  const noToken = await c.req('POST', '/api/monitor-all', {}, { csrf: null })
  t.equal(noToken.status, 403)
  t.equal(noToken.body.error.code, 'MCCS_ERR_CSRF')
  t.equal(
    (await c.req('POST', '/api/monitor-all', {}, { csrf: c.csrf!.replace(/.$/, (x) => (x === 'a' ? 'b' : 'a')) })).body.error.code,
    'MCCS_ERR_CSRF',
    'wrong token',
  )
  const other = await readyClient(h, SECOND).catch(() => undefined)
  t.equal(other, undefined, 'the default password no longer logs in')
  const c2 = new Client(h)
  await c2.login('mcuser', FIRST)
  t.equal((await c.req('POST', '/api/monitor-all', {}, { csrf: c2.csrf! })).body.error.code, 'MCCS_ERR_CSRF', "another session's token")
  t.equal((await c.req('POST', '/api/monitor-all', {})).status, 200, 'the right token')

  // Idle expiry: requests keep a session alive; 10 minutes of silence end it.
  h.advance(9 * 60_000)
  t.equal((await c.req('GET', '/api/status')).status, 200)
  h.advance(9 * 60_000)
  t.equal((await c.req('GET', '/api/status')).status, 200, 'idle timer restarted by the last request')
  h.advance(10 * 60_000 + 1)
  t.equal((await c.req('GET', '/api/status')).status, 401, 'idle-expired')
  t.equal((await c.req('GET', '/api/session')).status, 401, 'and gone')

  // Absolute expiry: even a busy session ends 60 minutes after login.
  await c.login('mcuser', FIRST)
  for (let i = 0; i < 6; i++) {
    h.advance(9 * 60_000)
    t.equal((await c.req('GET', '/api/session')).status, 200)
  }
  h.advance(7 * 60_000)
  t.equal((await c.req('GET', '/api/session')).status, 401, 'absolute expiry')

  // Logout ends the session on the server, not just the cookie.
  await c.login('mcuser', FIRST)
  const id = c.cookie
  const out = await c.req('POST', '/api/logout')
  t.equal(out.status, 204)
  t.match(String([out.headers['set-cookie']].flat()[0]), /mccs_session=;/)
  t.equal((await c.req('GET', '/api/status', undefined, { cookie: id! })).status, 401)
})

t.test('a password change ends the other sessions of the user', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const a = await readyClient(h)
  const b = new Client(h)
  await b.login('mcuser', FIRST)
  t.equal((await b.req('GET', '/api/status')).status, 200)
  t.equal((await a.req('POST', '/api/password', { current: FIRST, next: SECOND })).status, 204)
  t.equal((await a.req('GET', '/api/status')).status, 200, 'the changing session stays')
  t.equal((await b.req('GET', '/api/status')).status, 401, 'the other one ends')
})

t.test('sessions survive an agent restart (the console rebuilt on the same files); a logout is kept too', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const second = new Client(h)
  t.equal((await second.login('mcuser', FIRST)).status, 200)
  await h.app.close() // writes what is pending
  const st = await stat(h.settings.sessionsFile)
  t.equal(st.mode & 0o777, 0o600, 'the sessions file is private')
  const text = await readFile(h.settings.sessionsFile, 'utf8')
  t.notOk(text.includes(c.cookie!) || text.includes(second.cookie!), 'no session id is stored, only its hash')

  // "Restart": a new console on the same agent files.
  const { buildConsole } = await import('../../core/console/server.js')
  const again = await buildConsole(h.ta.agent, h.settings)
  const c2 = Object.assign(new Client(again), { cookie: c.cookie, csrf: c.csrf })
  t.equal((await c2.req('GET', '/api/status')).status, 200, 'the session from before the restart still works')
  t.equal((await c2.req('POST', '/api/logout')).status, 204)
  await again.app.close()
  const third = await buildConsole(h.ta.agent, h.settings)
  t.teardown(() => third.app.close())
  const c3 = Object.assign(new Client(third), { cookie: c.cookie, csrf: c.csrf })
  t.equal((await c3.req('GET', '/api/status')).status, 401, 'a logout before the restart stays a logout')
  const s3 = Object.assign(new Client(third), { cookie: second.cookie, csrf: second.csrf })
  t.equal((await s3.req('GET', '/api/status')).status, 200, 'the other session is still there')
})
