// Before the agent loads a plugin or starts the engine: can it write where it must? A read-only or full
// state folder used to show only later (a save failing after the engine had acted, a log going blind),
// when the node already took part in the cluster. The probe does what every state write does (create,
// write, fsync, rename, fsync the folder) and removes its file, so a mount that accepts only some of
// these is caught too. It is the state writers' own writer (config/atomic.ts), so the probe cannot
// drift from what they do.
import { mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../config/atomic.js'
import type { Bootstrap } from '../config/bootstrap.js'
import { MccsError } from '../errors.js'

const PROBE = '.mccs-write-probe'

/** Throws MCCS_ERR_STATE_DIR naming the setting (field) and the folder (subject) that cannot be written. */
export async function checkWritableDirs(b: Pick<Bootstrap, 'stateDir' | 'logDir'>): Promise<void> {
  for (const [field, dir] of [
    ['stateDir', b.stateDir],
    ['logDir', b.logDir],
  ] as const) {
    try {
      await probe(dir)
    } catch (e) {
      const err = e as NodeJS.ErrnoException
      throw new MccsError('MCCS_ERR_STATE_DIR', `cannot write here (${err.message}); the agent does not start without it`, {
        subject: dir,
        field,
        cause: e,
      })
    }
  }
}

async function probe(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o750 })
  const done = path.join(dir, `${PROBE}.${process.pid}`)
  try {
    await writeFileAtomic(done, 'probe\n', 0o600)
  } finally {
    await rm(done, { force: true }).catch(() => {})
  }
}
