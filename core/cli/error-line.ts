// How a failed command ends, the same for the full entry (main.ts) and the thin one (thin.ts).
import type { CliIO } from './io.js'
import type { ConfigDir } from './lang.js'
import { EXIT } from './exit-codes.js'

/** Prints the error line and answers the exit code: 4 when no agent answers, else 1. */
export async function failed(
  cmd: string,
  err: unknown,
  flag: unknown,
  configDir: ConfigDir,
  io: CliIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const e = err as Error & { code?: string }
  io.err(await errorLine(cmd, e, flag, configDir, env))
  return e.code === 'MCCS_ERR_AGENT_DOWN' ? EXIT.AGENT_DOWN : EXIT.FAILED
}

/** The error line of a failed command: as it always was in English; in another language the catalogue's
 *  title in it leads (the code and the reason follow unchanged). */
async function errorLine(
  cmd: string,
  e: Error & { code?: string },
  flag: unknown,
  configDir: ConfigDir,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const { cliLocale } = await import('./lang.js')
  const { isErrorCode, messageOf } = await import('../errors.js')
  const locale = await cliLocale(flag, configDir, env).catch(() => 'en' as const)
  if (locale === 'en' || !isErrorCode(e.code)) return `mccs ${cmd}: ${e.message}`
  const { t } = await import('../i18n/messages.js')
  return t(locale, 'cli.error', { command: cmd, title: messageOf(e.code, locale), message: e.message })
}
