// Live updates: one EventSource on /api/events. `status` replaces the whole AgentStatus (the agent
// sends one at connect and at most every 100 ms after a change), `log` and `oplog` append lines.
// EventSource reconnects by itself; the header shows whether the stream is up.
import type { AgentStatus } from '../../agent/status.js'
import type { OpEntry } from './api.js'
import { state, setStatus, changed } from './store.js'
import { tr } from './i18n.js'

type LogListener = (line: string) => void
type OpListener = (e: OpEntry) => void
const logListeners = new Set<LogListener>()
const opListeners = new Set<OpListener>()
export const onLog = (f: LogListener) => {
  logListeners.add(f)
  return () => logListeners.delete(f)
}
export const onOplog = (f: OpListener) => {
  opListeners.add(f)
  return () => opListeners.delete(f)
}

let source: EventSource | null = null
let onEnded: (reason: string) => void = () => {}
/** What to do when the server ends this session's stream (a logout or a password change elsewhere). */
export const whenSessionEnded = (f: (reason: string) => void) => {
  onEnded = f
}

// Staleness: the agent sends a frame at least every ALIVE_MS (routes/events.ts). A stopped or hung agent
// keeps its TCP connection open and sends nothing, so silence — not a closed stream — is what tells.
const STALE_AFTER_MS = 1500
let lastFrameAt = 0
let watchdog: ReturnType<typeof setInterval> | undefined
const frame = () => {
  lastFrameAt = performance.now()
  if (state.stale) {
    state.stale = null
    changed()
  }
}
function watch(): void {
  clearInterval(watchdog)
  watchdog = setInterval(() => {
    const node = state.status?.node ?? tr('ui.stale.thisNode')
    const silent = performance.now() - lastFrameAt
    const why =
      !state.connected && silent > STALE_AFTER_MS
        ? tr('ui.stale.lost', { node })
        : silent > STALE_AFTER_MS
          ? tr('ui.stale.silent', { node, seconds: STALE_AFTER_MS / 1000 })
          : null
    if (why !== state.stale) {
      state.stale = why
      changed()
    }
  }, 200)
}

export function connectEvents(): void {
  source?.close()
  const es = (source = new EventSource('/api/events', { withCredentials: true }))
  lastFrameAt = performance.now()
  watch()
  es.addEventListener('open', () => {
    state.connected = true
    frame()
    changed()
  })
  es.addEventListener('error', () => {
    state.connected = false
    changed()
  })
  es.addEventListener('alive', frame)
  es.addEventListener('sessionEnded', (e) => {
    let reason = ''
    try {
      reason = String((JSON.parse((e as MessageEvent<string>).data) as { reason?: unknown }).reason ?? '')
    } catch {
      /* shown as a generic end */
    }
    disconnectEvents()
    onEnded(reason)
  })
  es.addEventListener('status', (e) => {
    frame()
    try {
      setStatus(JSON.parse((e as MessageEvent<string>).data) as AgentStatus)
    } catch {
      /* a torn frame: the next one replaces it */
    }
  })
  es.addEventListener('log', (e) => {
    frame()
    try {
      const { line } = JSON.parse((e as MessageEvent<string>).data) as { line: string }
      for (const f of logListeners) f(line)
    } catch {
      /* ignore */
    }
  })
  es.addEventListener('oplog', (e) => {
    try {
      const entry = JSON.parse((e as MessageEvent<string>).data) as OpEntry
      for (const f of opListeners) f(entry)
    } catch {
      /* ignore */
    }
  })
}

export function disconnectEvents(): void {
  source?.close()
  source = null
  state.connected = false
  clearInterval(watchdog)
  state.stale = null
}
