// Heartbeat packet codec (UDP 14321). One packet = one heartbeat from `sender` to `to` on `link`,
// authenticated with HMAC-SHA256 (the 256-bit cluster key) over every byte before the MAC.
//
// Wire format (big-endian), at most MAX_PACKET_BYTES:
//   magic 'MCHB' (4) | version u8 | flags u8 (bit 0: echo present; other bits must be 0)
//   cluster, sender, to, link: each u8 length + ASCII name (NAME_PATTERN, 1..64 bytes)
//   incarnation u64 | seq u64 (1..2^53-1) | sentAt f64 (sender clock, ms)
//   echoSentAt f64 | echoHoldMs f64   (the receiver's own sentAt, echoed back, and how long the sender held it)
//   payloadLen u16 | payload (UTF-8 JSON object, <= 1 KiB: the sender's view; `ext.pv` = [min, max], the
//                             protocol versions the sender speaks (protocol-version.ts); absent: 1..1)
//   mac (32): HMAC-SHA256(key, all bytes above)
// Decoding checks the structure (every length against what is left), the version and the cluster name,
// then the MAC (constant time), then the meaning of each field. A rejection is an MccsError naming the field.
// The version byte is the wire format's (unchanged since the first release: a new one would be refused by
// every older node at its edge); the protocol spoken over it is negotiated per peer from `ext.pv`, which
// earlier releases carry along as opaque `ext` data (heartbeat.ts refuses a peer whose range misses ours).
// Replay protection is a separate, stateful ReplayGuard: per sender and link, a sequence number must grow;
// an incarnation older than the newest seen from a sender (a previous boot) is refused, for good: the newest
// is persisted by the receiver (heartbeat-state.ts), and a node's own incarnations only grow (newIncarnation's
// `after`). Freshness (is the sender alive *now*?) is the echo check in heartbeat.ts.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { MccsError, type ErrorCode } from '../errors.js'
import { MAX_NODES, NAME_PATTERN } from '../config/schema.js'
import { PROTOCOL_OLDEST, checkRange, type ProtocolRange } from './protocol-version.js'

export const HB_MAGIC = 0x4d434842 // 'MCHB'
export const HB_VERSION = 1
export const HB_DEFAULT_PORT = 14321
export const MAC_BYTES = 32
export const KEY_BYTES = 32
export const MAX_PAYLOAD_BYTES = 1024
export const MAX_NAME_BYTES = 64
/** Fits one Ethernet frame with IPv6 + UDP headers. */
export const MAX_PACKET_BYTES = 1400
const FLAG_ECHO = 0x01
/** Fixed part: magic, version, flags, 4 name lengths, incarnation, seq, sentAt, echo (2 x f64), payload length. */
const FIXED_BYTES = 4 + 1 + 1 + 4 + 8 + 8 + 8 + 16 + 2
export const MIN_PACKET_BYTES = FIXED_BYTES + 4 + MAC_BYTES
const NAME_RE = new RegExp(NAME_PATTERN)
const MAX_SEQ = Number.MAX_SAFE_INTEGER
const MAX_SEQ_BIG = BigInt(MAX_SEQ)
const UTF8 = new TextDecoder('utf-8', { fatal: true })

export type QuorumState = 'quorate' | 'inquorate' | 'unknown'

/** What a node piggybacks on its heartbeats: its view of the cluster. Every field is optional. */
export interface HbView {
  /** Nodes the sender currently sees up (itself excluded). */
  up?: string[]
  /** The coordinator the sender follows, or null when it has none. */
  coordinator?: string | null
  /** The configuration generation the sender runs. */
  generation?: number
  /** Digest of that configuration's content (16 hex): equal generations with other digests have diverged. */
  digest?: string
  quorum?: QuorumState
  /** Free-form data for later protocol additions (kept small: counts toward the 1 KiB). */
  ext?: Record<string, unknown>
}

export interface HbEcho {
  /** The receiver's own `sentAt`, as last received by the sender of this packet. */
  sentAt: number
  /** Milliseconds between the sender receiving that packet and sending this one. */
  holdMs: number
}

export interface HbPacket {
  version: number
  cluster: string
  sender: string
  to: string
  link: string
  /** Per-boot identity of the sender (see newIncarnation). */
  incarnation: bigint
  /** Per (sender, link) counter, from 1. */
  seq: number
  /** Sender's clock (monotonic, epoch-based), ms. */
  sentAt: number
  echo: HbEcho | null
  payload: HbView
  /** The protocol versions the sender speaks (`ext.pv`, taken out of the payload; absent: 1..1, the oldest). */
  protocol: ProtocolRange
}

/** What encodePacket takes: `protocol` is added to a view payload (a Buffer payload carries its own: encodeView). */
export type HbPacketFields = Omit<HbPacket, 'version' | 'payload' | 'protocol'> & { payload: HbView | Buffer; protocol?: ProtocolRange }

function err(code: ErrorCode, field: string, reason: string, subject?: string): MccsError {
  return new MccsError(code, reason, { field, ...(subject ? { subject } : {}) })
}
const bad = (field: string, reason: string, subject?: string) => err('MCCS_ERR_HB_PACKET', field, reason, subject)

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new MccsError('MCCS_ERR_CLUSTER_KEY_INVALID', `the cluster key must be ${KEY_BYTES} bytes`, { field: 'key' })
  }
}

/**
 * A new per-boot incarnation: 64 bits, the start time in ms (high 44 bits, good until year 2527) and 20 random
 * bits. Random enough that two starts never share one; ordered so that a previous boot's packets are
 * recognisably older than the current boot's (ReplayGuard). `after` is the last incarnation this node used
 * (persisted): the new one is newer even if the clock went back since, as its peers refuse anything older.
 */
export function newIncarnation(nowMs: number = Date.now(), after?: bigint): bigint {
  const rnd = BigInt(randomBytes(4).readUInt32BE(0) & 0xfffff)
  let ms = Math.floor(nowMs)
  if (after !== undefined && ms <= incarnationTime(after)) ms = incarnationTime(after) + 1
  return ((BigInt(ms) & 0xfffffffffffn) << 20n) | rnd
}

/** Start time (ms since the epoch) encoded in an incarnation. */
export function incarnationTime(inc: bigint): number {
  return Number(inc >> 20n)
}

// ---------------------------------------------------------------------------------------------- view

const VIEW_KEYS = new Set(['up', 'coordinator', 'generation', 'digest', 'quorum', 'ext'])

function checkName(v: unknown, field: string, code: ErrorCode = 'MCCS_ERR_HB_PACKET'): string {
  if (typeof v === 'string' && GOOD_NAMES.has(v)) return v
  if (typeof v !== 'string' || !NAME_RE.test(v)) throw err(code, field, 'must be a name matching ' + NAME_PATTERN)
  if (GOOD_NAMES.size >= 1024) GOOD_NAMES.clear()
  GOOD_NAMES.add(v)
  return v
}
/** Names that passed checkName: every packet names the same few (sender, receiver, link), checked 40+ times
 *  a second with a regular expression otherwise. Bounded: a flood of new names only empties it. */
const GOOD_NAMES = new Set<string>()

/** Validates a view (from a packet or from setPayload); returns a clean copy. */
export function validateView(v: unknown, code: ErrorCode = 'MCCS_ERR_HB_PAYLOAD', base = 'payload'): HbView {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw err(code, base, 'must be a JSON object')
  const o = v as Record<string, unknown>
  const out: HbView = {}
  for (const k of Object.keys(o)) if (!VIEW_KEYS.has(k)) throw err(code, `${base}/${k}`, 'unknown field')
  if (o.up !== undefined) {
    if (!Array.isArray(o.up) || o.up.length > MAX_NODES)
      throw err(code, `${base}/up`, `must be an array of at most ${MAX_NODES} node names`)
    const seen = new Set<string>()
    out.up = o.up.map((n, i) => {
      const s = checkName(n, `${base}/up/${i}`, code)
      if (seen.has(s)) throw err(code, `${base}/up/${i}`, 'duplicate node name')
      seen.add(s)
      return s
    })
  }
  if (o.coordinator !== undefined) out.coordinator = o.coordinator === null ? null : checkName(o.coordinator, `${base}/coordinator`, code)
  if (o.generation !== undefined) {
    if (typeof o.generation !== 'number' || !Number.isSafeInteger(o.generation) || o.generation < 0) {
      throw err(code, `${base}/generation`, 'must be a non-negative integer')
    }
    out.generation = o.generation
  }
  if (o.digest !== undefined) {
    if (typeof o.digest !== 'string' || !/^[0-9a-f]{16}$/.test(o.digest))
      throw err(code, `${base}/digest`, 'must be 16 lowercase hex digits')
    out.digest = o.digest
  }
  if (o.quorum !== undefined) {
    if (o.quorum !== 'quorate' && o.quorum !== 'inquorate' && o.quorum !== 'unknown') {
      throw err(code, `${base}/quorum`, "must be 'quorate', 'inquorate' or 'unknown'")
    }
    out.quorum = o.quorum
  }
  if (o.ext !== undefined) {
    if (o.ext === null || typeof o.ext !== 'object' || Array.isArray(o.ext)) throw err(code, `${base}/ext`, 'must be a JSON object')
    out.ext = o.ext as Record<string, unknown>
  }
  return out
}

/** The view as the bytes that go on the wire (validated, <= 1 KiB), with the protocol range the sender
 *  advertises (`ext.pv`) when given. Encode once, send many times. */
export function encodeView(v: HbView, protocol?: ProtocolRange): Buffer {
  const clean = validateView(v)
  if (protocol) {
    const r = checkRange(protocol, 'protocol', 'MCCS_ERR_HB_PAYLOAD')
    clean.ext = { ...clean.ext, [PV]: [r.min, r.max] }
  }
  const b = Buffer.from(JSON.stringify(clean), 'utf8')
  if (b.length > MAX_PAYLOAD_BYTES) throw err('MCCS_ERR_HB_PAYLOAD', 'payload', `is ${b.length} bytes; at most ${MAX_PAYLOAD_BYTES}`)
  return b
}

// -------------------------------------------------------------------------------------------- encode

/** The checked name bytes per (cluster, sender, to, link): a node sends the same few combinations 40 times a
 *  second, at a rate where this code runs in V8's baseline tier (seen with perf): each check saved counts. */
const NAME_BUFS = new Map<string, Buffer[]>()

export function encodePacket(p: HbPacketFields, key: Buffer): Buffer {
  checkKey(key)
  const nameKey = `${p.cluster}\0${p.sender}\0${p.to}\0${p.link}`
  let nameBufs = NAME_BUFS.get(nameKey)
  if (!nameBufs) {
    const names = [
      ['cluster', p.cluster],
      ['sender', p.sender],
      ['to', p.to],
      ['link', p.link],
    ] as const
    nameBufs = names.map(([f, n]) => Buffer.from(checkName(n, f, 'MCCS_ERR_INVALID'), 'ascii'))
    if (NAME_BUFS.size >= 256) NAME_BUFS.clear()
    NAME_BUFS.set(nameKey, nameBufs)
  }
  if (typeof p.incarnation !== 'bigint' || p.incarnation < 0n || p.incarnation > 0xffffffffffffffffn) {
    throw err('MCCS_ERR_INVALID', 'incarnation', 'must be an unsigned 64-bit integer')
  }
  if (!Number.isSafeInteger(p.seq) || p.seq < 1) throw err('MCCS_ERR_INVALID', 'seq', 'must be an integer >= 1')
  if (!Number.isFinite(p.sentAt) || p.sentAt < 0) throw err('MCCS_ERR_INVALID', 'sentAt', 'must be a finite time >= 0')
  const payload = Buffer.isBuffer(p.payload) ? p.payload : encodeView(p.payload, p.protocol)
  if (payload.length > MAX_PAYLOAD_BYTES)
    throw err('MCCS_ERR_HB_PAYLOAD', 'payload', `is ${payload.length} bytes; at most ${MAX_PAYLOAD_BYTES}`)
  const size = FIXED_BYTES + nameBufs.reduce((a, b) => a + b.length, 0) + payload.length + MAC_BYTES
  const buf = Buffer.allocUnsafe(size)
  let o = 0
  o = buf.writeUInt32BE(HB_MAGIC, o)
  o = buf.writeUInt8(HB_VERSION, o)
  o = buf.writeUInt8(p.echo ? FLAG_ECHO : 0, o)
  for (const nb of nameBufs) {
    o = buf.writeUInt8(nb.length, o)
    o += nb.copy(buf, o)
  }
  o = buf.writeBigUInt64BE(p.incarnation, o)
  // A safe integer as two 32-bit halves: the same bytes as writeBigUInt64BE, without a BigInt per packet.
  o = buf.writeUInt32BE(Math.floor(p.seq / 0x1_0000_0000), o)
  o = buf.writeUInt32BE(p.seq % 0x1_0000_0000, o)
  o = buf.writeDoubleBE(p.sentAt, o)
  o = buf.writeDoubleBE(p.echo ? p.echo.sentAt : 0, o)
  o = buf.writeDoubleBE(p.echo ? Math.max(0, p.echo.holdMs) : 0, o)
  o = buf.writeUInt16BE(payload.length, o)
  o += payload.copy(buf, o)
  const mac = createHmac('sha256', key).update(buf.subarray(0, o)).digest()
  mac.copy(buf, o)
  return buf
}

// -------------------------------------------------------------------------------------------- decode

/** The fixed fields after the names, in order. */
const FIXED_FIELDS = [
  ['incarnation', 8],
  ['seq', 8],
  ['sentAt', 8],
  ['echo', 16],
  ['payloadLength', 2],
] as const
const FIXED_FIELDS_BYTES = 42

export interface DecodeExpect {
  /** The only cluster name accepted. */
  cluster: string
  /** The last payload decoded per sender (filled here, only from authentic packets): a payload with the same
   *  bytes is not parsed and checked again, and the same view object is returned. A peer's view changes rarely;
   *  parsing it 40 times a second was most of an idle node's heartbeat work. */
  views?: PayloadCache
}

/** See DecodeExpect.views. Keep one per receiver; its size is bounded by the senders that hold the key. */
export type PayloadCache = Map<string, { bytes: Buffer; payload: HbView; protocol: ProtocolRange }>

/** Why a packet was refused: a plain value, so that refusing costs no exception (a flood of bad packets). */
export interface HbReject {
  code: ErrorCode
  field: string
  reason: string
  subject?: string
  /** The error itself, when it was thrown behind the MAC (a key holder's packet). */
  error?: MccsError
}

/** Decodes and authenticates one packet. Throws MccsError (MCCS_ERR_HB_*) naming the offending field. */
export function decodePacket(buf: Buffer, key: Buffer, expect: DecodeExpect): HbPacket {
  const r = tryDecodePacket(buf, key, expect)
  if ('reject' in r) throw rejectError(r.reject)
  return r.packet
}

/** The MccsError for a refusal of tryDecodePacket. */
export function rejectError(r: HbReject): MccsError {
  return r.error ?? err(r.code, r.field, r.reason, r.subject)
}

/**
 * decodePacket without exceptions for what an outsider can send: the structure, version, cluster and MAC
 * checks return a refusal instead of throwing, as a garbage flood on 14321 would otherwise pay for an Error
 * (and its stack) per packet — measured: 4/5 of the cost of refusing one (see docs/heartbeat.md). What is
 * behind the MAC (only a key holder reaches it) still throws inside and is returned the same way.
 */
export function tryDecodePacket(buf: Buffer, key: Buffer, expect: DecodeExpect): { packet: HbPacket } | { reject: HbReject } {
  checkKey(key)
  const no = (field: string, reason: string, code: ErrorCode = 'MCCS_ERR_HB_PACKET') => ({ reject: { code, field, reason } })
  if (!Buffer.isBuffer(buf)) return no('length', 'not a byte buffer')
  if (buf.length < MIN_PACKET_BYTES) return no('length', `${buf.length} bytes; a packet has at least ${MIN_PACKET_BYTES}`)
  if (buf.length > MAX_PACKET_BYTES) return no('length', `${buf.length} bytes; a packet has at most ${MAX_PACKET_BYTES}`)
  const end = buf.length - MAC_BYTES // everything before `end` is authenticated
  let o = 0
  if (buf.readUInt32BE(0) !== HB_MAGIC) return no('magic', 'not an MCCS heartbeat packet')
  o = 4
  const version = buf.readUInt8(o++)
  if (version !== HB_VERSION) return no('version', `version ${version}; this node speaks ${HB_VERSION}`, 'MCCS_ERR_HB_VERSION')
  const flags = buf.readUInt8(o++)
  if (flags & ~FLAG_ECHO) return no('flags', `unknown flag bits 0x${flags.toString(16)}`)

  // The names: a length byte each, then the bytes. `null` and `truncated` say why one could not be read.
  let truncated: string | null = null
  const readName = (field: string): string | null => {
    if (o + 1 > end) {
      truncated = `truncated: needs 1 more bytes, ${Math.max(0, end - o)} left before the MAC`
      return null
    }
    const len = buf.readUInt8(o++)
    if (len < 1 || len > MAX_NAME_BYTES) {
      truncated = `length ${len}; names are 1..${MAX_NAME_BYTES} bytes`
      return null
    }
    if (o + len > end) {
      truncated = `truncated: needs ${len} more bytes, ${Math.max(0, end - o)} left before the MAC`
      return null
    }
    const s = buf.toString('latin1', o, o + len)
    o += len
    return s
  }
  const cluster = readName('cluster')
  if (cluster === null) return no('cluster', truncated!)
  if (cluster !== expect.cluster) {
    return no('cluster', `packet of cluster '${safe(cluster)}', this is '${expect.cluster}'`, 'MCCS_ERR_HB_FOREIGN')
  }
  const sender = readName('sender')
  if (sender === null) return no('sender', truncated!)
  const to = readName('to')
  if (to === null) return no('to', truncated!)
  const link = readName('link')
  if (link === null) return no('link', truncated!)
  // incarnation, seq, sentAt (8 each), echo (16), payload length (2); the field cut short is named.
  if (o + FIXED_FIELDS_BYTES > end) {
    for (const [field, n] of FIXED_FIELDS) {
      if (o + n > end) return no(field, `truncated: needs ${n} more bytes, ${Math.max(0, end - o)} left before the MAC`)
      o += n
    }
  }
  o += FIXED_FIELDS_BYTES
  const fixed = o - 42
  const plen = buf.readUInt16BE(o - 2)
  if (plen > MAX_PAYLOAD_BYTES) return no('payloadLength', `${plen} bytes; at most ${MAX_PAYLOAD_BYTES}`)
  if (o + plen !== end) {
    return o + plen > end
      ? no('payload', `truncated: payload of ${plen} bytes, ${end - o} left before the MAC`)
      : no('mac', `${end - o - plen} unexpected bytes after the payload`)
  }
  const payloadStart = o

  // Authenticate before trusting the contents.
  const mac = createHmac('sha256', key).update(buf.subarray(0, end)).digest()
  if (!timingSafeEqual(mac, buf.subarray(end)))
    return no('mac', 'MAC does not match (wrong cluster key or altered packet)', 'MCCS_ERR_HB_AUTH')

  // Behind the MAC: only a holder of the cluster key gets here, so exceptions are affordable.
  try {
    return { packet: checkAuthentic(buf, fixed, payloadStart, end, { version, flags, cluster, sender, to, link }, expect.views) }
  } catch (e) {
    const m = e instanceof MccsError ? e : bad('payload', String(e))
    return {
      reject: { code: m.code, field: m.field ?? 'payload', reason: m.message, ...(m.subject ? { subject: m.subject } : {}), error: m },
    }
  }
}

/** The fields of an authenticated packet, each checked for its meaning. Throws MccsError naming the field. */
function checkAuthentic(
  buf: Buffer,
  o: number,
  payloadStart: number,
  end: number,
  h: { version: number; flags: number; cluster: string; sender: string; to: string; link: string },
  views?: PayloadCache,
): HbPacket {
  const { version, flags, cluster, sender, to, link } = h
  const incarnation = buf.readBigUInt64BE(o)
  const seqBig = buf.readBigUInt64BE(o + 8)
  const sentAt = buf.readDoubleBE(o + 16)
  const echoSentAt = buf.readDoubleBE(o + 24)
  const echoHold = buf.readDoubleBE(o + 32)
  checkName(sender, 'sender')
  checkName(to, 'to')
  checkName(link, 'link')
  const s = sender // checked: printable as it is
  if (seqBig < 1n || seqBig > MAX_SEQ_BIG) throw bad('seq', `${seqBig} out of range 1..2^53-1`, s)
  if (!Number.isFinite(sentAt) || sentAt < 0) throw bad('sentAt', 'must be a finite time >= 0', s)
  let echo: HbEcho | null = null
  if (flags & FLAG_ECHO) {
    if (!Number.isFinite(echoSentAt) || echoSentAt < 0) throw bad('echo/sentAt', 'must be a finite time >= 0', s)
    if (!Number.isFinite(echoHold) || echoHold < 0 || echoHold > 86_400_000) throw bad('echo/holdMs', 'must be 0..86400000 ms', s)
    echo = { sentAt: echoSentAt, holdMs: echoHold }
  } else if (echoSentAt !== 0 || echoHold !== 0) {
    throw bad('echo', 'must be zero when the echo flag is clear', s)
  }
  const seen = views?.get(sender)
  // The same bytes as the sender's last view: compared in place (no slice per packet).
  if (seen && seen.bytes.length === end - payloadStart && buf.compare(seen.bytes, 0, seen.bytes.length, payloadStart, end) === 0) {
    const { payload, protocol } = seen
    return { version, cluster, sender, to, link, incarnation, seq: Number(seqBig), sentAt, echo, payload, protocol }
  }
  const bytes = buf.subarray(payloadStart, end)
  let json: unknown
  try {
    json = JSON.parse(UTF8.decode(bytes))
  } catch {
    throw bad('payload', 'not UTF-8 JSON', s)
  }
  const payload = validateView(json, 'MCCS_ERR_HB_PACKET')
  const protocol = takeProtocol(payload, s)
  if (views) {
    if (!seen && views.size >= 256) views.clear()
    views.set(sender, { bytes: Buffer.from(bytes), payload, protocol })
  }
  return { version, cluster, sender, to, link, incarnation, seq: Number(seqBig), sentAt, echo, payload, protocol }
}

/** The key of the protocol range in `ext`. */
const PV = 'pv'

/** Takes the advertised protocol range out of a decoded view (checked: a malformed one refuses the packet). */
function takeProtocol(view: HbView, subject: string): ProtocolRange {
  if (!view.ext || !Object.hasOwn(view.ext, PV)) return { ...PROTOCOL_OLDEST }
  const { [PV]: pv, ...rest } = view.ext
  if (!Array.isArray(pv) || pv.length !== 2) throw bad(`payload/ext/${PV}`, 'must be [min, max]', subject)
  const r = checkRange({ min: pv[0], max: pv[1] }, `payload/ext/${PV}`, 'MCCS_ERR_HB_PACKET', subject)
  if (Object.keys(rest).length) view.ext = rest
  else delete view.ext
  return r
}

/** Printable form of an unauthenticated string for an error message. */
function safe(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_NAME_BYTES)
}

// -------------------------------------------------------------------------------------------- replay

interface SenderState {
  newest: bigint
  /** Highest sequence number accepted per link, for `newest`. */
  seq: Map<string, number>
}

/**
 * Per (sender, incarnation): a sequence number must be larger than the last accepted one on the same link
 * (no reordering window: heartbeats are idempotent, a reordered one is simply dropped). An incarnation older
 * than the newest seen from that sender is refused whatever happened since: a node's incarnations only grow
 * (newIncarnation's `after`), so an older one can only be a recording. (Until issue 12 an unseen older one was
 * accepted once the newest had been silent for the dead time, which let a replayed earlier boot stand in for
 * a dead node.) `seed` restores the newest incarnations persisted before this process started.
 */
export class ReplayGuard {
  private readonly senders = new Map<string, SenderState>()

  /** Sets the newest incarnation known for a sender (from the state file), if newer than what is known. */
  seed(sender: string, incarnation: bigint): void {
    const st = this.senders.get(sender)
    if (!st || incarnation > st.newest) this.senders.set(sender, { newest: incarnation, seq: new Map() })
  }

  /** Accepts and records the packet, or throws MCCS_ERR_HB_REPLAY. */
  accept(p: Pick<HbPacket, 'sender' | 'link' | 'incarnation' | 'seq'>): { newIncarnation: boolean } {
    const st = this.senders.get(p.sender)
    if (!st || p.incarnation > st.newest) {
      this.senders.set(p.sender, { newest: p.incarnation, seq: new Map([[p.link, p.seq]]) })
      return { newIncarnation: true }
    }
    if (p.incarnation < st.newest) {
      throw new MccsError(
        'MCCS_ERR_HB_REPLAY',
        `incarnation ${p.incarnation} (started ${isoTime(incarnationTime(p.incarnation))}) is older than ${st.newest} (started ` +
          `${isoTime(incarnationTime(st.newest))}), already seen from this sender`,
        { field: 'incarnation', subject: p.sender },
      )
    }
    const last = st.seq.get(p.link) ?? 0
    if (p.seq <= last) {
      throw new MccsError('MCCS_ERR_HB_REPLAY', `sequence ${p.seq} <= ${last} already seen on link ${p.link}`, {
        field: 'seq',
        subject: p.sender,
      })
    }
    st.seq.set(p.link, p.seq)
    return { newIncarnation: false }
  }

  /** The newest incarnation accepted from (or seeded for) a sender. */
  incarnationOf(sender: string): bigint | undefined {
    return this.senders.get(sender)?.newest
  }
}

function isoTime(ms: number): string {
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString()
}
