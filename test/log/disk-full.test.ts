// Finding 8 of issue 12: a full disk must not hang or crash the agent. Logging degrades: lines are
// dropped and counted, nothing blocks the event loop, and once space is back the log says how many
// lines were lost ("N lines dropped: disk full") and carries on. Operator commands are still accepted:
// their operation-log records are held and written, in order, when space returns.
import t from 'tap'
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtemp, readFile, rm, rmdir, stat, open } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLog } from '../../core/log/logger.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const isRoot = process.getuid?.() === 0
const RETRY_MS = 200

interface ChildState {
  cmd: string
  tookMs: number
  beats: number
  worstLateMs: number
  seq: number
  log: { writing: boolean; droppedLines: number; droppedTotal: number; reason?: string; code?: string }
  oplog: { held: number; lost: number; code?: string }
}

/** Fills the file system of `dir` to the last byte. */
async function fill(dir: string): Promise<string> {
  const filler = path.join(dir, 'filler')
  const fh = await open(filler, 'w')
  const block = Buffer.alloc(4096, 1)
  try {
    for (;;) {
      const { bytesWritten } = await fh.write(block)
      if (bytesWritten < block.length) break
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e
  }
  // The last partial block: byte by byte.
  try {
    for (;;) await fh.write(Buffer.alloc(1))
  } catch {
    /* full */
  }
  await fh.close()
  return filler
}

t.test(
  'on a full tmpfs: lines dropped and counted, no crash, no stall, logging resumes with the count',
  { skip: isRoot ? false : 'mounting a tmpfs needs root (the /dev/full test below runs anyway)' },
  async (t) => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'mccs-diskfull-'))
    const mnt = path.join(base, 'mnt')
    execFileSync('mkdir', [mnt])
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', mnt])
    let child: ChildProcessWithoutNullStreams | undefined
    t.teardown(async () => {
      if (child && child.exitCode === null) {
        child.kill('SIGKILL')
        await new Promise((r) => child!.once('exit', r))
      }
      try {
        execFileSync('umount', [mnt])
      } catch {
        execFileSync('umount', ['-l', mnt])
      }
      await rmdir(mnt).catch(() => {})
      await rm(base, { recursive: true, force: true })
    })
    const file = path.join(mnt, 'logs/mccs.log')
    const opFile = path.join(mnt, 'logs/operation.log')
    child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/log-flood.ts'), file, opFile, String(RETRY_MS)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const answers = createInterface({ input: child.stdout })
    const pending: Array<(s: ChildState) => void> = []
    answers.on('line', (l) => pending.shift()?.(JSON.parse(l) as ChildState))
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)))
    // A hung process fails the test here (and the teardown still unmounts).
    const ask = (cmd: string) =>
      Promise.race([
        new Promise<ChildState>((resolve) => {
          pending.push(resolve)
          child!.stdin.write(cmd + '\n')
        }),
        exited.then((code) => {
          throw new Error(`the logging process died (exit ${code}) during '${cmd}': ${stderr.slice(-2000)}`)
        }),
        new Promise<never>((_r, reject) =>
          setTimeout(
            () => reject(new Error(`the logging process did not answer '${cmd}' within 30 s (hung): ${stderr.slice(-2000)}`)),
            30_000,
          ).unref(),
        ),
      ])

    let s = await ask('flood 100')
    t.match(s.log, { writing: true, droppedTotal: 0 }, 'with space: every line written')
    await ask('oplog 3')

    const filler = await fill(mnt)
    s = await ask('flood 3000')
    t.equal(child.exitCode, null, 'the process is alive after 3,000 lines on a full disk')
    t.match(s.log, { writing: false, reason: 'disk full', code: 'ENOSPC' }, 'the log says the disk is full')
    t.ok(s.log.droppedLines > 2500, `lines dropped and counted: ${s.log.droppedLines}`)
    t.ok(s.worstLateMs < 100, `a 10 ms timer was never more than 100 ms late (worst ${s.worstLateMs} ms)`)
    // The lateness bound above is the real check; the count only shows the timer ran at all (on a machine
    // loaded by other processes a 10 ms timer fires every 20-25 ms even when our loop is free).
    t.ok(s.beats >= s.tookMs / 50, `the timer kept firing (${s.beats} beats in ${s.tookMs} ms)`)
    const dropped1 = s.log.droppedLines
    s = await ask('flood 2000')
    t.ok(s.log.droppedLines >= dropped1 + 2000, `the counter grows: ${s.log.droppedLines}`)
    t.ok(s.worstLateMs < 100, `still no stall (worst ${s.worstLateMs} ms)`)

    // Operator commands on a full disk: accepted, their records held (40 of them: more than the slack of
    // the file's last page, which tmpfs has already allocated).
    s = await ask('oplog 40')
    t.ok(s.tookMs < 2000, `40 operation records accepted without waiting for space (${s.tookMs} ms)`)
    t.ok(s.oplog.held > 0, `the operation log holds ${s.oplog.held} of them`)
    t.match(s.oplog, { lost: 0, code: 'ENOSPC' }, 'and says why')
    const dropped = s.log.droppedLines

    await rm(filler)
    const sizeBefore = (await stat(file)).size
    // The probe runs every RETRY_MS: within a few of them the log writes again.
    const until = Date.now() + 10_000
    do {
      await new Promise((r) => setTimeout(r, RETRY_MS))
      s = await ask('flood 10')
    } while ((!s.log.writing || s.oplog.held > 0) && Date.now() < until)
    t.match(s.log, { writing: true, droppedLines: 0 }, 'writing again, the count reported')
    t.match(s.oplog, { held: 0, lost: 0 }, 'the held operation records are written')
    t.ok((await stat(file)).size > sizeBefore, 'the log grows again')
    const text = await readFile(file, 'utf8')
    const parsed = text
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        try {
          return JSON.parse(l) as { msg: string; dropped?: number; code?: string }
        } catch {
          return null
        }
      })
    t.ok(parsed.filter((x) => x === null).length <= 1, 'at most the one line cut when the disk filled is not JSON')
    const notice = parsed.find((x) => x && /^\d+ lines dropped: disk full$/.test(x.msg))
    t.ok(notice, 'the log says how many lines were dropped')
    t.ok(
      notice!.dropped! >= dropped && notice!.dropped! <= dropped + 100,
      `"${notice!.msg}" (the count seen before freeing space: ${dropped})`,
    )
    t.equal(notice!.code, 'ENOSPC')
    const after = parsed.slice(parsed.indexOf(notice!) + 1)
    t.ok(
      after.some((x) => x && /^line \d+$/.test(x.msg)),
      'new lines follow the report',
    )
    const ops = (await readFile(opFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        try {
          return JSON.parse(l) as { target: string }
        } catch {
          return null
        }
      })
    t.same(
      ops.filter((x) => x !== null).map((x) => x!.target),
      ['g0', 'g1', 'g2', ...Array.from({ length: 40 }, (_, i) => `g${i}`)],
      'every operation record, in order',
    )
    t.ok(ops.filter((x) => x === null).length <= 1, 'at most one record cut when the disk filled')
    t.equal(child.exitCode, null, 'alive at the end')
  },
)

t.test('on /dev/full (any user): no throw, no stall, dropped lines counted', async (t) => {
  const h = monitorEventLoopDelay({ resolution: 10 })
  h.enable()
  const log = createLog({ file: '/dev/full', retryMs: 50 })
  t.teardown(() => log.close())
  const before = (await stat('/dev/full')).mode
  for (let i = 0; i < 20; i++) {
    for (let j = 0; j < 100; j++) log.log('info', `line ${i * 100 + j}`, { pad: 'y'.repeat(200) })
    await new Promise((r) => setTimeout(r, 10))
  }
  log.flush()
  await new Promise((r) => setTimeout(r, 100))
  h.disable()
  const health = log.health()
  t.match(health, { writing: false, reason: 'disk full', code: 'ENOSPC' })
  t.ok(health.droppedLines >= 1900 && health.droppedLines <= 2000, `${health.droppedLines} of 2,000 lines counted as dropped`)
  t.ok(h.max / 1e6 < 100, `event-loop delay at most ${(h.max / 1e6).toFixed(1)} ms`)
  t.equal((await stat('/dev/full')).mode, before, 'a device keeps its mode (no chmod of /dev/full)')
})

t.test('while a failed disk is tried again, health never says "writing" before a write succeeded', async (t) => {
  // CI (twelfth session): "the log says the disk is full" read writing: true on a full tmpfs — the state was
  // asked while the retry's write was in flight (the probe cleared the failure before writing anything).
  const log = createLog({ file: '/dev/full', retryMs: 5 })
  t.teardown(() => log.close())
  log.log('info', 'first line')
  const seen = new Set<string>()
  const end = Date.now() + 400
  while (Date.now() < end) {
    const h = log.health()
    seen.add(`${h.writing}/${h.code ?? '-'}`)
    await new Promise((r) => setImmediate(r))
  }
  // (Before the first write failed it was writing, with no reason: 'true/-'.)
  t.notOk(seen.has('true/ENOSPC'), `never "writing" once it failed: ${[...seen].join(', ')}`)
  t.ok(seen.has('false/ENOSPC'), 'and says why')
})
