// The operator's intent, replicated (issue 14, finding 8). What the operator said about each group (held
// offline, the node an online or switch chose, a lock, the failover switch: core/engine/intent.ts) is a
// record {seq, intent} that every node keeps in <state>/intent.json:
//   - the coordinator's agent derives it from its engine state after each step; when it changed, the record
//     gets the next seq, is written here and pushed to every member of the partition, and an operator
//     command is acknowledged only once that is done (bounded: a member that does not answer is logged);
//   - a member takes a pushed record from its coordinator only, and only a newer one;
//   - a new coordinator asks the members of its partition for theirs and starts its engine from the newest
//     (core/engine/intent.ts applyIntent), so no coordinator change overrides the operator; a node that
//     rejoins gets the current record pushed.
// A record read from disk at start was held by no running agent: if no member holds a newer or live one
// (the whole cluster restarted), what a restart ends is dropped (afterRestart: temporary locks, the node of
// an online or switch), and what it keeps stays: an offline hold, a persistent lock, the failover switch.
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../config/atomic.js'
import { keepAside } from '../config/keep-aside.js'
import { afterRestart, intentOf, intentProblem, sameIntent, type OperatorIntent, type EngineState } from '../engine/index.js'
import { MccsError } from '../errors.js'
import type { Log } from '../log/logger.js'
import type { PeerRpc } from './peer-rpc.js'

export interface IntentRecord {
  seq: number
  intent: OperatorIntent
}

/** Its peer messages: a record pushed by the coordinator, a member's record asked for by a new one. */
export type IntentMessage = { t: 'intent'; seq: number; intent: unknown } | { t: 'intentGet' }

export interface IntentAnswer {
  seq: number
  live: boolean
  intent: OperatorIntent | null
}

export interface IntentSyncOptions {
  node: string
  log: Pick<Log, 'log'>
  /** <state>/intent.json */
  file: string
  /** A push or an ask waits at most this long for a member (a member is heard: it answers in ms). */
  timeoutMs?: number
}

export class IntentSync {
  private rec: IntentRecord | null = null
  /** The record was held in memory by a running agent when it came here (made, pushed or gathered);
   *  false: read from disk at this start. */
  private live = false
  private writing: Promise<void> = Promise.resolve()
  private pushing: Promise<void> = Promise.resolve()
  private failing = false
  private readonly timeoutMs: number

  constructor(private readonly o: IntentSyncOptions) {
    this.timeoutMs = o.timeoutMs ?? 1000
  }

  /** Reads the record kept here (absent on a first start; an unusable file is kept aside and logged). */
  async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.o.file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.o.log.log('error', `operator intent ${this.o.file} cannot be read (${(e as Error).message}): starting without it`, {
          code: 'MCCS_ERR_STATE_CORRUPT',
          file: this.o.file,
        })
      return
    }
    let v: unknown
    try {
      v = JSON.parse(text)
    } catch {
      v = null
    }
    const why = recordProblem(v)
    if (why) {
      const keptAs = await keepAside(this.o.file)
      this.o.log.log(
        'error',
        `operator intent ${this.o.file} is unusable (${why}); ${keptAs ? `kept as ${keptAs}` : 'could not be moved aside'}. Starting without it: the members' copies are used`,
        { code: 'MCCS_ERR_STATE_CORRUPT', file: this.o.file, keptAs, reason: why },
      )
      return
    }
    this.rec = v as IntentRecord
    this.live = false
  }

  /** The record here and whether a running agent held it. */
  current(): IntentAnswer {
    return { seq: this.rec?.seq ?? -1, live: this.live, intent: this.rec?.intent ?? null }
  }

  /** What an engine starting here from this node's record alone applies (a single node, or no member answered). */
  startIntent(): OperatorIntent | null {
    if (!this.rec) return null
    return this.live ? this.rec.intent : afterRestart(this.rec.intent)
  }

  /** Answers the members' and coordinators' messages. `isOurCoordinator`: only our coordinator pushes. */
  serve(rpc: PeerRpc): void {
    rpc.serve<IntentMessage>({
      intent: async (from, m) => {
        rpc.assertOurCoordinator(from)
        if (typeof m.seq !== 'number' || !Number.isInteger(m.seq) || m.seq < 0)
          throw new MccsError('MCCS_ERR_INVALID', 'must be a whole number >= 0', { field: 'seq' })
        const why = intentProblem(m.intent)
        if (why) throw new MccsError('MCCS_ERR_INVALID', why, { field: 'intent' })
        if (this.rec && m.seq < this.rec.seq) return { seq: this.rec.seq }
        await this.keep({ seq: m.seq, intent: m.intent as OperatorIntent })
        return { seq: m.seq }
      },
      intentGet: () => this.current(),
    })
  }

  /**
   * A new coordinator: the newest record among ours and the partition members' (asked in parallel, each
   * bounded by timeoutMs). A live record wins over one of the same seq read from disk. Returns what the
   * engine starts from, and keeps it here (it is pushed on with the next change, or by pushTo).
   */
  async gather(rpc: PeerRpc, peers: string[], stillMember: (n: string) => boolean = () => true): Promise<OperatorIntent | null> {
    // A member that leaves the partition meanwhile is not waited for (its connection's timeout is 2 s per
    // link): every intent the operator was told is done is on every member (settled()), so the members
    // that stay hold it too.
    const left = new Map<string, () => void>()
    const gone = (n: string) =>
      new Promise<null>((resolve) => {
        left.set(n, () => resolve(null))
      })
    const watch = setInterval(() => {
      for (const [n, done] of left)
        if (!stillMember(n)) {
          this.o.log.log('info', `operator intent: ${n} left the partition; not waiting for its answer`, { node: n })
          left.delete(n)
          done()
        }
    }, 50)
    const answers = await Promise.all(
      peers.map((n) =>
        Promise.race([
          rpc.request<IntentAnswer>(n, { t: 'intentGet' } satisfies IntentMessage, this.timeoutMs).then(
            (a) => ({ n, a }),
            (err: Error) => {
              this.o.log.log('warn', `operator intent: ${n} did not answer (${err.message}); starting from the newest of the others`, {
                node: n,
              })
              return null
            },
          ),
          gone(n),
        ]),
      ),
    ).finally(() => clearInterval(watch))
    let best: IntentAnswer & { n: string } = { ...this.current(), n: this.o.node }
    for (const x of answers) {
      if (!x || typeof x.a?.seq !== 'number' || intentProblem(x.a.intent) !== null) continue
      if (x.a.seq > best.seq || (x.a.seq === best.seq && x.a.live && !best.live)) best = { ...x.a, n: x.n }
    }
    if (!best.intent) return null
    const intent = best.live ? best.intent : afterRestart(best.intent)
    if (best.n !== this.o.node || !this.live) {
      this.o.log.log(
        'info',
        `operator intent: starting from record ${best.seq} of ${best.n}${best.live ? '' : ' (read from disk: the cluster restarted, temporary locks and chosen nodes end)'}`,
        { from: best.n, seq: best.seq },
      )
    }
    await this.keep({ seq: best.seq, intent })
    return intent
  }

  /**
   * Coordinator, after each engine step: when the operator's intent in the state changed, the record gets
   * the next seq, is written here and pushed to `peers`. settled() resolves once that is done.
   */
  track(state: EngineState, rpc: PeerRpc | undefined, peers: () => string[]): void {
    const intent = intentOf(state)
    if (this.rec && this.live && sameIntent(this.rec.intent, intent)) return
    const rec = { seq: (this.rec?.seq ?? -1) + 1, intent }
    this.rec = rec
    this.live = true
    this.persist(rec)
    if (rpc) this.push(rpc, peers(), rec)
  }

  /** Resolves once the last change is written here and pushed (or its push failed and was logged). */
  settled(): Promise<void> {
    return Promise.all([this.writing, this.pushing]).then(() => {})
  }

  /** Coordinator, after a membership change: the current record to the members that do not have it yet
   *  (one that rejoined, one a push missed); a node out of the partition must be sent it again when back. */
  syncMembers(rpc: PeerRpc, members: string[]): void {
    for (const n of [...this.acked.keys()]) if (!members.includes(n)) this.acked.delete(n)
    const rec = this.rec
    if (!rec || !this.live) return
    const behind = members.filter((n) => n !== this.o.node && (this.acked.get(n) ?? -1) < rec.seq)
    if (behind.length) this.push(rpc, behind, rec)
  }

  /** Members known to hold a record, and its seq. */
  private readonly acked = new Map<string, number>()

  private push(rpc: PeerRpc, nodes: string[], rec: IntentRecord): void {
    this.pushing = this.pushing.then(async () => {
      const results = await Promise.allSettled(nodes.map((n) => this.send(rpc, n, rec)))
      results.forEach((r, i) => {
        const n = nodes[i]!
        if (r.status === 'fulfilled') {
          this.acked.set(n, rec.seq)
          return
        }
        // Not fatal: a member that missed it is asked by the next coordinator, or gets it at the next membership change.
        this.acked.delete(n)
        this.o.log.log('warn', `operator intent ${rec.seq} not pushed to ${n}: ${(r.reason as Error).message}`, { node: n, seq: rec.seq })
      })
    })
  }

  /** A member that has not yet settled on us as its coordinator (it decides on its own clock, a heartbeat
   *  or two after us) refuses: it is asked again for about two seconds. */
  private async send(rpc: PeerRpc, n: string, rec: IntentRecord): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await rpc.request<{ seq: number }>(n, { t: 'intent', seq: rec.seq, intent: rec.intent } satisfies IntentMessage, this.timeoutMs)
        return
      } catch (err) {
        if ((err as { code?: string }).code !== 'MCCS_ERR_NOT_COORDINATOR' || attempt >= 10) throw err
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }

  private async keep(rec: IntentRecord): Promise<void> {
    const same = this.rec?.seq === rec.seq && sameIntent(this.rec.intent, rec.intent) && this.live
    this.rec = rec
    this.live = true
    if (!same) this.persist(rec)
    await this.writing
  }

  private persist(rec: IntentRecord): void {
    this.writing = this.writing
      .then(() => writeFileAtomic(this.o.file, JSON.stringify(rec) + '\n', 0o600))
      .then(
        () => {
          if (this.failing) this.o.log.log('info', `operator intent ${this.o.file} is saved again`, { file: this.o.file })
          this.failing = false
        },
        (e: unknown) => {
          if (!this.failing)
            this.o.log.log('error', `cannot save the operator intent to ${this.o.file}: ${(e as Error).message}`, {
              code: 'MCCS_ERR_STATE_DIR',
              file: this.o.file,
            })
          this.failing = true
        },
      )
  }
}

function recordProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object'
  const r = v as Record<string, unknown>
  if (typeof r.seq !== 'number' || !Number.isInteger(r.seq) || r.seq < 0) return '/seq: must be a whole number >= 0'
  const why = intentProblem(r.intent)
  return why ? `/intent${why}` : null
}
