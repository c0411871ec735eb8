// The view-change announcement on the wire: `ext.vc` of the heartbeat view (packet.ts), so it is covered by
// the heartbeat's HMAC, its replay guard and its freshness echo like everything else a heartbeat carries.
// Compact, so that 32 nodes fit the 1 KiB payload: members and ready members are bit masks over hb.json's
// node names in sorted order, and `h` (a digest of that list) makes sure both ends index the same list.
// The masks are plain numbers built with arithmetic, not JavaScript's 32-bit signed bitwise operators: bit
// 31 (the 32nd node) would make them negative.
//
//   { e: epoch, m: members mask, r: ready mask, j: 1 joined | 0, rd: 1 ready | 0, f: floor, h: node-list digest }
//
// decodeAnnounce() validates every field at the edge and throws MCCS_ERR_HB_PAYLOAD naming the field; the
// caller treats a refused announcement as none (the sender then installs nothing with us) and logs it.
import { createHash } from 'node:crypto'
import { MccsError } from '../errors.js'
import type { Announce } from './view.js'
import type { HbView } from './packet.js'
import { MAX_NODES } from '../config/schema.js'

export const MAX_VIEW_NODES = MAX_NODES
const KEYS = new Set(['e', 'm', 'r', 'j', 'rd', 'f', 'h'])

export interface WireAnnounce {
  e: number
  m: number
  r: number
  j: 0 | 1
  rd: 0 | 1
  f: number
  h: string
}

/** How well a node receives a peer: 0 under 30 % of its packets, 1 under 70 %, 2 otherwise (coarse, so that
 *  ordinary jitter does not change what a heartbeat says). */
export type ReceivedLevel = 0 | 1 | 2
export function receivedLevel(share: number | null): ReceivedLevel | undefined {
  return share === null ? undefined : share < 0.3 ? 0 : share < 0.7 ? 1 : 2
}

/** The node list both ends index masks with: hb.json's names, sorted. */
export class ViewCodec {
  readonly names: readonly string[]
  readonly digest: string
  private readonly index: Map<string, number>

  constructor(nodes: readonly string[]) {
    const names = [...new Set(nodes)].sort()
    if (names.length === 0 || names.length > MAX_VIEW_NODES) {
      throw new MccsError('MCCS_ERR_HB_CONFIG', `a cluster has 1 to ${MAX_VIEW_NODES} nodes (has ${names.length})`, { field: '/nodes' })
    }
    this.names = names
    this.index = new Map(names.map((n, i) => [n, i]))
    this.digest = createHash('sha256').update(names.join('\n')).digest('hex').slice(0, 8)
  }

  private mask(list: readonly string[], field: string): number {
    let m = 0
    for (const n of new Set(list)) {
      const i = this.index.get(n)
      if (i === undefined) throw new MccsError('MCCS_ERR_HB_PAYLOAD', `'${n}' is not a node of hb.json`, { field })
      m += 2 ** i
    }
    return m
  }

  private list(mask: number): string[] {
    return this.names.filter((_, i) => bit(mask, i))
  }

  /** The mask of every node of the list. */
  private get all(): number {
    return 2 ** this.names.length - 1
  }

  /** The peers this node hears but holds out for their readmission hold (`ext.hd`), as a mask. */
  encodeHeld(list: readonly string[]): number {
    return this.mask(list, 'ext/hd')
  }

  /** Validates the held mask `sender` sent (`ext.hd`). Throws MCCS_ERR_HB_PAYLOAD naming the field. */
  decodeHeld(v: unknown, sender: string): string[] {
    const all = this.all
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > all) {
      throw new MccsError('MCCS_ERR_HB_PAYLOAD', `must be an integer from 0 to ${all}`, { field: 'payload/ext/hd', subject: sender })
    }
    return this.list(v)
  }

  /** How well this node receives each peer (`ext.rq`): one character per node of the list, '0' (little or
   *  nothing), '1' (much lost), '2' (well), '-' (itself, or not known yet). */
  encodeReceived(levels: Readonly<Record<string, ReceivedLevel | undefined>>): string {
    return this.names.map((n) => levels[n] ?? '-').join('')
  }

  /** Validates the received levels `sender` sent (`ext.rq`). Throws MCCS_ERR_HB_PAYLOAD naming the field. */
  decodeReceived(v: unknown, sender: string): Record<string, ReceivedLevel> {
    if (typeof v !== 'string' || v.length !== this.names.length || !/^[-012]*$/.test(v)) {
      throw new MccsError('MCCS_ERR_HB_PAYLOAD', `must be ${this.names.length} characters of 0, 1, 2 or -`, {
        field: 'payload/ext/rq',
        subject: sender,
      })
    }
    const out: Record<string, ReceivedLevel> = {}
    this.names.forEach((n, i) => {
      const c = v[i]!
      if (c !== '-' && n !== sender) out[n] = Number(c) as ReceivedLevel
    })
    return out
  }

  encode(a: Announce): WireAnnounce {
    return {
      e: a.epoch,
      m: this.mask(a.members, 'vc/m'),
      r: this.mask(a.ready, 'vc/r'),
      j: a.joined ? 1 : 0,
      rd: a.rd ? 1 : 0,
      f: a.floor,
      h: this.digest,
    }
  }

  /** Validates what `sender` announced (ext.vc of its heartbeat view). Throws MCCS_ERR_HB_PAYLOAD naming the field. */
  decode(v: unknown, sender: string, base = 'payload/ext/vc'): Announce {
    const bad = (f: string, why: string) =>
      new MccsError('MCCS_ERR_HB_PAYLOAD', why, { field: `${base}${f ? '/' + f : ''}`, subject: sender })
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('', 'must be a JSON object')
    const o = v as Record<string, unknown>
    for (const k of Object.keys(o)) if (!KEYS.has(k)) throw bad(k, 'unknown field')
    if (o.h !== this.digest)
      throw bad('h', `names another node list (${String(o.h)}; ours ${this.digest}): hb.json differs between the nodes`)
    const int = (k: string, max: number) => {
      const x = o[k]
      if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0 || x > max) throw bad(k, `must be an integer from 0 to ${max}`)
      return x
    }
    const all = this.all
    const e = int('e', Number.MAX_SAFE_INTEGER)
    const f = int('f', Number.MAX_SAFE_INTEGER)
    const m = int('m', all)
    const r = int('r', all)
    const flag = (k: string) => {
      if (o[k] !== 0 && o[k] !== 1) throw bad(k, 'must be 0 or 1')
      return o[k] === 1
    }
    const joined = flag('j')
    const rd = flag('rd')
    const si = this.index.get(sender)
    if (si === undefined) throw bad('', `'${sender}' is not a node of hb.json`)
    if (!bit(m, si)) throw bad('m', `does not contain its sender ${sender}`)
    if (this.names.some((_, i) => bit(r, i) && !bit(m, i))) throw bad('r', 'names a node that is not a member')
    if (joined && f !== e) throw bad('f', 'must equal the epoch of the view joined')
    if (f > e) throw bad('f', 'cannot exceed the epoch (a node proposes above its floor)')
    return { epoch: e, members: this.list(m), ready: this.list(r), joined, rd, floor: f }
  }
}

/** What this node's heartbeats carry (packet.ts HbView), from the role's state: whom it hears, the
 *  installed view's coordinator and quorum, and in `ext` the announcement (`vc`), the hb.json generation in
 *  force (`hbg`: a member that missed a live change fetches it, hb-sync.ts), the peers held out (`hd`), how
 *  well it receives each peer (`rq`), its self-fences (`sf`) and its mode when not active. Its largest size
 *  bounds the node names hb.json may have (config/schema.ts viewNamesBudget). */
export function heartbeatView(o: {
  up: string[]
  coordinator: string | null
  generation: number
  digest: string | null
  quorate: boolean
  mode: string
  vc: WireAnnounce
  hbGeneration: number
  held: number | null
  received: string
  selfFences: number
}): HbView {
  return {
    up: o.up,
    coordinator: o.coordinator,
    generation: o.generation,
    ...(o.digest ? { digest: o.digest } : {}),
    quorum: o.quorate ? 'quorate' : 'inquorate',
    ext: {
      ...(o.mode !== 'active' ? { mode: o.mode } : {}),
      vc: o.vc,
      hbg: o.hbGeneration,
      ...(o.held !== null ? { hd: o.held } : {}),
      rq: o.received,
      ...(o.selfFences ? { sf: o.selfFences } : {}),
    },
  }
}

/** Whether bit `i` of a mask (a safe integer of up to MAX_VIEW_NODES bits) is set. */
function bit(mask: number, i: number): boolean {
  return Math.floor(mask / 2 ** i) % 2 === 1
}
