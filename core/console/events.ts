// Live updates for the console over Server-Sent Events (GET /api/events, routes/events.ts):
//   event: status  data: AgentStatus   at connect, then on every change (at most every 100 ms)
//   event: log     data: {line}        each new line of this node's log
//   event: oplog   data: OplogEntry    each new manual operation log entry
// The agent emits 'step' after every engine event: a change is looked for 100 ms after a step, and once
// a second anyway (a follower node's state changes on the coordinator, which emits nothing here).
// Watching runs only while at least one client is connected.
import type { Agent } from '../agent/agent.js'
import type { AgentStatus } from '../agent/status.js'
import { FileFollower } from './log-files.js'
import { oplogEntry } from './oplog-view.js'

export interface EventClient {
  send(event: string, data: unknown): void
}

const MIN_GAP_MS = 100
const POLL_MS = 1000

export class ConsoleEvents {
  private readonly clients = new Set<EventClient>()
  private last = ''
  private lastStatus: AgentStatus | undefined
  private pending: NodeJS.Timeout | undefined
  private poller: NodeJS.Timeout | undefined
  private checking = false
  private recheck = false
  private lastCheck = 0
  private followers: FileFollower[] = []
  private readonly onStep = () => this.schedule()

  constructor(
    private readonly agent: Agent,
    private readonly files: { log: string; oplog: string },
  ) {}

  async add(c: EventClient): Promise<() => void> {
    this.clients.add(c)
    if (this.clients.size === 1) await this.startWatching()
    const st = this.lastStatus ?? (await this.agent.statusAnywhere())
    c.send('status', st)
    return () => {
      this.clients.delete(c)
      if (this.clients.size === 0) this.stopWatching()
    }
  }

  get clientCount(): number {
    return this.clients.size
  }

  private broadcast(event: string, data: unknown): void {
    for (const c of this.clients) c.send(event, data)
  }

  private async startWatching(): Promise<void> {
    this.agent.on('step', this.onStep)
    this.poller = setInterval(() => this.schedule(), POLL_MS)
    this.poller.unref()
    this.followers = [
      new FileFollower(this.files.log, (line) => this.broadcast('log', { line })),
      new FileFollower(this.files.oplog, (line) => {
        const e = oplogEntry(line)
        if (e) this.broadcast('oplog', e)
      }),
    ]
    await Promise.all(this.followers.map((f) => f.start()))
    const st = await this.agent.statusAnywhere()
    this.lastStatus = st
    this.last = keyOf(st)
  }

  private stopWatching(): void {
    this.agent.off('step', this.onStep)
    clearInterval(this.poller)
    clearTimeout(this.pending)
    this.pending = undefined
    for (const f of this.followers) f.stop()
    this.followers = []
    this.lastStatus = undefined
  }

  /** A status check no sooner than 100 ms after the previous one. */
  private schedule(): void {
    if (this.pending) return
    const wait = Math.max(0, this.lastCheck + MIN_GAP_MS - Date.now())
    this.pending = setTimeout(() => {
      this.pending = undefined
      void this.check()
    }, wait)
  }

  private async check(): Promise<void> {
    if (this.checking) {
      this.recheck = true
      return
    }
    this.checking = true
    try {
      this.lastCheck = Date.now()
      const st = await this.agent.statusAnywhere()
      const key = keyOf(st)
      if (key !== this.last && this.clients.size) {
        this.last = key
        this.lastStatus = st
        this.broadcast('status', st)
      }
    } catch {
      /* the next step or poll tries again */
    } finally {
      this.checking = false
      if (this.recheck) {
        this.recheck = false
        this.schedule()
      }
    }
  }
}

/** What counts as a change: everything but the uptime, which changes every second, and when each
 *  license was last checked (every few seconds, whether or not anything changed). */
function keyOf(st: AgentStatus): string {
  const licenses = st.licenses ? Object.fromEntries(Object.entries(st.licenses).map(([n, l]) => [n, { ...l, checkedAt: '' }])) : undefined
  return JSON.stringify({ ...st, uptimeS: 0, ...(licenses ? { licenses } : {}) })
}
