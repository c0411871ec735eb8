// The quorum server's wire protocol and its vote rule, shared by the server and the client.
//
// Transport: TLS (1.2+) over TCP, port 14322 by default. The client pins the server's CA (the quorum
// server's `tls/ca.crt`) and checks the server's name or IP against the certificate.
// Framing: one JSON object per line (UTF-8, '\n'), at most MAX_LINE bytes per line. Anything else —
// not JSON, an unknown message, a wrong field, a line too long, a report before auth — makes the
// server answer one `error` line and close that connection; nothing else changes.
//
// Authentication: per cluster, HMAC-SHA256 challenge-response with the cluster's quorum key (a secret
// the server keeps in `<dir>/clusters/<cluster>.key`, mode 0600; the cluster's nodes hold the same key).
// The key never crosses the wire, and a fresh server nonce per connection makes an answer useless twice.
//
//   S: {"t":"hello","v":1,"nonce":"<32 random bytes, hex>"}
//   C: {"t":"auth","v":1,"cluster":"c1","node":"n1","cnonce":"<hex>","mac":"<hex>"}
//        mac = HMAC-SHA256(key, "mccs-quorum-auth-v1\n" + cluster + "\n" + node + "\n" + nonce + "\n" + cnonce)
//      optionally with the timing this node asks for (its cluster's heartbeat timing): "intervalMs":200,
//      "timeoutMs":700 (intervalMs 20..60000, timeoutMs more than twice that and at least 100, at most
//      600000); a server that predates them ignores them and answers its own, which the client follows
//   S: {"t":"welcome","v":1,"cluster":"c1","node":"n1","intervalMs":1000,"timeoutMs":5000}
//      (the timing in force for this node: the one it asked for, else the server's own)
//      or {"t":"error","code":"MCCS_ERR_QUORUM_AUTH","message":"..."} and close
//      (the same answer for an unknown cluster and a wrong key)
//
// Then, every intervalMs (and at once when its membership changes) the client reports its partition —
// the nodes it currently sees, itself included — and the last vote sequence number it received:
//   C: {"t":"report","seq":7,"ack":3,"partition":["n1","n2"]}
//   S: {"t":"vote","vseq":4,"seq":7,"vote":"granted"|"denied","partition":["n1","n2"],"holder":["n1","n2"]|null,"reason":"..."}
// The server answers every report and also pushes a `vote` line whenever its decision for that node
// changes. `seq` echoes the last report the server has received from that node.
//
// Vote rule (corosync-qnetd "ffsplit"), per cluster, among the partitions reported by nodes heard from
// within timeoutMs: the partition with more nodes wins; on a tie the partition holding the vote keeps it;
// otherwise the partition containing the lowest node name (plain code-unit order) wins.
// Exactly one partition holds the vote at a time, and a new holder is granted only after every node
// outside it that was told "granted" has acknowledged a "denied" (its `ack`) or has not reported for
// timeoutMs (then its own lease, below, has run out as well).
// A node that stops reporting is forgotten after timeoutMs (disconnected or not): its partition stops
// counting and the vote may move.
//
// Client lease: a client counts "granted" only until sentAt(seq echoed by the latest vote) + timeoutMs
// - margin. Since the server forgets a node timeoutMs after it *received* that report, a client never
// holds a vote the server has already given to another partition. Past the lease the client says "none".
import { createHmac, timingSafeEqual } from 'node:crypto'
import { MccsError } from '../errors.js'

export const QUORUM_PORT = 14322
export const PROTOCOL_VERSION = 1
export const MAX_LINE = 16 * 1024
export const MAX_PARTITION = 64
/** Cluster and node names: what the server accepts (also safe as a file name). */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/
const HEX_RE = /^[0-9a-f]{16,128}$/
/** A cluster's quorum key: at least 32 printable characters (generated keys are 64 hex digits). */
export const KEY_RE = /^[\x21-\x7e]{32,512}$/

export type Vote = 'granted' | 'denied'
export type ClientVote = Vote | 'none'

export interface HelloMsg {
  t: 'hello'
  v: number
  nonce: string
}
export interface WelcomeMsg {
  t: 'welcome'
  v: number
  cluster: string
  node: string
  intervalMs: number
  timeoutMs: number
}
export interface VoteMsg {
  t: 'vote'
  vseq: number
  seq: number
  vote: Vote
  partition: string[]
  holder: string[] | null
  reason: string
}
export interface ErrorMsg {
  t: 'error'
  code: string
  message: string
}
export type ServerMsg = HelloMsg | WelcomeMsg | VoteMsg | ErrorMsg

export interface AuthMsg {
  t: 'auth'
  v: number
  cluster: string
  node: string
  cnonce: string
  mac: string
  /** The report interval and timeout this node asks for (both or neither). */
  intervalMs?: number
  timeoutMs?: number
}

/** Bounds of a timing a client may ask for: the lease must span at least two reports. */
export const ASKED_INTERVAL_MS = { min: 20, max: 60_000 }
export const ASKED_TIMEOUT_MAX_MS = 600_000
export interface ReportMsg {
  t: 'report'
  seq: number
  ack: number
  partition: string[]
}
export type ClientMsg = AuthMsg | ReportMsg

export function authMac(key: string, cluster: string, node: string, nonce: string, cnonce: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8'))
    .update(`mccs-quorum-auth-v1\n${cluster}\n${node}\n${nonce}\n${cnonce}`)
    .digest('hex')
}

export function macEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8'),
    y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}

const bad = (field: string, reason: string) => new MccsError('MCCS_ERR_QUORUM_PROTOCOL', reason, { field })

function obj(line: string): Record<string, unknown> {
  if (Buffer.byteLength(line) > MAX_LINE) throw bad('(line)', `longer than ${MAX_LINE} bytes`)
  let v: unknown
  try {
    v = JSON.parse(line)
  } catch {
    throw bad('(line)', 'is not JSON')
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('(line)', 'must be a JSON object')
  return v as Record<string, unknown>
}
const str = (o: Record<string, unknown>, k: string, re: RegExp): string => {
  const v = o[k]
  if (typeof v !== 'string' || !re.test(v)) throw bad(k, `must match ${re.source}`)
  return v
}
const int = (o: Record<string, unknown>, k: string, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
  const v = o[k]
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(k, `must be an integer in ${min}..${max}`)
  return v
}

/** A partition as reported: distinct valid node names, sorted. */
export function checkPartition(v: unknown, field = 'partition'): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_PARTITION)
    throw bad(field, `must be an array of 1..${MAX_PARTITION} node names`)
  for (const [i, n] of v.entries())
    if (typeof n !== 'string' || !NAME_RE.test(n)) throw bad(`${field}[${i}]`, `must be a node name (${NAME_RE.source})`)
  const set = [...new Set(v as string[])].sort(cmp)
  if (set.length !== v.length) throw bad(field, 'names a node twice')
  return set
}

/** The timing a cluster node asks for, from its heartbeat timing: reports at twice the heartbeat interval,
 *  a lease of the dead time plus one interval (a lost peer's part of the vote lapses right after the
 *  heartbeat declares it dead), at least two reports long. 100/600 ms: reports every 200 ms, 700 ms. */
export function quorumTiming(hb: { intervalMs: number; deadMs: number }): { intervalMs: number; timeoutMs: number } {
  const intervalMs = Math.min(ASKED_INTERVAL_MS.max, Math.max(ASKED_INTERVAL_MS.min, 2 * hb.intervalMs))
  const timeoutMs = Math.min(ASKED_TIMEOUT_MAX_MS, Math.max(hb.deadMs + hb.intervalMs, 2 * intervalMs + hb.intervalMs))
  return { intervalMs, timeoutMs }
}

/** The timing a login asks for: both fields or neither, within bounds. */
function askedTiming(o: Record<string, unknown>): { intervalMs?: number; timeoutMs?: number } {
  if (o.intervalMs === undefined && o.timeoutMs === undefined) return {}
  const intervalMs = int(o, 'intervalMs', ASKED_INTERVAL_MS.min, ASKED_INTERVAL_MS.max)
  // At least 100 ms: the server checks timeouts four times per shortest one in force, for every cluster.
  const timeoutMs = int(o, 'timeoutMs', Math.max(100, 2 * intervalMs + 1), ASKED_TIMEOUT_MAX_MS)
  return { intervalMs, timeoutMs }
}

export function parseClientMsg(line: string): ClientMsg {
  const o = obj(line)
  switch (o.t) {
    case 'auth':
      if (o.v !== PROTOCOL_VERSION) throw bad('v', `protocol version ${PROTOCOL_VERSION} is the only one spoken here`)
      return {
        t: 'auth',
        v: PROTOCOL_VERSION,
        cluster: str(o, 'cluster', NAME_RE),
        node: str(o, 'node', NAME_RE),
        cnonce: str(o, 'cnonce', HEX_RE),
        mac: str(o, 'mac', /^[0-9a-f]{64}$/),
        ...askedTiming(o),
      }
    case 'report':
      return { t: 'report', seq: int(o, 'seq', 1), ack: int(o, 'ack'), partition: checkPartition(o.partition) }
    default:
      throw bad('t', `unknown message type ${JSON.stringify(o.t)}`)
  }
}

export function parseServerMsg(line: string): ServerMsg {
  const o = obj(line)
  switch (o.t) {
    case 'hello':
      return { t: 'hello', v: int(o, 'v'), nonce: str(o, 'nonce', HEX_RE) }
    case 'welcome':
      return {
        t: 'welcome',
        v: int(o, 'v'),
        cluster: str(o, 'cluster', NAME_RE),
        node: str(o, 'node', NAME_RE),
        intervalMs: int(o, 'intervalMs', 1),
        timeoutMs: int(o, 'timeoutMs', 1),
      }
    case 'vote': {
      if (o.vote !== 'granted' && o.vote !== 'denied') throw bad('vote', "must be 'granted' or 'denied'")
      return {
        t: 'vote',
        vseq: int(o, 'vseq', 1),
        seq: int(o, 'seq'),
        vote: o.vote,
        partition: Array.isArray(o.partition) ? checkPartition(o.partition) : [],
        holder: o.holder === null || o.holder === undefined ? null : checkPartition(o.holder, 'holder'),
        reason: typeof o.reason === 'string' ? o.reason.slice(0, 500) : '',
      }
    }
    case 'error':
      return {
        t: 'error',
        code: typeof o.code === 'string' ? o.code.slice(0, 64) : 'MCCS_ERR_QUORUM_PROTOCOL',
        message: typeof o.message === 'string' ? o.message.slice(0, 1000) : '',
      }
    default:
      throw bad('t', `unknown message type ${JSON.stringify(o.t)}`)
  }
}

/** Plain code-unit order (locale-independent, the same on every host). */
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
export const partitionKey = (p: readonly string[]): string => p.join(',')

/**
 * The ffsplit rule: which of the reported partitions gets the vote. `reports` are the partitions the
 * live nodes report (sorted node lists; several nodes may report the same one). `holder` is the
 * partition holding the vote now. Returns the winner, or null when nothing is reported.
 */
export function choosePartition(reports: ReadonlyArray<readonly string[]>, holder: readonly string[] | null): string[] | null {
  const byKey = new Map<string, readonly string[]>()
  for (const p of reports) byKey.set(partitionKey(p), p)
  if (byKey.size === 0) return null
  const held = new Set(holder ?? [])
  const holderKey = holder ? partitionKey(holder) : null
  const rank = (p: readonly string[]) => ({
    size: p.length,
    // The holder itself first, then a partition sharing nodes with it (the holder grew or shrank).
    holds: partitionKey(p) === holderKey ? Infinity : p.filter((n) => held.has(n)).length,
    lowest: p[0]!,
  })
  const ranked = [...byKey.values()].map((p) => ({ p, r: rank(p) }))
  ranked.sort(
    (a, b) => b.r.size - a.r.size || b.r.holds - a.r.holds || cmp(a.r.lowest, b.r.lowest) || cmp(partitionKey(a.p), partitionKey(b.p)),
  )
  return [...ranked[0]!.p]
}
