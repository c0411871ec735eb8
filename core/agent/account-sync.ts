// The console's account store replicated between the nodes of a cluster, on the configuration's path
// (config-sync.ts): a change is committed by the coordinator of a quorate partition only (generation + 1,
// refused when the sender's generation is not the current one), pushed to every member before it
// answers, and the peer channel carrying it is authenticated by the cluster key. Only KDF hashes travel.
//
// A node that joins the partition (back from down, or restarted) is asked for its document and asks
// the others for theirs: the newest generation wins everywhere; at an equal generation with another
// content (two fresh nodes each made their own default account), the coordinator's wins. A change made
// without quorum is kept on this node only (an isolated node's console must stay usable) and offered as the
// newer generation when the node rejoins; at a tie the coordinator's copy wins.
//
// The document's content (users, hashes) is the console's (core/console/auth/accounts.ts): it attaches
// itself as the replica; this file moves generations and documents, and checks only their outline.
import { createHash } from 'node:crypto'
import type { Role } from '../cluster/role.js'
import type { MembershipResult } from '../cluster/membership.js'
import { MccsError } from '../errors.js'
import type { Log } from '../log/logger.js'
import type { PeerRpc } from './peer-rpc.js'

export interface AccountsDoc {
  generation: number
  users: Record<string, unknown>
}

/** The node's account store as this file sees it (the console's AccountStore). */
export interface AccountReplica {
  current(): AccountsDoc
  /** A peer's document checked field by field (throws an MccsError naming the field). */
  check(doc: unknown): AccountsDoc
  /** Makes it the document in force (written atomically). */
  adopt(doc: AccountsDoc, from: string): Promise<void>
}

export type AccountMessage =
  { t: 'accountsCommit'; doc: unknown; expectGeneration: number } | { t: 'accounts'; doc: unknown } | { t: 'accountsGet' }

export interface AccountSyncHost {
  node: string
  log: Log
  role: Role
  rpc: PeerRpc
}

const PUSH_TIMEOUT_MS = 5000
const RETRY_MS = 1000
/** A peer whose console does not answer (disabled there) is asked less and less often, up to this. */
const MAX_RETRY_MS = 30_000

export function accountsDigest(doc: AccountsDoc): string {
  return createHash('sha256').update(JSON.stringify(doc.users)).digest('hex')
}

export class AccountSync {
  private replica: AccountReplica | null = null
  /** The partition's peers at the last membership decision, and those whose document is still to be read. */
  private known = new Set<string>()
  private readonly toCheck = new Set<string>()
  private timer: NodeJS.Timeout | null = null
  private checking = false
  private failedRounds = 0
  /** Commits run one after the other on the coordinator (each checks the generation it was based on). */
  private committing: Promise<unknown> = Promise.resolve()

  constructor(private readonly h: AccountSyncHost) {}

  /** The console's store: from now on changes go through the coordinator, and peers are compared. */
  attach(replica: AccountReplica): void {
    this.replica = replica
    for (const n of this.known) this.toCheck.add(n)
    this.schedule(0)
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.replica = null
  }

  serve(): void {
    const rpc = this.h.rpc
    rpc.serve<AccountMessage>({
      accountsCommit: (from, m) => {
        rpc.assertCoordinator('MCCS_ERR_NOT_COORDINATOR')
        if (!Number.isSafeInteger(m.expectGeneration))
          throw new MccsError('MCCS_ERR_INVALID', 'expectGeneration must be an integer', { field: 'expectGeneration' })
        return this.commitHere(this.need().check(m.doc).users, m.expectGeneration, from)
      },
      accounts: async (from, m) => {
        rpc.assertOurCoordinator(from) // only our coordinator replicates to us
        await this.offer(this.need().check(m.doc), from, true)
        return { generation: this.need().current().generation }
      },
      accountsGet: () => this.need().current(),
    })
  }

  /** A change made on this node's console: committed by the coordinator and on every member before it returns. */
  async commit(users: Record<string, unknown>, expectGeneration: number): Promise<number> {
    const role = this.h.role
    if (role.isCoordinator()) return (await this.commitHere(users, expectGeneration, this.h.node)).generation
    const coord = role.coordinator()
    if (!coord || coord === this.h.node) {
      // No quorum: kept here at the next generation, so that an operator on an isolated node can still log
      // in and change the default password (refused, the console was unusable there: no-quorum-api in CI).
      // It reaches the others when this node rejoins, as the newer generation; if they changed the accounts
      // meanwhile too, the coordinator's copy wins the tie and this change is replaced (docs/console.md).
      const next = await this.commitHere(users, expectGeneration, this.h.node, false)
      this.h.log.log(
        'warn',
        `console accounts generation ${next.generation} kept on this node only (no quorum): it reaches the other nodes when this node rejoins them, unless they changed the accounts meanwhile`,
        { generation: next.generation },
      )
      return next.generation
    }
    const r = await this.h.rpc.request<{ generation: number }>(
      coord,
      { t: 'accountsCommit', doc: { generation: expectGeneration, users }, expectGeneration } satisfies AccountMessage,
      15_000,
    )
    // The coordinator pushed it to us before answering; if that push was lost, read it now.
    if (this.need().current().generation < r.generation) await this.readFrom(coord)
    return r.generation
  }

  /** After every membership decision: a peer new in our partition is compared with us. */
  viewsChanged(m: MembershipResult): void {
    const now = new Set(m.quorate ? m.partition.filter((n) => n !== this.h.node) : [])
    let joined = false
    for (const n of now)
      if (!this.known.has(n)) {
        this.toCheck.add(n)
        joined = true
      }
    for (const n of this.toCheck) if (!now.has(n)) this.toCheck.delete(n)
    this.known = now
    if (joined) {
      this.failedRounds = 0
      if (this.timer) clearTimeout(this.timer)
      this.timer = null
      this.schedule(0)
    }
  }

  private need(): AccountReplica {
    if (!this.replica) throw new MccsError('MCCS_ERR_NOT_FOUND', 'the console (and its account store) is not running on this node')
    return this.replica
  }

  /** Commits at the next generation here; `push`: and on every member of the partition before it returns. */
  private commitHere(users: Record<string, unknown>, expectGeneration: number, from: string, push = true): Promise<AccountsDoc> {
    const run = this.committing.then(async () => {
      const r = this.need()
      const cur = r.current()
      if (cur.generation !== expectGeneration) {
        throw new MccsError(
          'MCCS_ERR_CONFLICT',
          `the accounts changed meanwhile (generation ${cur.generation}, the change was made on ${expectGeneration}); try again`,
          { field: 'expectGeneration' },
        )
      }
      const next = r.check({ generation: cur.generation + 1, users })
      await r.adopt(next, from)
      this.h.log.log('info', `console accounts generation ${next.generation} committed (change from ${from})`, {
        from,
        generation: next.generation,
      })
      if (!push) return next
      const peers = this.h.role.partitionPeers()
      const results = await Promise.allSettled(
        peers.map((n) => this.h.rpc.request(n, { t: 'accounts', doc: next } satisfies AccountMessage, PUSH_TIMEOUT_MS)),
      )
      results.forEach((res, i) => {
        // Not fatal: the member reads it when it is next compared (or rejoins).
        if (res.status === 'rejected') {
          this.h.log.log(
            'warn',
            `console accounts generation ${next.generation} not pushed to ${peers[i]}: ${(res.reason as Error).message}`,
            {
              node: peers[i],
            },
          )
          this.toCheck.add(peers[i]!)
          this.schedule(RETRY_MS)
        }
      })
      return next
    })
    this.committing = run.catch(() => {})
    return run
  }

  /** Takes `doc` when it is newer, or as new at an equal generation when it is the coordinator's. */
  private async offer(doc: AccountsDoc, from: string, fromCoordinator: boolean): Promise<void> {
    const r = this.need()
    const cur = r.current()
    const newer = doc.generation > cur.generation
    const tie = doc.generation === cur.generation && fromCoordinator && accountsDigest(doc) !== accountsDigest(cur)
    if (!newer && !tie) return
    await r.adopt(doc, from)
    this.h.log.log('info', `console accounts generation ${doc.generation} taken from ${from} (was ${cur.generation})`, {
      from,
      generation: doc.generation,
    })
  }

  private async readFrom(node: string): Promise<void> {
    const doc = this.need().check(await this.h.rpc.request<unknown>(node, { t: 'accountsGet' } satisfies AccountMessage, PUSH_TIMEOUT_MS))
    await this.offer(doc, node, node === this.h.role.coordinator())
  }

  private schedule(ms: number): void {
    if (this.timer || !this.replica) return
    this.timer = setTimeout(() => {
      this.timer = null
      void this.checkPeers()
    }, ms)
    this.timer.unref()
  }

  /** Reads each peer still to be compared; one that cannot answer yet (its console still starting) is
   *  asked again a second later, then less often, as long as it is in the partition. */
  private async checkPeers(): Promise<void> {
    if (this.checking || !this.replica) return
    this.checking = true
    try {
      for (const n of [...this.toCheck]) {
        try {
          await this.readFrom(n)
          this.toCheck.delete(n)
        } catch (e) {
          this.h.log.log('debug', `console accounts of ${n} not read yet: ${(e as Error).message}`, { node: n })
        }
      }
    } finally {
      this.checking = false
    }
    if (this.toCheck.size) this.schedule(Math.min(RETRY_MS * 2 ** this.failedRounds++, MAX_RETRY_MS))
    else this.failedRounds = 0
  }
}
