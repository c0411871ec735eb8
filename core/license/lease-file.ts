// A floating license's seat as this node's agent holds it (<stateDir>/license-lease.json), so that the
// state of the node (status, `mccs license show`, other nodes' views) reads it like the license file.
// Written by the agent's lease client only; removed when an agent starts (a restarted agent has no seat
// until the server gives it one, manual 5.4).
import { mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../config/atomic.js'
import { CODES, type ErrorCode } from '../errors.js'
import type { Lease } from './state.js'
import { readUpTo } from './read-bounded.js'

export const LEASE_FILE = 'license-lease.json'

export async function readLease(stateDir: string): Promise<Lease | undefined> {
  let v: Record<string, unknown>
  try {
    // Written by the agent as one short line: anything longer is not ours.
    const r = await readUpTo(path.join(stateDir, LEASE_FILE), 4096)
    if (r.tooLong) return undefined
    v = JSON.parse(r.text) as Record<string, unknown>
  } catch {
    return undefined // none, half-written by a crash, or not ours: no seat known
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
