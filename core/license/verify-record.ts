// The 7-day rule's memory (manual 5.4): when a full license was last verified on this node. The record is
// signed (HMAC-SHA256) with the agent's own key, kept beside it in the state folder and readable by root
// only, and bound to the license it speaks of: editing the date, or copying a record from another node or
// another license, does not extend it — the signature then fails and the node is in restricted mode.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
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

/** The record of `l`'s last verification on `node`: null when there is none (or it is of another license). */
export async function readVerification(stateDir: string, node: string, l: License): Promise<Verification> {
  let raw: string
  try {
    raw = await readFile(path.join(stateDir, VERIFY_RECORD_FILE), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    return { tampered: `cannot read ${VERIFY_RECORD_FILE}: ${(e as Error).message}` }
  }
  let rec: { license?: unknown; at?: unknown; mac?: unknown }
  try {
    rec = JSON.parse(raw) as typeof rec
  } catch {
    return { tampered: `${VERIFY_RECORD_FILE} is not JSON` }
  }
  if (rec.license !== licenseId(l)) return null // a record of a previous license: this one is new here
  const key = await agentKey(stateDir, false)
  if (!key || typeof rec.at !== 'string' || typeof rec.mac !== 'string')
    return { tampered: `${VERIFY_RECORD_FILE} is incomplete or the agent's key is gone` }
  const want = Buffer.from(mac(key, node, licenseId(l), rec.at))
  const got = Buffer.from(rec.mac)
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { tampered: `${VERIFY_RECORD_FILE} does not match its signature` }
  const at = Date.parse(rec.at)
  return Number.isNaN(at) ? { tampered: `${VERIFY_RECORD_FILE} has no valid date` } : { at }
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
