// The event timeline of one node (issue 20, What 1): every input the engine stepped on (a node lost or
// back, a view change, a monitor result that changed something, an operator command, an action's result,
// a licence change) and every decision it made (each action with the rule's reason, each notice), with
// monotonic time (ms since boot: CLOCK_MONOTONIC, comparable between processes of one host) and wall time.
// JSON lines in <logs>/timeline.jsonl, appended and fsync'd by a queue off the step's path; durable()
// is what an action waits for: a fence or an online starts only once the decision that led to it is on
// disk (bounded by DURABLE_BOUND_MS, so a hung disk never holds a fence past the dead time).
// `mccs explain` reads it (core/log/timeline-read.ts).
import { open, rename, stat, type FileHandle } from 'node:fs/promises'
import { codeWord, type Action, type EngineEvent, type EngineState, type Said, type SaidParam, type StepResult } from '../engine/index.js'

export const TIMELINE_FILE = 'timeline.jsonl'
/** Past this size the file becomes timeline.jsonl.1 (one generation kept). */
export const TIMELINE_MAX_BYTES = 16 * 1024 * 1024
/** How long an action waits for its decision to reach the disk at most. */
export const DURABLE_BOUND_MS = 250
/** Actions remembered to name an action in its result (the engine forgets them). */
const KEEP_ACTIONS = 5000

export type EntryKind = 'input' | 'decision' | 'notice' | 'view'

export interface TimelineEntry {
  /** Format version. */
  v: 1
  /** The node that wrote it, and its order there. */
  node: string
  seq: number
  /** ms since this host booted (monotonic). */
  mono: number
  wall: string
  kind: EntryKind
  /** Machine name of what happened: the event type, the action kind, the notice kind. */
  what: string
  group?: string
  resource?: string
  /** The node it is about (an action's node, a lost node, a fenced node). */
  target?: string
  /** Plain words: what and why (English). */
  text: string
  /** The same in words of the locale files (core/engine/said.ts), when this version wrote it. */
  said?: Said
  /** Extra facts: an action's id and rule, a result's status and answer, a view's members. */
  data?: Record<string, unknown>
}

/** An entry's English text and its words (core/engine/said.ts). */
function msg(key: string, params: Record<string, SaidParam>, text: string): { text: string; said: Said } {
  return { text, said: { id: key, params } }
}

export const monoNow = (): number => Number(process.hrtime.bigint() / 1000n) / 1000

/** What the timeline needs of an event and of a step: a description in plain words. */
function describeInput(
  ev: EngineEvent,
  actions: Map<string, Action>,
  st: EngineState,
): Omit<TimelineEntry, 'v' | 'node' | 'seq' | 'mono' | 'wall'> | null {
  switch (ev.type) {
    case 'tick':
      return null
    case 'start': {
      const members = Object.fromEntries(Object.entries(st.nodes).map(([n, s]) => [n, s.membership]))
      const lost = Object.entries(members)
        .filter(([, m]) => m === 'down')
        .map(([n]) => n)
      const view = Object.entries(members)
        .map(([n, m]) => `${n} ${m}`)
        .join(', ')
      return {
        kind: 'view',
        what: 'start',
        ...(ev.node ? { target: ev.node } : {}),
        data: { members },
        ...(ev.node
          ? msg('said.tl.joined', { node: ev.node }, `node ${ev.node} joined: probing it`)
          : lost.length
            ? msg('said.tl.startedLost', { view, lost: lost.join(', ') }, `engine started here (view: ${view}); lost: ${lost.join(', ')}`)
            : msg('said.tl.started', { view }, `engine started here (view: ${view})`)),
      }
    }
    case 'nodeChange':
      return {
        kind: 'view',
        what: 'nodeChange',
        target: ev.node,
        data: { membership: ev.membership },
        ...(ev.membership === 'down'
          ? msg('said.tl.nodeDown', { node: ev.node }, `node ${ev.node} lost (left the view)`)
          : ev.membership === 'up'
            ? msg('said.tl.nodeUp', { node: ev.node }, `node ${ev.node} back in the view`)
            : msg('said.tl.nodeFenced', { node: ev.node }, `node ${ev.node} ${ev.membership}`)),
      }
    case 'nodeMode':
      return {
        kind: 'input',
        what: 'nodeMode',
        target: ev.node,
        ...(ev.standby
          ? msg('said.tl.standbyOn', { node: ev.node }, `node ${ev.node} entered standby`)
          : msg('said.tl.standbyOff', { node: ev.node }, `node ${ev.node} left standby`)),
      }
    case 'licenseChange':
      return { kind: 'input', what: 'licenseChange', ...msg('said.tl.licences', {}, 'licences changed') }
    case 'monitorResult':
      return {
        kind: 'input',
        what: 'monitorResult',
        resource: ev.resource,
        target: ev.node,
        data: { status: ev.status, answer: ev.answer },
        ...msg(
          'said.tl.monitor',
          {
            resource: ev.resource,
            node: ev.node,
            status: codeWord('status', ev.status),
            answer: codeWord('answer', ev.answer),
            why: ev.reason ? ` (${ev.reason})` : '', // the plugin's own words
          },
          `monitor of ${ev.resource} on ${ev.node}: ${ev.status}/${ev.answer}${ev.reason ? ` (${ev.reason})` : ''}`,
        ),
      }
    case 'actionResult': {
      const a = actions.get(ev.actionId)
      const what = a ? `${a.kind} ${a.kind === 'fence' ? a.node : `${a.resource ?? a.group ?? ''} on ${a.node}`}` : `action ${ev.actionId}`
      return {
        kind: 'input',
        what: a ? `${a.kind}Result` : 'actionResult',
        ...(a?.group ? { group: a.group } : {}),
        ...(a?.resource ? { resource: a.resource } : {}),
        ...(a ? { target: a.node } : {}),
        data: { id: ev.actionId, status: ev.status, answer: ev.answer, ...(ev.code ? { code: ev.code } : {}) },
        text: `${what}: ${ev.status}/${ev.answer}${ev.reason ? ` (${ev.reason})` : ''}`,
        ...(a
          ? {
              said: {
                id: a.kind === 'fence' ? 'said.tl.fenceResult' : 'said.tl.result',
                params: {
                  kind: codeWord('action', a.kind),
                  subject: a.resource ?? a.group ?? '',
                  node: a.node,
                  status: codeWord('status', ev.status),
                  answer: codeWord('answer', ev.answer),
                  why: ev.reason ? ` (${ev.reason})` : '', // the executor's or plugin's own words
                },
              },
            }
          : {}),
      }
    }
    default: {
      // An operator command.
      const c0 = ev as EngineEvent & { group?: string; resource?: string; node?: string; to?: string; user?: string }
      // A switch names its destination `to`: the node the operator sent the group to, like an online's `node`.
      const c = { ...c0, node: c0.node ?? c0.to }
      const user = c.user ?? '?'
      const subject = `${c.group ? ` ${c.group}` : ''}${c.resource ? ` ${c.resource}` : ''}`
      return {
        kind: 'input',
        what: c.type,
        ...(c.group ? { group: c.group } : {}),
        ...(c.resource ? { resource: c.resource } : {}),
        ...(c.node ? { target: c.node } : {}),
        ...(c.node
          ? msg(
              'said.tl.commandOn',
              { user, command: c.type, subject, node: c.node },
              `operator ${user}: ${c.type}${subject} (node ${c.node})`,
            )
          : msg('said.tl.command', { user, command: c.type, subject }, `operator ${user}: ${c.type}${subject}`)),
      }
    }
  }
}

export class Timeline {
  private seq = 0
  private fh: FileHandle | null = null
  private queue: string[] = []
  private writing: Promise<void> | null = null
  private size = -1
  private readonly actions = new Map<string, Action>()
  private lastView = ''
  /** Write problems (a full or read-only disk): counted, and the last one kept for the status. */
  failures = 0
  lastError: string | null = null

  constructor(
    readonly file: string,
    readonly node: string,
  ) {}

  /** One engine step: its input (unless it changed nothing), then what the engine concluded (notices:
   *  a node fenced, a failover and why), then the actions it planned. Returns at once. */
  step(ev: EngineEvent, r: StepResult): void {
    const quiet = (ev.type === 'monitorResult' || ev.type === 'tick') && !r.plan.actions.length && !r.plan.notices.length
    if (quiet) return
    const input = describeInput(ev, this.actions, r.state)
    if (input) this.add(input)
    for (const n of r.plan.notices) {
      this.add({
        kind: 'notice',
        what: n.kind,
        ...(n.group ? { group: n.group } : {}),
        ...(n.resource ? { resource: n.resource } : {}),
        ...(n.node ? { target: n.node } : {}),
        ...(n.code ? { data: { code: n.code } } : {}),
        text: n.reason,
        ...(n.said ? { said: n.said } : {}),
      })
    }
    for (const a of r.plan.actions) {
      if (a.kind === 'cancel') {
        this.add({ kind: 'decision', what: 'cancel', text: `cancel ${a.target ?? '?'}: ${a.reason}`, data: { id: a.id, target: a.target } })
        continue
      }
      if (this.actions.size >= KEEP_ACTIONS) this.actions.delete(this.actions.keys().next().value!)
      this.actions.set(a.id, a)
      const obj = a.kind === 'fence' ? `node ${a.node}` : `${a.resource ?? a.group ?? ''} on ${a.node}`
      this.add({
        kind: 'decision',
        what: a.kind,
        ...(a.group ? { group: a.group } : {}),
        ...(a.resource ? { resource: a.resource } : {}),
        target: a.node,
        data: { id: a.id, ...(a.after.length ? { after: a.after } : {}) },
        text: `${a.kind} ${obj}: ${a.reason}`,
        said:
          a.kind === 'fence'
            ? { id: 'said.tl.decideFence', params: { kind: codeWord('action', a.kind), node: a.node, why: a.said ?? a.reason } }
            : {
                id: 'said.tl.decide',
                params: { kind: codeWord('action', a.kind), subject: a.resource ?? a.group ?? '', node: a.node, why: a.said ?? a.reason },
              },
      })
    }
  }

  /** A view this node's cluster layer decided (coordinator, members, quorum), on every node. */
  view(v: { coordinator: string | null; partition: string[]; quorate: boolean; reason?: string }): void {
    // The cluster layer reports every membership decision; only a change is an input.
    const key = JSON.stringify([v.coordinator, v.partition, v.quorate])
    if (key === this.lastView) return
    this.lastView = key
    const members = v.partition.join(', ') || '(none)'
    const coordinator = v.coordinator ?? 'none'
    const why = v.reason ? ` (${v.reason})` : ''
    this.add({
      kind: 'view',
      what: 'view',
      data: { coordinator: v.coordinator, partition: v.partition, quorate: v.quorate },
      // The cluster layer's reason stays its own English.
      ...(v.quorate
        ? msg('said.tl.view', { members, coordinator, why }, `view: ${members}; coordinator ${coordinator}; quorate${why}`)
        : msg('said.tl.viewNoQuorum', { members, coordinator, why }, `view: ${members}; coordinator ${coordinator}; NOT quorate${why}`)),
    })
  }

  /** Resolves once everything added so far is on disk (fsync'd), or after DURABLE_BOUND_MS. */
  durable(boundMs = DURABLE_BOUND_MS): Promise<void> {
    if (!this.queue.length && !this.writing) return Promise.resolve()
    const done = this.flush()
    return new Promise((resolve) => {
      const t = setTimeout(resolve, boundMs)
      done.then(() => {
        clearTimeout(t)
        resolve()
      })
    })
  }

  async close(): Promise<void> {
    await this.flush()
    await this.fh?.close().catch(() => {})
    this.fh = null
  }

  private add(e: Omit<TimelineEntry, 'v' | 'node' | 'seq' | 'mono' | 'wall'>): void {
    const entry: TimelineEntry = { v: 1, node: this.node, seq: ++this.seq, mono: monoNow(), wall: new Date().toISOString(), ...e }
    this.queue.push(JSON.stringify(entry) + '\n')
    void this.flush()
  }

  /** Writes what is queued, one write and one fdatasync per batch; a later batch waits for this one.
   *  Resolves once nothing is queued and nothing is being written: a caller chained on a write must not
   *  resolve while another caller's chain writes the next batch (durable() resolved with the decisions
   *  still in flight: timeline.test in a full run). */
  private flush(): Promise<void> {
    if (this.writing) return this.writing.then(() => this.flush())
    if (!this.queue.length) return Promise.resolve()
    const batch = this.queue.join('')
    this.queue = []
    this.writing = this.write(batch)
      .catch((e: unknown) => {
        this.failures++
        this.lastError = (e as Error).message
        this.fh?.close().catch(() => {})
        this.fh = null
      })
      .finally(() => {
        this.writing = null
      })
    return this.writing
  }

  private async write(batch: string): Promise<void> {
    if (this.size < 0)
      this.size = await stat(this.file).then(
        (s) => s.size,
        () => 0,
      )
    if (this.size > TIMELINE_MAX_BYTES) {
      await this.fh?.close().catch(() => {})
      this.fh = null
      await rename(this.file, this.file + '.1').catch(() => {})
      this.size = 0
    }
    this.fh ??= await open(this.file, 'a', 0o640)
    await this.fh.write(batch)
    await this.fh.datasync()
    this.size += Buffer.byteLength(batch)
  }
}
