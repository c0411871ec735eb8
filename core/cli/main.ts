// mccs: one CLI for the agent and its operators. Human tables by default, --json for machines.
import { stdio, type CliIO } from './io.js'
import { EDIT_SUBCOMMANDS, parseCli } from './args.js'
import { EXIT } from './exit-codes.js'
import { t } from '../i18n/messages.js'

/** The usage text: cli.usage in the locale files (Korean or English, as the command speaks). */
const usage = async (flag: unknown): Promise<string> =>
  t(await (await import('./lang.js')).cliLocale(flag, configDir).catch(() => 'en' as const), 'cli.usage')

/** The language a command's human output is in (--lang, MCCS_LANG, the product's); a bad --lang is refused. */
const cliLocaleOf = async (flag: unknown) => (await import('./lang.js')).cliLocale(flag, configDir)

/** This node's config folder, for the product language: what the settings say (the full loader's answer). */
const configDir = async (): Promise<string> => (await (await import('../config/bootstrap.js')).loadBootstrap()).configDir

export async function main(argv: string[], io: CliIO = stdio): Promise<number> {
  const { values, positionals } = parseCli(argv)
  const [cmd, ...rest] = positionals
  const json = values.json === true
  const pluginDirs = (values.plugins as string[] | undefined) ?? []
  if (values.help && (cmd === 'group' || cmd === 'resource') && EDIT_SUBCOMMANDS.includes(rest[0] ?? '')) {
    io.out((await import('./edit-cmd.js')).EDIT_USAGE)
    return EXIT.OK
  }
  if (values.help && cmd === 'hb') {
    io.out((await import('./hb-cmd.js')).HB_USAGE)
    return EXIT.OK
  }
  if (values.help && cmd === 'user') {
    io.out(t(await (await import('./lang.js')).cliLocale(values.lang, configDir).catch(() => 'en' as const), 'cli.user.usage'))
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
        return await (
          await import('./plugin-cmd.js')
        ).pluginCommand(rest, { json, pluginDirs: [...pluginDirs, ...b.pluginDirs], locale: await cliLocaleOf(values.lang) }, io)
      }
      case 'agent':
        return await (await import('./agent-cmd.js')).agentCommand(io)
      case 'demo':
        return await (
          await import('./demo.js')
        ).demoCommand(io, {
          ...(typeof values.dir === 'string' ? { dir: values.dir } : {}),
          ...(typeof values.port === 'string' ? { port: Number(values.port) } : {}),
          ...(values.lang !== undefined ? { lang: await (await import('./lang.js')).cliLocale(values.lang, configDir) } : {}),
        })
      case 'status': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (await import('./thin.js')).socketCommand(cmd, rest, values, b.controlSocket, async () => b.configDir, io)
      }
      case 'group':
      case 'resource':
      case 'monitor-all': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        if (cmd !== 'monitor-all' && EDIT_SUBCOMMANDS.includes(rest[0] ?? '')) {
          return await (await import('./edit-cmd.js')).editCommand(cmd, rest, values, { socket: b.controlSocket, json }, io)
        }
        return await (await import('./thin.js')).socketCommand(cmd, rest, values, b.controlSocket, async () => b.configDir, io)
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
            locale: await cliLocaleOf(values.lang),
          },
          io,
        )
      }
      case 'config': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (
          await import('./config-cmd.js')
        ).configCommand(rest, { ...b, pluginDirs: [...b.pluginDirs, ...pluginDirs] }, { json, locale: await cliLocaleOf(values.lang) }, io)
      }
      case 'cluster': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (
          await import('./cluster-cmd.js')
        ).clusterCommand(rest, b, { force: values.force === true, locale: await cliLocaleOf(values.lang) }, io)
      }
      case 'aws': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (
          await import('./aws-cmd.js')
        ).awsCommand(rest, { ...b, pluginDirs: [...pluginDirs, ...b.pluginDirs] }, { json, locale: await cliLocaleOf(values.lang) }, io)
      }
      case 'simulate':
        return await (await import('./simulate-cmd.js')).simulateCommand(rest, { json, locale: await cliLocaleOf(values.lang) }, io)
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
            locale: await cliLocaleOf(values.lang),
          },
          io,
        )
      }
      case 'hb': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (
          await import('./hb-cmd.js')
        ).hbCommand(argv.slice(argv.indexOf('hb') + 1), { socket: b.controlSocket, locale: await cliLocaleOf(values.lang) }, io)
      }
      case 'user': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (
          await import('./user-cmd.js')
        ).userCommand(rest, b, { json, lang: values.lang, as: values.as, role: values.role, options: Object.keys(values) }, io)
      }
      case 'log-level': {
        const b = await (await import('../config/bootstrap.js')).loadBootstrap()
        return await (
          await import('./log-level-cmd.js')
        ).logLevelCommand(rest, { socket: b.controlSocket, json, locale: await cliLocaleOf(values.lang) }, io)
      }
      case 'explain':
        return await (await import('./explain-cmd.js')).explainCommand(argv.slice(argv.indexOf('explain') + 1), io)
      case 'metrics':
        return await (await import('./metrics-cmd.js')).metricsCommand(rest, io, undefined, await cliLocaleOf(values.lang))
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
    return await (await import('./error-line.js')).failed(cmd, err, values.lang, configDir, io)
  }
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
