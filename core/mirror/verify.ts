// Online verify (issue 15 What 6): both copies compared chunk by chunk; only checksums cross the
// network (the peer's agent hashes its own backing file). A chunk that differs is checked again a few
// times: a write in flight while the two sides were read makes a passing difference, a real one stays.
import type { MirrorVolume } from './volume.js'

export type Checksums = (chunk: number, indexes: number[]) => Promise<{ size: number; chunk: number; sums: Array<string | null> }>
export interface VerifyReport {
  size: number
  chunk: number
  chunks: number
  differing: Array<{ offset: number; length: number }>
  sizes?: { local: number; peer: number }
  ms: number
}

const BATCH = 1024
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export async function verifyVolumes(
  local: MirrorVolume,
  peer: Checksums,
  opts: { chunk?: number; rechecks?: number; recheckDelayMs?: number } = {},
): Promise<VerifyReport> {
  const t0 = Date.now()
  const chunk = opts.chunk ?? 1 << 20
  const mine: Checksums = (c, i) => local.checksums(c, i)
  const probe = await mine(chunk, [])
  const other = await peer(chunk, [])
  const size = Math.min(probe.size, other.size)
  const n = Math.ceil(size / chunk)
  let diff: number[] = []
  for (let from = 0; from < n; from += BATCH) {
    const idx = Array.from({ length: Math.min(BATCH, n - from) }, (_, k) => from + k)
    const [x, y] = await Promise.all([mine(chunk, idx), peer(chunk, idx)])
    idx.forEach((i, k) => {
      if (x.sums[k] !== y.sums[k]) diff.push(i)
    })
  }
  for (let r = 0; r < (opts.rechecks ?? 2) && diff.length; r++) {
    await sleep(opts.recheckDelayMs ?? 200)
    const still: number[] = []
    for (let k = 0; k < diff.length; k += BATCH) {
      const idx = diff.slice(k, k + BATCH)
      const [x, y] = await Promise.all([mine(chunk, idx), peer(chunk, idx)])
      idx.forEach((i, j) => {
        if (x.sums[j] !== y.sums[j]) still.push(i)
      })
    }
    diff = still
  }
  // Adjacent chunks as one range.
  const differing: VerifyReport['differing'] = []
  for (const i of diff) {
    const last = differing[differing.length - 1]
    const len = Math.min(chunk, size - i * chunk)
    if (last && last.offset + last.length === i * chunk) last.length += len
    else differing.push({ offset: i * chunk, length: len })
  }
  return {
    size,
    chunk,
    chunks: n,
    differing,
    ms: Date.now() - t0,
    ...(probe.size !== other.size ? { sizes: { local: probe.size, peer: other.size } } : {}),
  }
}
