// The 7-day rule's memory (manual 5.4): when a full license was last verified on this node. The record is
// signed (HMAC-SHA256) with the agent's own key, kept beside it in the state folder and readable by root
// only, and bound to the license it speaks of: editing the date, or copying a record from another node or
// another license, does not extend it — the signature then fails and the node is in restricted mode; nor
// does deleting it (the key stays: a key without a record is a deleted record).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdir, open, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../config/atomic.js'
import type { License } from './format.js'
import type { Verification } from './state.js'

export const VERIFY_KEY_FILE = 'license-verify.key'
export const VERIFY_RECORD_FILE = 'license-verified.json'

/** Which license a record speaks of: its signature is unique to its fields. */
const licenseId = (l: License): string => createHash('sha256').update(l.signature).digest('hex').slice(0, 32)

async function agentKey(stateDir: string, create: boolean): Promise<Buffer | null> {
  const file = path.join(stateDir, VERIFY_KEY_FILE)
  try {
    const k = await readFile(file)
    if (k.length === 32) return k
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  if (!create) return null
  await mkdir(stateDir, { recursive: true })
  const k = randomBytes(32)
  try {
    await writeFile(file, k, { mode: 0o600, flag: 'wx' })
    return k
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return agentKey(stateDir, false) // another process made it first
    throw e
  }
}

const mac = (key: Buffer, node: string, id: string, at: string): string =>
  createHmac('sha256', key).update(`MCCS-LICENSE-VERIFIED-1\n${node}\n${id}\n${at}\n`).digest('base64')

/** A record is a few hundred bytes: a bigger file is not one the agent wrote. */
const MAX_RECORD_BYTES = 4096

/** The record of `l`'s last verification on `node`: null when this license has none yet (no record was
 *  ever made on this node, or the record is a genuine one of a previous license). A record that is gone
 *  while the agent's key remains, or that does not match its signature (its date, its node or the license
 *  it names edited), is `tampered`: deleting or editing the file must not count as a first start. */
export async function readVerification(stateDir: string, node: string, l: License): Promise<Verification> {
  const file = path.join(stateDir, VERIFY_RECORD_FILE)
  let raw: string
  try {
    const fh = await open(file, 'r')
    try {
      const buf = Buffer.alloc(MAX_RECORD_BYTES + 1)
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
      if (bytesRead > MAX_RECORD_BYTES) return { tampered: `${VERIFY_RECORD_FILE} is larger than ${MAX_RECORD_BYTES} bytes` }
      raw = buf.subarray(0, bytesRead).toString('utf8')
    } finally {
      await fh.close()
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { tampered: `cannot read ${VERIFY_RECORD_FILE}: ${(e as Error).message}` }
    // The key is made with the first record and neither is ever removed by the agent: a key without a
    // record means the record was deleted.
    return (await agentKey(stateDir, false)) ? { tampered: `${VERIFY_RECORD_FILE} is missing (deleted?)` } : null
  }
  let rec: unknown
  try {
    rec = JSON.parse(raw)
  } catch {
    return { tampered: `${VERIFY_RECORD_FILE} is not JSON` }
  }
  const { license, at, mac: sig } = (rec !== null && typeof rec === 'object' ? rec : {}) as Record<string, unknown>
  if (typeof license !== 'string' || typeof at !== 'string' || typeof sig !== 'string')
    return { tampered: `${VERIFY_RECORD_FILE} is incomplete (license, at and mac must be strings)` }
  const key = await agentKey(stateDir, false)
  if (!key) return { tampered: `the agent's key ${VERIFY_KEY_FILE} is gone` }
  const want = Buffer.from(mac(key, node, license, at))
  const got = Buffer.from(sig)
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { tampered: `${VERIFY_RECORD_FILE} does not match its signature` }
  if (license !== licenseId(l)) return null // a genuine record of a previous license: this one is new here
  const when = Date.parse(at)
  return Number.isNaN(when) ? { tampered: `${VERIFY_RECORD_FILE} has no valid date` } : { at: when }
}

/** Records that `l` was verified on `node` at `now` (install, first start, a running agent's check). */
export async function recordVerification(stateDir: string, node: string, l: License, now: number): Promise<void> {
  const key = (await agentKey(stateDir, true))!
  const at = new Date(now).toISOString()
  await writeFileAtomic(
    path.join(stateDir, VERIFY_RECORD_FILE),
    JSON.stringify({ license: licenseId(l), at, mac: mac(key, node, licenseId(l), at) }) + '\n',
    0o600,
  )
}
