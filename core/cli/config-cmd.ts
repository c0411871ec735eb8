// mccs config validate|export|import
import { configValidate, configExport, configImport, type ValidSummary } from '../config/commands.js'
import type { TypeCatalog } from '../config/validate.js'
import type { Bootstrap } from '../config/bootstrap.js'
import { loadTypes } from './plugin-cmd.js'
import { rpc } from './control-client.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t, type Locale } from '../i18n/messages.js'
import { exitWithoutTeardown } from './isolate-exit.js'

/** `valid: <files>` and, under it, what the configuration holds, in the caller's language. */
export function validText(l: Locale, files: string[], s: ValidSummary | undefined): string {
  const lines = [t(l, 'cli.config.valid', { files: files.join(', ') })]
  if (s?.main) lines.push('  ' + t(l, 'cli.config.summaryMain', { ...s.main }))
  if (s?.hb) lines.push('  ' + t(l, 'cli.config.summaryHb', { ...s.hb }))
  for (const w of s?.warnings ?? []) lines.push('  ' + t(l, 'cli.config.warning', { ...w }))
  return lines.join('\n')
}

export async function configCommand(args: string[], b: Bootstrap, o: { json: boolean; locale?: Locale }, io: CliIO): Promise<number> {
  const l = o.locale ?? 'en'
  const [sub, target] = args
  const { host } = await loadTypes(b.pluginDirs)
  const types: TypeCatalog = { has: (t) => !!host.get(t), attributeSchema: (t) => host.get(t)?.manifest.wizard }
  try {
    if (sub === 'validate') {
      const r = await configValidate(target ?? b.configDir, { types })
      if (o.json) io.out(JSON.stringify(r, null, 2))
      else if (r.ok) io.out(validText(l, r.files, r.summary))
      else io.err(r.text)
      return r.ok ? EXIT.OK : EXIT.INVALID
    }
    if (sub === 'export') {
      const live = await rpc(b.controlSocket, 'config.export').catch(() => undefined)
      const r = live ? { ok: true, text: JSON.stringify(live, null, 2) } : await configExport(b.configDir, { types })
      if (r.ok) io.out(r.text)
      else io.err(r.text)
      return r.ok ? EXIT.OK : EXIT.INVALID
    }
    if (sub === 'import' && target) {
      const viaAgent = await rpc<{ ok: boolean; text: string }>(b.controlSocket, 'config.import', { file: target }).catch(
        (e: { code?: string }) => {
          if (e.code === 'MCCS_ERR_AGENT_DOWN') return undefined
          throw e
        },
      )
      const r = viaAgent ?? (await configImport(b.configDir, target, { types }))
      if (r.ok) io.out(r.text)
      else io.err(r.text)
      return r.ok ? EXIT.OK : EXIT.INVALID
    }
    if (sub === 'reconcile') {
      // A node whose configuration diverged takes the coordinator's (see docs/cluster.md).
      const r = await rpc<{ generation: number; from: string }>(b.controlSocket, 'config.reconcile')
      io.out(o.json ? JSON.stringify(r) : t(l, 'cli.config.reconciled', { generation: r.generation, from: r.from }))
      return EXIT.OK
    }
    io.err(t(l, 'cli.config.usage'))
    return EXIT.USAGE
  } finally {
    // The CLI exits right after: its isolates must be gone, and the process leaves without the teardown that
    // finalises isolated-vm handles (isolate-exit.ts says why).
    host.dispose()
    await host.whenGone(3000)
    exitWithoutTeardown()
  }
}
