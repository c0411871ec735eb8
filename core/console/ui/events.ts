// Live updates: one EventSource on /api/events. `status` replaces the whole AgentStatus (the agent
// sends one at connect and at most every 100 ms after a change), `log` and `oplog` append lines.
// EventSource reconnects by itself; the header shows whether the stream is up.
import type { AgentStatus } from '../../agent/status.js'
import type { OpEntry } from './api.js'
import { state, setStatus, changed } from './store.js'

type LogListener = (line: string) => void
type OpListener = (e: OpEntry) => void
const logListeners = new Set<LogListener>()
const opListeners = new Set<OpListener>()
export const onLog = (f: LogListener) => { logListeners.add(f); return () => logListeners.delete(f) }
export const onOplog = (f: OpListener) => { opListeners.add(f); return () => opListeners.delete(f) }

let source: EventSource | null = null

export function connectEvents(): void {
  source?.close()
  const es = source = new EventSource('/api/events', { withCredentials: true })
  es.addEventListener('open', () => { state.connected = true; changed() })
  es.addEventListener('error', () => { state.connected = false; changed() })
  es.addEventListener('status', (e) => {
    try { setStatus(JSON.parse((e as MessageEvent<string>).data) as AgentStatus) } catch { /* a torn frame: the next one replaces it */ }
  })
  es.addEventListener('log', (e) => {
    try { const { line } = JSON.parse((e as MessageEvent<string>).data) as { line: string }; for (const f of logListeners) f(line) } catch { /* ignore */ }
  })
  es.addEventListener('oplog', (e) => {
    try { const entry = JSON.parse((e as MessageEvent<string>).data) as OpEntry; for (const f of opListeners) f(entry) } catch { /* ignore */ }
  })
}

export function disconnectEvents(): void { source?.close(); source = null; state.connected = false }
