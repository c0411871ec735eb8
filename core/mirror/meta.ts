// Data generations of a mirror volume, as DRBD keeps them: which side holds the newest data.
//
// Two records per node, kept in the volume's metadata folder:
//   generation.json  this node's own record: { current, history[], role } — written only by this node's
//                    supervisor (atomic). `current` is bumped (old one pushed onto history) each time the
//                    node becomes primary: from then on it may hold writes no other node has.
//   peer.rec         4 KiB raw block, exported over NBD by the secondary's daemon (export "meta") and
//                    written BY THE PRIMARY (through its own daemon): { state, generation, by, at }.
//                    state UpToDate = "the primary declares you hold every write of generation G".
//                    A node starting as secondary first resets it to Outdated: until a primary has
//                    resynced it and said so, its data is not known to be current.
//   peer-outdated.json  on the primary: written when it loses its peer (before it writes alone): the
//                    peer holds at most `generation`; the primary's own generation moved on.
// "UpToDate" alone proves little once the primary may have gone on without this node (a lost link is
// invisible from here), so, as DRBD with fencing: a node becomes primary without force only when
//   - the last primary HANDED OVER (clean demotion while in sync: `handover: true`), or
//   - its record says UpToDate and the old primary is known fenced (the engine's evidence, peerFenced).
// A secondary whose daemon starts again (node restart) cannot know what it missed: Outdated.
import fs from 'node:fs'
import crypto from 'node:crypto'
import path from 'node:path'
import { writeFileAtomicSync } from '../config/atomic.js'

export const PEER_REC_BYTES = 4096

export type PeerState = 'UpToDate' | 'SyncTarget' | 'Outdated'
export interface PeerRecord {
  state: PeerState
  generation: string | null
  by: string | null
  at: string
  reason?: string
  handover?: boolean
}
/** The primary's note that its peer missed writes: it holds at most `generation`. */
export interface PeerOutdated {
  peer: string
  generation: string | null
  newGeneration: string
  since: string
  reason: string
}
export interface GenerationRecord {
  current: string
  history: string[]
  role: 'primary' | 'secondary'
  updatedAt: string
  /** The `at` of the peer record this node started its last primary period from: a record with
   *  another `at` was written by another primary later (no clock comparison across hosts). */
  baseRecAt?: string
}
/** A secondary's own record, exported read-only ("self") so the primary can tell, before it sends a
 *  block, what the secondary holds (split brain, partial or full resync). */
export interface SelfRecord {
  node: string
  gen: GenerationRecord | null
  at: string
}

/** What a node's copy holds, from its own record and the last peer record written to it. */
export interface DataGeneration {
  generation: string | null
  /** false: a resync into it began and did not finish (Inconsistent). */
  consistent: boolean
  /** Exactly that generation (declared UpToDate, or its own after a clean demotion); false: at most
   *  it (Outdated), or possibly more (it stopped as primary without a clean demotion). */
  exact: boolean
  /** Whose word: the primary that wrote the record, or the node itself. */
  from: string | null
}

const HISTORY_MAX = 8

export const newGeneration = (): string => crypto.randomBytes(8).toString('hex').toUpperCase()

export function readGeneration(dir: string): GenerationRecord | null {
  try {
    const r = JSON.parse(fs.readFileSync(path.join(dir, 'generation.json'), 'utf8')) as GenerationRecord
    return typeof r.current === 'string' && Array.isArray(r.history) ? r : null
  } catch {
    return null
  }
}

export function writeGeneration(dir: string, r: GenerationRecord): void {
  writeFileAtomicSync(path.join(dir, 'generation.json'), JSON.stringify(r, null, 1) + '\n', 0o600)
}

/** The record after this node starts a primary period with no peer known to share its data. */
export function bumped(r: GenerationRecord | null): GenerationRecord {
  const history = r ? [r.current, ...r.history].slice(0, HISTORY_MAX) : []
  return { current: newGeneration(), history, role: 'primary', updatedAt: new Date().toISOString() }
}

export function dataGeneration(node: string, gen: GenerationRecord | null, rec: PeerRecord | null): DataGeneration {
  if (rec && rec.by && rec.by !== node && rec.generation && rec.at !== gen?.baseRecAt) {
    return { generation: rec.generation, consistent: rec.state !== 'SyncTarget', exact: rec.state === 'UpToDate', from: rec.by }
  }
  if (!gen)
    return {
      generation: rec?.generation ?? null,
      consistent: !!rec?.generation && rec.state !== 'SyncTarget',
      exact: false,
      from: rec?.by ?? null,
    }
  const crashed = gen.role === 'primary' || (rec?.by === node && rec.state !== 'UpToDate')
  return { generation: gen.current, consistent: true, exact: !crashed, from: node }
}

export function encodeRecord(r: object): Buffer {
  const b = Buffer.alloc(PEER_REC_BYTES, 0)
  const j = Buffer.from(JSON.stringify(r), 'utf8')
  if (j.length >= PEER_REC_BYTES) throw new Error('record too large')
  j.copy(b)
  return b
}

export function decodeRecord<T>(b: Buffer): T | null {
  const end = b.indexOf(0)
  try {
    return JSON.parse(b.subarray(0, end < 0 ? b.length : end).toString('utf8')) as T
  } catch {
    return null
  }
}

export function encodePeerRecord(r: PeerRecord): Buffer {
  const b = Buffer.alloc(PEER_REC_BYTES, 0)
  const j = Buffer.from(JSON.stringify(r), 'utf8')
  if (j.length >= PEER_REC_BYTES) throw new Error('peer record too large')
  j.copy(b)
  return b
}

export function readPeerRecord(file: string): PeerRecord | null {
  let b: Buffer
  try {
    b = fs.readFileSync(file)
  } catch {
    return null
  }
  const end = b.indexOf(0)
  try {
    const r = JSON.parse(b.subarray(0, end < 0 ? b.length : end).toString('utf8')) as PeerRecord
    return typeof r.state === 'string' ? r : null
  } catch {
    return null
  }
}

/** Written in place (the daemon has the file open: a rename would leave it writing the old inode). */
export function writePeerRecord(file: string, r: PeerRecord): void {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600)
  try {
    fs.writeSync(fd, encodePeerRecord(r), 0, PEER_REC_BYTES, 0)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

export interface PromoteDecision {
  ok: boolean
  reason: string
}

/** May this node become primary without force? Pure: decided from its two records and whether the
 *  old primary is known fenced (host evidence, never the plugin's word). */
export function mayPromote(gen: GenerationRecord | null, peer: PeerRecord | null, opts: { peerFenced?: boolean } = {}): PromoteDecision {
  // A node that is primary *now* never gets here (the supervisor answers that call as a no-op). One
  // whose record still says primary stopped without a clean demotion: another node may have taken over.
  if (gen?.role === 'primary')
    return {
      ok: false,
      reason: `this node stopped as primary without a clean demotion (a crash?) at generation ${gen.current}; another node may have been primary since`,
    }
  if (peer?.state === 'UpToDate' && peer.handover)
    return { ok: true, reason: `the last primary (${peer.by ?? '?'}) handed over cleanly with generation ${peer.generation} at ${peer.at}` }
  if (peer?.state === 'UpToDate' && opts.peerFenced)
    return {
      ok: true,
      reason: `the last primary (${peer.by ?? '?'}) declared this node up to date with generation ${peer.generation} at ${peer.at} and has been fenced since`,
    }
  if (peer?.state === 'UpToDate') {
    return {
      ok: false,
      reason:
        `the last primary (${peer.by ?? '?'}) declared this node up to date with generation ${peer.generation} at ${peer.at} while connected, but did not hand over: ` +
        'it may have gone on writing without this node since (a lost link is invisible from here), or may still be primary. Without force this node becomes primary only after a clean demotion of that node, or once it is fenced',
    }
  }
  if (!peer) return { ok: false, reason: "no primary has ever declared this node's data up to date (no peer record)" }
  const since = `since ${peer.at}${peer.reason ? ` (${peer.reason})` : ''}`
  if (peer.state === 'SyncTarget')
    return {
      ok: false,
      reason: `its data is Inconsistent: a resync from ${peer.by ?? 'the primary'} (generation ${peer.generation}) began and did not finish ${since}`,
    }
  return { ok: false, reason: `its data is Outdated ${since}; its last known generation is ${gen?.current ?? peer.generation ?? 'none'}` }
}
