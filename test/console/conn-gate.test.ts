// A flood of TLS handshakes on the console's port cannot stall the agent's event loop (which the
// heartbeat shares): connections over the rate are closed before their handshake (conn-gate.ts), and an
// operator gets in once the flood stops (issue 12, finding 4).
import t from 'tap'
import https from 'node:https'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { startTestAgent, res, sleep } from '../agent/helpers.js'
import { startConsole } from '../../core/console/server.js'
import { consoleSettings } from '../../core/console/settings.js'
import { ConnectionGate } from '../../core/console/conn-gate.js'

t.test('token buckets: per host, global, open connections', async (t) => {
  let now = 0
  const g = new ConnectionGate({ perHostRate: 2, perHostBurst: 3, globalRate: 4, globalBurst: 5, maxOpen: 100 }, () => now)
  t.same(
    [1, 2, 3, 4].map(() => g.admit('10.0.0.1')),
    [null, null, null, 'host'],
    'burst of 3, then refused',
  )
  t.same([g.admit('10.0.0.2'), g.admit('10.0.0.3'), g.admit('10.0.0.4')], [null, null, 'global'], 'the console-wide burst of 5 is used up')
  now += 1000
  t.equal(g.admit('10.0.0.1'), null, 'refilled at the rate')
  t.equal(g.admit('127.0.0.5'), null)
  t.equal(g.admit('127.0.0.1'), null)
  t.equal(g.admit('::1'), null)
  t.equal(g.admit('127.0.0.9'), 'host', 'every loopback address is one host')
})

t.test('a handshake flood from another process: the loop stays responsive, an operator gets in after', async (t) => {
  const ta = await startTestAgent({
    groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
    resources: [res('d0', 'dummy', {})],
    dependencies: [],
    types: {},
  })
  t.teardown(() => ta.cleanup())
  const settings = { ...consoleSettings(ta.agent.opts.bootstrap, path.join(ta.home, 'no-ui'), {}), listen: ['127.0.0.1'], port: 0 }
  const c = await startConsole(ta.agent, settings)
  t.teardown(() => c.close())
  const port = c.addresses[0]!.port

  const h = monitorEventLoopDelay({ resolution: 10 })
  h.enable()
  const flood = spawn(
    process.execPath,
    [path.join(import.meta.dirname, 'fixtures/tls-flood.mjs'), '127.0.0.1', String(port), '4000', '64'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  flood.stdout!.on('data', (d) => {
    out += d
  })
  await new Promise((r) => flood.on('exit', r))
  h.disable()
  const counts = JSON.parse(out) as { handshakes: number; refused: number }
  const maxMs = h.max / 1e6
  t.comment(
    `flood: ${counts.handshakes} handshakes, ${counts.refused} refused; gate refused ${JSON.stringify(c.gate.refused)}; event loop delay max ${maxMs.toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms`,
  )
  t.ok(c.gate.refused.host + c.gate.refused.global > 0, 'connections over the rate were refused')
  t.ok(maxMs < 200, `the agent's event loop was never held 200 ms (max ${maxMs.toFixed(1)} ms; the dead time is 600 ms)`)

  await sleep(2500) // the bucket refills
  const status = await new Promise<number>((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/login',
        method: 'POST',
        ca: c.tls.ca!,
        servername: 'localhost',
        headers: { 'content-type': 'application/json' },
      },
      (r) => {
        r.resume()
        resolve(r.statusCode!)
      },
    )
    req.on('error', reject)
    req.end(JSON.stringify({ user: 'mcuser', password: 'mccs' }))
  })
  t.equal(status, 200, 'the operator logs in once the flood stopped')
})
