// mccs: one CLI for the agent and its operators. Human tables by default, --json for machines.
import { parseArgs } from 'node:util'
import { stdio, type CliIO } from './io.js'
import { EXIT } from './exit-codes.js'
import { t } from '../i18n/messages.js'

/** The usage text: cli.usage in the locale files (Korean or English, as the command speaks). */
const usage = async (flag: unknown): Promise<string> =>
  t(await (await import('./lang.js')).cliLocale(flag).catch(() => 'en' as const), 'cli.usage')

export async function main(argv: string[], io: CliIO = stdio): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      json: { type: 'boolean' },
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
      node: { type: 'string' },
      persistent: { type: 'boolean' },
      off: { type: 'boolean' },
      plugins: { type: 'string', multiple: true },
      dir: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      lang: { type: 'string' },
      version: { type: 'boolean', short: 'V' },
      // configuration commands (edit-cmd.ts)
      nodes: { type: 'string' },
      failover: { type: 'boolean' },
      'no-failover': { type: 'boolean' },
      autostart: { type: 'boolean' },
      'no-autostart': { type: 'boolean' },
      failback: { type: 'boolean' },
      'no-failback': { type: 'boolean' },
      force: { type: 'boolean' },
      type: { type: 'string' },
      group: { type: 'string' },
      attr: { type: 'string', multiple: true },
      'node-attr': { type: 'string', multiple: true },
      policy: { type: 'string', multiple: true },
      unset: { type: 'string', multiple: true },
      'unset-policy': { type: 'string', multiple: true },
      critical: { type: 'boolean' },
      'non-critical': { type: 'boolean' },
      monitored: { type: 'boolean' },
      unmonitored: { type: 'boolean' },
      'expect-generation': { type: 'string' },
      discard: { type: 'string' }, // mccs mirror resolve
    },
  })
  const [cmd, ...rest] = positionals
  const json = values.json === true
  const pluginDirs = (values.plugins as string[] | undefined) ?? []
  if (values.help && (cmd === 'group' || cmd === 'resource') && ['add', 'edit', 'delete', 'link', 'unlink'].includes(rest[0] ?? '')) {
    io.out((await import('./edit-cmd.js')).EDIT_USAGE)
    return EXIT.OK
  }
  if (values.help && cmd === 'hb') {
    io.out((await import('./hb-cmd.js')).HB_USAGE)
    return EXIT.OK
  }
  if (values.version || cmd === 'version') {
    io.out(`mccs ${(await import('../paths.js')).packageVersion()}`)
    return EXIT.OK
  }
  if (values.help || !cmd) {
    io.out(await usage(values.lang))
    return cmd || values.help ? EXIT.OK : EXIT.USAGE
  }
  try {
    switch (cmd) {
      case 'plugin': {
        // The folders the agent of this install loads (MCCS_HOME, settings file), plus --plugins.
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (await import('./plugin-cmd.js')).pluginCommand(rest, { json, pluginDirs: [...pluginDirs, ...b.pluginDirs] }, io)
      }
      case 'agent':
        return await (await import('./agent-cmd.js')).agentCommand(io)
      case 'demo':
        return await (
          await import('./demo.js')
        ).demoCommand(io, {
          ...(typeof values.dir === 'string' ? { dir: values.dir } : {}),
          ...(typeof values.port === 'string' ? { port: Number(values.port) } : {}),
          ...(values.lang !== undefined ? { lang: await (await import('./lang.js')).cliLocale(values.lang) } : {}),
        })
      case 'status': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        const s = await (await import('./control-client.js')).rpc<import('../agent/status.js').AgentStatus>(b.controlSocket, 'status')
        io.out(
          json
            ? JSON.stringify(s, null, 2)
            : (await import('./status-cmd.js')).renderStatus(s, await (await import('./lang.js')).cliLocale(values.lang)),
        )
        return EXIT.OK
      }
      case 'group':
      case 'resource':
      case 'monitor-all': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        if (cmd !== 'monitor-all' && ['add', 'edit', 'delete', 'link', 'unlink'].includes(rest[0] ?? '')) {
          return await (await import('./edit-cmd.js')).editCommand(cmd, rest, values, { socket: b.controlSocket, json }, io)
        }
        return await (
          await import('./ops-cmd.js')
        ).opsCommand(
          cmd,
          rest,
          {
            socket: b.controlSocket,
            json,
            wait: values.wait === true,
            ...(typeof values.timeout === 'string' ? { timeoutS: Number(values.timeout) } : {}),
            ...(typeof values.node === 'string' ? { node: values.node } : {}),
            persistent: values.persistent === true,
            off: values.off === true,
            locale: await (await import('./lang.js')).cliLocale(values.lang),
          },
          io,
        )
      }
      case 'node': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (
          await import('./node-cmd.js')
        ).nodeCommand(
          rest,
          {
            socket: b.controlSocket,
            nodeName: b.nodeName,
            json,
            ...(typeof values.timeout === 'string' ? { timeoutS: Number(values.timeout) } : {}),
          },
          io,
        )
      }
      case 'config': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (
          await import('./config-cmd.js')
        ).configCommand(rest, { ...b, pluginDirs: [...b.pluginDirs, ...pluginDirs] }, { json }, io)
      }
      case 'cluster': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (await import('./cluster-cmd.js')).clusterCommand(rest, b, { force: values.force === true }, io)
      }
      case 'aws': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (await import('./aws-cmd.js')).awsCommand(rest, { ...b, pluginDirs: [...pluginDirs, ...b.pluginDirs] }, { json }, io)
      }
      case 'simulate':
        return await (await import('./simulate-cmd.js')).simulateCommand(rest, { json }, io)
      case 'quorum-server': {
        const at = argv.indexOf('quorum-server')
        return await (
          await import('./quorum-cmd.js')
        ).quorumServerCommand(
          argv.filter((_, i) => i !== at),
          io,
        )
      }
      case 'support':
        return await (await import('./support-cmd.js')).supportCommand(argv.slice(argv.indexOf('support') + 1), io)
      case 'setup':
        return await (await import('./setup-cmd.js')).setupCommand(argv.slice(argv.indexOf('setup') + 1), io)
      case 'uninstall':
        return await (await import('./uninstall-cmd.js')).uninstallCommand(argv.slice(argv.indexOf('uninstall') + 1), io)
      case 'license':
        return await (await import('./license-cmd.js')).licenseCommand(argv.slice(argv.indexOf('license') + 1), io)
      case 'license-server':
        return await (await import('./license-server-cmd.js')).licenseServerCommand(argv.slice(argv.indexOf('license-server') + 1), io)
      case 'mirror': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (
          await import('./mirror-cmd.js')
        ).mirrorCommand(
          rest,
          {
            socket: b.controlSocket,
            json,
            force: values.force === true,
            ...(typeof values.discard === 'string' ? { discard: values.discard } : {}),
          },
          io,
        )
      }
      case 'hb': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (await import('./hb-cmd.js')).hbCommand(argv.slice(argv.indexOf('hb') + 1), { socket: b.controlSocket }, io)
      }
      case 'log-level': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (await import('./log-level-cmd.js')).logLevelCommand(rest, { socket: b.controlSocket, json }, io)
      }
      case 'explain':
        return await (await import('./explain-cmd.js')).explainCommand(argv.slice(argv.indexOf('explain') + 1), io)
      case 'metrics':
        return await (await import('./metrics-cmd.js')).metricsCommand(rest, io)
      case 'ec2-sim':
        return await (
          await import('./ec2sim-cmd.js')
        ).ec2SimCommand(
          argv.filter((_, i) => i !== argv.indexOf('ec2-sim')),
          io,
        )
      default:
        io.err(await usage(values.lang))
        return EXIT.USAGE
    }
  } catch (err) {
    const e = err as Error & { code?: string }
    io.err(await errorLine(cmd, e, values.lang))
    return e.code === 'MCCS_ERR_AGENT_DOWN' ? EXIT.AGENT_DOWN : EXIT.FAILED
  }
}

/** The error line of a failed command: as it always was in English; in another language the catalogue's
 *  title in it leads (the code and the reason follow unchanged). */
async function errorLine(cmd: string, e: Error & { code?: string }, flag: unknown): Promise<string> {
  const { cliLocale } = await import('./lang.js')
  const { isErrorCode, messageOf } = await import('../errors.js')
  const locale = await cliLocale(flag).catch(() => 'en' as const)
  if (locale === 'en' || !isErrorCode(e.code)) return `mccs ${cmd}: ${e.message}`
  const { t } = await import('../i18n/messages.js')
  return t(locale, 'cli.error', { command: cmd, title: messageOf(e.code, locale), message: e.message })
}

// Run when this is the entry point (dist/mccs.js via bin/mccs), not when a test imports it.
const entry = process.argv[1] ?? ''
if (/(?:^|\/)(?:mccs\.js|main\.ts)$/.test(entry)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      process.stderr.write(`mccs: ${(err as Error)?.stack ?? String(err)}\n`)
      process.exitCode = 1
    },
  )
}
