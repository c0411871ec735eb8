// The files one setup step creates, so that a step that fails half way removes what it made: a refused
// setup or join leaves the host as it found it. Each file is written atomically (core/config/atomic.ts).
import { mkdir, rm, rmdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../config/atomic.js'

export class WrittenFiles {
  private readonly made: string[] = []
  private readonly dirs: string[] = []
  private readonly undo: Array<() => Promise<unknown>> = []

  /** Writes a file that must not exist yet (a file already there is never replaced by setup). */
  async create(file: string, data: string | Uint8Array, mode: number): Promise<void> {
    await this.mkdirs(path.dirname(file))
    await writeFileAtomic(file, data, mode, {
      beforeRename: async () => {
        if (await exists(file)) throw Object.assign(new Error(`${file} appeared meanwhile`), { code: 'EEXIST' })
      },
    })
    this.made.push(file)
  }

  /** Something else to undo (a file that existed and was changed: its old text is written back). */
  onRollback(fn: () => Promise<unknown>): void {
    this.undo.push(fn)
  }

  /** Notes a file written by another function (the cluster key, the license) for the rollback. */
  note(file: string): void {
    this.made.push(file)
  }

  async mkdirs(dir: string, mode = 0o755): Promise<void> {
    const missing: string[] = []
    for (let d = path.resolve(dir); !(await exists(d)); d = path.dirname(d)) missing.unshift(d)
    if (missing.length) await mkdir(dir, { recursive: true, mode })
    this.dirs.push(...missing.reverse())
  }

  /** Removes what this step made (files, then the folders it created, deepest first). */
  async rollback(): Promise<void> {
    for (const fn of this.undo.reverse()) await fn().catch(() => {})
    for (const f of this.made.reverse()) await rm(f, { force: true })
    for (const d of this.dirs) await rmdir(d).catch(() => {}) // only if empty: never a folder with other files
    this.made.length = 0
    this.dirs.length = 0
    this.undo.length = 0
  }

  get files(): readonly string[] {
    return this.made
  }
}

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  )
}
