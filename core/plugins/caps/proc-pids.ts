// The /proc side of managed processes: who a pid really is (pid + start time, so a recycled pid is
// never taken for ours), the members of its process group, and signalling that group.
import fs from 'node:fs'
import { MccsError } from '../../errors.js'

/** "<pid> <starttime>" as the supervisor records it; start is /proc/<pid>/stat field 22. */
export interface PidRec {
  pid: number
  start: number
}

/** USER_HZ: the unit of /proc/<pid>/stat start times (100 on every Linux architecture in use). */
const CLK_TCK = 100
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Seconds since boot (/proc/uptime), NaN when unreadable. */
export function uptimeSeconds(): number {
  try {
    return Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0])
  } catch {
    return NaN
  }
}

/** [state, pgrp, starttime] of a pid, or null when it does not exist. */
function procStat(pid: number): { state: string; pgrp: number; start: number } | null {
  let s: string
  try {
    s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3 (state); field n is rest[n - 3]
  return { state: rest[0] ?? '?', pgrp: Number(rest[2]), start: Number(rest[19]) }
}

/** The process recorded as `rec` still runs (same pid, same start time, not a zombie). */
export function isAlive(rec: PidRec | null): boolean {
  if (!rec || !(rec.pid > 0)) return false
  const st = procStat(rec.pid)
  return st !== null && st.start === rec.start && st.state !== 'Z' && st.state !== 'X'
}

/** Wall-clock time of a /proc start time: now minus (uptime - start). /proc/uptime and the start
 *  time count on the same clock, which /proc/stat's whole-second btime does not match exactly. */
export function startTimeIso(start: number): string | null {
  if (!(start > 0)) return null
  const up = uptimeSeconds()
  if (!Number.isFinite(up) || up <= 0) return null
  return new Date(Math.round(Date.now() - (up - start / CLK_TCK) * 1000)).toISOString()
}

/** Pids of the process group `pgid`, or [] when that group is not ours any more (its number was
 *  recycled: a process with pid == pgid exists but with another start time). */
export function groupMembers(leader: PidRec): number[] {
  const members: number[] = []
  let entries: string[]
  try {
    entries = fs.readdirSync('/proc')
  } catch {
    return []
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue
    const pid = Number(e)
    const st = procStat(pid)
    if (!st || st.pgrp !== leader.pid || st.state === 'Z') continue
    if (pid === leader.pid && st.start !== leader.start) return []
    if (st.start < leader.start) return [] // older than our leader: cannot be of our group
    members.push(pid)
  }
  return members
}

/** Signals the process group led by `child` (verified by start time first). */
export function signalGroup(child: PidRec, signal: string): void {
  if (!isAlive(child)) return
  try {
    process.kill(-child.pid, signal as NodeJS.Signals)
  } catch {
    try {
      process.kill(child.pid, signal as NodeJS.Signals)
    } catch {
      /* gone */
    }
  }
}

/** Processes left in the service's group after its leader ended: signal, wait until the deadline,
 *  SIGKILL, wait `killWaitMs` more. `onFound` hears who was there (for the log); MCCS_ERR_PROC_STOP_FAILED
 *  names `subject` when some survive. */
export async function killLeftovers(
  leader: PidRec,
  signal: string,
  deadline: number,
  killWaitMs: number,
  subject: string,
  onFound: (members: number[]) => void,
): Promise<void> {
  let members = groupMembers(leader)
  if (members.length === 0) return
  onFound(members)
  const send = (sig: string): void => {
    try {
      process.kill(-leader.pid, sig as NodeJS.Signals)
    } catch {
      /* empty */
    }
  }
  send(signal)
  while (Date.now() < deadline) {
    await sleep(Math.min(25, Math.max(1, deadline - Date.now())))
    members = groupMembers(leader)
    if (members.length === 0) return
  }
  send('SIGKILL')
  const end = Date.now() + killWaitMs
  while (Date.now() < end) {
    if (groupMembers(leader).length === 0) return
    await sleep(25)
  }
  throw new MccsError('MCCS_ERR_PROC_STOP_FAILED', `processes of group ${leader.pid} survived SIGKILL`, { subject })
}
