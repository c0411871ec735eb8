// The console over a real HTTPS listener on 127.0.0.1 (random port): TLS with the self-signed material
// made at first start, HSTS, no plain HTTP, and Server-Sent Events that deliver a status change.
import t from 'tap'
import https from 'node:https'
import http from 'node:http'
import path from 'node:path'
import { stat } from 'node:fs/promises'
import { startTestAgent, res, until } from '../agent/helpers.js'
import { startConsole } from '../../core/console/server.js'
import { consoleSettings } from '../../core/console/settings.js'

interface R {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

t.test('HTTPS on 127.0.0.1, HSTS, no plain HTTP, SSE status after a change', async (t) => {
  const ta = await startTestAgent({
    groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
    resources: [res('d0', 'dummy', {})],
    dependencies: [],
    types: {},
  })
  t.teardown(() => ta.cleanup())
  const b = ta.agent.opts.bootstrap
  const settings = { ...consoleSettings(b, path.join(ta.home, 'no-ui'), {}), listen: ['127.0.0.1'], port: 0 }
  const started = Date.now()
  const c = await startConsole(ta.agent, settings)
  t.teardown(() => c.close())
  t.comment(`first start with certificate creation: ${Date.now() - started} ms`)
  t.equal(c.addresses[0]!.address, '127.0.0.1')
  const port = c.addresses[0]!.port
  t.equal((await stat(path.join(settings.tlsDir, 'server.key'))).mode & 0o777, 0o600, 'the key is private')

  const ca = c.tls.ca!
  let cookie = ''
  let csrf = ''
  const call = (method: string, p: string, body?: unknown): Promise<R> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body)
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path: p,
          method,
          ca,
          servername: 'localhost',
          headers: {
            ...(cookie ? { cookie } : {}),
            ...(csrf ? { 'x-csrf-token': csrf } : {}),
            ...(data ? { 'content-type': 'application/json' } : {}),
          },
        },
        (r) => {
          let text = ''
          r.setEncoding('utf8')
          r.on('data', (d) => {
            text += d
          })
          r.on('end', () => resolve({ status: r.statusCode!, headers: r.headers, body: text }))
        },
      )
      req.on('error', reject)
      req.end(data)
    })

  const login = await call('POST', '/api/login', { user: 'mcuser', password: 'mccs' })
  t.equal(login.status, 200, 'TLS verified against the console CA')
  t.match(login.headers['strict-transport-security'], /max-age=31536000/)
  cookie = String(login.headers['set-cookie']![0]).split(';')[0]!
  csrf = JSON.parse(login.body).csrfToken
  t.equal((await call('POST', '/api/password', { current: 'mccs', next: 'console-test1!' })).status, 204)
  t.equal((await call('GET', '/')).headers.location, '/main')

  // Plain HTTP on the same port gets no HTTP answer.
  const plain = await new Promise<string>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/openapi.json', timeout: 3000 }, (r) => resolve(`answered ${r.statusCode}`))
    req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`))
    req.on('timeout', () => {
      req.destroy()
      resolve('timeout')
    })
  })
  t.notMatch(plain, /^answered 200/, `plain HTTP: ${plain}`)

  // SSE: one status at connect, then one after the group goes online; log and oplog lines as they come.
  const events: Array<{ event: string; data: any; at: number }> = []
  const sse = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/api/events', ca, servername: 'localhost', headers: { cookie, accept: 'text/event-stream' } },
      resolve,
    )
    req.on('error', reject)
    req.end()
  })
  t.teardown(() => sse.destroy())
  t.equal(sse.statusCode, 200)
  t.match(sse.headers['content-type'], /text\/event-stream/)
  t.match(sse.headers['strict-transport-security'], /max-age/)
  let buf = ''
  sse.setEncoding('utf8')
  sse.on('data', (d: string) => {
    buf += d
    let i
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i)
      buf = buf.slice(i + 2)
      const ev = /^event: (.*)$/m.exec(block)?.[1]
      const data = /^data: (.*)$/m.exec(block)?.[1]
      if (ev && data) events.push({ event: ev, data: JSON.parse(data), at: Date.now() })
    }
  })
  const first = await until(() => events.find((e) => e.event === 'status'), 10_000)
  t.equal(first.data.groups[0].nodes.n1, 'offline', 'a status at connect')
  const sent = Date.now()
  const on = await call('POST', '/api/groups/g/actions/online', {})
  t.equal(JSON.parse(on.body).accepted, true)
  const online = await until(() => events.find((e) => e.event === 'status' && e.data.groups[0].nodes.n1 === 'online'), 10_000)
  t.comment(`command to SSE status showing online: ${online.at - sent} ms`)
  t.ok(online.at - sent < 2000, 'the change arrives promptly')
  const op = await until(() => events.find((e) => e.event === 'oplog' && e.data.op === 'groupOnline'), 10_000)
  t.equal(op.data.user, 'mcuser')
  await until(() => events.find((e) => e.event === 'log' && /online d0/.test(e.data.line)), 10_000)
  t.pass('log lines arrive')
  const statusCount = events.filter((e) => e.event === 'status').length
  await new Promise((r) => setTimeout(r, 1500))
  t.equal(events.filter((e) => e.event === 'status').length, statusCount, 'no status event without a change (uptime does not count)')
  t.equal(c.deps.events.clientCount, 1)
  sse.destroy()
  await until(() => c.deps.events.clientCount === 0, 5000)
  t.pass('a closed stream is forgotten')
})

t.test('runAgent({console: true}) starts the console from the environment settings and stops it with the agent', async (t) => {
  const { makeHome } = await import('../agent/agent-home.js')
  const { runAgent } = await import('../../core/cli/agent-cmd.js')
  const net = await import('node:net')
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
  const h = await makeHome()
  t.teardown(() => h.cleanup())
  const saved = { listen: process.env.MCCS_CONSOLE_LISTEN, disable: process.env.MCCS_CONSOLE_DISABLE }
  process.env.MCCS_CONSOLE_LISTEN = '127.0.0.1'
  delete process.env.MCCS_CONSOLE_DISABLE
  t.teardown(() => {
    if (saved.listen === undefined) delete process.env.MCCS_CONSOLE_LISTEN
    else process.env.MCCS_CONSOLE_LISTEN = saved.listen
    if (saved.disable !== undefined) process.env.MCCS_CONSOLE_DISABLE = saved.disable
  })
  const lines: string[] = []
  const running = await runAgent(
    { ...h.b, consolePort: port },
    {
      out: () => {},
      err: (s) => {
        lines.push(s)
      },
    },
    { console: true },
  )
  if (typeof running === 'number') throw new Error(`agent exit ${running}`)
  h.running = running
  t.match(lines.join('\n'), new RegExp(`console https://127\\.0\\.0\\.1:${port}/main`), 'the agent prints the console URL')
  const get = () =>
    new Promise<number>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: '/api/openapi.json', rejectUnauthorized: false }, (r) => {
          r.resume()
          resolve(r.statusCode!)
        })
        .on('error', reject)
    })
  t.equal(await get(), 200)
  await h.stop()
  await t.rejects(get(), 'nothing listens once the agent stopped')
})
