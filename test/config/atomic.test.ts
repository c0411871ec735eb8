// The one crash-safe file writer (core/config/atomic.ts) and the writers that used to carry their own
// copy: the file is replaced whole, is durable once the call returns (file fsynced, then the folder's
// entry), has exactly the mode asked for, and leaves no temp file behind on success or failure.
import t, { type Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { isTempFile, writeFileAtomic, writeFileAtomicSync } from '../../core/config/atomic.js'
import { readGeneration, writeGeneration, bumped } from '../../core/mirror/meta.js'

const tmpdir = (t: Test): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-atomic-'))
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }))
  return d
}

/** Records, in order, every fsync the sync fs API makes, by the path the fd was opened on. */
function traceSyncFsync(t: Test): Array<{ op: string; file: string }> {
  const trace: Array<{ op: string; file: string }> = []
  const fds = new Map<number, string>()
  const { openSync, fsyncSync, renameSync, closeSync } = fs
  fs.openSync = ((p: fs.PathLike, ...rest: unknown[]) => {
    const fd = (openSync as (...a: unknown[]) => number)(p, ...rest)
    fds.set(fd, String(p))
    return fd
  }) as typeof fs.openSync
  fs.fsyncSync = ((fd: number) => {
    trace.push({ op: 'fsync', file: fds.get(fd) ?? `fd ${fd}` })
    fsyncSync(fd)
  }) as typeof fs.fsyncSync
  fs.renameSync = ((a: fs.PathLike, b: fs.PathLike) => {
    trace.push({ op: 'rename', file: String(b) })
    renameSync(a, b)
  }) as typeof fs.renameSync
  fs.closeSync = ((fd: number) => {
    fds.delete(fd)
    closeSync(fd)
  }) as typeof fs.closeSync
  t.teardown(() => Object.assign(fs, { openSync, fsyncSync, renameSync, closeSync }))
  return trace
}

t.test('a mirror generation record is durable when writeGeneration returns: file fsynced, renamed, folder fsynced', async (t) => {
  const dir = tmpdir(t)
  const trace = traceSyncFsync(t)
  const rec = bumped(null)
  writeGeneration(dir, rec)
  t.same(readGeneration(dir), rec)
  const file = path.join(dir, 'generation.json')
  const renamed = trace.findIndex((x) => x.op === 'rename' && x.file === file)
  t.ok(renamed > 0, 'the record is renamed into place')
  t.ok(
    trace.slice(0, renamed).some((x) => x.op === 'fsync' && path.dirname(x.file) === dir && isTempFile(path.basename(x.file))),
    'its temp file is fsynced before the rename',
  )
  t.ok(
    trace.slice(renamed + 1).some((x) => x.op === 'fsync' && x.file === dir),
    'the folder is fsynced after the rename (else a power loss can undo it)',
  )
  t.same(fs.readdirSync(dir), ['generation.json'], 'no temp file is left')
})

t.test('writeFileAtomicSync: the same steps, the exact mode, bytes or text', async (t) => {
  const dir = tmpdir(t)
  const trace = traceSyncFsync(t)
  const old = process.umask(0o077)
  t.teardown(() => {
    process.umask(old)
  })
  const file = path.join(dir, 'a.bin')
  writeFileAtomicSync(file, Buffer.from([1, 2, 3]), 0o644)
  t.same([...fs.readFileSync(file)], [1, 2, 3])
  t.equal(fs.statSync(file).mode & 0o777, 0o644, 'the mode asked for, whatever the umask')
  t.same(
    trace.map((x) => x.op),
    ['fsync', 'rename', 'fsync'],
  )
  t.equal(trace[2]!.file, dir)
  writeFileAtomicSync(file, 'text\n', 0o600)
  t.equal(fs.readFileSync(file, 'utf8'), 'text\n')
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'a replacement takes the new mode')
  t.same(fs.readdirSync(dir), ['a.bin'])
})

t.test('writeFileAtomic: the exact mode whatever the umask, no temp file left', async (t) => {
  const dir = tmpdir(t)
  const old = process.umask(0o077)
  t.teardown(() => {
    process.umask(old)
  })
  const cert = path.join(dir, 'node.crt')
  await writeFileAtomic(cert, 'public\n', 0o644)
  t.equal(fs.statSync(cert).mode & 0o777, 0o644, 'a certificate is readable as asked even under umask 077')
  process.umask(0)
  const key = path.join(dir, 'node.key')
  await writeFileAtomic(key, Buffer.from('secret\n'), 0o600)
  t.equal(fs.statSync(key).mode & 0o777, 0o600, 'a permissive umask does not widen a key')
  t.equal(fs.readFileSync(key, 'utf8'), 'secret\n', 'bytes are written as given')
  t.same(fs.readdirSync(dir).sort(), ['node.crt', 'node.key'])
})

t.test('a failed write leaves the old file and no temp file', async (t) => {
  const dir = tmpdir(t)
  const file = path.join(dir, 'state.json')
  await writeFileAtomic(file, 'old\n', 0o600)
  await t.rejects(
    writeFileAtomic(file, 'new\n', 0o600, {
      beforeRename: async () => {
        throw new Error('refused')
      },
    }),
    /refused/,
  )
  t.equal(fs.readFileSync(file, 'utf8'), 'old\n')
  t.same(fs.readdirSync(dir), ['state.json'])
  // A directory where the file should be: the rename fails, the temp file goes.
  fs.mkdirSync(path.join(dir, 'sub'))
  t.throws(() => writeFileAtomicSync(path.join(dir, 'sub'), 'x', 0o600))
  t.same(fs.readdirSync(dir).sort(), ['state.json', 'sub'])
})
