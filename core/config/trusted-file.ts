// Reads a file only if no other user could have written it: the agent and the CLI run as root, so a
// settings file that another local user can change is a way to root (issue 12, finding 3). The file, its
// folder and every folder above must belong to root or to the user running this process; the file and its
// folder must not be writable by group or others; the folders above may be, only with the sticky bit (as
// /tmp is), because then nobody else can rename or replace what lies below. The text is read from the same
// descriptor that was judged, so the file cannot be swapped between the check and the read.

import { constants, type Stats } from 'node:fs'
import { open, realpath, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { MccsError } from '../errors.js'

export interface TrustedRead {
  text: string
  real: string
}

/** The text of `file`, or MCCS_ERR_BOOTSTRAP_UNSAFE naming (as field) the path that someone else could change.
 *  A missing file throws the fs error (ENOENT) so the caller can tell "absent" from "refused". */
export async function readTrustedFile(file: string, opts: { maxBytes: number }): Promise<TrustedRead> {
  const given = resolve(file)
  const real = await realpath(given)
  const uid = process.geteuid?.() ?? 0
  // Both chains: the one the caller named (where a symbolic link sits) and the one that is read.
  const dirs = new Set([...ancestors(dirname(given)), ...ancestors(dirname(real))])
  for (const d of dirs) {
    const st = await stat(d)
    const direct = d === dirname(real) || d === dirname(given)
    judge(given, d, st, uid, direct)
  }
  const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new MccsError('MCCS_ERR_BOOTSTRAP', `${real} is not a regular file`, { subject: given })
    judge(given, real, st, uid, true)
    if (st.size > opts.maxBytes) {
      throw new MccsError('MCCS_ERR_BOOTSTRAP', `the file is larger than ${opts.maxBytes} bytes (${st.size})`, { subject: given })
    }
    return { text: await fh.readFile('utf8'), real }
  } finally {
    await fh.close()
  }
}

function judge(subject: string, path: string, st: Stats, uid: number, direct: boolean): void {
  if (st.uid !== 0 && st.uid !== uid) throw unsafe(subject, path, `owned by uid ${st.uid}, not by root${uid !== 0 ? ` or uid ${uid}` : ''}`)
  // A sticky folder above is fine: others may add entries but not rename or remove ours.
  if (!direct && st.isDirectory() && (st.mode & S_ISVTX) !== 0) return
  if (st.mode & 0o002) throw unsafe(subject, path, `writable by others (mode ${mode(st)})`)
  if (st.mode & 0o020) throw unsafe(subject, path, `writable by its group (mode ${mode(st)})`)
}

function unsafe(subject: string, path: string, why: string): MccsError {
  return new MccsError('MCCS_ERR_BOOTSTRAP_UNSAFE', `${why}, so another user could change the settings`, { subject, field: path })
}

function ancestors(dir: string): string[] {
  const out: string[] = []
  for (let d = dir; ; d = dirname(d)) {
    out.push(d)
    if (dirname(d) === d) return out
  }
}

const S_ISVTX = 0o1000 // the sticky bit (Node has no constant for it)
const mode = (st: Stats) => (st.mode & 0o7777).toString(8).padStart(4, '0')
