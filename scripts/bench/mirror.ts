// Mirror disk bench (issue 15, acceptance 7), in the two-node network-namespace lab with the real data
// plane: ext4 on the mirror's local attach path (qsd NBD export → nbdfuse → loop), fio in the primary's
// namespace, measured in one run for: the same attach path with no replication (no peer), the mirror
// in sync mode (write-blocking) and in async mode (background). Also the full resync rate (256 MiB of
// data on a 512 MiB volume) and a partial resync after a link flap (16 MiB written while cut). Per
// configuration also fio's nbd engine on the primary's NBD export (QD1 and QD16): the mirror hop alone.
//   node --import tsx scripts/bench/mirror.ts [seconds per fio run (10)]
//   MIRROR_BENCH_CONFIGS=local,sync  runs only those configurations (a quicker comparison)
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { createLab, labAvailable, type Lab } from '../lab/lab.js'
import { ProcManager } from '../../core/plugins/caps/proc.js'
import { MirrorVolume } from '../../core/mirror/volume.js'
import { scrub, sh, missingTools, TEST_CLUSTER_KEY, type MNode } from '../../test/mirror/lab-nodes.js'

const secs = Number(process.argv[2] ?? 10)
const SIZE = 512 << 20
const PORT = 17796
const avail = await labAvailable()
const missing = [...missingTools(), '/usr/bin/fio'].filter((f) => !fs.existsSync(f))
if (!avail.ok || missing.length) {
  console.log(JSON.stringify({ what: 'mirror', skipped: !avail.ok ? avail.reason : `missing ${missing.join(', ')}` }))
  process.exit(0)
}

function node(lab: Lab, dir: string, i: 0 | 1, mode: 'sync' | 'async', peer: MNode | null): MNode {
  const name = `n${i + 1}`
  const procs = new ProcManager({ stateDir: path.join(dir, `p${i + 1}`) })
  const vol = new MirrorVolume(
    {
      resource: 'md0',
      node: name,
      backing: path.join(dir, `${name}.img`),
      runDir: path.join(dir, `r${i + 1}`),
      listen: { host: lab.addr(i, 0), port: PORT },
      peer: { host: lab.addr(1 - i, 0), port: PORT },
      mode,
      secret: { cluster: 'bench', key: TEST_CLUSTER_KEY },
      wrap: ['ip', 'netns', 'exec', lab.ns(i)],
    },
    procs,
    undefined,
    peer ? { outdatePeer: (rec) => peer.vol.markOutdated(rec) } : {},
  )
  return { name, ns: lab.ns(i), addr: lab.addr(i, 0), procs, vol, mnt: path.join(dir, `m${i + 1}`) }
}

async function fio(lab: Lab, args: string[]): Promise<{ iops: number; latUs: number }> {
  const r = await lab.exec(0, ['fio', '--output-format=json', `--runtime=${secs}`, '--time_based', '--group_reporting', ...args], {
    timeoutMs: (secs + 120) * 1000,
  })
  const j = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
    jobs: Array<{ write: { iops: number; clat_ns?: { mean: number }; lat_ns?: { mean: number } } }>
  }
  const w = j.jobs[0]!.write
  return { iops: Math.round(w.iops), latUs: Math.round((w.lat_ns?.mean ?? w.clat_ns?.mean ?? 0) / 1000) }
}

type Config = 'local' | 'sync' | 'async'
const out: Record<string, unknown> = { what: 'mirror', secondsPerRun: secs, cpus: os.cpus().length }
const lab = await createLab({ prefix: `mccsb${process.pid}-`, nodes: 2, links: 1 })
try {
  for (const cfg of (process.env.MIRROR_BENCH_CONFIGS?.split(',') ?? ['local', 'sync', 'async']) as Config[]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-'))
    for (const n of ['n1.img', 'n2.img']) {
      fs.writeFileSync(path.join(dir, n), '')
      fs.truncateSync(path.join(dir, n), SIZE)
    }
    if (cfg === 'sync') {
      // Data to copy at the first resync (the resync rate).
      const fd = fs.openSync(path.join(dir, 'n1.img'), 'r+')
      for (let off = 0; off < 256 << 20; off += 4 << 20) fs.writeSync(fd, crypto.randomBytes(4 << 20), 0, 4 << 20, off)
      fs.closeSync(fd)
    }
    const mode = cfg === 'async' ? 'async' : 'sync'
    const b = cfg === 'local' ? null : node(lab, dir, 1, mode, null)
    const a = node(lab, dir, 0, mode, b)
    try {
      if (b) await b.vol.becomeSecondary()
      const t0 = Date.now()
      await a.vol.becomePrimary({ force: true })
      if (b) await a.vol.waitInSync(300_000)
      if (cfg === 'sync') out.fullResync = { mib: 256, ms: Date.now() - t0, mibPerS: +(256 / ((Date.now() - t0) / 1000)).toFixed(1) }
      // The same writes straight at the primary's NBD export (no ext4, loop or FUSE): what the mirror hop
      // alone costs, at queue depth 1 (its latency) and 16 (its throughput).
      const uri = `nbd+unix:///vol?socket=${path.join(a.vol.c.runDir, 'nbd.sock')}`
      const nbd = (qd: number) =>
        fio(lab, ['--name=nbd', '--ioengine=nbd', `--uri=${uri}`, '--size=128M', '--rw=randwrite', '--bs=4k', `--iodepth=${qd}`])
      const nbdExport = { qd1: await nbd(1), qd16: await nbd(16) }
      const dev = await a.vol.attach()
      sh(['mkfs.ext4', '-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', dev])
      fs.mkdirSync(a.mnt, { recursive: true })
      sh(['mount', dev, a.mnt])
      const rand = await fio(lab, [
        '--name=rand',
        `--filename=${a.mnt}/rand`,
        '--size=128M',
        '--rw=randwrite',
        '--bs=4k',
        '--iodepth=16',
        '--ioengine=libaio',
        '--direct=1',
      ])
      const fsync = await fio(lab, [
        '--name=fsync',
        `--filename=${a.mnt}/fsync`,
        '--size=32M',
        '--rw=write',
        '--bs=4k',
        '--ioengine=sync',
        '--fsync=1',
      ])
      out[cfg] = { randwrite4kQd16: rand, write4kFsync: fsync, nbdExport }
      console.error(
        `${cfg}: 4k randwrite QD16 ${rand.iops} IOPS (${rand.latUs} µs), 4k write+fsync ${fsync.iops}/s (${fsync.latUs} µs); ` +
          `NBD export QD1 ${nbdExport.qd1.iops} IOPS (${nbdExport.qd1.latUs} µs), QD16 ${nbdExport.qd16.iops} IOPS`,
      )
      if (cfg === 'sync' && b) {
        // Partial resync: cut the link, write 16 MiB (direct, 1 MiB blocks), restore, time until UpToDate.
        await lab.linkDown(0, 0)
        await lab.exec(0, ['dd', 'if=/dev/urandom', `of=${a.mnt}/flap`, 'bs=1M', 'count=16', 'oflag=direct', 'conv=fsync', 'status=none'], {
          timeoutMs: 120_000,
        })
        const t1 = Date.now()
        await lab.linkUp(0, 0)
        await a.vol.waitInSync(300_000)
        out.partialResync = { writtenMib: 16, msFromLinkUp: Date.now() - t1 }
      }
      sh(['umount', a.mnt])
    } finally {
      await lab.linkUp(0, 0).catch(() => {})
      for (const n of [a, b]) if (n) await scrub(n, dir)
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  const ratio = (c: Config, k: 'randwrite4kQd16' | 'write4kFsync') =>
    out[c] && out.local ? +(((out[c] as any)[k].iops / (out.local as any)[k].iops) * 100).toFixed(1) : null
  out.percentOfUnreplicated = {
    sync: { randwrite: ratio('sync', 'randwrite4kQd16'), fsync: ratio('sync', 'write4kFsync') },
    async: { randwrite: ratio('async', 'randwrite4kQd16'), fsync: ratio('async', 'write4kFsync') },
  }
  const hop = (c: Config, k: 'qd1' | 'qd16') =>
    out[c] && out.local ? +(((out[c] as any).nbdExport[k].iops / (out.local as any).nbdExport[k].iops) * 100).toFixed(1) : null
  out.nbdExportPercentOfUnreplicated = { sync: { qd1: hop('sync', 'qd1'), qd16: hop('sync', 'qd16') } }
  out.loadavg = os.loadavg().map((l) => +l.toFixed(2))
} finally {
  await lab.destroy()
}
console.log(JSON.stringify(out))
