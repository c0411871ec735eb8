// The peer protocol between the agents of a cluster: requests over the authenticated peer channel,
// actions run on another node (with retry), and a follower's requests forwarded to its coordinator.
// It carries messages and knows who may send what (the authority rules below, from this node's role);
// what a message does is registered by the owner of that kind (serve): local actions, configuration
// sync, peer services, the agent's engine loop. So the transport changes without touching them, and
// each owner's messages are read next to the code that answers them.
import type { HeartbeatThread as Heartbeat } from '../cluster/heartbeat-worker-client.js'
import { PeerChannel, PEER_PORT_OFFSET, type Endpoint } from '../cluster/peer-channel.js'
import type { Role } from '../cluster/role.js'
import type { ProtocolRange } from '../cluster/protocol-version.js'
import type { Action, MonitorResultEvent, OperatorCommand, MonitorEntry } from '../engine/index.js'
import type { HbConfig } from '../config/hb-model.js'
import type { ActionOutcome } from '../executor/executor.js'
import { MccsError } from '../errors.js'
import type { Log } from '../log/logger.js'

/** The engine loop's messages: what a follower can be asked by the coordinator, and the coordinator by a
 *  follower. (Configuration sync and peer services define their own: ConfigMessage, ServiceMessage.) */
export type PeerMessage =
  | { t: 'action'; action: Action }
  | { t: 'cancel'; id: string }
  | { t: 'monitors'; entries: MonitorEntry[] }
  | { t: 'monitorResult'; ev: MonitorResultEvent }
  | { t: 'command'; cmd: OperatorCommand; wait: boolean; timeoutMs?: number }
  | { t: 'status' }
  | { t: 'fencedNodes' }
  | { t: 'nodeMode'; mode: 'standby' | 'active'; timeoutMs?: number }

/** One answer per message kind of an owner's messages `M`; an answer refuses by throwing an MccsError. */
export type Handlers<M extends { t: string }> = { [K in M['t']]: (from: string, m: Extract<M, { t: K }>) => unknown }

export interface PeerRpcOptions {
  hb: HbConfig
  /** This node's role: the heartbeat (who is reachable) and whom we follow. */
  role: Role
  /** The cluster key (authenticates the channel). */
  key: Buffer
  log: Log
  /** The protocol versions the channel's hello advertises (default: the build's; another only for tests). */
  protocol?: ProtocolRange
}

export class PeerRpc {
  readonly peers: PeerChannel
  private readonly hb: Heartbeat
  private readonly role: Role
  private readonly self: string
  private readonly log: Log
  private readonly handlers = new Map<string, (from: string, m: never) => unknown>()

  constructor(o: PeerRpcOptions) {
    this.role = o.role
    this.hb = o.role.hb
    this.self = o.role.self
    this.log = o.log
    const key = o.key
    this.cfg = o.hb
    const { listen, peers } = this.endpoints(o.hb)
    this.peers = new PeerChannel({
      cluster: o.hb.cluster,
      node: this.self,
      key,
      listen,
      peers,
      onRequest: (from, body) => this.onRequest(from, body),
      reachable: (peer, ep) => {
        const n = this.cfg.nodes.find((x) => x.name === peer)
        const link = n && Object.keys(n.addresses).find((l) => n.addresses[l] === ep.host)
        return link ? this.hb.status().peers.find((p) => p.node === peer)?.links[link]?.up === true : false
      },
      log: o.log.child({ component: 'peer' }),
      ...(o.protocol ? { protocol: o.protocol } : {}),
    })
    this.hb.on('link', (ev: { node: string; link: string; up: boolean }) => {
      const addr = this.cfg.nodes.find((x) => x.name === ev.node)?.addresses[ev.link]
      if (!ev.up && addr) this.peers.dropVia(ev.node, addr)
    })
  }

  private cfg: HbConfig

  /** This node's listening endpoints and each peer's, most preferred link first. */
  private endpoints(hb: HbConfig): { listen: Endpoint[]; peers: Record<string, Endpoint[]> } {
    const me = hb.nodes.find((n) => n.name === this.self)
    if (!me) throw new MccsError('MCCS_ERR_HB_CONFIG', `this node (${this.self}) is not in hb.json`, { field: '/nodes' })
    const links = [...hb.links].sort((a, b) => a.priority - b.priority)
    const port = (hb.port ?? 14321) + PEER_PORT_OFFSET
    const eps = (addrs: Record<string, string>): Endpoint[] =>
      links.filter((l) => addrs[l.name]).map((l) => ({ host: addrs[l.name]!, port }))
    return {
      listen: eps(me.addresses),
      peers: Object.fromEntries(hb.nodes.filter((n) => n.name !== this.self).map((n) => [n.name, eps(n.addresses)])),
    }
  }

  /** A new hb.json in force (live change): the channel follows its nodes and links. */
  async reconfigure(hb: HbConfig): Promise<void> {
    const { listen, peers } = this.endpoints(hb)
    this.cfg = hb
    await this.peers.reconfigure(listen, peers)
  }

  /** An owner's answers to its message kinds. Registered before start; a kind has one owner. */
  serve<M extends { t: string }>(handlers: Handlers<M>): void {
    for (const [t, fn] of Object.entries(handlers) as Array<[string, (from: string, m: never) => unknown]>) {
      if (this.handlers.has(t)) throw new MccsError('MCCS_ERR_INTERNAL', `peer message ${t} is served twice`)
      this.handlers.set(t, fn)
    }
  }

  /** Listens before the role starts (started first, as peers may ask as soon as they hear us). */
  start(): Promise<void> {
    return this.peers.start()
  }
  stop(): Promise<void> {
    return this.peers.stop()
  }

  /** A request to one peer over the peer channel (any owner's message kind). */
  request<T>(node: string, msg: { t: string; [field: string]: unknown }, timeoutMs: number): Promise<T> {
    return this.peers.request<T>(node, msg, timeoutMs)
  }

  /** Coordinator: runs an action on another node. */
  async remoteAction(a: Action, signal: AbortSignal): Promise<ActionOutcome> {
    const onAbort = () => {
      void this.peers.request(a.node, { t: 'cancel', id: a.id } satisfies PeerMessage, 5000).catch(() => {})
    }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      // A node that has not yet seen us as its coordinator (it settles on its own clock) refuses:
      // ask again for a few heartbeat dead times before calling the outcome unknown.
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.peers.request<ActionOutcome>(a.node, { t: 'action', action: a } satisfies PeerMessage, a.timeoutMs + 5000)
        } catch (err) {
          const code = (err as { code?: string }).code
          // A connection lost while the node is still heard (a link went down under it; the channel closed it)
          // is asked again over another link: the node runs an action id at most once at a time (the agent
          // joins a repeat to the run in flight) and hooks are idempotent.
          const lost = code === 'MCCS_ERR_PEER_UNREACHABLE' && this.hb.isUp(a.node) && attempt < 3
          if ((code !== 'MCCS_ERR_NOT_COORDINATOR' || attempt >= 20) && !lost) throw err
          if (signal.aborted || !this.role.isCoordinator()) throw err
          await new Promise((r) => setTimeout(r, lost ? 100 : 200))
        }
      }
    } catch (err) {
      // Unknown outcome: the node may or may not have run it (the engine then probes or fences).
      return { status: 'crashed', answer: 'failed', recoverable: true, reason: `${a.node}: ${(err as Error).message}` }
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** Coordinator: the monitor schedule of another node. */
  pushSchedule(node: string, entries: MonitorEntry[]): void {
    void this.peers
      .request(node, { t: 'monitors', entries } satisfies PeerMessage, 5000)
      .catch((err: Error) => this.log.log('warn', `cannot send the monitor schedule to ${node}: ${err.message}`))
  }

  /** Follower: a local monitor result for the coordinator. */
  sendMonitorResult(ev: MonitorResultEvent): void {
    const c = this.role.coordinator()
    if (!c || c === this.self) return
    void this.peers.request(c, { t: 'monitorResult', ev } satisfies PeerMessage, 5000).catch(() => {})
  }

  /** Follower: an operator command (or a status request) for the coordinator. */
  forward<T>(msg: PeerMessage, timeoutMs: number): Promise<T> {
    const c = this.role.coordinator()
    if (!c)
      return Promise.reject(
        new MccsError('MCCS_ERR_NO_QUORUM', 'this node has no quorum: no coordinator to send the request to', { subject: this.self }),
      )
    // Membership names us but we have not taken the role yet (stability window, or quorum just lost).
    if (c === this.self)
      return Promise.reject(
        new MccsError('MCCS_ERR_NO_QUORUM', 'membership is being decided on this node: retry in a moment', { subject: this.self }),
      )
    return this.peers.request<T>(c, msg, timeoutMs)
  }

  // Authority rules: who may ask this node what, from its role. Owners call them first in their answers.

  /** What the engine decides is answered by the coordinator only. */
  assertCoordinator(code: 'MCCS_ERR_CONFLICT' | 'MCCS_ERR_NOT_COORDINATOR'): void {
    if (!this.role.isCoordinator()) throw new MccsError(code, 'not the coordinator')
  }

  /** Only the coordinator of our quorate partition may change this node (a stale coordinator of a lost
   *  partition cannot). With `toAct`, also refused while we are coordinator or inquorate ourselves; our own
   *  view is enough even before we have settled (the coordinator may have settled a moment earlier). */
  assertOurCoordinator(from: string, toAct = false): void {
    const role = this.role.current()
    const m = this.role.members()
    if ((toAct && (role === 'coordinator' || role === 'inquorate')) || !m?.quorate || from !== m.coordinator) {
      throw new MccsError('MCCS_ERR_NOT_COORDINATOR', `${from} is not this node's coordinator`, { subject: from })
    }
  }

  /** Whether `from` is the coordinator of this node's last membership. */
  isOurCoordinator(from: string): boolean {
    return from === this.role.coordinator()
  }

  private async onRequest(from: string, m: unknown): Promise<unknown> {
    if (!m || typeof m !== 'object' || typeof (m as { t?: unknown }).t !== 'string')
      throw new MccsError('MCCS_ERR_INVALID', 'not a peer message', { field: 't' })
    const t = (m as { t: string }).t
    const answer = this.handlers.get(t)
    if (!answer) throw new MccsError('MCCS_ERR_INVALID', `unknown peer message ${JSON.stringify(t)}`, { field: 't' })
    return answer(from, m as never)
  }
}
