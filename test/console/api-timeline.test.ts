// GET /api/timeline on a real agent: no session, no timeline (401); each bad query parameter is refused
// with 400 naming it; a group's answer is its story in order with the very explanation `mccs explain`
// prints; the cluster's answer explains every group; since and limit cut what is returned.
import t from 'tap'
import { harness, Client, readyClient } from './api-helpers.js'
import { explainCommand } from '../../core/cli/explain-cmd.js'

t.test('without a session: 401, nothing of the timeline', async (t) => {
  const h = await harness({ groups: true })
  t.teardown(() => h.cleanup())
  const anon = new Client(h)
  for (const cookie of [null, 'A'.repeat(43)]) {
    for (const url of ['/api/timeline', '/api/timeline?group=g', '/api/timeline?group=1bad&limit=0']) {
      const r = await anon.req('GET', url, undefined, { cookie, csrf: null })
      t.equal(r.status, 401, `${url} ${cookie ? 'forged cookie' : 'anonymous'} -> 401`)
      t.equal(r.body.error.code, 'MCCS_ERR_UNAUTHENTICATED')
      t.notOk('entries' in r.body || 'explanation' in r.body, 'no timeline in the answer')
    }
  }
  // A session that must still change its password gets nothing either.
  const pending = new Client(h)
  t.equal((await pending.login('mcuser', 'mccs')).status, 200)
  const r = await pending.req('GET', '/api/timeline?group=g')
  t.equal(r.status, 403)
  t.equal(r.body.error.code, 'MCCS_ERR_PASSWORD_CHANGE_REQUIRED')
})

t.test('bad query input: 400 naming the field, unknown group 404 naming it', async (t) => {
  const h = await harness({ groups: true })
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const cases: Array<[string, string, RegExp]> = [
    ['/api/timeline?group=1bad', '/query/group', /not a valid name/],
    ['/api/timeline?group=' + 'a'.repeat(65), '/query/group', /not a valid name/],
    ['/api/timeline?group=g&since=yesterday', '/query/since', /'yesterday' is neither an age/],
    ['/api/timeline?since=12x', '/query/since', /neither an age/],
    ['/api/timeline?since=', '/query/since', /fewer than 1|at least 1|too short|NOT have fewer/i],
    ['/api/timeline?limit=0', '/query/limit', /1/],
    ['/api/timeline?limit=lots', '/query/limit', /integer/],
    ['/api/timeline?limit=5001', '/query/limit', /5000/],
    ['/api/timeline?colour=red', '/query/colour', /./],
  ]
  for (const [url, field, why] of cases) {
    const r = await c.req('GET', url)
    t.equal(r.status, 400, `${url} -> 400`)
    t.equal(r.body.error.code, 'MCCS_ERR_INVALID')
    t.equal(r.body.error.field, field, `${url} names ${field}: ${r.body.error.message}`)
    t.match(r.body.error.message, why, `and says why: ${r.body.error.message}`)
  }
  const nope = await c.req('GET', '/api/timeline?group=nope')
  t.equal(nope.status, 404)
  t.equal(nope.body.error.field, '/query/group')
  t.match(nope.body.error.message, /no group named 'nope'/)
})

t.test("a group's story in order, with the explanation mccs explain prints; since and limit", async (t) => {
  const h = await harness({ groups: true })
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const on = await c.req('POST', '/api/groups/g/actions/online', { wait: true, timeoutS: 20 })
  t.equal(on.body.reached, true, 'g online on n1')

  const r = await c.req('GET', '/api/timeline?group=g')
  t.equal(r.status, 200, JSON.stringify(r.body))
  t.equal(r.body.group, 'g')
  t.same(r.body.missing, [], 'a single node: nothing missing')
  const texts: string[] = r.body.entries.map((e: { text: string }) => e.text)
  const at = (re: RegExp) => texts.findIndex((x) => re.test(x))
  const order = [at(/operator mcuser: groupOnline g/), at(/^online d0 on n1/), at(/online d0 on n1: done\/ok/)]
  t.ok(
    order.every((i) => i >= 0),
    `the command, the decision, its result: ${texts.join(' | ')}`,
  )
  t.same(
    [...order].sort((a, b) => a - b),
    order,
    'in that order',
  )
  const walls: string[] = r.body.entries.map((e: { wall: string }) => e.wall)
  t.same([...walls].sort(), walls, 'oldest first')
  t.same(
    r.body.entries.filter((e: { rule?: string }) => e.rule).map((e: { what: string; rule: string }) => [e.what, e.rule]),
    [['online', "placement rule: the first usable node of g's order (n1) is n1"]],
    'the online decision carries its rule',
  )
  t.equal(r.body.explanation.length, 1)
  t.match(r.body.explanation[0].summary[0], /^Why is it here: g was brought online on n1 at /)

  // The same words as `mccs explain g` over the same timeline.
  const out: string[] = []
  const b = h.ta.agent.opts.bootstrap
  t.equal(await explainCommand(['g'], { out: (s) => out.push(s), err: (s) => out.push(s) }, b, () => h.ta.agent.timelines(null)), 0)
  const printed = out.join('\n')
  for (const line of r.body.explanation[0].summary as string[]) t.ok(printed.includes(line), `mccs explain prints it too: ${line}`)

  // The whole cluster: every entry, every group explained.
  const all = await c.req('GET', '/api/timeline')
  t.equal(all.status, 200)
  t.equal(all.body.group, null)
  t.same(
    all.body.explanation.map((x: { group: string }) => x.group),
    ['g'],
  )
  t.ok(all.body.total >= r.body.total, 'the cluster has at least the group’s entries')

  // limit: the newest entries; since in the future: nothing.
  const two = await c.req('GET', '/api/timeline?group=g&limit=2')
  t.equal(two.body.entries.length, 2)
  t.equal(two.body.total, r.body.total)
  t.same(two.body.entries, r.body.entries.slice(-2), 'the newest two, oldest first')
  const later = await c.req('GET', `/api/timeline?group=g&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)
  t.equal(later.status, 200)
  t.equal(later.body.total, 0, 'nothing since a minute from now')
  t.match(later.body.explanation[0].summary[0], /no successful online of g/)
  const recent = await c.req('GET', '/api/timeline?group=g&since=10m')
  t.equal(recent.body.total, r.body.total, 'an age: everything of the last 10 minutes')
})
