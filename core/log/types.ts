// The logger's types, apart from its implementation (logger.ts, pino): what a component needs to log,
// so that the cluster, the plugin host and the quorum server depend on the log layer's types only.

/** The one method every logger has: a level, a message, structured data (redacted by the agent's log). */
export interface HostLogger {
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void
}
