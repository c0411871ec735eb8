// A state file that cannot be used is evidence: moved aside (not deleted, not overwritten by the next
// save) so support can see what was on disk, and only a few copies are kept so a crash loop on a bad
// disk does not fill the folder.
import { existsSync } from 'node:fs'
import { readdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export const KEEP_CORRUPT = 3

/** Renames `file` to `<file>.corrupt-<UTC time>`; returns that path, or null when even the rename failed. */
export async function keepAside(file: string, now = new Date()): Promise<string | null> {
  const stamp = now.toISOString().replace(/[:.]/g, '-')
  let target = `${file}.corrupt-${stamp}`
  for (let i = 1; existsSync(target); i++) target = `${file}.corrupt-${stamp}-${i}` // never replace an earlier copy
  try {
    await rename(file, target)
  } catch {
    return null
  }
  await prune(file)
  return target
}

async function prune(file: string): Promise<void> {
  const prefix = `${basename(file)}.corrupt-`
  const names = (await readdir(dirname(file)).catch(() => [] as string[])).filter((n) => n.startsWith(prefix)).sort()
  for (const n of names.slice(0, Math.max(0, names.length - KEEP_CORRUPT))) await rm(join(dirname(file), n), { force: true })
}
