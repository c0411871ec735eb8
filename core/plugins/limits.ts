// Host-side limits on everything a plugin can send its host (issue 12, finding 7). A plugin that
// goes past one fails its own call with MCCS_ERR_PLUGIN_LIMIT and is named in the log; its host's
// thread never has to hold, parse or wait for more than these. The sizes are checked inside the
// isolate (core/plugins/isolate-bootstrap.ts) before anything crosses to the host, and again on the
// host where that costs nothing. docs/plugins.md ("Limits") gives the same numbers.
export const LIMITS = {
  /** Characters of one log message; a longer one is cut, with a marker saying how long it was. */
  logMessage: 8192,
  /** Characters of one log entry's data as JSON; larger data is replaced by a marker. */
  logData: 16 * 1024,
  /** Log entries per hook call; further ones are dropped (the first drop is noted once). */
  logEntries: 1000,
  /** Characters of a hook's answer as JSON (the contract's own caps are smaller: data 64 KiB, reason 4 KiB). */
  answer: 1024 * 1024,
  /** Characters of a thrown error's message. */
  error: 4096,
  /** Characters of one capability call's arguments as JSON. */
  args: 1024 * 1024,
  /** Capability calls of one hook call in flight at once. */
  inflight: 64,
  /** Capability calls in one hook call. */
  calls: 10_000,
} as const

export type Limits = typeof LIMITS

/** exec processes running at once; more wait for a slot (until the call's deadline). */
export const EXEC_SLOTS = {
  perResource: 4,
  perType: 16,
  /** All plugins together: each spawn forks the agent, on its thread. */
  global: 32,
  /** Waiting for a slot, per type: beyond this a call is refused at once. */
  queuePerType: 1024,
} as const

/** How often the host samples a busy isolate's CPU time (the CPU budget's resolution). */
export const CPU_WATCH_MS = 50
