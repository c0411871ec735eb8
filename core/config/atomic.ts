// Crash-safe file replacement: a reader (or a restarted agent) sees the old file or the new one,
// never a mix. Write a temp file in the same directory, fsync it, rename it over, fsync the directory.

import { open, readdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

let counter = 0
const TEMP = /^\.(.+)\.(\d+)\.[0-9a-z]+\.tmp$/

/** The temp file carries the writer's pid, so a later load can tell a dead writer's leftovers from live work. */
function tempPath(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${(counter++).toString(36)}.tmp`)
}

export async function writeFileAtomic(file: string, data: string, mode = 0o640): Promise<void> {
  const tmp = tempPath(file)
  try {
    const fh = await open(tmp, 'wx', mode)
    try {
      await fh.writeFile(data, 'utf8')
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, file)
  } catch (e) {
    await rm(tmp, { force: true })
    throw e
  }
  // The rename is durable only once the directory entry is.
  await fsyncDir(dirname(file))
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
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
