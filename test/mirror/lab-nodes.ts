// Shared by the mirror lab tests: two MirrorVolume objects, each with its own ProcManager, standing for
// the two agents; qemu-storage-daemon runs inside each node's namespace; scrub() undoes what a node left.
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { labAvailable, type Lab } from '../../scripts/lab/lab.js'
import { SQLITE_SERVICE } from '../../scripts/lab/mirror-failover.js'
import { ProcManager } from '../../core/plugins/caps/proc.js'
import { MirrorVolume, type VolumeConfig, type VolumeHooks } from '../../core/mirror/volume.js'
import { MirrorManager } from '../../core/mirror/manager.js'

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
export const sh = (argv: string[]): string => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
export const mountedAt = (mp: string): boolean =>
  fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === mp)
export const killPid = (pid: number | null | undefined): void => {
  if (!pid) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    /* gone */
  }
}
export const missingTools = (): string[] =>
  ['/usr/bin/qemu-storage-daemon', '/usr/bin/nbdfuse', '/usr/sbin/mkfs.ext4', '/usr/sbin/losetup'].filter((f) => !fs.existsSync(f))

/** Why a lab test with real agents and the SQLite service over the mirror cannot run here (false: it can). */
export async function sqliteLabSkip(): Promise<string | false> {
  const avail = await labAvailable()
  if (!avail.ok) return avail.reason ?? 'lab unavailable'
  const missing = [
    ...missingTools(),
    ...['/usr/bin/sqlite3', SQLITE_SERVICE].filter((f) => !fs.existsSync(f)),
    ...(fs.existsSync('dist/mccs.js') ? [] : ['dist/ (npm run build)']),
  ]
  return missing.length ? `missing ${missing.join(', ')}` : false
}

export interface MNode {
  name: string
  ns: string
  addr: string
  procs: ProcManager
  vol: MirrorVolume
  mnt: string
}

/** One cluster key per test process: both nodes derive the volume's replication PSK from it. */
export const TEST_CLUSTER_KEY = crypto.randomBytes(32)

export function mnode(
  lab: Lab,
  dir: string,
  i: 0 | 1,
  procDir: string,
  port: number,
  key: Buffer = TEST_CLUSTER_KEY,
  hooks?: VolumeHooks,
  /** More of the volume's configuration (e.g. resyncRateMiBs). */
  more: Partial<VolumeConfig> = {},
): MNode {
  const name = `n${i + 1}`
  const procs = new ProcManager({ stateDir: procDir })
  const vol = new MirrorVolume(
    {
      resource: 'md0',
      node: name,
      backing: path.join(dir, `${name}.img`),
      runDir: path.join(dir, `r${i + 1}`),
      listen: { host: lab.addr(i, 0), port },
      peer: { host: lab.addr(1 - i, 0), port },
      mode: 'sync',
      secret: { cluster: 'lab', key },
      wrap: ['ip', 'netns', 'exec', lab.ns(i)],
      ...more,
    },
    procs,
    process.env.MIRROR_DEBUG ? (m, d) => console.error(`[${name}] ${m}`, JSON.stringify(d ?? {})) : undefined,
    hooks,
  )
  return { name, ns: lab.ns(i), addr: lab.addr(i, 0), procs, vol, mnt: path.join(dir, `m${i + 1}`) }
}

/** Unmounts the node's file system as the plugin's offline does (the agent's MirrorManager): here and
 *  every copy another mount namespace took of it, so it is shut down when this resolves. */
export async function unmount(n: { vol: MirrorVolume; mnt: string; procs: ProcManager }): Promise<void> {
  const mm = new MirrorManager({ procs: n.procs, runBase: path.dirname(n.vol.c.runDir), secret: () => n.vol.c.secret })
  await mm.unmount(n.vol, { mountPoint: n.mnt })
}

/** Undoes what a node left on this host: mount, loop, fuse mount, processes (by pid). */
export async function scrub(n: MNode, dir: string): Promise<void> {
  if (mountedAt(n.mnt))
    try {
      sh(['umount', '-l', n.mnt])
    } catch {
      /* gone */
    }
  for (const l of sh(['losetup', '-a']).split('\n')) {
    const m = /^(\/dev\/loop\d+):.*\((.*)\)/.exec(l)
    if (m && m[2]!.startsWith(dir))
      try {
        sh(['losetup', '-d', m[1]!])
      } catch {
        /* gone */
      }
  }
  const fuse = path.join(n.vol.c.runDir, 'fuse')
  if (mountedAt(fuse))
    try {
      sh(['umount', '-l', fuse])
    } catch {
      /* gone */
    }
  for (const p of ['qsd', 'nbdfuse', 'relay']) {
    const s = await n.procs.status('mirror.md0', p).catch(() => null)
    killPid(s?.supervisorPid)
    killPid(s?.pid)
  }
  n.vol.close()
  n.procs.close()
}

/** Kills a node's daemons and their supervisors (a crash of the node as far as the mirror goes). */
export async function crash(n: MNode, extra: Array<number | undefined> = []): Promise<void> {
  const q = await n.procs.status('mirror.md0', 'qsd')
  const f = await n.procs.status('mirror.md0', 'nbdfuse')
  const r = await n.procs.status('mirror.md0', 'relay')
  for (const p of [...extra, q.pid, f.pid, r.pid, q.supervisorPid, f.supervisorPid, r.supervisorPid]) killPid(p)
  n.procs.close()
}

export function images(dir: string, size: number): void {
  for (const n of ['n1', 'n2']) {
    fs.writeFileSync(path.join(dir, `${n}.img`), '')
    fs.truncateSync(path.join(dir, `${n}.img`), size)
  }
}
