// Console accounts added and deleted by an administrator (issue 18, What 4) at the API: the body checked
// field by field (400 naming the field, nothing written), the password rules with the new id refused
// inside the password, an operator refused, one's own account and the last administrator kept, a
// deleted user's sessions ended with `userDeleted`; and an idle session that expires ends with `expired`.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { harness, Client, readyClient } from './api-helpers.js'
import { SessionStore } from '../../core/console/auth/sessions.js'

const GOOD = 'wonder-Land7!x'

t.test('an administrator adds and deletes accounts; the body is checked field by field', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const admin = await readyClient(h)
  const before = await readFile(h.settings.accountsFile, 'utf8')

  const refused: Array<[unknown, number, string, string]> = [
    [{ user: 'alice', password: 'xalice-Pass1!ok' }, 400, 'MCCS_ERR_PASSWORD_RULE', '/password'],
    [{ user: 'alice', password: 'short1!' }, 400, 'MCCS_ERR_PASSWORD_RULE', '/password'],
    [{ user: 'al ice', password: GOOD }, 400, 'MCCS_ERR_INVALID', '/user'],
    [{ user: 'x'.repeat(65), password: GOOD }, 400, 'MCCS_ERR_INVALID', '/user'],
    [{ user: 'alice' }, 400, 'MCCS_ERR_INVALID', '/password'],
    [{ user: 'alice', password: GOOD, role: 'root' }, 400, 'MCCS_ERR_INVALID', '/role'],
    [{ user: 'alice', password: GOOD, extra: 1 }, 400, 'MCCS_ERR_INVALID', '/extra'],
    [{ user: 'mcuser', password: 'other-Pass1!ok' }, 409, 'MCCS_ERR_CONFLICT', '/user'],
  ]
  for (const [body, status, code, field] of refused) {
    const r = await admin.req('POST', '/api/users', body)
    t.equal(r.status, status, `${JSON.stringify(body).slice(0, 60)}: ${status}`)
    t.equal(r.body?.error?.code, code)
    t.match(r.body?.error?.field ?? '', field, `names ${field}`)
  }
  t.match(
    (await admin.req('POST', '/api/users', { user: 'alice', password: 'xALICE-pass1!ok' })).body.error.message,
    /user id/,
    'the id in any case',
  )
  t.equal(await readFile(h.settings.accountsFile, 'utf8'), before, 'nothing written by a refusal')
  const big = await admin.req('POST', '/api/users', { user: 'alice', password: 'a'.repeat(5000) })
  t.equal(big.status, 413, 'a body over 4 KiB is refused before it is read')

  t.equal((await admin.req('POST', '/api/users', { user: 'alice', password: GOOD })).status, 201, 'added (operator by default)')
  t.equal((await admin.req('POST', '/api/users', { user: 'bob', password: 'builder-Pass1!x', role: 'admin' })).status, 201)
  const list = await admin.req('GET', '/api/users')
  t.same(
    list.body.users.map((u: { user: string; role: string; self: boolean }) => [u.user, u.role, u.self]),
    [
      ['alice', 'operator', false],
      ['bob', 'admin', false],
      ['mcuser', 'admin', true],
    ],
  )
  const doc = JSON.parse(await readFile(h.settings.accountsFile, 'utf8'))
  t.match(doc.users.alice.hash, /^scrypt\$/, 'only a hash is stored')
  t.notMatch(JSON.stringify(doc), /wonder-Land/, 'never the password')

  // The operator logs in, and may not manage accounts.
  const alice = new Client(h)
  const la = await alice.login('alice', GOOD)
  t.equal(la.status, 200)
  t.equal(la.body.admin, false, 'the session says the user is no administrator')
  t.equal(la.body.mustChangePassword, false, 'no forced change (that is the shipped default only)')
  t.equal((await alice.req('GET', '/api/users')).status, 403)
  const forbidden = await alice.req('POST', '/api/users', { user: 'eve', password: 'intrude-Pass1!x' })
  t.equal(forbidden.status, 403)
  t.equal(forbidden.body.error.code, 'MCCS_ERR_FORBIDDEN')
  t.equal((await alice.req('DELETE', '/api/users/bob')).status, 403, 'an operator cannot delete')

  // Oneself and the last administrator are kept.
  const self = await admin.req('DELETE', '/api/users/mcuser')
  t.equal(self.status, 409)
  t.equal(self.body.error.field, '/user')
  t.match(self.body.error.message, /logged in with/)
  t.equal((await admin.req('DELETE', '/api/users/nobody')).status, 404)
  const bobC = new Client(h)
  t.equal((await bobC.login('bob', 'builder-Pass1!x')).status, 200)
  t.equal((await bobC.req('DELETE', '/api/users/mcuser')).status, 204, 'another administrator may delete mcuser')
  t.equal((await admin.req('GET', '/api/status')).status, 401, "the deleted user's session is over")
  const last = await bobC.req('POST', '/api/users', { user: 'carol', password: 'singer-Pass1!x', role: 'operator' })
  t.equal(last.status, 201)
  const carol = new Client(h)
  await carol.login('carol', 'singer-Pass1!x')
  t.equal((await bobC.req('DELETE', '/api/users/bob')).status, 409, 'bob, now the last administrator, cannot delete himself')

  // A deleted user's sessions end with the reason userDeleted.
  const ended: Array<[string, string]> = []
  h.deps.sessions.onEnded((s, reason) => ended.push([s.user, reason]))
  t.equal((await bobC.req('DELETE', '/api/users/alice')).status, 204)
  t.same(ended, [['alice', 'userDeleted']], "alice's session is told why")
  t.equal((await alice.req('GET', '/api/status')).status, 401)
  t.equal((await alice.login('alice', GOOD)).status, 401, 'and she cannot log in again')

  const ops = await readFile(h.settings.oplogFile, 'utf8')
  t.match(ops, /"command":"userAdd"[^\n]*"target":"alice"[^\n]*"result":"done"/, 'additions are in the operation log')
  t.match(ops, /"command":"userDelete"[^\n]*"target":"alice"[^\n]*"result":"done"/, 'deletions too')
  t.match(ops, /"command":"userAdd"[^\n]*"result":"rejected"/, 'refusals too')
  t.notMatch(ops, /Pass1|Land7/, 'no password in it')
})

t.test('an idle session that expires is ended with the reason expired, without any request', async (t) => {
  let now = 1_000_000
  const store = new SessionStore({ idleMs: 30_000, absoluteMs: 3_600_000, now: () => now })
  t.teardown(() => store.close())
  const ended: string[] = []
  store.onEnded((s, reason) => ended.push(`${s.user}:${reason}`))
  const { id } = store.create('mcuser', '127.0.0.1')
  store.watchExpiry(20)
  now += 29_000
  await new Promise((r) => setTimeout(r, 60))
  t.same(ended, [], 'not before its time')
  now += 2_000
  await new Promise((r) => setTimeout(r, 60))
  t.same(ended, ['mcuser:expired'], 'ended as it expires, saying why')
  t.equal(store.touch(id), undefined, 'and gone')
})
