// A full log disk is visible to the operator: `mccs status` says the logs are not written and what was
// dropped or held, and the line goes away once space is back (issue 12, finding 8).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startTestAgent, res, until, type TestAgent } from './helpers.js'

let a: TestAgent | undefined
let logs = ''
t.teardown(async () => {
  // Lazily first: the agent holds its log open, and the home cannot be removed over a mount.
  if (logs) execFileSync('umount', ['-l', logs], { stdio: 'ignore' })
  await a?.cleanup()
})

t.test('a full log folder shows in mccs status, and clears when space returns', async (t) => {
  a = await startTestAgent(
    {
      types: {},
      groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
      resources: [res('base', 'dummy', {})],
      dependencies: [],
    },
    {
      prepare: async (home) => {
        logs = path.join(home, 'logs')
        await mkdir(logs, { recursive: true })
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', logs])
      },
    },
  )
  const fill = path.join(logs, 'fill')
  // Fill what is left (dd stops at ENOSPC), then make the agent log: commands are logged and oplogged.
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${fill}`, 'bs=4k'], { stdio: 'ignore' })
  } catch {
    /* ENOSPC ends it */
  }
  // The last partly used page of mccs.log still takes a few lines: command until lines are dropped.
  let failed = 0,
    i = 0,
    json: { logs: { agent: { droppedTotal: number; writing: boolean } } }
  for (; i < 60; i++) {
    if ((await a.cli('group', i % 2 ? 'offline' : 'online', 'g', '--wait')).code !== 0) failed++
    json = JSON.parse((await a.cli('status', '--json')).out)
    if (json.logs.agent.droppedTotal > 0) break
  }
  t.equal(failed, 0, `${i + 1} commands all worked on a full disk`)
  const out = (await a.cli('status')).out
  t.match(out, /LOGS NOT WRITTEN: .*mccs\.log: disk full/, 'status names the full disk')
  json = JSON.parse((await a.cli('status', '--json')).out)
  t.ok(json.logs.agent.droppedTotal > 0, `dropped lines counted (${json.logs.agent.droppedTotal})`)
  t.equal(json.logs.agent.writing, false)

  await rm(fill)
  await writeFile(path.join(logs, 'probe'), 'x') // space is back
  await rm(path.join(logs, 'probe'))
  await a.cli('group', 'online', 'g', '--wait') // something to log
  await until(async () => !(await a!.cli('status')).out.includes('LOGS NOT WRITTEN'), 15_000)
  const after = JSON.parse((await a.cli('status', '--json')).out)
  t.equal(after.logs.agent.writing, true, 'writing again')
  t.equal(after.logs.operations.held, 0, 'held operation records written')
})
