// A step's working copy of the state (copy-on-write: only the groups an event touches are copied, so a
// step on a 10,000-resource cluster stays cheap) and the plan it builds.

import type { ConfigIndex } from './config-index.js'
import type { NodeName } from './model.js'
import type { Action, ActionKind, Notice } from './plan.js'
import type { Said } from './said.js'
import type { EngineState, GroupRuntime, NodeState, ResourceNodeState } from './state.js'
import { deriveGroupStates } from './group-state.js'

/** Fence actions have no type policy to take a timeout from. */
export const FENCE_TIMEOUT_MS = 120_000

/** Added to an action's timeout for its deadline: the executor applies the timeout itself, and the result
 *  still has to come back (a peer request allows the timeout + 5 s, refusals from a node that has not yet
 *  settled on its coordinator are asked again for about 4 s, a fence may wait its delay first). */
export const DEADLINE_MARGIN_MS = 10_000

export interface ActionSpec {
  kind: ActionKind
  node: NodeName
  resource?: string
  group?: string
  after?: string[]
  reason: string
  said?: Said
  target?: string
}

export class Draft {
  readonly actions: Action[] = []
  readonly notices: Notice[] = []
  /** Groups whose state changed or may need reconciling. */
  readonly touched = new Set<string>()
  generation: number
  /** EngineState.nextDeadline as this step leaves it. */
  nextDeadline: number | null | undefined
  private seq: number
  private groups: EngineState['groups'] | null = null
  private nodes: EngineState['nodes'] | null = null
  private fencing: EngineState['fencing'] | null = null
  private resourceGroup: EngineState['resourceGroup'] | null = null
  /** Objects created in this step (safe to mutate). */
  private fresh = new WeakSet<object>()

  constructor(
    readonly idx: ConfigIndex,
    readonly base: EngineState,
    readonly now: number,
    /** EngineInput.limited (read from the input, not the cached index, which outlives it). */
    readonly limited: Readonly<Record<NodeName, string>> = {},
    /** EngineInput.limitedSaid: the same reasons in words. */
    readonly limitedSaid: Readonly<Record<NodeName, Said>> = {},
  ) {
    this.seq = base.seq
    this.generation = base.generation
    this.nextDeadline = base.nextDeadline
  }

  // ---- reads ----
  rs(r: string, n: NodeName): ResourceNodeState | undefined {
    const g = this.idx.resources.get(r)?.group
    return g === undefined ? undefined : this.group(g)?.resources[r]?.[n]
  }
  group(g: string): GroupRuntime | undefined {
    return (this.groups ?? this.base.groups)[g]
  }
  node(n: NodeName): NodeState | undefined {
    return (this.nodes ?? this.base.nodes)[n]
  }
  nodeNames(): NodeName[] {
    return Object.keys(this.nodes ?? this.base.nodes)
  }
  isUp(n: NodeName): boolean {
    return this.node(n)?.membership === 'up'
  }
  /** An action in flight, by id; `g`, its group when known, saves looking through every group. */
  action(id: string, g?: string): Action | undefined {
    const f = (this.fencing ?? this.base.fencing)[id]
    if (f) return f
    if (g !== undefined) return this.group(g)?.pending[id]
    const groups = this.groups ?? this.base.groups
    for (const g in groups) {
      const a = groups[g]!.pending[id]
      if (a) return a
    }
    return undefined
  }
  /** The group's actions in flight. */
  groupPending(g: string): Action[] {
    const gs = this.group(g)
    return gs ? Object.values(gs.pending) : []
  }
  busy(g: string): boolean {
    const gs = this.group(g)
    if (gs) for (const _ in gs.pending) return true
    return false
  }
  /** Actions in flight for one resource on one node. */
  resourcePending(r: string, n: NodeName): Action[] {
    const g = this.idx.resources.get(r)?.group
    return g ? this.groupPending(g).filter((a) => a.resource === r && a.node === n) : []
  }
  /** Actions in flight on node `n` (fences excluded). */
  pendingOn(n: NodeName): Action[] {
    const out: Action[] = []
    for (const g of this.idx.groupsByNode.get(n) ?? []) for (const a of this.groupPending(g)) if (a.node === n) out.push(a)
    return out
  }
  fencePending(n: NodeName): Action[] {
    return Object.values(this.fencing ?? this.base.fencing).filter((a) => a.node === n)
  }

  // ---- writes (copy on first write) ----
  wrs(r: string, n: NodeName): ResourceNodeState {
    const g = this.idx.resources.get(r)?.group
    if (g === undefined) throw new Error(`engine: unknown resource ${r}`)
    const gs = this.wgroup(g)
    let perNode = gs.resources[r]
    if (!perNode) throw new Error(`engine: no state for ${r}`)
    if (!this.fresh.has(perNode)) {
      perNode = { ...perNode }
      this.fresh.add(perNode)
      gs.resources[r] = perNode
    }
    let s = perNode[n]
    if (!s) throw new Error(`engine: no state for ${r} on ${n}`)
    if (!this.fresh.has(s)) {
      s = { ...s }
      this.fresh.add(s)
      perNode[n] = s
    }
    return s
  }
  wgroup(g: string): GroupRuntime {
    if (!this.groups) this.groups = { ...this.base.groups }
    let s = this.groups[g]
    if (!s) throw new Error(`engine: no state for group ${g}`)
    if (!this.fresh.has(s)) {
      s = { ...s, want: { ...s.want }, nodes: { ...s.nodes }, resources: { ...s.resources }, pending: { ...s.pending } }
      this.fresh.add(s)
      this.groups[g] = s
    }
    this.touched.add(g)
    return s
  }
  wnode(n: NodeName): NodeState {
    if (!this.nodes) this.nodes = { ...this.base.nodes }
    let s = this.nodes[n]
    if (!s) throw new Error(`engine: unknown node ${n}`)
    if (!this.fresh.has(s)) {
      s = { ...s }
      this.fresh.add(s)
      this.nodes[n] = s
    }
    return s
  }
  /** Replace whole maps (config alignment); the new objects are this step's own. */
  replaceAll(part: Pick<EngineState, 'groups' | 'nodes' | 'resourceGroup'>): void {
    this.groups = part.groups
    this.nodes = part.nodes
    this.resourceGroup = part.resourceGroup
    for (const s of Object.values(part.groups)) {
      this.fresh.add(s)
      for (const m of Object.values(s.resources)) {
        this.fresh.add(m)
        for (const x of Object.values(m)) this.fresh.add(x)
      }
    }
    for (const s of Object.values(part.nodes)) this.fresh.add(s)
  }

  notice(n: Notice): void {
    this.notices.push(n)
  }

  /** Adds an action to the plan and to the actions in flight (cancel is not awaited). */
  emit(spec: ActionSpec): Action {
    const id = `a${++this.seq}`
    const group = spec.group ?? (spec.resource ? this.idx.resources.get(spec.resource)?.group : undefined)
    const a: Action = {
      id,
      kind: spec.kind,
      node: spec.node,
      timeoutMs: this.timeoutFor(spec),
      after: spec.after ?? [],
      reason: spec.reason,
    }
    if (spec.resource !== undefined) a.resource = spec.resource
    if (group !== undefined) a.group = group
    if (spec.said !== undefined) a.said = spec.said
    if (spec.target !== undefined) a.target = spec.target
    this.actions.push(a)
    if (a.kind === 'cancel') return a
    // It starts at the latest when the last action it waits for is due (past that, that one is lost and
    // this one cancelled); the deadline is moved closer when they succeed (started()).
    let start = this.now
    const mine = group !== undefined ? this.group(group)?.pending : undefined
    for (const x of a.after) start = Math.max(start, mine?.[x]?.deadline ?? start)
    a.deadline = start + a.timeoutMs + DEADLINE_MARGIN_MS
    this.noteDeadline(a.deadline)
    if (group !== undefined) this.wgroup(group).pending[id] = a
    else {
      if (!this.fencing) this.fencing = { ...this.base.fencing }
      this.fencing[id] = a
    }
    return a
  }

  /** Forgets an action in flight (its result arrived, it was cancelled, or its node was lost). */
  forget(id: string, g?: string): Action | undefined {
    const a = this.action(id, g)
    if (!a) return undefined
    if (a.group !== undefined && this.group(a.group)) delete this.wgroup(a.group).pending[id]
    else {
      if (!this.fencing) this.fencing = { ...this.base.fencing }
      delete this.fencing[id]
    }
    return a
  }

  /** `id` succeeded: the actions of its group that waited only on finished ones start now (the executor
   *  starts them on the same result), so their deadline counts from now. */
  started(id: string, g: string | undefined): void {
    if (g === undefined) return
    for (const p of this.groupPending(g)) {
      if (!p.after.includes(id)) continue
      const mine = this.group(g)!.pending
      if (p.after.some((x) => mine[x] !== undefined)) continue // still waits for another
      this.setDeadline(p, this.now + p.timeoutMs + DEADLINE_MARGIN_MS)
    }
  }

  /** Actions in flight are shared with the plans that carried them: a new deadline is a new object. */
  setDeadline(a: Action, deadline: number): void {
    if (a.deadline === deadline) return
    this.noteDeadline(deadline)
    const next = { ...a, deadline }
    if (a.group !== undefined && this.group(a.group)) this.wgroup(a.group).pending[a.id] = next
    else {
      if (!this.fencing) this.fencing = { ...this.base.fencing }
      if (this.fencing[a.id]) this.fencing[a.id] = next
    }
  }

  /** Keeps nextDeadline a lower bound (unknown stays unknown until a tick looks at every action). */
  private noteDeadline(t: number): void {
    if (this.nextDeadline === null) this.nextDeadline = t
    else if (this.nextDeadline !== undefined && t < this.nextDeadline) this.nextDeadline = t
  }

  /** Fence actions in flight (they belong to no group). */
  fences(): Action[] {
    return Object.values(this.fencing ?? this.base.fencing)
  }

  /** Cancels an action in flight: emits `cancel`, forgets it and undoes the transitional state it set. */
  cancel(id: string, reason: string, g?: string): void {
    const a = this.forget(id, g)
    if (!a) return
    this.emit({ kind: 'cancel', node: a.node, target: id, reason, ...(a.group ? { group: a.group } : {}) })
    if (a.resource) this.settleAfterForget(a)
  }

  /** Cancels every action in flight of group `g` that waits (transitively) on `id`; returns them. */
  cancelDependents(id: string, g: string | undefined, reason: string): Action[] {
    if (g === undefined) return []
    const pool = this.groupPending(g)
    const doomed = new Set<string>([id])
    let grew = true
    while (grew) {
      grew = false
      for (const p of pool) {
        if (!doomed.has(p.id) && p.after.some((x) => doomed.has(x))) {
          doomed.add(p.id)
          grew = true
        }
      }
    }
    doomed.delete(id)
    const out = pool.filter((p) => doomed.has(p.id))
    for (const p of out) this.cancel(p.id, reason, g)
    return out
  }

  /** After an action of a resource is gone, the resource shows what is still planned for it, else what it was. */
  settleAfterForget(a: Action): void {
    if (!a.resource) return
    const s = this.rs(a.resource, a.node)
    if (!s) return
    const next = this.resourcePending(a.resource, a.node).find((p) => p.kind === 'online' || p.kind === 'offline' || p.kind === 'clean')
    if (s.state === 'onlining' && !next) this.wrs(a.resource, a.node).state = 'offline'
    else if (s.state === 'offlining' && !next) this.wrs(a.resource, a.node).state = 'online'
  }

  private timeoutFor(spec: ActionSpec): number {
    if (spec.kind === 'cancel') return 0
    if (spec.kind === 'fence') return FENCE_TIMEOUT_MS
    const p = spec.resource ? this.idx.resources.get(spec.resource)?.policy : undefined
    if (!p) return FENCE_TIMEOUT_MS
    switch (spec.kind) {
      case 'online':
        return p.onlineTimeoutS * 1000
      case 'offline':
        return p.offlineTimeoutS * 1000
      case 'clean':
        return p.cleanTimeoutS * 1000
      default:
        return p.monitorTimeoutS * 1000
    }
  }

  finish(): EngineState {
    for (const g of this.touched) {
      const gi = this.idx.groups.get(g)
      if (gi && this.group(g)) this.wgroup(g).nodes = deriveGroupStates(this, gi)
    }
    const unchanged =
      !this.groups &&
      !this.nodes &&
      !this.fencing &&
      !this.resourceGroup &&
      this.seq === this.base.seq &&
      this.generation === this.base.generation &&
      this.nextDeadline === this.base.nextDeadline
    if (unchanged) return this.base // the host can skip persisting
    const out: EngineState = {
      seq: this.seq,
      generation: this.generation,
      nodes: this.nodes ?? this.base.nodes,
      groups: this.groups ?? this.base.groups,
      resourceGroup: this.resourceGroup ?? this.base.resourceGroup,
      fencing: this.fencing ?? this.base.fencing,
    }
    if (this.nextDeadline !== undefined) out.nextDeadline = this.nextDeadline
    return out
  }
}
