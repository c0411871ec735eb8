// The monitor budget of aws.ec2: Describe* calls from all of a node's AWS resources are shared.
//  - ID-list describes (RouteTableIds, NetworkInterfaceIds, AllocationIds, SubnetIds, VpcIds) asked within a
//    short window are merged into ONE call with the union of the IDs; each caller gets back only its items.
//  - Results are kept per ID for the cache TTL, so the next resource asking for the same ID within it
//    costs no call at all; other describes are cached per (action, parameters).
//  - A call already in flight is shared, never repeated.
//  - Any mutating call through the same target drops that target's entries (a monitor right after an
//    online must see the change, not the cache).
// If a merged call fails with a *.NotFound error (one caller's ID is wrong), each caller's IDs are asked
// again on their own so one bad resource cannot make the others' monitors fail.
import type { Logger } from '../../../sdk/src/types.js'

export interface IdSpec {
  param: string
  list: string
  id: string
}

export const ID_LISTS: Record<string, IdSpec> = {
  DescribeRouteTables: { param: 'RouteTableIds', list: 'RouteTables', id: 'RouteTableId' },
  DescribeNetworkInterfaces: { param: 'NetworkInterfaceIds', list: 'NetworkInterfaces', id: 'NetworkInterfaceId' },
  DescribeAddresses: { param: 'AllocationIds', list: 'Addresses', id: 'AllocationId' },
  DescribeSubnets: { param: 'SubnetIds', list: 'Subnets', id: 'SubnetId' },
  DescribeVpcs: { param: 'VpcIds', list: 'Vpcs', id: 'VpcId' },
}

/** Window in which describes are collected into one call. 5 ms was too short on a loaded host: 20 monitors
 *  started together reached the cache over more than 5 ms and cost two calls (aws-ec2-budget in a full run).
 *  20 ms is still small beside an EC2 round trip (tens to hundreds of ms). */
export const COALESCE_MS = 20

export interface FetchCtx {
  deadline: number
  log: Logger
  shared: number
}
export type Fetch = (params: Record<string, unknown>, ctx: FetchCtx) => Promise<Record<string, unknown>>

interface Waiter {
  ids: string[]
  deadline: number
  log: Logger
  resolve: (v: Record<string, unknown>) => void
  reject: (e: unknown) => void
}
interface Batch {
  waiters: Waiter[]
  timer: NodeJS.Timeout
  fetch: Fetch
  rest: Record<string, unknown>
}
interface Entry {
  at: number
  gen: number
  value: unknown
}

/** Stable JSON (sorted keys) so equal parameters make equal keys. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}

const isNotFound = (e: unknown) => /NotFound$/.test(String((e as { field?: string })?.field ?? ''))

export class DescribeCache {
  private readonly items = new Map<string, Entry>() // target|action|rest|id -> item (or null: absent)
  private readonly whole = new Map<string, Entry>() // target|action|params -> whole result
  private readonly inflight = new Map<string, Promise<unknown>>()
  private readonly batches = new Map<string, Batch>()
  private readonly gens = new Map<string, number>()
  /** API calls actually made, by action (for tests and the bench). */
  readonly made = new Map<string, number>()

  constructor(private readonly defaultTtlMs: () => number) {}

  private gen(target: string): number {
    return this.gens.get(target) ?? 0
  }

  /** Drops what is known about one target (after a mutating call). */
  invalidate(target: string): void {
    this.gens.set(target, this.gen(target) + 1)
    for (const m of [this.items, this.whole]) for (const k of m.keys()) if (k.startsWith(`${target}|`)) m.delete(k)
  }

  async describe(
    target: string,
    action: string,
    params: Record<string, unknown>,
    o: { maxAgeMs?: number; deadline: number; log: Logger },
    fetch: Fetch,
  ): Promise<Record<string, unknown>> {
    const maxAge = o.maxAgeMs ?? this.defaultTtlMs()
    const spec = ID_LISTS[action]
    const ids = spec ? params[spec.param] : undefined
    if (spec && Array.isArray(ids) && ids.length > 0 && ids.every((x) => typeof x === 'string')) {
      const { [spec.param]: _ids, ...rest } = params
      return this.byIds(target, action, spec, ids as string[], rest, maxAge, o, fetch)
    }
    const key = `${target}|${action}|${stableJson(params)}`
    const hit = this.whole.get(key)
    if (hit && Date.now() - hit.at <= maxAge) return hit.value as Record<string, unknown>
    return this.shared(key, async () => {
      const g = this.gen(target)
      const v = await this.count(action, () => fetch(params, { deadline: o.deadline, log: o.log, shared: 1 }))
      if (g === this.gen(target)) this.whole.set(key, { at: Date.now(), gen: g, value: v })
      return v
    }) as Promise<Record<string, unknown>>
  }

  private async count<T>(action: string, f: () => Promise<T>): Promise<T> {
    this.made.set(action, (this.made.get(action) ?? 0) + 1)
    return f()
  }

  private shared(key: string, f: () => Promise<unknown>): Promise<unknown> {
    const running = this.inflight.get(key)
    if (running) return running
    const p = f().finally(() => this.inflight.delete(key))
    this.inflight.set(key, p)
    return p
  }

  private byIds(
    target: string,
    action: string,
    spec: IdSpec,
    ids: string[],
    rest: Record<string, unknown>,
    maxAge: number,
    o: { deadline: number; log: Logger },
    fetch: Fetch,
  ): Promise<Record<string, unknown>> {
    const base = `${target}|${action}|${stableJson(rest)}`
    const now = Date.now()
    const fresh = ids.map((id) => this.items.get(`${base}|${id}`)).filter((e): e is Entry => !!e && now - e.at <= maxAge)
    if (fresh.length === ids.length) return Promise.resolve(this.pick(base, spec, ids))
    return new Promise((resolve, reject) => {
      let b = this.batches.get(base)
      if (!b) {
        const batch: Batch = {
          waiters: [],
          fetch,
          rest,
          timer: setTimeout(() => {
            this.batches.delete(base)
            void this.run(target, action, spec, base, batch)
          }, COALESCE_MS),
        }
        this.batches.set(base, (b = batch))
      }
      b.waiters.push({ ids, deadline: o.deadline, log: o.log, resolve, reject })
    })
  }

  private pick(base: string, spec: IdSpec, ids: string[]): Record<string, unknown> {
    const out: unknown[] = []
    for (const id of ids) {
      const v = this.items.get(`${base}|${id}`)?.value
      if (v) out.push(v)
    }
    return { [spec.list]: out }
  }

  private async fetchIds(target: string, action: string, spec: IdSpec, base: string, b: Batch, waiters: Waiter[]): Promise<void> {
    const ids = [...new Set(waiters.flatMap((w) => w.ids))]
    const g = this.gen(target)
    const deadline = Math.max(...waiters.map((w) => w.deadline))
    const res = await this.count(action, () =>
      b.fetch({ ...b.rest, [spec.param]: ids }, { deadline, log: waiters[0]!.log, shared: waiters.length }),
    )
    const at = Date.now()
    const list = Array.isArray(res[spec.list]) ? (res[spec.list] as Record<string, unknown>[]) : []
    const seen = new Set<string>()
    // Entries are written even if a mutation happened meanwhile (callers need their answer), but
    // marked with the old generation so they are never served from the cache after it.
    const store = g === this.gen(target)
    for (const item of list) {
      const id = item[spec.id]
      if (typeof id !== 'string') continue
      seen.add(id)
      this.items.set(`${base}|${id}`, { at: store ? at : 0, gen: g, value: item })
    }
    for (const id of ids) if (!seen.has(id)) this.items.set(`${base}|${id}`, { at: store ? at : 0, gen: g, value: null })
    for (const w of waiters) w.resolve(this.pick(base, spec, w.ids))
  }

  private async run(target: string, action: string, spec: IdSpec, base: string, b: Batch): Promise<void> {
    try {
      await this.fetchIds(target, action, spec, base, b, b.waiters)
    } catch (err) {
      if (b.waiters.length > 1 && isNotFound(err)) {
        // One caller's ID is unknown: ask for each caller's IDs on its own.
        await Promise.all(b.waiters.map((w) => this.fetchIds(target, action, spec, base, b, [w]).catch((e) => w.reject(e))))
        return
      }
      for (const w of b.waiters) w.reject(err)
    }
  }
}
