// Shared by the hostile-plugin acceptance tests: the attacks the fixture (test/fixtures/plugins/hostile)
// runs in monitor, and a real LD_PRELOAD library (gcc, at test time) whose constructor writes a marker.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'

export const ATTACKS = [
  'preload',
  'execFlood',
  'hugeLog',
  'hugeLogData',
  'hugeAnswer',
  'hugeData',
  'hugeThrow',
  'hugeArgs',
  'hugeState',
  'spinAfterAwait',
  'slicedSpin',
  'backgroundSpin',
  'chainSpin',
  'spinOnAnswer',
] as const

/** Builds the library; gcc must be there (scripts/test-deps.sh): a missing one fails the test. */
export function buildPreloadLibrary(): { so: string; marker: string; dir: string } {
  const gcc = ['/usr/bin/gcc', '/usr/bin/cc'].find((f) => fs.existsSync(f))
  if (!gcc) throw new Error('gcc is needed to build the LD_PRELOAD test library (apt-get install gcc libc6-dev)')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-preload-'))
  const marker = path.join(dir, 'PRELOADED')
  fs.writeFileSync(
    path.join(dir, 'evil.c'),
    `#include <stdio.h>\n__attribute__((constructor)) static void evil(void) {\n` +
      `  FILE *f = fopen(${JSON.stringify(marker)}, "w"); if (f) { fputs("preloaded\\n", f); fclose(f); }\n}\n`,
  )
  execFileSync(gcc, ['-shared', '-fPIC', '-o', path.join(dir, 'evil.so'), path.join(dir, 'evil.c')])
  fs.chmodSync(dir, 0o755)
  return { so: path.join(dir, 'evil.so'), marker, dir }
}

/** The kernel's schedstat for this process's main thread: ms it has run and ms it has waited for a
 *  core; null where the kernel does not keep it. A gap in the event loop is the thread running (held by
 *  work), waiting for a core (a loaded machine), or blocked (in a system call or on a lock). */
export function mainSched(): { runMs: number; waitMs: number } | null {
  try {
    const [run, wait] = fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number)
    return { runMs: run! / 1e6, waitMs: wait! / 1e6 }
  } catch {
    return null
  }
}

export interface LoopFigures {
  /** Longest gap between two ticks of a 5 ms timer. */
  maxGapMs: number
  /** Longest stretch the thread ran in one gap (held by work on it). */
  heldMaxMs: number
  /** Longest stretch the thread was blocked in one gap (neither running nor waiting for a core). */
  blockedMaxMs: number
  /** Longest stretch it waited for a core in one gap (other threads and processes). */
  waitMaxMs: number
}

/** Watches this process's event loop (see mainSched for what the parts mean). */
export function watchLoop(everyMs = 5): { stop(): LoopFigures } {
  const f: LoopFigures = { maxGapMs: 0, heldMaxMs: 0, blockedMaxMs: 0, waitMaxMs: 0 }
  let last = performance.now()
  let lastS = mainSched()
  const timer = setInterval(() => {
    const now = performance.now()
    const s = mainSched()
    const gap = now - last
    f.maxGapMs = Math.max(f.maxGapMs, gap)
    if (s && lastS) {
      const run = s.runMs - lastS.runMs,
        wait = s.waitMs - lastS.waitMs
      f.heldMaxMs = Math.max(f.heldMaxMs, Math.min(gap, run))
      f.waitMaxMs = Math.max(f.waitMaxMs, Math.min(gap, wait))
      f.blockedMaxMs = Math.max(f.blockedMaxMs, gap - run - wait)
    } else {
      f.heldMaxMs = f.maxGapMs
    }
    last = now
    lastS = s
  }, everyMs)
  return {
    stop: () => {
      clearInterval(timer)
      return {
        maxGapMs: Math.round(f.maxGapMs),
        heldMaxMs: Math.round(f.heldMaxMs),
        blockedMaxMs: Math.round(f.blockedMaxMs),
        waitMaxMs: Math.round(f.waitMaxMs),
      }
    },
  }
}
