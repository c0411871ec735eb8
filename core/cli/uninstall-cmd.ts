// mccs uninstall [--purge]: removes MCCS from this host, keeping config/, script/, logs/, plugins/, state/
// and the license unless --purge (core/setup/uninstall.ts). Refused while this node's agent runs and
// systemd is not there to stop it: removing the program under a running agent would leave it orphaned.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { loadBootstrap } from '../config/bootstrap.js'
import { isMccsError } from '../errors.js'
import { uninstallArgv } from '../setup/uninstall.js'
import { rpc } from './control-client.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t } from '../i18n/messages.js'
import { cliLocale } from './lang.js'

export const UNINSTALL_USAGE = t('en', 'cli.uninstall.usage')

export async function uninstallCommand(argv: string[], io: CliIO): Promise<number> {
  let purge = false
  let lang: string | undefined
  // The product's language (its settings stay after an uninstall), or --lang.
  const langOf = () => cliLocale(lang, async () => (await loadBootstrap()).configDir).catch(() => 'en' as const)
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { purge: { type: 'boolean' }, lang: { type: 'string' } },
    })
    lang = values.lang
    if (positionals.length) throw new Error(`unexpected ${positionals.join(' ')}`)
    purge = values.purge === true
  } catch (e) {
    io.err(`mccs uninstall: ${(e as Error).message}\n${t(await langOf(), 'cli.uninstall.usage')}`)
    return EXIT.USAGE
  }
  let argvRemove: string[]
  try {
    argvRemove = uninstallArgv({ purge })
  } catch (e) {
    if (!isMccsError(e)) throw e
    io.err(`mccs uninstall: ${e.message}`)
    return EXIT.REJECTED
  }
  const b = await loadBootstrap()
  const running = await rpc(b.controlSocket, 'status', {}, 3000).then(
    () => true,
    () => false,
  )
  if (running && !existsSync('/run/systemd/system')) {
    io.err(t(await langOf(), 'cli.uninstall.running', { socket: b.controlSocket }))
    return EXIT.REJECTED
  }
  // install.sh speaks the language this command speaks (it reads MCCS_LANG; dpkg ignores it).
  const r = spawnSync(argvRemove[0]!, argvRemove.slice(1), { stdio: 'inherit', env: { ...process.env, MCCS_LANG: await langOf() } })
  if (r.error) {
    io.err(`mccs uninstall: ${argvRemove.join(' ')}: ${r.error.message}`)
    return EXIT.FAILED
  }
  return r.status === 0 ? EXIT.OK : EXIT.FAILED
}
