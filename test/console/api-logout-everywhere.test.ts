// "Log out everywhere" at the API (issue 18, What 4): every session of the user ends, the caller's
// too, and it is recorded in the accounts document (so other nodes end theirs, accounts-lab.test.ts).
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { harness, Client, readyClient, FIRST } from './api-helpers.js'

t.test('logout everywhere ends every session of the user and is kept in accounts.json', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const a = await readyClient(h)
  const b = new Client(h)
  t.equal((await b.login('mcuser', FIRST)).status, 200)
  const ended: string[] = []
  h.deps.sessions.onEnded((_s, reason) => ended.push(reason))
  t.equal((await a.req('POST', '/api/logout/everywhere')).status, 204)
  t.equal((await a.req('GET', '/api/status')).status, 401, "the caller's session is gone")
  t.equal((await b.req('GET', '/api/status')).status, 401, 'the other session is gone')
  t.same(ended, ['logoutEverywhere', 'logoutEverywhere'], 'both streams are told why')
  const doc = JSON.parse(await readFile(h.settings.accountsFile, 'utf8'))
  t.match(doc.users.mcuser.sessionsEndedAt, /^\d{4}-\d\d-\d\dT/, 'recorded in the replicated document')
  t.equal((await b.login('mcuser', FIRST)).status, 200, 'logging in again works')
  t.equal(
    (await b.req('POST', '/api/logout/everywhere', undefined, { csrf: null })).status,
    403,
    'a request without the CSRF token changes nothing',
  )
})
