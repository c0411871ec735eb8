import { chmod, mkdtemp, readdir, rm, stat, symlink, writeFile, mkdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { CLUSTER_KEY_BYTES, createClusterKey, loadClusterKey } from '../../core/cluster/cluster-key.js'
import { isMccsError, type ErrorCode } from '../../core/errors.js'

async function dir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'mccs-key-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  return d
}
async function code(p: Promise<unknown>): Promise<ErrorCode | 'resolved'> {
  try {
    await p
    return 'resolved'
  } catch (e) {
    if (isMccsError(e)) return e.code
    throw e
  }
}

t.test('create writes 32 random bytes with mode 0600 and no temp file; load reads them back', async (t) => {
  const d = await dir(t)
  const f = path.join(d, 'cluster.key')
  const old = process.umask(0o000) // even a permissive umask must not widen the mode
  try {
    const k = await createClusterKey(f)
    t.equal(k.length, CLUSTER_KEY_BYTES)
    t.equal((await stat(f)).mode & 0o777, 0o600)
    t.same(await loadClusterKey(f), k)
    t.same(await readdir(d), ['cluster.key'])
    const k2 = await createClusterKey(path.join(d, 'other.key'))
    t.not(k.toString('hex'), k2.toString('hex'), 'random')
  } finally {
    process.umask(old)
  }
})

t.test('create refuses to replace a key unless asked', async (t) => {
  const d = await dir(t)
  const f = path.join(d, 'cluster.key')
  const k = await createClusterKey(f)
  t.equal(await code(createClusterKey(f)), 'MCCS_ERR_CLUSTER_KEY_EXISTS')
  t.same(await loadClusterKey(f), k, 'unchanged')
  const given = Buffer.alloc(32, 7)
  t.same(await createClusterKey(f, { overwrite: true, key: given }), given)
  t.same(await loadClusterKey(f), given)
  t.equal(await code(createClusterKey(path.join(d, 'x.key'), { key: Buffer.alloc(16) })), 'MCCS_ERR_CLUSTER_KEY_INVALID')
  t.same((await readdir(d)).sort(), ['cluster.key'], 'no temp files left')
})

t.test('load refuses a missing, short, long, shared or odd file', async (t) => {
  const d = await dir(t)
  t.equal(await code(loadClusterKey(path.join(d, 'none.key'))), 'MCCS_ERR_CLUSTER_KEY_MISSING')
  for (const size of [0, 31, 33, 64]) {
    const f = path.join(d, `s${size}.key`)
    await writeFile(f, Buffer.alloc(size, 1), { mode: 0o600 })
    try {
      await loadClusterKey(f)
      t.fail('accepted')
    } catch (e) {
      t.ok(isMccsError(e, 'MCCS_ERR_CLUSTER_KEY_INVALID'), `size ${size}`)
      t.equal((e as { field?: string }).field, 'size')
    }
  }
  const f = path.join(d, 'shared.key')
  await createClusterKey(f)
  for (const mode of [0o640, 0o604, 0o660, 0o644, 0o700 | 0o004]) {
    await chmod(f, mode)
    try {
      await loadClusterKey(f)
      t.fail('accepted')
    } catch (e) {
      t.ok(isMccsError(e, 'MCCS_ERR_CLUSTER_KEY_MODE'), `mode ${mode.toString(8)}`)
      t.match((e as Error).message, /chmod 600/)
    }
  }
  await chmod(f, 0o400)
  t.equal((await loadClusterKey(f)).length, 32, 'read-only for the owner is fine')
  await mkdir(path.join(d, 'adir.key'), { mode: 0o700 })
  t.equal(await code(loadClusterKey(path.join(d, 'adir.key'))), 'MCCS_ERR_CLUSTER_KEY_INVALID')
  await symlink(f, path.join(d, 'link.key'))
  t.equal(await code(loadClusterKey(path.join(d, 'link.key'))), 'MCCS_ERR_CLUSTER_KEY_INVALID', 'symlinks refused')
})
