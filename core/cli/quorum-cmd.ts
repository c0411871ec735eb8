// mccs quorum-server: runs the quorum server (the tie-breaker of two-node clusters) and shows its
// "Quorum state" (connected clients per cluster, which partition holds the vote).
import { parseArgs } from 'node:util'
import path from 'node:path'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t, type Locale } from '../i18n/messages.js'
import { cliLocale } from './lang.js'
import { table } from './table.js'
import { MccsError } from '../errors.js'
import { QUORUM_PORT } from '../cluster/quorum-protocol.js'
import type { QuorumServerStatus } from '../cluster/quorum-server.js'

export const QUORUM_USAGE = `usage: mccs quorum-server [run] [--port 14322] [--dir <state dir>] [--listen <address>] [--host <name|ip>]...
                           [--interval-ms 1000] [--timeout-ms 5000]
       mccs quorum-server status [--dir <state dir>] [--json]
       mccs quorum-server add-cluster <cluster> [--dir <state dir>] [--key-file <file>] [--force] [--host <name|ip>]...
       mccs quorum-server remove-cluster <cluster> [--dir <state dir>]
The state dir (default <MCCS state dir>/quorum-server) holds tls/ (CA and server certificate; copy tls/ca.crt
to the cluster nodes), clusters/<cluster>.key (each cluster's quorum key, 0600) and the control socket.
--host: names and addresses the server certificate covers (default: localhost, this host's name and addresses).`

async function defaultDir(): Promise<string> {
  const b = await (await import('../config/bootstrap.js')).loadBootstrap()
  return path.join(b.stateDir, 'quorum-server')
}

const int = (v: unknown, name: string, min: number, max: number): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new MccsError('MCCS_ERR_INVALID', `--${name} must be an integer in ${min}..${max}`, { field: `--${name}` })
  return n
}

/** `argv` is what follows `quorum-server` (global options such as --json may be anywhere). */
export async function quorumServerCommand(argv: string[], io: CliIO): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        dir: { type: 'string' },
        port: { type: 'string' },
        listen: { type: 'string' },
        host: { type: 'string', multiple: true },
        'interval-ms': { type: 'string' },
        'timeout-ms': { type: 'string' },
        'key-file': { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        lang: { type: 'string' },
      },
    }))
  } catch (err) {
    io.err(`mccs quorum-server: ${(err as Error).message}\n${QUORUM_USAGE}`)
    return EXIT.USAGE
  }
  // --lang, else MCCS_LANG, else English: a quorum server's host need not be a node (no product language).
  let l: Locale
  try {
    l = await cliLocale(values.lang, async () => {
      throw new Error('not a node')
    })
  } catch (err) {
    io.err(`mccs quorum-server: ${(err as Error).message}`)
    return EXIT.USAGE
  }
  if (values.help) {
    io.out(QUORUM_USAGE)
    return EXIT.OK
  }
  const [sub = 'run', ...rest] = positionals
  const dir = path.resolve(typeof values.dir === 'string' ? values.dir : await defaultDir())
  const hosts = values.host as string[] | undefined
  try {
    switch (sub) {
      case 'run':
        return await run(dir, values, hosts, l, io)
      case 'status': {
        const s = await fetchStatus(dir)
        io.out(values.json ? JSON.stringify(s, null, 2) : renderQuorumStatus(s))
        return EXIT.OK
      }
      case 'add-cluster': {
        const name = rest[0]
        if (!name) {
          io.err(QUORUM_USAGE)
          return EXIT.USAGE
        }
        const { addCluster } = await import('../cluster/quorum-server.js')
        const { ensureTlsMaterial } = await import('../cluster/tls.js')
        let key: string | undefined
        if (typeof values['key-file'] === 'string')
          key = (await (await import('node:fs/promises')).readFile(values['key-file'], 'utf8')).trim()
        const k = await addCluster(dir, name, key, { force: values.force === true })
        const m = await ensureTlsMaterial(path.join(dir, 'tls'), { label: 'quorum server', ...(hosts ? { hosts } : {}) })
        if (values.json) {
          io.out(
            JSON.stringify(
              {
                cluster: name,
                key: k,
                keyFile: path.join(dir, 'clusters', `${name}.key`),
                caFile: m.caCertFile,
                caFingerprint: m.caFingerprint,
              },
              null,
              2,
            ),
          )
        } else {
          io.out(t(l, 'cli.quorum.added', { name, key: k, ca: m.caCertFile, fingerprint: m.caFingerprint }))
        }
        return EXIT.OK
      }
      case 'remove-cluster': {
        const name = rest[0]
        if (!name) {
          io.err(QUORUM_USAGE)
          return EXIT.USAGE
        }
        await (await import('../cluster/quorum-server.js')).removeCluster(dir, name)
        io.out(t(l, 'cli.quorum.removed', { name }))
        return EXIT.OK
      }
      default:
        io.err(QUORUM_USAGE)
        return EXIT.USAGE
    }
  } catch (err) {
    const e = err as Error & { code?: string }
    io.err(`mccs quorum-server ${sub}: ${e.message}`)
    if (e.code === 'MCCS_ERR_QUORUM_SERVER_DOWN') return EXIT.AGENT_DOWN
    return e.code === 'MCCS_ERR_INVALID' ? EXIT.USAGE : EXIT.FAILED
  }
}

async function run(dir: string, values: Record<string, unknown>, hosts: string[] | undefined, l: Locale, io: CliIO): Promise<number> {
  const { QuorumServer } = await import('../cluster/quorum-server.js')
  const { createLog } = await import('../log/logger.js')
  const log = createLog({ level: 'info' })
  const intervalMs = int(values['interval-ms'], 'interval-ms', 10, 600_000)
  const server = await QuorumServer.start({
    dir,
    port: int(values.port, 'port', 0, 65535) ?? QUORUM_PORT,
    host: typeof values.listen === 'string' ? values.listen : '0.0.0.0',
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    ...(values['timeout-ms'] !== undefined ? { timeoutMs: int(values['timeout-ms'], 'timeout-ms', 20, 3_600_000)! } : {}),
    ...(hosts ? { tls: { hosts } } : {}),
    log,
  })
  const s = server.status()
  io.out(
    t(l, 'cli.quorum.listening', {
      address: server.address,
      port: server.port,
      dir,
      ca: path.join(dir, 'tls', 'ca.crt'),
      fingerprint: s.server.caFingerprint ?? '?',
    }),
  )
  await new Promise<void>((resolve) => {
    const bye = (sig: string) => {
      io.err(t(l, 'cli.quorum.stopping', { sig }))
      resolve()
    }
    process.once('SIGTERM', () => bye('SIGTERM'))
    process.once('SIGINT', () => bye('SIGINT'))
  })
  await server.close()
  log.flush()
  return EXIT.OK
}

/** Asks a running quorum server (through its control socket in `dir`) for its state. */
export async function fetchStatus(dir: string): Promise<QuorumServerStatus> {
  const sock = path.join(dir, 'quorum-server.sock')
  const { rpc } = await import('./control-client.js')
  try {
    return await rpc<QuorumServerStatus>(sock, 'status', {}, 10_000)
  } catch (err) {
    if ((err as { code?: string }).code === 'MCCS_ERR_AGENT_DOWN') {
      throw new MccsError('MCCS_ERR_QUORUM_SERVER_DOWN', `no quorum server answers on ${sock}`, { field: '--dir' })
    }
    throw err
  }
}

const list = (p: string[] | null | undefined) => (p && p.length ? `{${p.join(',')}}` : '-')

/** The manual's "Quorum state" view as text. */
export function renderQuorumStatus(s: QuorumServerStatus): string {
  const out = [
    `quorum server ${s.server.address}:${s.server.port} (pid ${s.server.pid})  interval ${s.server.intervalMs} ms  timeout ${s.server.timeoutMs} ms`,
  ]
  if (s.server.caFingerprint) out.push(`CA SHA-256 ${s.server.caFingerprint}`)
  if (!s.clusters.length) out.push('', 'no clusters (mccs quorum-server add-cluster <name>)')
  for (const c of s.clusters) {
    const vote = c.holder
      ? `${list(c.holder)}${c.pending ? ' (pending: waiting for the previous holder)' : ''} since ${c.holderSince}`
      : 'nobody'
    out.push('', `cluster ${c.name}${c.configured ? '' : ' (key removed)'}: vote held by ${vote}`)
    if (!c.clients.length) {
      out.push('  no clients')
      continue
    }
    out.push(
      table(
        ['NODE', 'CONNECTED', 'ADDRESS', 'PARTITION', 'VOTE', 'LAST REPORT', 'INTERVAL/TIMEOUT'],
        c.clients.map((x) => [
          x.node,
          x.connected ? 'yes' : 'no',
          x.address,
          list(x.partition),
          x.vote ?? '-',
          x.lastReportMsAgo === null ? '-' : `${x.lastReportMsAgo} ms ago`,
          // Older status files (a server before per-node timing) have no such fields.
          x.intervalMs === undefined ? '-' : `${x.intervalMs}/${x.timeoutMs} ms`,
        ]),
      )
        .split('\n')
        .map((l) => '  ' + l)
        .join('\n'),
    )
  }
  return out.join('\n')
}
