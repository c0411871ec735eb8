// One request must not stall the agent (issue 12, finding 4): hostile bodies are refused before the work
// that blocks the event loop, and a flood of logins cannot starve an operator's commands. Event-loop delay
// is measured with perf_hooks while the hostile requests are handled; the shipped dead time is 600 ms.
import t from 'tap'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { harness, readyClient, Client } from './api-helpers.js'

const MiB = 1024 * 1024

/** Runs f three times while measuring the event loop's worst delay (ms), and keeps the least of the three:
 *  work the request does on the event loop shows every time, while a loaded machine's scheduling pauses
 *  (153 ms seen once at load 12) rarely hit all three. */
async function worstDelay<T>(f: () => Promise<T>): Promise<{ value: T; maxMs: number }> {
  let best = await worstDelayOnce(f)
  for (let i = 0; i < 2 && best.maxMs >= 50; i++) {
    const next = await worstDelayOnce(f)
    if (next.maxMs < best.maxMs) best = next
  }
  return best
}

async function worstDelayOnce<T>(f: () => Promise<T>): Promise<{ value: T; maxMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 })
  h.enable()
  try {
    await new Promise((r) => setTimeout(r, 20)) // the histogram has samples from before
    const value = await f()
    await new Promise((r) => setTimeout(r, 20)) // a stall inside f is recorded when the timer fires next
    return { value, maxMs: h.max / 1e6 }
  } finally {
    h.disable()
  }
}

const nested = (n: number) => '['.repeat(n)

t.test('hostile bodies are refused without blocking the event loop', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const inject = (url: string, payload: string | Buffer, o: { method?: string; session?: boolean } = {}) =>
    h.app.inject({
      method: (o.method ?? 'POST') as 'POST',
      url,
      payload,
      headers: {
        'content-type': 'application/json',
        ...(o.session ? { cookie: `mccs_session=${c.cookie}`, 'x-csrf-token': c.csrf! } : {}),
      },
    })

  // The finding: 9 MiB of '[' on the public login, one and then four at once. (Payloads are made before
  // the measurement: building them is the test's work, not the agent's.)
  const nine = Buffer.from(nested(9 * MiB))
  const one = await worstDelay(() => inject('/api/login', nine))
  t.comment(`9 MiB of '[' on /api/login: ${one.value.statusCode}, worst event-loop delay ${one.maxMs.toFixed(1)} ms`)
  t.equal(one.value.statusCode, 413, 'too large for the login')
  t.equal(JSON.parse(one.value.body).error.code, 'MCCS_ERR_TOO_LARGE')
  t.ok(one.maxMs < 100, `event loop stayed responsive (${one.maxMs.toFixed(1)} ms)`)
  const four = await worstDelay(() => Promise.all([1, 2, 3, 4].map(() => inject('/api/login', nine))))
  t.comment(`four in parallel: worst event-loop delay ${four.maxMs.toFixed(1)} ms`)
  t.same(
    four.value.map((r) => r.statusCode),
    [413, 413, 413, 413],
  )
  t.ok(four.maxMs < 100, `event loop stayed responsive (${four.maxMs.toFixed(1)} ms)`)

  // Small enough for the route but deeply nested: refused by the depth scan before JSON.parse, naming the reason.
  const deepLogin = await worstDelay(() => inject('/api/login', `{"user":${nested(3000)}`))
  t.equal(deepLogin.value.statusCode, 400)
  const deepBody = JSON.parse(deepLogin.value.body)
  t.equal(deepBody.error.code, 'MCCS_ERR_INVALID')
  t.equal(deepBody.error.field, '/user')
  t.match(deepBody.error.message, /nested deeper than \d+ levels/)

  // An operator's request may be larger (configuration import) but is bounded and depth-checked too.
  const gen = h.ta.agent.store.current().main.generation
  const five = Buffer.from(nested(5 * MiB))
  const bigDeep = await worstDelay(() => inject('/api/config', five, { method: 'PUT', session: true }))
  t.comment(`5 MiB of '[' on PUT /api/config (with a session): ${bigDeep.value.statusCode}, worst delay ${bigDeep.maxMs.toFixed(1)} ms`)
  t.equal(bigDeep.value.statusCode, 400)
  t.match(JSON.parse(bigDeep.value.body).error.message, /nested deeper/)
  t.ok(bigDeep.maxMs < 100, `event loop stayed responsive (${bigDeep.maxMs.toFixed(1)} ms)`)
  const textBody = Buffer.from(JSON.stringify({ text: nested(1 * MiB), expectGeneration: gen }))
  const inText = await worstDelay(() => inject('/api/config', textBody, { method: 'PUT', session: true }))
  t.comment(`1 MiB of '[' inside main.json's text: ${inText.value.statusCode}, worst delay ${inText.maxMs.toFixed(1)} ms`)
  t.equal(inText.value.statusCode, 400)
  t.equal(JSON.parse(inText.value.body).error.field, '/text')
  t.ok(inText.maxMs < 100, `event loop stayed responsive (${inText.maxMs.toFixed(1)} ms)`)
  t.equal(
    (await inject('/api/config', nested(7 * MiB), { method: 'PUT', session: true })).statusCode,
    413,
    'the configuration import is bounded too',
  )
  const tooBig = await inject('/api/groups', JSON.stringify({ name: 'g1', nodes: ['n1'], pad: 'x'.repeat(2 * MiB) }), { session: true })
  t.equal(tooBig.statusCode, 413, 'a group body of 2 MiB is more than that route takes')
  t.equal(h.ta.agent.store.current().main.generation, gen, 'nothing changed')

  // Unauthenticated: refused before the body is even read.
  const anon = await inject('/api/config', nested(8 * MiB), { method: 'PUT' })
  t.equal(anon.statusCode, 401)
})

t.test('a flood of logins with random user names does not starve an operator command', async (t) => {
  const h = await harness({ groups: true })
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const flood = Array.from({ length: 500 }, (_, i) =>
    new Client(h, `10.${(i >> 8) & 255}.${i & 255}.${1 + (i % 200)}`).login(
      randomBytes(6).toString('hex'),
      randomBytes(9).toString('base64'),
    ),
  )
  await new Promise((r) => setTimeout(r, 50))
  const started = Date.now()
  const lock = await c.req('POST', '/api/groups/g/actions/lock', {})
  const logs = await c.req('GET', '/api/logs?lines=5')
  const tookMs = Date.now() - started
  t.comment(`operator lock + log read during the flood: ${tookMs} ms`)
  t.equal(lock.status, 200)
  t.equal(lock.body.accepted, true)
  t.equal(logs.status, 200)
  t.ok(tookMs < 1000, `the operator's requests answered within 1 s (${tookMs} ms)`)
  const answers = await Promise.all(flood)
  const byStatus: Record<number, number> = {}
  for (const a of answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1
  t.comment(`flood answers: ${JSON.stringify(byStatus)}`)
  t.ok(
    answers.every((a) => [401, 429, 503].includes(a.status)),
    'every flood login refused (401 wrong, 429 limited, 503 busy)',
  )
  t.ok((byStatus[503] ?? 0) + (byStatus[429] ?? 0) > 0, 'the excess was turned away at once rather than queued')
  const busy = answers.find((a) => a.status === 503)
  if (busy) {
    t.equal(busy.body.error.code, 'MCCS_ERR_BUSY')
    t.ok(Number(busy.headers['retry-after']) >= 1, 'with Retry-After')
  }
})

t.test('login limits: per address, per account (a lockout that says when it ends), global; loopback still logs in', async (t) => {
  // Limits a fifth of the shipped ones (20 per address, 20 per account, 100 in all): every login attempt
  // costs a password hash by design, and at the shipped figures this test made 190 of them (52 s of one core
  // in a full run). The mechanism is the same; the figures are settings.
  const L = { max: 5, windowMs: 5 * 60_000, perAddress: 4, perAccount: 4, lockoutMs: 15 * 60_000, global: 20 }
  const h = await harness({ settings: { loginLimit: L } })
  t.teardown(() => h.cleanup())
  await readyClient(h, 'limit-test1!ok')
  // Per address, whatever the user name (random names from one address).
  const one = new Client(h, '192.0.2.10')
  const perAddress: number[] = []
  for (let i = 0; i < L.perAddress + 5; i++) perAddress.push((await one.login(`user${i}`, 'x')).status)
  t.equal(perAddress.filter((s) => s === 401).length, L.perAddress, `${L.perAddress} wrong guesses from one address`)
  t.equal(perAddress.at(-1), 429, 'then that address is turned away for every user name')

  // Per account, from many addresses: a temporary lockout that names its end; the right password is refused too.
  for (let i = 0; i < L.perAccount; i++) t.equal((await new Client(h, `198.51.100.${i + 1}`).login('mcuser', `guess-${i}`)).status, 401)
  const locked = await new Client(h, '203.0.113.5').login('mcuser', 'limit-test1!ok')
  t.equal(locked.status, 429, 'the right password is refused while the account is locked')
  t.equal(locked.body.error.code, 'MCCS_ERR_ACCOUNT_LOCKED')
  t.match(locked.body.error.message, /locked .* until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/)
  t.ok(Number(locked.headers['retry-after']) > 0, 'Retry-After says how long')
  t.equal(
    (await new Client(h, '127.0.0.1').login('mcuser', 'limit-test1!ok')).status,
    200,
    'from this host (loopback) the operator still logs in',
  )
  h.ta.agent.log.flush()
  const log = await readFile(h.settings.logFile, 'utf8')
  t.match(log, /console account locked/, 'the lockout is logged')
  h.advance(16 * 60_000)
  t.equal((await new Client(h, '203.0.113.5').login('mcuser', 'limit-test1!ok')).status, 200, 'the lockout ends by itself')

  // Global: failures from everywhere together; loopback is not turned away.
  const statuses: number[] = []
  for (let i = 0; i < L.global + 4; i++) statuses.push((await new Client(h, `100.64.${i >> 4}.${(i & 15) + 1}`).login(`n${i}`, 'x')).status)
  t.equal(statuses.at(-1), 429, 'past the global limit every remote login is turned away')
  t.match(
    (await new Client(h, '100.64.200.1').login('mcuser', 'limit-test1!ok')).body.error.message,
    /all addresses|every address|console-wide/,
  )
  t.equal((await new Client(h, '127.0.0.1').login('mcuser', 'limit-test1!ok')).status, 200, 'loopback still logs in')
})

t.test('the log does not hold what was typed at the login form', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const typedName = 'Tr0ub4dor&3-as-a-name'
  const typedPassword = 'correct horse battery'
  t.equal((await new Client(h).login(typedName, typedPassword)).status, 401)
  t.equal((await new Client(h).login('mcuser', typedPassword)).status, 401)
  await h.app.inject({
    method: 'POST',
    url: '/api/login',
    headers: { 'content-type': 'application/json' },
    payload: `{"user":"${typedName}","password":"${typedPassword}`,
  })
  h.ta.agent.log.flush()
  const log = await readFile(h.settings.logFile, 'utf8')
  t.match(log, /console login failed/)
  t.notOk(log.includes(typedPassword), 'no typed password')
  t.notOk(log.includes(typedName), 'no typed user name that is not an account (often a password typed in the wrong field)')
  t.match(log, /"user":"mcuser"/, 'an account name is logged')
})
