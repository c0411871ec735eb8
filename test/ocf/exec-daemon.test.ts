// A command that starts a daemon and exits (an OCF agent's start, an operator's start script) answers when
// it exits, even when the daemon keeps the command's stdout and stderr open: the exec capability does not
// wait for the pipes to close (which only the daemon's end would do), and leaves the daemon running.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runProcess } from '../../core/plugins/caps/exec.js'

t.test('exit is the answer: a daemon holding the pipes neither delays it nor is killed', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-exec-daemon-'))
  const pidFile = path.join(dir, 'pid')
  t.teardown(() => {
    try {
      process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL')
    } catch {
      /* gone */
    }
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const t0 = Date.now()
  const r = await runProcess(
    { file: '/bin/sh', args: ['-c', `echo starting; /bin/sleep 1000 & echo $! > ${pidFile}; echo started >&2; exit 0`], timeoutMs: 10_000 },
    new AbortController().signal,
    Date.now() + 10_000,
  )
  const took = Date.now() - t0
  t.equal(r.code, 0)
  t.equal(r.timedOut, false, 'not a timeout')
  t.ok(took < 5000, `answered ${took} ms after the start (the deadline was 10 s)`)
  t.equal(r.stdout, 'starting\n', "the command's own output is kept")
  t.equal(r.stderr, 'started\n')
  const pid = Number(fs.readFileSync(pidFile, 'utf8'))
  t.ok(fs.existsSync(`/proc/${pid}`), 'the daemon runs on')
})
