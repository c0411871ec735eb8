// Exit codes scripts can rely on (documented in README and `mccs --help`).
export const EXIT = {
  OK: 0,
  /** The command ran but the target state was not reached (fault, failed action). */
  FAILED: 1,
  USAGE: 2,
  /** The engine refused the command (locked group, unknown name, ...). */
  REJECTED: 3,
  /** No agent answers on the control socket. */
  AGENT_DOWN: 4,
  /** --wait ran out of time. */
  TIMEOUT: 5,
  /** Invalid configuration. */
  INVALID: 6,
  /** `mccs agent`: the state or log folder cannot be written (read-only, full, not a folder). */
  STATE_DIR: 7,
} as const
