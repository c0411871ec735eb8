// mccs ec2-sim: the EC2-compatible endpoint in the foreground (for tests, the lab and the demo).
import { parseArgs } from 'node:util'
import path from 'node:path'
import { isIP } from 'node:net'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t } from '../i18n/messages.js'
import { cliLocale } from './lang.js'
import { MccsError } from '../errors.js'

export const EC2SIM_USAGE = `usage: mccs ec2-sim --listen 127.0.0.1:<port> --state <file> [--seed demo|<seed.json>]
                    [--latency-ms N] [--throttle-percent P] [--transition-ms N] [--allow-remote]
The state file is created from the seed (default demo) when it does not exist, and rewritten after every call.
--listen takes a loopback address unless --allow-remote is given (the endpoint is for tests and demos).
Stops on SIGTERM or SIGINT. See docs/ec2-sim.md.`

const int = (v: unknown, name: string, min: number, max: number): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (typeof v !== 'string' || !/^\d+$/.test(v) || n < min || n > max)
    throw new MccsError('MCCS_ERR_INVALID', `must be an integer in ${min}..${max}`, { field: `--${name}` })
  return n
}

/** `host:port` or `[v6]:port`; a host that is not loopback needs allowRemote. */
export function parseListen(v: string, allowRemote: boolean): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(v)
  if (!m) throw new MccsError('MCCS_ERR_INVALID', `${JSON.stringify(v)} is not <address>:<port>`, { field: '--listen' })
  const host = (m[1] ?? m[2])!
  const port = int(m[3], 'listen', 0, 65535)!
  if (host !== 'localhost' && !isIP(host)) throw new MccsError('MCCS_ERR_INVALID', `${host} is not an IP address`, { field: '--listen' })
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host)
  if (!loopback && !allowRemote) {
    throw new MccsError(
      'MCCS_ERR_INVALID',
      `${host} is not a loopback address; the endpoint accepts test keys, so listening beyond this host needs --allow-remote`,
      { field: '--listen' },
    )
  }
  return { host, port }
}

/** `argv` is what follows `ec2-sim`. */
export async function ec2SimCommand(argv: string[], io: CliIO): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        listen: { type: 'string' },
        state: { type: 'string' },
        seed: { type: 'string' },
        'latency-ms': { type: 'string' },
        'throttle-percent': { type: 'string' },
        'transition-ms': { type: 'string' },
        'allow-remote': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }) as { values: Record<string, string | boolean | undefined> })
  } catch (err) {
    io.err(`mccs ec2-sim: ${(err as Error).message}\n${EC2SIM_USAGE}`)
    return EXIT.USAGE
  }
  if (values.help) {
    io.out(EC2SIM_USAGE)
    return EXIT.OK
  }
  try {
    if (typeof values.listen !== 'string')
      throw new MccsError('MCCS_ERR_INVALID', 'is required (e.g. 127.0.0.1:4566)', { field: '--listen' })
    if (typeof values.state !== 'string') throw new MccsError('MCCS_ERR_INVALID', 'is required (the JSON state file)', { field: '--state' })
    const { host, port } = parseListen(values.listen, values['allow-remote'] === true)
    const latencyMs = int(values['latency-ms'], 'latency-ms', 0, 600_000)
    const throttlePercent = int(values['throttle-percent'], 'throttle-percent', 0, 100)
    const transitionMs = int(values['transition-ms'], 'transition-ms', 0, 3_600_000)
    const seed = typeof values.seed === 'string' && values.seed !== 'demo' ? path.resolve(values.seed) : 'demo'
    const { startEc2Sim } = await import('../ec2sim/server.js')
    // MCCS_LANG, else English: a test and demo tool that runs without an installed node.
    const l = await cliLocale(undefined, async () => {
      throw new Error('no node')
    }).catch(() => 'en' as const)
    const sim = await startEc2Sim({
      host,
      port,
      stateFile: path.resolve(values.state),
      seed,
      ...(latencyMs !== undefined ? { latencyMs } : {}),
      ...(throttlePercent !== undefined ? { throttlePercent } : {}),
      ...(transitionMs !== undefined ? { transitionMs } : {}),
    })
    io.out(
      values.json
        ? JSON.stringify({ url: sim.url, stateFile: path.resolve(values.state), pid: process.pid })
        : t(l, 'cli.ec2sim.listening', { url: sim.url, file: path.resolve(values.state) }),
    )
    await new Promise<void>((resolve) => {
      const bye = (sig: string) => {
        io.err(t(l, 'cli.ec2sim.stopping', { sig }))
        resolve()
      }
      process.once('SIGTERM', () => bye('SIGTERM'))
      process.once('SIGINT', () => bye('SIGINT'))
    })
    await sim.close()
    return EXIT.OK
  } catch (err) {
    const e = err as Error & { code?: string }
    io.err(`mccs ec2-sim: ${e.message}`)
    return e.code === 'MCCS_ERR_INVALID' ? EXIT.USAGE : EXIT.FAILED
  }
}
