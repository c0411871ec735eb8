// The agent log level at run time (issue 18, What 6; the manual's log attributes, "view or change"):
// PUT /api/log-level is validated (the field named, nothing changed), in force at once, in the operation
// log, and kept across a restart of the agent; `mccs log-level` shows and changes the same setting.
import t from 'tap'
import { readFile, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { existsSync } from 'node:fs'
import { harness, readyClient } from './api-helpers.js'
import { runAgent } from '../../core/cli/agent-cmd.js'
import { loadBootstrap } from '../../core/config/bootstrap.js'
import { packageRoot } from '../../core/paths.js'

const oplog = async (home: string) =>
  (await readFile(path.join(home, 'logs/operation.log'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.command === 'logLevel')

t.test('PUT /api/log-level: validated, at once, logged, kept across a restart', async (t) => {
  const h = await harness()
  let cleaned = false
  t.teardown(async () => {
    if (!cleaned) await h.cleanup()
  })
  const c = await readyClient(h)
  const home = h.ta.home
  const saved = path.join(home, 'state/log-level.json')
  t.same((await c.req('GET', '/api/log-level')).body, { node: 'n1', level: 'info', levels: ['debug', 'info', 'warn', 'error'] })

  const bad = await c.req('PUT', '/api/log-level', { level: 'loud' })
  t.equal(bad.status, 400)
  t.equal(bad.body.error.field, '/level', 'the refusal names the field')
  t.match(bad.body.error.message, /level.*allowed values|level.*one of/)
  t.equal(h.ta.agent.log.level?.(), 'info', 'a refusal changes nothing')
  t.notOk(existsSync(saved), 'nothing saved')
  t.equal((await c.req('PUT', '/api/log-level', { level: 'debug', extra: 1 })).status, 400, 'no other field')

  const ok = await c.req('PUT', '/api/log-level', { level: 'debug' })
  t.equal(ok.status, 200)
  t.same(ok.body, { node: 'n1', level: 'debug', levels: ['debug', 'info', 'warn', 'error'], before: 'info' })
  t.equal(h.ta.agent.log.level?.(), 'debug', 'in force at once')
  t.same(JSON.parse(await readFile(saved, 'utf8')), { level: 'debug' })
  t.equal((await stat(saved)).mode & 0o777, 0o600)
  const recs = await oplog(home)
  t.equal(recs.length, 1)
  t.match(recs[0], {
    user: 'mcuser',
    node: 'n1',
    command: 'logLevel',
    target: 'n1',
    args: { level: 'debug', before: 'info' },
    result: 'done',
  })

  // The agent restarts in the same home: the level the operator set is still in force.
  await h.app.close()
  await h.ta.stop()
  const b = await loadBootstrap({ cwd: home, env: h.ta.env })
  const again = await runAgent(b, { out: () => {}, err: () => {} }, { quiet: true })
  if (typeof again === 'number') throw new Error(`agent did not start again: exit ${again}`)
  t.teardown(async () => {
    await again.stop()
    await rm(home, { recursive: true, force: true })
  })
  cleaned = true
  t.equal(again.agent.logLevel.current(), 'debug', 'kept across a restart')
  t.match(await readFile(path.join(home, 'logs/mccs.log'), 'utf8'), /log level debug \(set by an operator; kept across restarts\)/)
})

t.test('mccs log-level shows and changes the level; a wrong level is refused naming the field', async (t) => {
  if (!existsSync(path.join(packageRoot(), 'dist/mccs.js'))) throw new Error('run npm run build first: bin/mccs runs dist/')
  const h = await harness()
  t.teardown(() => h.cleanup())
  const show = await h.ta.cli('log-level')
  t.equal(show.code, 0)
  t.match(show.out, /^n1: log level info \(one of debug, info, warn, error\)/)
  const bad = await h.ta.cli('log-level', 'verbose')
  t.equal(bad.code, 2, 'a usage error')
  t.match(bad.err, /mccs log-level: .*level: must be one of debug, info, warn, error/)
  t.equal(h.ta.agent.log.level?.(), 'info', 'unchanged')
  t.match(await oplog(h.ta.home), [{ command: 'logLevel', result: 'rejected', code: 'MCCS_ERR_INVALID', args: { level: 'verbose' } }])
  const set = await h.ta.cli('log-level', 'warn')
  t.equal(set.code, 0, set.err)
  t.match(set.out, /n1: log level warn \(was info\); kept across restarts/)
  t.equal(h.ta.agent.log.level?.(), 'warn')
  t.match((await oplog(h.ta.home))[1], { command: 'logLevel', result: 'done', args: { level: 'warn', before: 'info' } })
  t.equal(JSON.parse(await readFile(path.join(h.ta.home, 'state/log-level.json'), 'utf8')).level, 'warn')
})
