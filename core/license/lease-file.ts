// A floating license's seat as this node's agent holds it (<stateDir>/license-lease.json), so that the
// state of the node (status, `mccs license show`, other nodes' views) reads it like the license file.
// Written by the agent's lease client only; removed when an agent starts (a restarted agent has no seat
// until the server gives it one, manual 5.4).
import { mkdir, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../config/atomic.js'
import { CODES, type ErrorCode } from '../errors.js'
import type { Lease } from './state.js'

export const LEASE_FILE = 'license-lease.json'

export async function readLease(stateDir: string): Promise<Lease | undefined> {
  let v: Record<string, unknown>
  try {
    v = JSON.parse(await readFile(path.join(stateDir, LEASE_FILE), 'utf8')) as Record<string, unknown>
  } catch {
    return undefined // none, or half-written by a crash: no seat known
  }
  if (v.held === true && typeof v.until === 'number' && typeof v.server === 'string') {
    return { held: true, until: v.until, server: v.server, ...(typeof v.lastError === 'string' ? { lastError: v.lastError } : {}) }
  }
  if (v.held === false && typeof v.code === 'string' && v.code in CODES && typeof v.reason === 'string')
    return { held: false, code: v.code as ErrorCode, reason: v.reason }
  return undefined
}

export async function writeLease(stateDir: string, l: Lease): Promise<void> {
  await mkdir(stateDir, { recursive: true })
  await writeFileAtomic(path.join(stateDir, LEASE_FILE), JSON.stringify(l) + '\n', 0o644)
}

export function clearLease(stateDir: string): Promise<void> {
  return rm(path.join(stateDir, LEASE_FILE), { force: true })
}
