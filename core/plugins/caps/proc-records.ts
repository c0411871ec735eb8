// The on-disk records of one managed process, <stateDir>/<resource>/<name>/:
//   spec.json        the validated spec and the resolved launch, env names only: values are secrets
//                    (written by the host, atomically, 0600)
//   supervisor.pid   "<pid> <starttime>" of the supervisor (written by the supervisor)
//   child.pid        "<pid> <starttime>" of the service (written by the supervisor)
//   exit.hint        {code, signal, status, pid, up}: the supervisor's fast, non-atomic note of the exit
//                    (builtins only, no fork): what wakes the watch; used once it parses
//   exit.json        {code, signal, status, pid, at}: the atomic record, right after (written by the host
//                    with lost: true when the supervisor itself vanished)
//   stop.json        {at, signal, graceMs}: stop() was asked for; the exit it causes is `expected`
//   exit.reported    the exit of this run has been emitted (so a re-attaching agent does not emit it twice)
//   output.log       stdout and stderr of the service (appended; the supervisor adds one line per exit)
// Readers never throw: a missing or half-written file reads as absent.
import fs from 'node:fs'
import path from 'node:path'
import type { ProcSpec } from '../../../sdk/src/types.js'
import { writeFileAtomicSync } from '../../config/atomic.js'
import { uptimeSeconds, type PidRec } from './proc-pids.js'

export interface ExitRec {
  code: number | null
  signal: string | null
  status?: number | null
  /** ISO time of the exit; the supervisor writes `up` instead and the host fills `at` from it. */
  at: string
  /** /proc/uptime at the exit, as written by the supervisor. */
  up?: number
  pid?: number | null
  lost?: boolean
}
/** Everything the folder of one managed process says, read at once. */
export interface ProcRecord {
  dir: string
  spec: StoredSpec | null
  sup: PidRec | null
  child: PidRec | null
  exit: ExitRec | null
  stopRequested: boolean
}
export interface StoredSpec {
  resource: string
  spec: Omit<ProcSpec, 'env'>
  envNames: string[]
  argv: string[]
  createdAt: string
}

/** The files of one run, removed before the next starts (spec.json and output.log stay). */
export const RUN_FILES = ['child.pid', 'supervisor.pid', 'exit.hint', 'exit.json', 'exit.reported', 'stop.json'] as const

export function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return null
  }
}
function readJson<T>(file: string): T | null {
  const t = readText(file)
  if (t === null) return null
  try {
    return JSON.parse(t) as T
  } catch {
    return null
  }
}
export function readPidRec(file: string): PidRec | null {
  const t = readText(file)
  if (t === null) return null
  const [p, s] = t.trim().split(/\s+/)
  const pid = Number(p)
  if (!Number.isInteger(pid) || pid <= 0) return null
  const start = Number(s)
  return { pid, start: Number.isFinite(start) ? start : 0 }
}
/** exit.json, else the supervisor's exit.hint once it parses (with `at` computed from its `up`). */
export function readExit(dir: string): ExitRec | null {
  const ok = (r: ExitRec | null): r is ExitRec => r !== null && typeof r === 'object' && 'code' in r && 'signal' in r
  const r = readJson<ExitRec>(path.join(dir, 'exit.json'))
  if (ok(r)) return r
  const h = readJson<ExitRec>(path.join(dir, 'exit.hint'))
  if (!ok(h)) return null
  if (typeof h.at !== 'string') {
    const now = uptimeSeconds()
    h.at = new Date(
      typeof h.up === 'number' && Number.isFinite(now) ? Date.now() - Math.max(0, now - h.up) * 1000 : Date.now(),
    ).toISOString()
  }
  delete h.up
  return h
}

/** The host's records (spec, stop, exit, reported) survive a crash whole or not at all. */
export const writeRecord = (file: string, data: string, mode = 0o644): void => writeFileAtomicSync(file, data, mode)

export function readRecord(dir: string): ProcRecord {
  return {
    dir,
    spec: readJson<StoredSpec>(path.join(dir, 'spec.json')),
    sup: readPidRec(path.join(dir, 'supervisor.pid')),
    child: readPidRec(path.join(dir, 'child.pid')),
    exit: readExit(dir),
    stopRequested: fs.existsSync(path.join(dir, 'stop.json')),
  }
}
