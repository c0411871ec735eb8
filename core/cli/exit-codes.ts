// Exit codes scripts can rely on (documented in README and `mccs --help`). Which error code gives which
// exit is in the error catalogue (core/errors.ts, an entry's `exit`); exitOf() reads it.
import { CATALOGUE, isErrorCode, type CatalogueEntry, type ExitName } from '../errors.js'

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
} as const satisfies Record<ExitName | 'OK' | 'USAGE' | 'TIMEOUT', number>

/** The exit code the catalogue (core/errors.ts) gives a code, or the command's own `fallback`. */
export function exitOf(code: string | undefined, fallback: number): number {
  const name = isErrorCode(code) ? (CATALOGUE[code] as CatalogueEntry).exit : undefined
  return name ? EXIT[name] : fallback
}
