// Crash-safe file replacement, the one copy every writer uses: a reader (or a restarted agent) sees the
// old file or the new one, never a mix, and once the call returns the new one survives a power loss.
// Write a temp file in the same directory (created exclusively, never through a link), give it the
// exact mode, fsync it, rename it over, fsync the directory. Sync and async forms do the same steps:
// the sync one is for callers that must not yield (the proc supervisor's records, the mirror metadata).

import fs from 'node:fs'
import { open, readdir, rename, rm } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'

let counter = 0
const TEMP = /^\.(.+)\.(\d+)\.[0-9a-z]+\.tmp$/
const CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW

/** The temp file carries the writer's pid, so a later load can tell a dead writer's leftovers from live
 *  work; the random part keeps a recycled pid from meeting a dead writer's leftover (O_EXCL). */
function tempPath(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${(counter++).toString(36)}${randomBytes(3).toString('hex')}.tmp`)
}

export interface AtomicWriteOptions {
  /** Runs after the temp file is durable, before the rename; a throw abandons the write (the old file stays). */
  beforeRename?: () => Promise<void>
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o640, opts: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempPath(file)
  try {
    const fh = await open(tmp, CREATE, mode)
    try {
      await fh.chmod(mode) // the umask may have narrowed it: the file gets the mode its writer chose
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await opts.beforeRename?.()
    await rename(tmp, file)
  } catch (e) {
    await rm(tmp, { force: true })
    throw e
  }
  // The rename is durable only once the directory entry is.
  await fsyncDir(dirname(file))
}

export function writeFileAtomicSync(file: string, data: string | Uint8Array, mode = 0o640): void {
  const tmp = tempPath(file)
  try {
    const fd = fs.openSync(tmp, CREATE, mode)
    try {
      fs.fchmodSync(fd, mode)
      fs.writeFileSync(fd, data)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, file)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw e
  }
  fsyncDirSync(dirname(file))
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

export function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/** Removes temp files left by writers that died mid-write (SIGKILL, power loss). Returns their names. */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const removed: string[] = []
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = TEMP.exec(name)
    if (!m || pidAlive(Number(m[2]))) continue
    await rm(join(dir, name), { force: true })
    removed.push(name)
  }
  return removed
}

export function isTempFile(name: string): boolean {
  return TEMP.test(name)
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
