// The cluster key: 256 random bits shared by every node, used for the heartbeat HMAC. Stored raw
// (32 bytes) in a file only its owner can read. Created atomically: a crash leaves the old key or the
// new one, never a short file.

import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { lstat, open } from 'node:fs/promises'
import { join } from 'node:path'
import { MccsError } from '../errors.js'
import { writeFileAtomic } from '../config/atomic.js'

export const CLUSTER_KEY_BYTES = 32

/** Where a node keeps the key: config/cluster.key. */
export const clusterKeyPath = (configDir: string): string => join(configDir, 'cluster.key')

export interface CreateKeyOptions {
  /** Replace an existing key file (default: refuse with MCCS_ERR_CLUSTER_KEY_EXISTS). */
  overwrite?: boolean
  /** Use these bytes instead of fresh random ones (tests; distributing one key to every node). */
  key?: Buffer
}

/** Writes a new 256-bit key to `file` (mode 0600, write + fsync + rename + fsync dir). Returns the key. */
export async function createClusterKey(file: string, opts: CreateKeyOptions = {}): Promise<Buffer> {
  const key = opts.key ?? randomBytes(CLUSTER_KEY_BYTES)
  if (key.length !== CLUSTER_KEY_BYTES) {
    throw new MccsError('MCCS_ERR_CLUSTER_KEY_INVALID', `a cluster key is ${CLUSTER_KEY_BYTES} bytes, not ${key.length}`, {
      field: 'key',
      subject: file,
    })
  }
  if (!opts.overwrite) await refuseExisting(file)
  await writeFileAtomic(file, key, 0o600, {
    // A second check narrows the race with a concurrent creator; rename itself would replace silently.
    beforeRename: async () => {
      if (!opts.overwrite) await refuseExisting(file)
    },
  })
  return key
}

async function refuseExisting(file: string): Promise<void> {
  const exists = await lstat(file).then(
    () => true,
    () => false,
  )
  if (exists) throw new MccsError('MCCS_ERR_CLUSTER_KEY_EXISTS', 'refusing to replace an existing cluster key', { subject: file })
}

/**
 * Reads the key. Refuses a missing file, anything but a regular file, a file readable or writable by group
 * or others (the key authenticates the whole cluster), and a file that is not exactly 32 bytes.
 */
export async function loadClusterKey(file: string): Promise<Buffer> {
  let fh
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new MccsError('MCCS_ERR_CLUSTER_KEY_MISSING', 'no such file', { subject: file, cause: e })
    if (code === 'ELOOP')
      throw new MccsError('MCCS_ERR_CLUSTER_KEY_INVALID', 'is a symbolic link; give the real file', { subject: file, cause: e })
    throw new MccsError('MCCS_ERR_CLUSTER_KEY_INVALID', `cannot be opened (${code ?? String(e)})`, { subject: file, cause: e })
  }
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new MccsError('MCCS_ERR_CLUSTER_KEY_INVALID', 'is not a regular file', { subject: file })
    if (st.mode & 0o077) {
      throw new MccsError('MCCS_ERR_CLUSTER_KEY_MODE', `mode is ${(st.mode & 0o777).toString(8).padStart(4, '0')}; run chmod 600 ${file}`, {
        field: 'mode',
        subject: file,
        data: { mode: st.mode & 0o777 },
      })
    }
    if (st.size !== CLUSTER_KEY_BYTES) {
      throw new MccsError('MCCS_ERR_CLUSTER_KEY_INVALID', `is ${st.size} bytes; a cluster key is ${CLUSTER_KEY_BYTES} bytes`, {
        field: 'size',
        subject: file,
        data: { size: st.size },
      })
    }
    const buf = Buffer.alloc(CLUSTER_KEY_BYTES + 1)
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
    if (bytesRead !== CLUSTER_KEY_BYTES) {
      throw new MccsError('MCCS_ERR_CLUSTER_KEY_INVALID', `read ${bytesRead} bytes; a cluster key is ${CLUSTER_KEY_BYTES} bytes`, {
        field: 'size',
        subject: file,
      })
    }
    return buf.subarray(0, CLUSTER_KEY_BYTES)
  } finally {
    await fh.close()
  }
}
