// The operation log holds its file open between records; a stopped agent must not leave that handle to the
// garbage collector (Node closes it at a random time with a warning, and will throw in a later release).
import t from 'tap'
import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { OpLog } from '../../core/log/oplog.js'

/** The descriptors of this process that point at `file`. */
const openOn = async (file: string): Promise<number> => {
  let n = 0
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '')
    if (target === file) n++
  }
  return n
}

t.test('close() releases the file; a record after close is kept and its file closed again', async (t) => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'mccs-oplog-close-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  const file = path.join(d, 'operation.log')
  const log = new OpLog(file)
  await log.append({ user: 'op', node: 'n1', command: 'groupOnline', target: 'g', result: 'accepted' })
  t.equal(await openOn(file), 1, 'held open between records')
  await log.close()
  t.equal(await openOn(file), 0, 'closed by close()')
  await log.append({ user: 'op', node: 'n1', command: 'groupOnline', target: 'g', result: 'done' })
  t.equal(await openOn(file), 0, 'a late record does not leave the file open')
  const lines = (await readFile(file, 'utf8')).trim().split('\n')
  t.same(
    lines.map((l) => JSON.parse(l).result),
    ['accepted', 'done'],
    'both records on disk',
  )
})
