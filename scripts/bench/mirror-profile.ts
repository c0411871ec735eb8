// Where a replicated write's time goes (issue 15, acceptance 7): the CPU each process of the data plane
// spends per 4 KiB write, and the writes per second, for the primary's NBD export (fio's nbd engine, no
// ext4/loop/FUSE) and for ext4 on the local attach path (nbdfuse + loop), unreplicated ("local", no
// peer) and replicated (sync, write-blocking), in the two-node namespace lab. CPU per write is what a
// loaded shared host distorts least: throughput here follows the other sessions' load, the CPU a write
// costs does not (much). Kernel time outside these processes (loop worker, softirqs) is not counted.
//   node --import tsx scripts/bench/mirror-profile.ts [seconds per run (6)] [queue depth (16)]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { createLab, labAvailable } from '../lab/lab.js'
import { mnode, scrub, sh, missingTools, images, type MNode } from '../../test/mirror/lab-nodes.js'

const secs = Number(process.argv[2] ?? 6)
const qd = Number(process.argv[3] ?? 16)
const avail = await labAvailable()
const missing = [...missingTools(), '/usr/bin/fio'].filter((f) => !fs.existsSync(f))
if (!avail.ok || missing.length) {
  console.log(JSON.stringify({ what: 'mirror-profile', skipped: !avail.ok ? avail.reason : `missing ${missing.join(', ')}` }))
  process.exit(0)
}
const HZ = 100 // USER_HZ: /proc/<pid>/stat's utime and stime
/** utime + stime of a process and its reaped children, in ticks. */
const cpu = (pid: number | null | undefined): number => {
  if (!pid) return 0
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ')
    return Number(f[11]) + Number(f[12])
  } catch {
    return 0
  }
}

const lab = await createLab({ prefix: `mccsp${process.pid}-`, nodes: 2, links: 1 })
const out: Record<string, unknown> = {
  what: 'mirror-profile',
  secs,
  qd,
}
// Both set up at once (the unreplicated volume on its own port), then measured alternately, `rounds`
// times: each pair of rows shares the host's load of the moment.
const rounds = Number(process.env.MIRROR_PROFILE_ROUNDS ?? 2)
const dirs: string[] = []
const made: MNode[] = []
try {
  type Setup = { cfg: 'local' | 'sync'; a: MNode; b: MNode | null; dev: string }
  const setups: Setup[] = []
  for (const cfg of ['local', 'sync'] as const) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-'))
    dirs.push(dir)
    images(dir, 768 << 20) // ext4 on the first 512 MiB, the export's writes beyond it
    const port = cfg === 'local' ? 17791 : 17790
    const b: MNode | null = cfg === 'local' ? null : mnode(lab, dir, 1, path.join(dir, 'p2'), port)
    const a = mnode(lab, dir, 0, path.join(dir, 'p1'), port, undefined, b ? { outdatePeer: (rec) => b.vol.markOutdated(rec) } : {})
    made.push(a, ...(b ? [b] : []))
    if (b) await b.vol.becomeSecondary()
    await a.vol.becomePrimary({ force: true })
    if (b) await a.vol.waitInSync(300_000)
    const dev = await a.vol.attach()
    sh(['mkfs.ext4', '-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', dev, '512M'])
    fs.mkdirSync(a.mnt, { recursive: true })
    sh(['mount', dev, a.mnt])
    setups.push({ cfg, a, b, dev })
  }
  const rows: Record<string, Array<Record<string, unknown>>> = {}
  for (let round = 0; round < rounds; round++)
    for (const { cfg, a, b } of setups) {
      const pids = async (): Promise<Record<string, number | null>> => ({
        qsd1: (await a.procs.status('mirror.md0', 'qsd')).pid,
        qsd2: b ? (await b.procs.status('mirror.md0', 'qsd')).pid : null,
        nbdfuse: (await a.procs.status('mirror.md0', 'nbdfuse')).pid,
      })
      const measure = async (name: string, fioArgs: string[]): Promise<void> => {
        const p = await pids()
        const before = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, cpu(v)]))
        // MIRROR_PROFILE_PERF=<folder>: perf record of each daemon during the run (perf report -i ...).
        const perfDir = process.env.MIRROR_PROFILE_PERF
        const perfs = perfDir
          ? Object.entries(p)
              .filter(([, v]) => v)
              .map(([k, v]) =>
                spawn(
                  'perf',
                  [
                    'record',
                    '-F',
                    '1999',
                    '-g',
                    '-o',
                    path.join(perfDir, `${cfg}.${name}.${k}.${round}.perf`),
                    '-p',
                    String(v),
                    '--',
                    'sleep',
                    String(secs),
                  ],
                  {
                    stdio: 'ignore',
                  },
                ),
              )
          : []
        const r = await lab.exec(
          0,
          ['fio', '--output-format=json', `--runtime=${secs}`, '--time_based', '--rw=randwrite', '--bs=4k', `--iodepth=${qd}`, ...fioArgs],
          { timeoutMs: (secs + 120) * 1000 },
        )
        await Promise.all(perfs.map((c) => new Promise((res) => (c.exitCode !== null ? res(null) : c.on('exit', res)))))
        const j = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
          jobs: Array<{ write: { iops: number; io_kbytes: number }; usr_cpu: number; sys_cpu: number }>
        }
        const w = j.jobs[0]!
        const ios = w.write.io_kbytes / 4
        const perWrite = Object.fromEntries(
          Object.entries(p).map(([k, v]) => [k, v ? +((((cpu(v) - before[k]!) / HZ) * 1e6) / ios).toFixed(1) : null]),
        )
        const row = {
          round,
          iops: Math.round(w.write.iops),
          cpuUsPerWrite: { ...perWrite, fio: +((((w.usr_cpu + w.sys_cpu) / 100) * secs * 1e6) / ios).toFixed(1) },
          load: +os.loadavg()[0]!.toFixed(1),
        }
        ;(rows[`${cfg}.${name}`] ??= []).push(row)
        console.error(`${cfg}.${name}`, JSON.stringify(row))
      }
      const uri = `nbd+unix:///vol?socket=${path.join(a.vol.c.runDir, 'nbd.sock')}`
      if (process.env.MIRROR_PROFILE_EXPORT !== '0')
        await measure('export', ['--name=nbd', '--ioengine=nbd', `--uri=${uri}`, '--size=128M', '--offset=600M'])
      await measure('ext4', ['--name=rand', `--filename=${a.mnt}/rand`, '--size=128M', '--ioengine=libaio', '--direct=1'])
      // 4 KiB write + fsync, one at a time (fio's --rw and --iodepth given last win).
      await measure('fsync', [
        '--name=fsync',
        `--filename=${a.mnt}/fsync`,
        '--size=32M',
        '--ioengine=sync',
        '--fsync=1',
        '--rw=write',
        '--iodepth=1',
      ])
    }
  out.rows = rows
  // Per round: the replicated row's IOPS as a percent of the unreplicated row measured just before it.
  out.percent = Object.fromEntries(
    ['export', 'ext4', 'fsync'].map((n) => [
      n,
      (rows[`sync.${n}`] ?? []).map((r, i) => +(((r.iops as number) / ((rows[`local.${n}`]![i]!.iops as number) || 1)) * 100).toFixed(1)),
    ]),
  )
  console.error('percent of unreplicated per round', JSON.stringify(out.percent))
  for (const { a } of setups) sh(['umount', a.mnt])
} finally {
  for (const [i, n] of made.entries()) await scrub(n, dirs[i < 1 ? 0 : 1]!)
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
  await lab.destroy()
}
console.log(JSON.stringify(out))
