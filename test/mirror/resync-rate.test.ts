// Mirror disk: the resync rate limit (attribute resyncRateMiBs; DRBD's resync-rate, qemu's job `speed`).
// A 64 MiB volume full of data on n1, limited to 8 MiB/s:
//   1. the first full resync takes at least size / rate, `mccs mirror status` (the volume's status)
//      reports a rate near the limit and the limit itself, and the mirror job runs with that speed;
//   2. in sync, with the limit still configured: a write (O_DIRECT|O_DSYNC) is on the peer's disk when
//      it is acknowledged (sync mode, write-blocking) and is not slowed by the limit;
//   3. a second full resync (`mccs mirror resync`) at the same limit: the application's writes are not
//      limited (8 MiB in far less than the 1 s the limit would take), into blocks the background copy
//      has not reached yet. (While a resync runs, qemu leaves the part of a write that covers a still
//      dirty 64 KiB cluster only in part to the background copy: the peer is SyncTarget then, never
//      promoted without force, so this is not counted as on the peer; verify checks the end result);
//   4. the limit changed while that resync runs (a new volume object from the changed attributes, as
//      the agent makes one; block-job-set-speed): 0 = unlimited, the rest is copied at once.
// verify finds both copies equal at the end.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { createLab, labAvailable } from '../../scripts/lab/lab.js'
import { MirrorVolume, type VolumeStatus } from '../../core/mirror/volume.js'
import { verifyVolumes } from '../../core/mirror/verify.js'
import { mnode, scrub, images, sleep, missingTools, type MNode } from './lab-nodes.js'

const PORT = 17787
const MiB = 1 << 20
const SIZE = 64 * MiB
const RATE = 8 // MiB/s
/** The application's write: the volume's last 8 MiB, which the background copy reaches last. */
const W = 8
const avail = await labAvailable()
const missing = missingTools()

/** Polls status every 250 ms until the peer is declared in sync (or `during` says it took over);
 *  returns what SyncSource reported. */
async function followResync(vol: MirrorVolume, ms: number, during?: (s: VolumeStatus) => Promise<boolean>) {
  const seen: Array<{ at: number; percent: number | null; rateBps: number | null; limitBps: number | null; speed: unknown }> = []
  const t0 = Date.now()
  let hooked = false
  for (;;) {
    const s = await vol.status()
    const r = s.replication
    if (r?.state === 'SyncSource')
      seen.push({
        at: Date.now() - t0,
        percent: r.percent,
        rateBps: r.resync?.rateBps ?? null,
        limitBps: r.resync?.limitBps ?? null,
        speed: r.job?.speed,
      })
    if (r?.state === 'Connected') return { ms: Date.now() - t0, seen }
    if (during && !hooked && r?.state === 'SyncSource') hooked = await during(s)
    if (hooked) return { ms: Date.now() - t0, seen }
    if (Date.now() - t0 > ms) throw new Error(`not in sync within ${ms} ms: ${JSON.stringify(s.replication)}`)
    await sleep(250)
  }
}

t.test(
  'mirror: a limited resync takes at least size/rate; the application’s writes are not limited',
  { skip: !avail.ok ? avail.reason : missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const lab = await createLab({ prefix: `mccs${process.pid}q-`, nodes: 2, links: 1 })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mq-'))
    images(dir, SIZE)
    // Data everywhere (holes, sent as zeroes over NBD, count against the limit too: seen in ui-mirror).
    fs.writeFileSync(path.join(dir, 'n1.img'), crypto.randomBytes(SIZE))
    const b: MNode = mnode(lab, dir, 1, path.join(dir, 'p2'), PORT)
    const a: MNode = mnode(
      lab,
      dir,
      0,
      path.join(dir, 'p1'),
      PORT,
      undefined,
      { outdatePeer: (rec) => b.vol.markOutdated(rec) },
      {
        resyncRateMiBs: RATE,
      },
    )
    let a2: MirrorVolume | null = null
    t.teardown(async () => {
      a2?.close()
      for (const n of [a, b]) await scrub(n, dir)
      fs.rmSync(dir, { recursive: true, force: true })
      await lab.destroy()
    })
    await b.vol.becomeSecondary()

    // 1. The first full resync, limited.
    const t0 = Date.now()
    await a.vol.becomePrimary({ force: true })
    const first = await followResync(a.vol, 120_000)
    const took = Date.now() - t0
    const rates = first.seen.map((s) => s.rateBps).filter((r): r is number => r !== null && r > 0)
    const last = rates.at(-1) ?? 0
    t.comment(
      `first full resync of ${SIZE / MiB} MiB at ${RATE} MiB/s: ${took} ms; status rates ${rates.map((r) => (r / MiB).toFixed(2)).join(' ')} MiB/s`,
    )
    t.ok(took >= (SIZE / MiB / RATE) * 1000, `it took at least size/rate (${took} ms ≥ ${(SIZE / MiB / RATE) * 1000} ms)`)
    t.ok(took < (SIZE / MiB / RATE) * 1000 * 3, `and not far more (${took} ms): the limit is what holds it`)
    t.ok(last > 0.7 * RATE * MiB && last < 1.2 * RATE * MiB, `status reports a rate near the limit (${(last / MiB).toFixed(2)} MiB/s)`)
    t.ok(
      first.seen.length > 0 && first.seen.every((s) => s.limitBps === RATE * MiB && s.speed === RATE * MiB),
      'status names the limit, and the mirror job runs with that speed',
    )
    t.match((await b.vol.status()).peerRecord, { state: 'UpToDate' }, 'the peer is UpToDate')
    t.equal((await a.vol.status()).replication?.job?.speed, 0, 'once in sync the mirror job runs unlimited (the limit is the resync’s)')

    // 2. In sync, the limit still configured: a write is on both sides when acknowledged, at full speed.
    const dev = await a.vol.attach()
    const pattern = path.join(dir, 'pattern')
    const seek = SIZE / MiB - W
    const peerHas = (): boolean => {
      const peer = Buffer.alloc(W * MiB)
      const fd = fs.openSync(path.join(dir, 'n2.img'), 'r')
      fs.readSync(fd, peer, 0, W * MiB, seek * MiB)
      fs.closeSync(fd)
      return peer.equals(fs.readFileSync(pattern))
    }
    // O_DSYNC: acknowledged means on stable storage as far as the application knows (the loop device
    // flushes its backing file).
    const write = async (): Promise<number> => {
      const w0 = Date.now()
      await lab.exec(0, ['dd', `if=${pattern}`, `of=${dev}`, 'bs=1M', `count=${W}`, `seek=${seek}`, 'oflag=direct,dsync', 'status=none'], {
        timeoutMs: 60_000,
      })
      return Date.now() - w0
    }
    fs.writeFileSync(pattern, crypto.randomBytes(W * MiB))
    const inSync = await write()
    t.ok(peerHas(), `in sync: the ${W} MiB acknowledged are on the peer's disk at once (write-blocking)`)
    t.ok(
      inSync < (W / RATE) * 1000 * 0.75,
      `in sync: ${W} MiB written in ${inSync} ms, not limited (the limit would take ${(W / RATE) * 1000} ms)`,
    )

    // 3. A second full resync at the same limit, with the application writing meanwhile.
    fs.writeFileSync(pattern, crypto.randomBytes(W * MiB))
    await a.vol.fullResync()
    let wrote: { ms: number; percentAfter: number | null; restBytes: number } | null = null
    const second = await followResync(a.vol, 120_000, async (s) => {
      if ((s.replication?.percent ?? 0) < 5) return false
      // The last blocks, not yet copied by the background copy (it goes in order).
      const ms = await write()
      const after = await a.vol.status()
      const rs = after.replication?.resync
      wrote = {
        ms,
        percentAfter: after.replication?.percent ?? null,
        restBytes: rs ? rs.bytes - rs.done : 0,
      }
      // 4. The limit lifted while the resync runs: the agent makes a new volume object from the changed
      // attributes (MirrorManager.volume), which adopts the running daemon and sets the job's speed.
      a.vol.close()
      a2 = new MirrorVolume({ ...a.vol.c, resyncRateMiBs: 0 }, a.procs)
      return true
    })
    t.comment(`second resync: ${JSON.stringify(wrote)}; ${second.seen.map((s) => s.percent).join(' ')} %`)
    const w = wrote as { ms: number; percentAfter: number | null; restBytes: number } | null
    t.ok(w, 'the application wrote during the limited resync')
    t.ok(w!.ms < (W / RATE) * 1000 * 0.75, `${W} MiB written in ${w!.ms} ms: not limited (the limit would take ${(W / RATE) * 1000} ms)`)
    t.ok(
      w!.percentAfter !== null && w!.percentAfter < 100 - (W * 100) / (SIZE / MiB),
      `the background copy had not reached those blocks (${w!.percentAfter} %)`,
    )

    const rest = await followResync(a2!, 60_000)
    const atLimit = (w!.restBytes / (RATE * MiB)) * 1000
    t.comment(
      `after the limit was lifted: ${rest.ms} ms for ${(w!.restBytes / MiB).toFixed(1)} MiB left; speeds ${rest.seen.map((s) => s.speed).join(' ')}`,
    )
    t.ok(w!.restBytes >= 2 * RATE * MiB, `a good part was left to copy (${(w!.restBytes / MiB).toFixed(1)} MiB)`)
    t.ok(rest.ms < atLimit, `lifted live: the rest was copied in ${rest.ms} ms (the limit would take ${Math.round(atLimit)} ms)`)
    const v = await verifyVolumes(a2!, (chunk, idx) => b.vol.checksums(chunk, idx))
    t.same(v.differing, [], `verify: both copies equal (${v.chunks} chunks)`)
  },
)
