// Support bundles kept on this node (<stateDir>/support/) so earlier ones can be downloaded again:
// <id>.tar.gz plus index.json, newest first, at most `keep` of them (the oldest are deleted).
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../config/atomic.js'
import { MccsError } from '../errors.js'

export interface BundleInfo {
  id: string
  createdAt: string
  /** Nodes whose bundle is inside. */
  nodes: string[]
  size: number
  /** Nodes asked for that could not be collected, with the reason. */
  unreachable: Array<{ node: string; reason: string }>
}

export const BUNDLE_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/
export const DEFAULT_KEEP = 10

export class SupportStore {
  readonly dir: string
  private chain: Promise<unknown> = Promise.resolve()

  constructor(
    stateDir: string,
    readonly keep = DEFAULT_KEEP,
  ) {
    this.dir = path.join(stateDir, 'support')
  }

  static newId(now: Date): string {
    return `${now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`
  }

  async list(): Promise<BundleInfo[]> {
    try {
      const v = JSON.parse(await readFile(path.join(this.dir, 'index.json'), 'utf8')) as unknown
      return Array.isArray(v) ? (v as BundleInfo[]).filter((x) => typeof x?.id === 'string' && BUNDLE_ID.test(x.id)) : []
    } catch {
      return []
    }
  }

  /** Writes the bundle, then the index (one writer at a time); prunes beyond `keep`. */
  add(info: Omit<BundleInfo, 'size'>, data: Buffer): Promise<BundleInfo> {
    const run = this.chain.then(async () => {
      if (!BUNDLE_ID.test(info.id)) throw new MccsError('MCCS_ERR_INVALID', 'is not a bundle id', { field: '/id' })
      await mkdir(this.dir, { recursive: true, mode: 0o700 })
      await writeFileAtomic(this.file(info.id), data, 0o600)
      const entry: BundleInfo = { ...info, size: data.length }
      const all = [entry, ...(await this.list()).filter((x) => x.id !== info.id)]
      const kept = all.slice(0, this.keep)
      await writeFileAtomic(path.join(this.dir, 'index.json'), JSON.stringify(kept, null, 2) + '\n', 0o600)
      for (const old of all.slice(this.keep)) await rm(this.file(old.id), { force: true })
      return entry
    })
    this.chain = run.catch(() => {})
    return run
  }

  /** The file of a kept bundle; MCCS_ERR_NOT_FOUND for an unknown or malformed id. */
  async path(id: string): Promise<string> {
    if (!BUNDLE_ID.test(id)) throw new MccsError('MCCS_ERR_INVALID', 'is not a bundle id (yyyymmddThhmmssZ-xxxxxx)', { field: '/id' })
    if (!(await this.list()).some((x) => x.id === id))
      throw new MccsError('MCCS_ERR_NOT_FOUND', `no support bundle ${id} is kept on this node`, { field: '/id' })
    const file = this.file(id)
    await stat(file).catch(() => {
      throw new MccsError('MCCS_ERR_NOT_FOUND', `support bundle ${id} is listed but its file is gone`, { field: '/id' })
    })
    return file
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.tar.gz`)
  }
}
