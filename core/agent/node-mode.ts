// This node's own mode and the two planned ways out of service (issue 14, finding 7):
//   leave   (SIGTERM, systemctl stop mccs_agent): its groups move to their next node, or stop where no
//           other node can take them; whatever still runs here is taken offline; then the node announces
//           its leave in its heartbeat view and waits (bounded) until its peers took it out of theirs.
//           The peers drop it from the membership without fencing it: it runs nothing.
//   standby (mccs node standby): the same moves, then the node stays in the cluster (it votes, it may
//           coordinate) announcing standby; nothing is started here until unstandby. Persisted in
//           <state>/node-mode.json so that a restart keeps it (Pacemaker's standby).
// A node says it runs nothing only once that holds: new onlines are refused here (LocalActions.park)
// before the groups are moved, so nothing can start behind the move.
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../config/atomic.js'
import type { OperatorCommand, CommandOutcome } from '../engine/index.js'
import type { Role } from '../cluster/role.js'
import type { Log } from '../log/logger.js'
import { MccsError } from '../errors.js'
import type { AgentStatus } from './status.js'
import type { LocalActions } from './local-actions.js'

export type PersistedMode = 'active' | 'standby'

export interface NodeModeOptions {
  node: string
  log: Log
  /** <state>/node-mode.json */
  file: string
  local: LocalActions
  /** The role in a cluster (undefined on a single node). */
  role: () => Role | undefined
  /** The cluster's state as the coordinator sees it (this node's own on a single node). */
  status: () => Promise<AgentStatus>
  /** An operator command through the engine (forwarded to the coordinator), with wait. */
  command: (cmd: OperatorCommand, o: { wait: boolean; timeoutMs: number }) => Promise<{ outcome: CommandOutcome; reached?: boolean }>
  /** Who the moves are logged as in the operation log. */
  user: string
  /** Resolves once this node's engine (if it coordinates) has no action in flight, or at `until`: a leaving
   *  coordinator resigns, and what it carried out for other nodes would be cancelled half way. */
  quiesce: (until: number) => Promise<void>
  /** The operator put this node in maintenance (the replicated intent): what runs here is left as it is. */
  inMaintenance: () => boolean
}

export interface MoveReport {
  /** group -> where it went ('stopped' when no other node could take it). */
  moved: Record<string, string>
  /** Local resources that still ran here and were taken offline. */
  stopped: string[]
  /** Groups still on this node when the time was up. */
  left: string[]
  /** Local resources that could not be stopped (offline and clean failed): this node does not claim to
   *  run nothing — no leave or standby is announced, and its peers fence it if it stops. */
  failed: string[]
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
// A group state on this node that means something of it may run here (a faulted group's resources were
// stopped, or are stopped by stopLocal()).
const MAY_RUN = new Set(['online', 'partial', 'onlining', 'offlining'])

export class NodeModes {
  private mode: PersistedMode = 'active'
  private busy: Promise<unknown> = Promise.resolve()

  constructor(private readonly o: NodeModeOptions) {}

  /** The persisted mode, applied before the role starts (a node restarted in standby says so at once). */
  async load(): Promise<PersistedMode> {
    try {
      const v = JSON.parse(await readFile(this.o.file, 'utf8')) as { mode?: unknown }
      this.mode = v.mode === 'standby' ? 'standby' : 'active'
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.o.log.log('error', `${this.o.file} cannot be read (${(e as Error).message}): this node starts active`, { file: this.o.file })
      this.mode = 'active'
    }
    if (this.mode === 'standby') {
      this.o.local.park('this node is in standby')
      this.o.log.log('info', 'this node starts in standby (mccs node unstandby to end it)')
    }
    return this.mode
  }

  current(): PersistedMode {
    return this.mode
  }

  /** Graceful stop: groups moved away (or stopped), local resources offline, leave announced. */
  leave(timeoutMs: number): Promise<MoveReport & { acknowledged: boolean }> {
    return this.serial(async () => {
      const end = Date.now() + timeoutMs
      this.o.local.park('this node is leaving the cluster')
      if (this.o.inMaintenance()) {
        // Maintenance (e.g. upgrading the agent): the services stay as they are, nothing moves; the
        // coordinator keeps this node's groups where they are until it is back or the maintenance ends.
        this.o.log.log('info', 'leaving in maintenance: what runs here is left running, no group is moved')
        return this.announceLeave({ moved: {}, stopped: [], left: [], failed: [] }, end)
      }
      this.o.log.log('info', "leaving: moving this node's groups to their next node (or stopping them), then announcing the leave")
      const report = await this.moveOff(end)
      return this.announceLeave(report, end)
    })
  }

  private async announceLeave(report: MoveReport, end: number): Promise<MoveReport & { acknowledged: boolean }> {
    const role = this.o.role()
    let acknowledged = true
    if (role && report.failed.length) {
      this.o.log.log(
        'error',
        `not announcing the leave: ${report.failed.join(', ')} could not be stopped here; the peers will fence this node`,
        { failed: report.failed },
      )
      return { ...report, acknowledged: false }
    }
    if (role) {
      await this.o.quiesce(Math.min(end, Date.now() + 10_000))
      role.setMode('leaving')
      // The peers drop us from their views within a heartbeat or two; at most a few dead times.
      const until = Math.min(end, Date.now() + 3000)
      while (!role.leaveAcknowledged() && Date.now() < until) await sleep(20)
      acknowledged = role.leaveAcknowledged()
      // One more heartbeat interval so the last packets with the announcement reach everyone.
      await sleep(150)
    }
    this.o.log.log(
      report.left.length || !acknowledged ? 'warn' : 'info',
      `left the cluster: ${describe(report)}${acknowledged ? '' : '; not every peer acknowledged the leave in time'}`,
      { ...report, acknowledged },
    )
    return { ...report, acknowledged }
  }

  /** mccs node standby | unstandby (on this node). */
  setStandby(on: boolean, timeoutMs: number): Promise<MoveReport | null> {
    return this.serial(async () => {
      if (on) {
        if (this.o.inMaintenance())
          throw new MccsError(
            'MCCS_ERR_CONFLICT',
            `${this.o.node} is in maintenance: its resources are not managed, so they cannot be moved for standby (mccs node unmaintenance ${this.o.node} first)`,
            { subject: this.o.node },
          )
        this.mode = 'standby'
        await this.persist()
        this.o.local.park('this node is in standby')
        this.o.log.log('info', "standby: moving this node's groups to their next node (or stopping them)")
        const report = await this.moveOff(Date.now() + timeoutMs)
        if (report.failed.length) {
          // It cannot say it runs nothing: it stays active (the moves done stay done), and says why.
          this.mode = 'active'
          await this.persist()
          this.o.local.park(null)
          this.o.log.log('error', `standby refused: ${report.failed.join(', ')} could not be stopped here; the node stays active`, {
            failed: report.failed,
          })
          return report
        }
        this.o.role()?.setMode('standby')
        this.o.log.log(report.left.length ? 'warn' : 'info', `in standby: ${describe(report)}`, { ...report })
        return report
      }
      this.mode = 'active'
      await this.persist()
      this.o.local.park(null)
      this.o.role()?.setMode('active')
      this.o.log.log('info', 'out of standby: groups may start here again')
      return null
    })
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.busy.then(f, f)
    this.busy = p.catch(() => {})
    return p
  }

  private async persist(): Promise<void> {
    await writeFileAtomic(this.o.file, JSON.stringify({ mode: this.mode }) + '\n', 0o600)
  }

  /** Moves every group that runs here to its next node (the engine's switch) or, when no other node can
   *  take it, stops it; then takes offline whatever of ours still runs here. Bounded by `end`. */
  private async moveOff(end: number): Promise<MoveReport> {
    const moved: Record<string, string> = {}
    const role = this.o.role()
    // Without quorum nothing can be moved (no coordinator): our resources are only stopped here.
    const canMove = !role || role.members()?.quorate === true
    let left: string[] = []
    while (canMove && Date.now() < end) {
      let st: AgentStatus
      try {
        st = await this.o.status()
      } catch {
        await sleep(200)
        continue
      }
      if (st.stale) {
        // Not the cluster's current state (no coordinator answered): ask again rather than read "nothing here".
        await sleep(200)
        continue
      }
      const here = st.groups.filter((g) => g.activeNode === this.o.node || MAY_RUN.has(g.nodes[this.o.node] ?? 'offline'))
      left = here.map((g) => g.name)
      if (!here.length) break
      for (const g of here) {
        if (Date.now() >= end) break
        if (g.busy > 0 || g.activeNode !== this.o.node) continue // in progress, or already going elsewhere
        const state = g.nodes[this.o.node]
        const remaining = Math.max(1000, end - Date.now())
        let reply: Awaited<ReturnType<NodeModeOptions['command']>> | null = null
        if (state === 'online' || state === 'partial') {
          reply = await this.o
            .command({ type: 'groupSwitch', group: g.name, user: this.o.user }, { wait: true, timeoutMs: remaining })
            .catch(() => null)
          if (reply?.outcome.status === 'accepted') {
            const after = await this.o.status().catch(() => null)
            moved[g.name] = after?.groups.find((x) => x.name === g.name)?.activeNode ?? 'moved'
            continue
          }
          if (reply)
            this.o.log.log(
              'info',
              `${g.name} cannot move (${reply.outcome.status === 'rejected' ? reply.outcome.reason : 'not reached'}): stopping it`,
              { group: g.name },
            )
        }
        reply = await this.o
          .command({ type: 'groupOffline', group: g.name, user: this.o.user, leave: true }, { wait: true, timeoutMs: remaining })
          .catch(() => null)
        if (reply?.outcome.status === 'accepted') moved[g.name] = 'stopped'
      }
      await sleep(100)
    }
    const { stopped, failed } = await this.o.local.stopLocal()
    return { moved, stopped, failed, left: Date.now() >= end ? left : [] }
  }
}

function describe(r: MoveReport): string {
  const moves = Object.entries(r.moved).map(([g, to]) => (to === 'stopped' ? `${g} stopped` : `${g} -> ${to}`))
  return [
    moves.length ? moves.join(', ') : 'no group ran here',
    ...(r.stopped.length ? [`taken offline here: ${r.stopped.join(', ')}`] : []),
    ...(r.left.length ? [`still here when the time was up: ${r.left.join(', ')}`] : []),
    ...(r.failed.length ? [`could not be stopped: ${r.failed.join(', ')}`] : []),
  ].join('; ')
}
