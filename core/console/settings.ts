// Console settings: where it listens and with which certificate. The port comes from the bootstrap
// (consolePort, env MCCS_CONSOLE_PORT); the rest from the environment, as the bootstrap has no place for
// them yet: MCCS_CONSOLE_LISTEN (comma-separated addresses), MCCS_CONSOLE_CERT / MCCS_CONSOLE_KEY
// (the operator's PEM files), MCCS_CONSOLE_DISABLE=1 (no console on this node), MCCS_CONSOLE_IDLE_S (the idle
// time that ends a session).
import { isIP } from 'node:net'
import path from 'node:path'
import type { Bootstrap } from '../config/bootstrap.js'
import { MccsError } from '../errors.js'
import { GATE_DEFAULTS, type GateLimits } from './conn-gate.js'

export interface ConsoleSettings {
  enabled: boolean
  listen: string[]
  port: number
  /** The operator's certificate and key, or null for the self-signed one in `tlsDir`. */
  certFile: string | null
  keyFile: string | null
  tlsDir: string
  accountsFile: string
  /** Sessions kept across agent restarts (keys are hashes of the cookie ids; mode 0600). */
  sessionsFile: string
  logFile: string
  oplogFile: string
  /** Where the built console UI is (index.html, assets/). */
  uiDir: string
  session: { idleMs: number; absoluteMs: number }
  /** Login limits (auth/rate-limit.ts): per address and name, per address, per name (lockout), global. */
  loginLimit: { max: number; windowMs: number; perAddress: number; perAccount: number; lockoutMs: number; global: number }
  /** New connections admitted before their TLS handshake (conn-gate.ts). */
  connections: GateLimits
}

export const DEFAULT_LISTEN = ['0.0.0.0']

export function consoleSettings(b: Bootstrap, uiDir: string, env: NodeJS.ProcessEnv = process.env): ConsoleSettings {
  const listen = (env.MCCS_CONSOLE_LISTEN ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const a of listen) {
    if (!isIP(a))
      throw new MccsError('MCCS_ERR_BOOTSTRAP', `'${a}' is not an IP address`, { subject: 'environment', field: 'MCCS_CONSOLE_LISTEN' })
  }
  const cert = env.MCCS_CONSOLE_CERT || null
  const key = env.MCCS_CONSOLE_KEY || null
  if (!!cert !== !!key) {
    throw new MccsError('MCCS_ERR_BOOTSTRAP', 'give both the certificate and the key, or neither', {
      subject: 'environment',
      field: cert ? 'MCCS_CONSOLE_KEY' : 'MCCS_CONSOLE_CERT',
    })
  }
  const disable = env.MCCS_CONSOLE_DISABLE
  return {
    enabled: !(disable && disable !== '0' && disable !== 'false'),
    listen: listen.length ? listen : DEFAULT_LISTEN,
    port: b.consolePort,
    certFile: cert ? path.resolve(cert) : null,
    keyFile: key ? path.resolve(key) : null,
    tlsDir: path.join(b.configDir, 'console'),
    accountsFile: path.join(b.configDir, 'accounts.json'),
    sessionsFile: path.join(b.stateDir, 'console-sessions.json'),
    logFile: path.join(b.logDir, 'mccs.log'),
    oplogFile: path.join(b.logDir, 'operation.log'),
    uiDir,
    session: { idleMs: idleSeconds(env) * 1000, absoluteMs: 12 * 3_600_000 },
    connections: GATE_DEFAULTS,
    loginLimit: { max: 5, windowMs: 5 * 60_000, perAddress: 20, perAccount: 20, lockoutMs: 15 * 60_000, global: 100 },
  }
}

/** MCCS_CONSOLE_IDLE_S: a session ends after this many seconds without a request (default 30 minutes). */
function idleSeconds(env: NodeJS.ProcessEnv): number {
  const v = env.MCCS_CONSOLE_IDLE_S
  if (v === undefined || v === '') return 30 * 60
  const n = Number(v)
  if (!Number.isInteger(n) || n < 5 || n > 12 * 3600)
    throw new MccsError('MCCS_ERR_BOOTSTRAP', 'must be a whole number of seconds from 5 to 43200', {
      subject: 'environment',
      field: 'MCCS_CONSOLE_IDLE_S',
    })
  return n
}
