// The final result of each operator command in the manual operation log (issue 18, What 2). The agent
// logs a command when the engine accepts it; whether it then reached its target (done) or not (failed,
// with the faults that stopped it) is judged here from the engine's steps, on the node whose engine
// decides (the coordinator, where the "accepted" record is written too), for every command whatever
// sent it (console, CLI, API). The record goes after the "accepted" one; oplog-view.ts pairs the two.
import type { Agent } from '../agent/agent.js'
import type { AgentStatus } from '../agent/status.js'
import type { EngineEvent, OperatorCommand, Plan, Said, SaidParam } from '../engine/index.js'
import { isOperatorCommand, msg } from '../engine/index.js'
import { tailLines } from './log-files.js'

/** A command that has not ended by then is logged as failed (the engine's own deadlines are shorter). */
const GIVE_UP_MS = 10 * 60_000
/** Notices that say why a command did not reach its target. */
const WHY = new Set([
  'resourceFaulted',
  'groupFaulted',
  'actionFailed',
  'noFailoverTarget',
  'fenceFailed',
  'onlineRetry',
  'actionLost',
  'lockedNoAction',
])

interface Pending {
  cmd: OperatorCommand
  group: string | undefined
  target: string | undefined
  at: number
  why: Array<{ reason: string; said?: Said }>
  timer: NodeJS.Timeout
}
/** `said`: the reason in words of the locale files (core/engine/said.ts), as the console shows it. */
type Final = { result: 'done' | 'failed'; reason?: string; said?: Said }

/** Items said one after another, in English joined by `sep` ('; ' or ', '): a chain of said.op.list* keys. */
function listOf(items: Array<{ reason: string; said?: SaidParam }>, sep: '; ' | ', '): { reason: string; said: SaidParam } {
  const reason = items.map((x) => x.reason).join(sep)
  const key = sep === '; ' ? 'said.op.listSemi' : 'said.op.listComma'
  const said = items.map((x) => x.said ?? x.reason).reduce((a, b) => ({ id: key, params: { a, b } }))
  return { reason, said }
}
/** "online on n1, offline on n2": each state on its node. */
function statesOn(states: Array<[string, string]>): { reason: string; said: SaidParam } {
  return listOf(
    states.map(([n, s]) => msg('said.op.stateOn', { state: { id: `said.state.${s}` }, node: n }, `${s} on ${n}`)),
    ', ',
  )
}

export class CommandResults {
  private readonly pending = new Set<Pending>()
  private readonly onStep = (ev: EngineEvent, r: { plan: Plan; outcome?: { status: string } }) => this.step(ev, r)
  private readonly onResign = () => {
    for (const p of [...this.pending])
      this.finish(p, {
        result: 'failed',
        ...msg('said.op.resigned', {}, 'this node stopped deciding (no longer the coordinator) before the command ended'),
      })
  }

  constructor(private readonly agent: Agent) {}

  start(): void {
    this.agent.on('step', this.onStep)
    this.agent.on('resigned', this.onResign)
  }
  stop(): void {
    this.agent.off('step', this.onStep)
    this.agent.off('resigned', this.onResign)
    for (const p of this.pending) clearTimeout(p.timer)
    this.pending.clear()
  }

  private step(ev: EngineEvent, r: { plan: Plan; outcome?: { status: string } }): void {
    if (isOperatorCommand(ev) && r.outcome?.status === 'accepted') {
      const group =
        'group' in ev
          ? ev.group
          : 'resource' in ev
            ? this.agent.store.current().main.resources.find((x) => x.name === ev.resource)?.group
            : undefined
      const target = 'group' in ev ? ev.group : 'resource' in ev ? ev.resource : ev.type === 'nodeMaintenance' ? ev.node : undefined
      const p: Pending = {
        cmd: ev,
        group,
        target,
        at: Date.now(),
        why: [],
        timer: setTimeout(
          () =>
            this.finish(p, {
              result: 'failed',
              ...msg('said.op.noFinal', { min: GIVE_UP_MS / 60_000 }, `no final state within ${GIVE_UP_MS / 60_000} minutes`),
            }),
          GIVE_UP_MS,
        ),
      }
      p.timer.unref()
      this.pending.add(p)
    }
    if (!this.pending.size) return
    for (const p of this.pending) {
      for (const n of r.plan.notices)
        if (WHY.has(n.kind) && (!p.group || n.group === p.group)) p.why.push({ reason: n.reason, ...(n.said ? { said: n.said } : {}) })
    }
    let st: AgentStatus
    try {
      st = this.agent.status()
    } catch {
      return
    }
    for (const p of [...this.pending]) {
      const f = judge(p, st)
      if (f) this.finish(p, f)
    }
  }

  private finish(p: Pending, f: Final): void {
    if (!this.pending.delete(p)) return
    clearTimeout(p.timer)
    void this.write(p, f)
  }

  /** After the agent's "accepted" record (written once the command is persisted and replicated). */
  private async write(p: Pending, f: Final): Promise<void> {
    const { type: command, user, ...args } = p.cmd as OperatorCommand & Record<string, unknown>
    const until = Date.now() + 10_000
    while (Date.now() < until) {
      const recent = await tailLines(this.agent.oplog.file, 200)
      if (
        recent.some((l) => {
          try {
            const x = JSON.parse(l) as Record<string, unknown>
            return (
              x.command === command &&
              x.user === user &&
              x.result === 'accepted' &&
              (x.target ?? undefined) === p.target &&
              Date.parse(String(x.at)) >= p.at - 5000
            )
          } catch {
            return false
          }
        })
      )
        break
      await new Promise((r) => setTimeout(r, 50))
    }
    await this.agent.oplog
      .append({
        user,
        node: this.agent.node,
        command,
        ...(p.target ? { target: p.target } : {}),
        args,
        result: f.result,
        ...(f.reason ? { reason: f.reason } : {}),
        ...(f.said ? { said: f.said } : {}),
      })
      .catch((e: unknown) => this.agent.log.log('error', 'operation log not written', { command, user, error: (e as Error).message }))
  }
}

/** Ended, and how; null while it may still reach its target. */
function judge(p: Pending, st: AgentStatus): Final | null {
  const g = p.group ? st.groups.find((x) => x.name === p.group) : undefined
  if (p.group && !g) return { result: 'failed', ...msg('said.op.groupGone', { group: p.group }, `group ${p.group} no longer exists`) }
  if (g ? g.busy > 0 : st.groups.some((x) => x.busy > 0)) return null
  // Each reason once, in the order they came.
  const whys = [...new Map(p.why.map((w) => [w.reason, w])).values()]
  const why = () => listOf(whys, '; ')
  const failed = (fallback: { reason: string; said: SaidParam }): Final => {
    const w = whys.length ? why() : fallback
    return { result: 'failed', reason: w.reason, ...(typeof w.said === 'object' ? { said: w.said } : {}) }
  }
  const states = g ? Object.entries(g.nodes) : []
  const where = (s: string) => states.filter(([, x]) => x === s).map(([n]) => n)
  const cmd = p.cmd
  switch (cmd.type) {
    case 'groupOnline':
    case 'groupSwitch': {
      const want = cmd.type === 'groupSwitch' ? cmd.to : cmd.node
      const on = where('online')
      if (on.length && (!want || on.includes(want) || cmd.type === 'groupOnline'))
        return {
          result: 'done',
          ...(whys.length
            ? msg('said.op.onlineOnAfter', { nodes: on.join(', '), why: why().said }, `online on ${on.join(', ')} (after: ${why().reason})`)
            : msg('said.op.onlineOn', { nodes: on.join(', ') }, `online on ${on.join(', ')}`)),
        }
      return failed(
        states.length
          ? msg('said.op.groupIs', { states: statesOn(states).said }, `the group is ${statesOn(states).reason}`)
          : msg('said.op.notPlaced', {}, 'the group is not placed'),
      )
    }
    case 'resourceOnline': {
      const r = g?.resources.find((x) => x.name === cmd.resource)
      const on = Object.entries(r?.nodes ?? {})
        .filter(([, x]) => x.state === 'online')
        .map(([n]) => n)
      return on.length
        ? { result: 'done', ...msg('said.op.onlineOn', { nodes: on.join(', ') }, `online on ${on.join(', ')}`) }
        : failed(msg('said.op.notOnline', { resource: cmd.resource }, `${cmd.resource} is not online`))
    }
    case 'groupOffline':
      return states.every(([, s]) => s === 'offline')
        ? { result: 'done' }
        : failed(
            msg(
              'said.op.groupIs',
              { states: statesOn(states.filter(([, s]) => s !== 'offline')).said },
              `the group is ${statesOn(states.filter(([, s]) => s !== 'offline')).reason}`,
            ),
          )
    case 'resourceOffline': {
      const r = g?.resources.find((x) => x.name === cmd.resource)
      const up = Object.entries(r?.nodes ?? {}).filter(([, x]) => x.state !== 'offline')
      const upOn = statesOn(up.map(([n, x]) => [n, x.state]))
      return up.length
        ? failed(msg('said.op.resourceIs', { resource: cmd.resource, states: upOn.said }, `${cmd.resource} is ${upOn.reason}`))
        : { result: 'done' }
    }
    default:
      return { result: 'done' }
  }
}
