// Reading a license-related file no further than a bound: a huge file or a device (/dev/zero) that
// replaced it must not cost the agent memory and seconds at every check.
import { open } from 'node:fs/promises'

/** Up to `max` + 1 bytes of `file` (more means too long): a huge file or a device (/dev/zero) is not read
 *  to its end. Errors are the file system's (ENOENT, EISDIR, ...). */
export async function readUpTo(file: string, max: number): Promise<{ text: string; tooLong: boolean }> {
  const fh = await open(file, 'r')
  try {
    if ((await fh.stat()).isDirectory()) throw Object.assign(new Error(`${file} is a directory`), { code: 'EISDIR' })
    const buf = Buffer.alloc(max + 1)
    let n = 0
    for (let r; n < buf.length && (r = await fh.read(buf, n, buf.length - n, null)).bytesRead > 0;) n += r.bytesRead
    return { text: buf.subarray(0, Math.min(n, max)).toString('utf8'), tooLong: n > max }
  } finally {
    await fh.close()
  }
}
