// Password hashing: scrypt (memory-hard, in node:crypto) with a per-hash random salt. The stored
// form names its parameters, so they can be raised later without breaking the hashes already stored:
//   scrypt$<log2 N>$<r>$<p>$<salt base64url>$<hash base64url>
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

export interface KdfParams {
  logN: number
  r: number
  p: number
}
/** N = 2^15, r = 8: 32 MiB and about 50-100 ms per hash on a server core (see docs/console.md). */
export const DEFAULT_KDF: KdfParams = { logN: 15, r: 8, p: 1 }
const KEY_LEN = 32

function derive(password: string, salt: Buffer, k: KdfParams): Promise<Buffer> {
  const N = 2 ** k.logN
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LEN, { N, r: k.r, p: k.p, maxmem: 256 * N * k.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    )
  })
}

export async function hashPassword(password: string, k: KdfParams = DEFAULT_KDF): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, k)
  return ['scrypt', k.logN, k.r, k.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

const FORM = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/

/** Whether the password matches the stored hash (constant-time compare). A malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = FORM.exec(stored)
  if (!m) return false
  const k = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) }
  if (k.logN < 10 || k.logN > 22 || k.r < 1 || k.r > 32 || k.p < 1 || k.p > 16) return false
  const expected = Buffer.from(m[5]!, 'base64url')
  const key = await derive(password, Buffer.from(m[4]!, 'base64url'), k)
  return key.length === expected.length && timingSafeEqual(key, expected)
}
