// Mirror volume whose primary daemon died under it (killed by a fence that spares the agent, or crashed):
// its replication tick went on asking the dead daemon's monitor, 10 s per question under the volume's lock,
// so the next role change waited up to 10 s (seen in the safety lab with a mirror: a SIGSTOP failover
// back to the earlier primary took 10.5 s, 9.5 s of it in 'online md'). Now the tick notices the daemon is
// gone and stops, and a role change drops the dead daemon's timer and connection: the next one starts at once.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { ProcManager } from '../../core/plugins/caps/proc.js'
import { MirrorVolume } from '../../core/mirror/volume.js'
import { missingTools, killPid, sleep } from './lab-nodes.js'

const missing = missingTools()

t.test(
  "a primary's daemon killed: the volume stops asking it and becomes secondary at once",
  { skip: missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdd-'))
    const procs = new ProcManager({ stateDir: path.join(dir, 'p') })
    const logs: string[] = []
    const backing = path.join(dir, 'n1.img')
    fs.writeFileSync(backing, '')
    fs.truncateSync(backing, 16 * 1024 * 1024)
    const port = 20000 + Math.floor(Math.random() * 20000)
    const vol = new MirrorVolume(
      {
        resource: 'md0',
        node: 'n1',
        backing,
        runDir: path.join(dir, 'r'),
        listen: { host: '127.0.0.1', port },
        peer: { host: '127.0.0.2', port }, // nobody: the primary runs alone
        mode: 'sync',
        secret: { cluster: 'lab', key: crypto.randomBytes(32) },
      },
      procs,
      (m, d) => logs.push(`${m} ${JSON.stringify(d ?? {})}`),
    )
    t.teardown(async () => {
      for (const name of ['qsd', 'relay']) {
        const s = await procs.status('mirror.md0', name).catch(() => null)
        killPid(s?.supervisorPid)
        killPid(s?.pid)
      }
      vol.close()
      procs.close()
      fs.rmSync(dir, { recursive: true, force: true })
    })
    await vol.becomePrimary({ force: true })
    const q = await procs.status('mirror.md0', 'qsd')
    t.ok(q.running, 'primary daemon running')
    killPid(q.pid)
    await sleep(1500) // the replication tick runs every 500 ms
    const t0 = Date.now()
    const s = await vol.becomeSecondary()
    const ms = Date.now() - t0
    t.equal(s.role, 'secondary', 'secondary')
    t.ok(ms < 3000, `the role change started at once (${ms} ms)`)
    await sleep(1500)
    t.same(
      logs.filter((l) => /tick failed/.test(l)),
      [],
      'no replication tick asked the dead daemon',
    )

    // The same, the role change coming before any tick saw the daemon gone (the safety lab's order: the
    // fence kills the daemon, the self-fence's offline makes it secondary at once). The new secondary's
    // daemon runs, so the old primary's ticks must not go on asking through the dead daemon's connection.
    await vol.becomePrimary({ force: true })
    killPid((await procs.status('mirror.md0', 'qsd')).pid)
    await vol.becomeSecondary()
    await sleep(1000)
    const t1 = Date.now()
    await vol.becomePrimary({ force: true })
    const ms2 = Date.now() - t1
    t.ok(ms2 < 3000, `the next role change started at once (${ms2} ms)`)
    t.same(
      logs.filter((l) => /tick failed/.test(l)),
      [],
      "no replication tick asked through the dead daemon's connection",
    )
  },
)

// A daemon that hangs on its way out (stopped: a fence's SIGSTOP before its kill, the safety lab's
// freeze) answered nothing: the replication check already asking it held the volume's lock for the
// QMP timeout (10 s), then the stop gave a SIGTERM it could not act on 5 s of grace — the next role
// change waited ~15 s. Now a role change finds the daemon stopped, drops the connection the check
// waits on, and kills it at once (nothing acknowledged is lost: qsd's writes are in the file).
t.test(
  "a primary's daemon hung (stopped): the role change does not wait for the QMP timeout",
  { skip: missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdh-'))
    const procs = new ProcManager({ stateDir: path.join(dir, 'p') })
    const backing = path.join(dir, 'n1.img')
    fs.writeFileSync(backing, '')
    fs.truncateSync(backing, 16 * 1024 * 1024)
    const port = 20000 + Math.floor(Math.random() * 20000)
    const vol = new MirrorVolume(
      {
        resource: 'md0',
        node: 'n1',
        backing,
        runDir: path.join(dir, 'r'),
        listen: { host: '127.0.0.1', port },
        peer: { host: '127.0.0.2', port },
        mode: 'sync',
        secret: { cluster: 'lab', key: crypto.randomBytes(32) },
      },
      procs,
    )
    let hung: number | null = null
    t.teardown(async () => {
      if (hung) killPid(hung)
      for (const name of ['qsd', 'relay']) {
        const s = await procs.status('mirror.md0', name).catch(() => null)
        killPid(s?.supervisorPid)
        killPid(s?.pid)
      }
      vol.close()
      procs.close()
      fs.rmSync(dir, { recursive: true, force: true })
    })
    await vol.becomePrimary({ force: true })
    hung = (await procs.status('mirror.md0', 'qsd')).pid
    process.kill(hung!, 'SIGSTOP')
    await sleep(1200) // a replication check (every 500 ms) is now waiting on the stopped daemon
    const t0 = Date.now()
    const s = await vol.becomeSecondary()
    const ms = Date.now() - t0
    t.equal(s.role, 'secondary', 'secondary, with a new daemon')
    t.not(s.daemon.pid, hung, 'the hung daemon was replaced')
    t.ok(ms < 5000, `the role change did not wait for the hung daemon (${ms} ms)`)
    t.throws(() => process.kill(hung!, 0), 'the hung daemon is gone (never two daemons on the backing file)')
  },
)
