// The volume's file system in every mount namespace of this host. A process that gets its own mount
// namespace (`ip netns exec`, `unshare -m`, a service with PrivateTmp=, a container) while the volume
// is mounted takes a copy of the mount; on a host whose / is not a shared mount, `umount` here then
// only removes this namespace's copy and returns 0, while the file system stays live in the copy and
// writes its unmount (journal checkpoint, superblock) whenever that namespace ends — after the volume
// was declared unmounted, possibly after the other node took over. So an unmount here ends every copy,
// and a detach refuses while the device is still claimed.
import fs from 'node:fs'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { MccsError } from '../errors.js'

export interface ForeignMount {
  /** A process living in that mount namespace. */
  pid: number
  comm: string
  mountPoint: string
}

/** "major:minor" of a block device (as mountinfo spells it), null when it is none. */
export function deviceNumber(dev: string): string | null {
  const name = path.basename(fs.realpathSync(dev))
  try {
    return fs.readFileSync(`/sys/class/block/${name}/dev`, 'utf8').trim()
  } catch {
    return null
  }
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))

/** Every mount of device `majMin`, one process per mount namespace, this process's namespace first. */
export function mountsOf(majMin: string): ForeignMount[] {
  const seen = new Set<string>()
  const out: ForeignMount[] = []
  const pids = ['self', ...fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))]
  for (const p of pids) {
    const ns = nsOf(p)
    if (!ns || seen.has(ns)) continue
    let info: string
    try {
      info = fs.readFileSync(`/proc/${p}/mountinfo`, 'utf8')
    } catch {
      continue // exited meanwhile
    }
    seen.add(ns)
    const pid = p === 'self' ? process.pid : Number(p)
    let comm = ''
    try {
      comm = fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim()
    } catch {
      /* exited */
    }
    const mps = info
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[2] === majMin && f[4])
      .map((f) => unescape(f[4]!))
    // Deepest first: a mount below another must go before it.
    for (const mp of mps.sort((a, b) => b.length - a.length)) out.push({ pid, comm, mountPoint: mp })
  }
  return out
}

function nsOf(p: string): string | null {
  try {
    return fs.readlinkSync(`/proc/${p}/ns/mnt`)
  } catch {
    return null
  }
}

/** Whether `mp` is a mount point in the mount namespace of process `pid` (false when it is gone). */
export function mountedInNsOf(pid: number, mp: string): boolean {
  try {
    return fs
      .readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[4] !== undefined && unescape(l.split(' ')[4]!) === mp)
  } catch {
    return false
  }
}

/** Every mount namespace (one process in each) in which `mp` is a mount point, this process's first. */
export function mountsAt(mp: string): ForeignMount[] {
  const seen = new Set<string>()
  const out: ForeignMount[] = []
  for (const p of ['self', ...fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))]) {
    const ns = nsOf(p)
    if (!ns || seen.has(ns)) continue
    seen.add(ns)
    const pid = p === 'self' ? process.pid : Number(p)
    if (mountedInNsOf(pid, mp)) out.push({ pid, comm: '', mountPoint: mp })
  }
  return out
}

/** Unmounts whatever is mounted at `mp` in every mount namespace (lazily where it is busy): the FUSE
 *  mount an earlier agent's nbdfuse made in that agent's namespace, once nbdfuse is stopped. */
export async function unmountPathEverywhere(mp: string): Promise<void> {
  for (const m of mountsAt(mp)) {
    const pre = m.pid === process.pid ? [] : ['nsenter', `--mount=/proc/${m.pid}/ns/mnt`, '--']
    await run([...pre, 'umount', mp]).catch(() => run([...pre, 'umount', '-l', mp]).catch(() => {}))
  }
}

/** Whether something holds the block device exclusively (a mounted file system does, in any namespace). */
export function claimed(dev: string): boolean {
  let fd: number
  try {
    fd = fs.openSync(dev, fs.constants.O_RDONLY | fs.constants.O_EXCL)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EBUSY') return true
    throw e
  }
  fs.closeSync(fd)
  return false
}

const where = (m: ForeignMount): string => `${m.mountPoint} in the mount namespace of pid ${m.pid} (${m.comm || '?'})`

function run(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 60_000 }, (err, _o, stderr) => {
      if (err) reject(new Error(String(stderr).trim() || err.message))
      else resolve()
    })
  })
}

/** Unmounts `mountPoint` here and every copy of the device's file system in other mount namespaces;
 *  resolves once the file system is shut down (the last unmount returns after its final writes).
 *  Rejects naming the namespace whose copy could not be unmounted (busy there). */
export async function unmountEverywhere(mountPoint: string, dev: string): Promise<void> {
  const majMin = deviceNumber(dev)
  if (!majMin) throw new MccsError('MCCS_ERR_MIRROR_ENGINE', `${dev} is not a block device`, { subject: dev })
  // Here first: no new copy can be taken from this namespace after that.
  if (mountsOf(majMin).some((m) => m.pid === process.pid && m.mountPoint === mountPoint))
    await run(['umount', mountPoint]).catch((e: unknown) => {
      throw new MccsError('MCCS_ERR_MIRROR_ENGINE', `umount ${mountPoint}: ${(e as Error).message}`, { subject: mountPoint })
    })
  // A process in a copy may have made a copy of its own: a few rounds.
  for (let round = 0; round < 5; round++) {
    const left = mountsOf(majMin)
    if (!left.length) break
    for (const m of left) {
      const argv =
        m.pid === process.pid ? ['umount', m.mountPoint] : ['nsenter', `--mount=/proc/${m.pid}/ns/mnt`, '--', 'umount', m.mountPoint]
      await run(argv).catch((e: unknown) => {
        // A process that is exiting still has /proc/<pid> but no namespace any more: its copy ends with it
        // (seen in a full test run: "nsenter: cannot open /proc/<pid>/ns/mnt"); the next round looks again.
        if (nsOf(String(m.pid)) !== null)
          throw new MccsError(
            'MCCS_ERR_MIRROR_ENGINE',
            `the file system of ${dev} is still mounted at ${where(m)}: ${(e as Error).message}`,
            {
              subject: dev,
            },
          )
      })
    }
  }
  const left = mountsOf(majMin)
  if (left.length)
    throw new MccsError('MCCS_ERR_MIRROR_ENGINE', `the file system of ${dev} is still mounted at ${left.map(where).join('; ')}`, {
      subject: dev,
    })
  // A namespace that ended meanwhile shuts the file system down in its exiting process: wait for that.
  const end = Date.now() + 10_000
  while (claimed(dev)) {
    if (Date.now() > end) assertReleased(dev)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Throws when the device is still claimed (mounted somewhere, or held exclusively by a program). */
export function assertReleased(dev: string): void {
  if (!claimed(dev)) return
  const majMin = deviceNumber(dev)
  const m = majMin ? mountsOf(majMin) : []
  throw new MccsError(
    'MCCS_ERR_MIRROR_ROLE',
    m.length
      ? `${dev} is still in use: its file system is mounted at ${m.map(where).join('; ')}; unmount it first`
      : `${dev} is still in use (held exclusively by a program on this node); stop it first`,
    { subject: dev },
  )
}
