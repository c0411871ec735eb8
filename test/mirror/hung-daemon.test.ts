// A primary's daemon that cannot answer (stuck in state D on a hung disk; here SIGSTOPped, which looks the
// same to QMP: no answer) made every status question wait the full QMP timeout (10 s), behind a
// replication check already waiting on it: the resource's monitor stalled instead of reporting the fault.
// Now status reads the daemon's state from /proc/<pid>/stat, asks its monitor with a short deadline, and
// reports `daemon.answering: false` and `stuck` (stopped, or D with a question unanswered — a daemon only
// slow on a loaded host is not stuck); the plugin's monitor answers `failed` at once (the group fails over).
// Also: an answer arriving after its question's deadline is dropped, never handed to the next question.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import net from 'node:net'
import path from 'node:path'
import crypto from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { spawnSync } from 'node:child_process'
import { createTestHost } from '@mccs/plugin-kit/testing'
import { ProcManager } from '../../core/plugins/caps/proc.js'
import { MirrorManager } from '../../core/mirror/manager.js'
import { mirrorProvider } from '../../core/plugins/caps/mirror.js'
import { QmpClient } from '../../core/mirror/qmp.js'
import { missingTools, killPid, sleep, sh, mountedAt } from './lab-nodes.js'

const missing = missingTools()
const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../plugins/mirror-disk')

t.test('QMP: a question past its deadline fails, and its late answer is not given to the next one', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqmp-'))
  const sockPath = path.join(dir, 'q.sock')
  const held: Array<{ id: unknown }> = []
  const server = net.createServer((c) => {
    c.write(JSON.stringify({ QMP: { version: {}, capabilities: [] } }) + '\n')
    let buf = ''
    c.on('data', (d) => {
      buf += String(d)
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const m = JSON.parse(buf.slice(0, i)) as { execute: string; id: unknown }
        buf = buf.slice(i + 1)
        if (m.execute === 'slow') held.push(m)
        else if (m.execute === 'fast') {
          // The slow question's answer comes late, just before this one's.
          for (const h of held.splice(0)) c.write(JSON.stringify({ return: 'slow-answer', id: h.id }) + '\n')
          c.write(JSON.stringify({ return: 'fast-answer', id: m.id }) + '\n')
        } else c.write(JSON.stringify({ return: {}, id: m.id }) + '\n')
      }
    })
  })
  await new Promise<void>((r) => server.listen(sockPath, r))
  const q = new QmpClient(sockPath)
  t.teardown(() => {
    q.close()
    server.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  await q.connect()
  const t0 = Date.now()
  await t.rejects(q.command('slow', undefined, { timeoutMs: 300 }), /no answer within 300 ms/)
  const ms = Date.now() - t0
  t.ok(ms < 1500, `the short deadline held (${ms} ms)`)
  t.equal(await q.command('fast'), 'fast-answer', "the next question gets its own answer, not the late one's")
})

t.test(
  "a primary's daemon that does not answer (stopped): status says so at once, and the monitor fails",
  { skip: missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mhg-'))
    const procs = new ProcManager({ stateDir: path.join(dir, 'p') })
    const backing = path.join(dir, 'n1.img')
    fs.writeFileSync(backing, '')
    fs.truncateSync(backing, 16 * 1024 * 1024)
    const port = 20000 + Math.floor(Math.random() * 20000)
    const logs: string[] = []
    const key = crypto.randomBytes(32)
    const mm = new MirrorManager({
      procs,
      runBase: path.join(dir, 'run'),
      secret: () => ({ cluster: 'lab', key }),
      log: (m, d) => logs.push(`${m} ${JSON.stringify(d ?? {})}`),
    })
    // peerAddress: nobody there, the primary runs alone.
    const attrs = { backing, replicationAddress: '127.0.0.1', peerAddress: '127.0.0.2', port, mountPoint: path.join(dir, 'mnt') }
    const vol = mm.volume('md0', 'node1', attrs) // the test host's node: its calls reach this same volume
    let hung: number | null = null
    t.teardown(async () => {
      if (hung) killPid(hung)
      const s = await procs.status('mirror.md0', 'qsd').catch(() => null)
      killPid(s?.supervisorPid)
      killPid(s?.pid)
      // What a failed run left: the mount, the loop device, the FUSE mount, nbdfuse.
      for (const mp of [attrs.mountPoint]) if (mountedAt(mp)) sh(['umount', '-l', mp])
      for (const l of sh(['losetup', '-a']).split('\n')) {
        const m = /^(\/dev\/loop\d+):.*\((.*)\)/.exec(l)
        if (m && m[2]!.startsWith(dir)) sh(['losetup', '-d', m[1]!])
      }
      const fuse = path.join(vol.c.runDir, 'fuse')
      if (mountedAt(fuse)) sh(['umount', '-l', fuse])
      for (const name of ['nbdfuse', 'relay']) {
        const f = await procs.status('mirror.md0', name).catch(() => null)
        killPid(f?.supervisorPid)
        killPid(f?.pid)
      }
      mm.close()
      procs.close()
      fs.rmSync(dir, { recursive: true, force: true })
    })
    await vol.becomePrimary({ force: true })
    const dev = await vol.attach()
    sh(['mkfs.ext4', '-q', dev])
    await mm.mount(vol, attrs)
    const h = await createTestHost({ pluginDir, fakes: { providers: [mirrorProvider(mm)] } })
    t.teardown(() => h.dispose())
    const healthy = await h.call('monitor', { resource: 'md0', attrs })
    t.equal(healthy.answer, 'ok', `healthy primary: ${healthy.reason}`)
    // An acknowledged write: fsynced, as a database commits it, before the daemon hangs.
    const fd = fs.openSync(path.join(attrs.mountPoint, 'before'), 'w')
    fs.writeSync(fd, 'acknowledged')
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    const before = await vol.status()
    t.equal(before.daemon.answering, true, 'a running daemon answers')
    t.equal(before.daemon.stuck, false, 'not stuck')
    hung = (await procs.status('mirror.md0', 'qsd')).pid
    process.kill(hung!, 'SIGSTOP')
    await sleep(1200) // a replication check (every 500 ms) is now waiting on the stopped daemon
    const t0 = Date.now()
    const s = await vol.status()
    const ms = Date.now() - t0
    t.comment(`status over a stopped daemon took ${ms} ms`)
    t.ok(ms < 2500, `status did not wait for the QMP timeout (${ms} ms)`)
    t.equal(s.role, 'primary', 'still primary (nothing was acted on)')
    t.equal(s.daemon.answering, false, 'the daemon does not answer')
    t.equal(s.daemon.stuck, true, 'it is stuck (stopped), not merely slow')
    t.equal(s.daemon.state, 'T', 'its process state is read from /proc')
    t.equal(s.daemon.pid, hung, 'the same daemon: not restarted, not killed by a status')

    // The plugin's monitor, in its sandbox, through the real capability: a fault, at once.
    const t1 = Date.now()
    const mon = await h.call('monitor', { resource: 'md0', attrs })
    const ms1 = Date.now() - t1
    t.equal(mon.answer, 'failed', JSON.stringify(mon))
    t.match(mon.reason ?? '', /does not answer/, `the reason names the fault (${mon.reason})`)
    t.ok(ms1 < 3000, `the monitor answered at once (${ms1} ms)`)

    // It resumes: the volume asks it again (no restart, no second daemon).
    process.kill(hung!, 'SIGCONT')
    let back = await vol.status()
    for (let i = 0; i < 30 && back.daemon.answering !== true; i++) {
      await sleep(200)
      back = await vol.status()
    }
    t.equal(back.daemon.answering, true, 'answers again once it runs')
    t.equal(back.daemon.stuck, false, 'no longer stuck')
    t.equal(back.daemon.pid, hung, 'the same daemon')
    t.equal(back.replication?.state, 'Disconnected', 'replication questions answered again')

    const again = await h.call('monitor', { resource: 'md0', attrs })
    t.equal(again.answer, 'ok', `the monitor is healthy again: ${again.reason}`)

    // The offline after the fault (the group fails over): the unmount would wait on the stopped daemon
    // for ever (the file system's writes go through it); it is killed first, once, and the offline ends.
    process.kill(hung!, 'SIGSTOP')
    await sleep(700)
    const t2 = Date.now()
    await mm.unmount(vol, attrs)
    await vol.detach()
    const sec = await vol.becomeSecondary()
    const ms2 = Date.now() - t2
    t.equal(sec.role, 'secondary')
    t.ok(ms2 < 10000, `the offline did not wait on the hung daemon (${ms2} ms)`)
    t.throws(() => process.kill(hung!, 0), 'the hung daemon is gone (never two daemons on the backing file)')
    t.equal(sec.peerRecord?.state, 'Outdated', 'no clean demotion is claimed: its copy counts as not current')
    t.equal(logs.filter((l) => /killed before the unmount/.test(l)).length, 1, 'killed once')
    // Its data, as the next primary would find it: the file system was cut off mid-use (the daemon was
    // killed under it), so its journal is replayed first (a preen check, as a takeover does, on a copy);
    // it then needs no repair, and the acknowledged write is there.
    const copy = path.join(dir, 'copy.img')
    fs.copyFileSync(backing, copy)
    const preen = spawnSync('e2fsck', ['-p', copy], { encoding: 'utf8' })
    // 0: clean, 1: corrected what a preen may (the journal); 4 and up: it needs a person.
    t.ok(
      preen.status === 0 || preen.status === 1,
      `a preen check (journal replay) accepts it: ${preen.status} ${preen.stdout}${preen.stderr}`,
    )
    t.doesNotThrow(() => sh(['e2fsck', '-fn', copy]), 'after the replay it checks clean')
    t.equal(sh(['debugfs', '-R', 'cat /before', copy]).trim(), 'acknowledged', 'the acknowledged write survived')
  },
)

// State D for real: the cgroup v1 freezer holds a task in uninterruptible sleep (as a hung disk does);
// a SIGKILL waits until it is thawed. Status finds it through the question's deadline (D alone is normal
// for a moment), the monitor fails; the offline refuses rather than start a second daemon beside it, and
// goes through once it can die.
const FREEZER = '/sys/fs/cgroup/freezer'
t.test(
  "a primary's daemon in state D: status reports it within the question deadline, the offline never starts a second daemon",
  {
    skip: missing.length
      ? `missing ${missing.join(', ')}`
      : !fs.existsSync(path.join(FREEZER, 'cgroup.procs'))
        ? 'no cgroup v1 freezer'
        : false,
  },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mhd-'))
    const cg = path.join(FREEZER, `mccs-test-${process.pid}`)
    fs.mkdirSync(cg)
    const procs = new ProcManager({ stateDir: path.join(dir, 'p'), killWaitMs: 2000 })
    const backing = path.join(dir, 'n1.img')
    fs.writeFileSync(backing, '')
    fs.truncateSync(backing, 16 * 1024 * 1024)
    const port = 20000 + Math.floor(Math.random() * 20000)
    const logs: string[] = []
    const key = crypto.randomBytes(32)
    const mm = new MirrorManager({
      procs,
      runBase: path.join(dir, 'run'),
      secret: () => ({ cluster: 'lab', key }),
      log: (m, d) => logs.push(`${m} ${JSON.stringify(d ?? {})}`),
    })
    const attrs = { backing, replicationAddress: '127.0.0.1', peerAddress: '127.0.0.2', port, mountPoint: path.join(dir, 'mnt') }
    const vol = mm.volume('md0', 'node1', attrs)
    const thaw = (): void => fs.writeFileSync(path.join(cg, 'freezer.state'), 'THAWED')
    t.teardown(async () => {
      thaw()
      for (const p of ['qsd', 'nbdfuse', 'relay']) {
        const s = await procs.status('mirror.md0', p).catch(() => null)
        killPid(s?.supervisorPid)
        killPid(s?.pid)
      }
      mm.close()
      procs.close()
      await sleep(300)
      fs.rmdirSync(cg)
      fs.rmSync(dir, { recursive: true, force: true })
    })
    await vol.becomePrimary({ force: true })
    const h = await createTestHost({ pluginDir, fakes: { providers: [mirrorProvider(mm)] } })
    t.teardown(() => h.dispose())
    const pid = (await procs.status('mirror.md0', 'qsd')).pid!
    fs.writeFileSync(path.join(cg, 'cgroup.procs'), String(pid))
    fs.writeFileSync(path.join(cg, 'freezer.state'), 'FROZEN')
    await sleep(1200)
    const t0 = Date.now()
    const s = await vol.status()
    const ms = Date.now() - t0
    t.comment(`status over a daemon in state D took ${ms} ms`)
    t.ok(ms < 6000, `within the question deadline (plus a check's), not 10 s per question (${ms} ms)`)
    t.equal(s.daemon.state, 'D', 'its process state is D')
    t.equal(s.daemon.answering, false, 'it does not answer')
    t.equal(s.daemon.stuck, true, 'stuck: state D and a question unanswered')
    const t1 = Date.now()
    const mon = await h.call('monitor', { resource: 'md0', attrs })
    t.equal(mon.answer, 'failed', JSON.stringify(mon))
    t.ok(Date.now() - t1 < 1000, `the monitor fails at once: the daemon is not asked again while in D (${Date.now() - t1} ms)`)

    // Offline while it cannot die: refused, and no second daemon is started on the backing file.
    await t.rejects(mm.unmount(vol, attrs), /survived SIGKILL/, 'the kill cannot complete in D: the offline fails')
    await t.rejects(vol.becomeSecondary(), 'nor does a role change start a daemon beside it')
    const qsds = fs
      .readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')
          return argv[0] === '/usr/bin/qemu-storage-daemon' && argv.some((a) => a.includes(`filename=${backing}`))
        } catch {
          return false
        }
      })
    t.same(qsds, [String(pid)], 'one daemon on the backing file: the frozen one')
    // The disk comes back: the queued kill completes, the offline goes through.
    thaw()
    await sleep(500)
    t.throws(() => process.kill(pid, 0), 'the killed daemon is gone once it could die')
    await mm.unmount(vol, attrs)
    await vol.detach()
    const sec = await vol.becomeSecondary()
    t.equal(sec.role, 'secondary', 'the offline completes')
    t.equal(sec.peerRecord?.state, 'Outdated', 'no clean demotion claimed')
  },
)
