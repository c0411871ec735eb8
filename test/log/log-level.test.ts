// The log level changes at run time for the log and every child made before or after the change (issue 18,
// What 6: the console's log level select; pino children keep the level they were made with otherwise).
import t from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createLog } from '../../core/log/logger.js'

t.test('setLevel reaches the log and its children at once', async (t) => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'mccs-loglevel-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  const file = path.join(d, 'mccs.log')
  const log = createLog({ file, level: 'info' })
  t.teardown(() => log.close())
  const child = log.child({ component: 'executor' })
  t.equal(log.level?.(), 'info')
  log.log('debug', 'd1')
  child.log('debug', 'd2')
  child.log('info', 'i1')
  log.setLevel!('debug')
  t.equal(log.level?.(), 'debug')
  child.log('debug', 'd3')
  log.child({ later: true }).log('debug', 'd4')
  log.setLevel!('error')
  child.log('warn', 'w1')
  log.log('error', 'e1')
  await new Promise((r) => setTimeout(r, 50))
  log.flush()
  const msgs = (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { msg: string }).msg)
  t.same(msgs, ['i1', 'd3', 'd4', 'e1'], 'debug only while the level is debug; warn dropped at error')
})
