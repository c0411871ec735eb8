// The loop device a primary attaches its volume through (nbdfuse's file → /dev/loopN), and what keeps
// it from outliving its use. A loop device stays bound until someone detaches it, whatever happens to
// the file behind it: an agent killed with its daemons (a node crash, a fence, a test's teardown) left
// one per crash, bound over a FUSE file that was gone ("(/disk)" in `losetup -a`), pinning kernel
// resources for good (issue 15: one was left in every full test run). Two guards:
//  - once its file system is mounted, the device is marked autoclear: the kernel detaches it when the
//    last mount of it ends, in whatever mount namespace and however that namespace ends;
//  - the attach is recorded with the device's diskseq (the kernel bumps it at every attach and detach
//    of a loop device) and the boot: a later run of the volume detaches a device left attached only
//    when it is still that very attachment, never a device another program bound since.
import fs from 'node:fs'
import { execFile } from 'node:child_process'
import { MccsError } from '../errors.js'
import { writeFileAtomicSync } from '../config/atomic.js'

export interface LoopRecord {
  device: string
  /** /sys/block/loopN/diskseq right after the attach. */
  diskseq: string
  /** /proc/sys/kernel/random/boot_id at the attach (diskseq starts again after a reboot). */
  boot: string
  /** The file it was bound to, as sysfs named it then. */
  backing: string
  at: string
}

const DEV_RE = /^\/dev\/(loop\d+)$/

function readTrim(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim()
  } catch {
    return null
  }
}

/** The file behind /dev/loopN as sysfs names it (null when it has none). A file on a FUSE mount whose
 *  mount namespace is gone is named from that mount's root ("/disk"). Read from sysfs, not `losetup`,
 *  which asks each backing file's file system and hangs on a deadlocked one. */
export function loopBacking(dev: string): string | null {
  const n = DEV_RE.exec(dev)?.[1]
  return n ? readTrim(`/sys/block/${n}/loop/backing_file`) : null
}

const diskseq = (dev: string): string | null => {
  const n = DEV_RE.exec(dev)?.[1]
  return n ? readTrim(`/sys/block/${n}/diskseq`) : null
}
const bootId = (): string => readTrim('/proc/sys/kernel/random/boot_id') ?? ''

/** Whether the kernel will detach `dev` at its last close. */
export function autoclearSet(dev: string): boolean {
  const n = DEV_RE.exec(dev)?.[1]
  return n ? readTrim(`/sys/block/${n}/loop/autoclear`) === '1' : false
}

/** Records the attachment of `dev` (just bound to `backing`) in `file`; throws when the device is no
 *  longer bound to it (nothing to record). A kernel without diskseq (before 5.15) gives a record without
 *  an identity: such a device is never detached as an earlier run's (readRecord). */
export function recordAttach(file: string, dev: string, backing: string): LoopRecord {
  const seq = diskseq(dev) ?? ''
  // The diskseq read first, then the binding: a device bound to our file after that read is this attach.
  if (loopBacking(dev) !== backing)
    throw new MccsError('MCCS_ERR_MIRROR_ENGINE', `${dev} is not bound to ${backing} right after losetup`, { subject: dev })
  const rec: LoopRecord = { device: dev, diskseq: seq, boot: bootId(), backing, at: new Date().toISOString() }
  writeFileAtomicSync(file, JSON.stringify(rec) + '\n', 0o600)
  return rec
}

/** The recorded attachment (`rec` null when it carries no identity: an earlier version's record, a kernel
 *  without diskseq), or null when there is none. */
export function readRecord(file: string): { device: string; rec: LoopRecord | null } | null {
  let j: Partial<LoopRecord>
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LoopRecord>
  } catch {
    return null
  }
  if (typeof j.device !== 'string' || !DEV_RE.test(j.device)) return null
  const full =
    typeof j.diskseq === 'string' && /^\d+$/.test(j.diskseq) && typeof j.boot === 'string' && !!j.boot && typeof j.backing === 'string'
  return { device: j.device, rec: full ? (j as LoopRecord) : null }
}

/** Whether `rec`'s device is still bound by that attach: same boot, same diskseq. */
export function sameAttachment(rec: LoopRecord): boolean {
  return rec.boot === bootId() && diskseq(rec.device) === rec.diskseq && loopBacking(rec.device) !== null
}

function run(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 30_000 }, (err, _o, stderr) => {
      if (err)
        reject(new MccsError('MCCS_ERR_MIRROR_ENGINE', `${argv.join(' ')}: ${String(stderr).trim() || err.message}`, { subject: argv[0]! }))
      else resolve()
    })
  })
}

/** `losetup -d`: detaches a device nobody holds; on one still held (a mounted file system, in any
 *  namespace) the kernel only sets autoclear and answers 0 — it goes at the last close. A device that
 *  went meanwhile (autoclear at an unmount just before) is no error. */
export async function loopDetach(dev: string, still: () => boolean): Promise<void> {
  try {
    await run(['losetup', '-d', dev])
  } catch (e) {
    if (still()) throw e
  }
}
