// mccs plugin list|info: the loaded resource types, their versions, permissions and wizard schema.
import path from 'node:path'
import { PluginHost } from '../plugins/host.js'
import { builtinPluginsDir } from '../paths.js'
import { table } from './table.js'
import type { CliIO } from './io.js'
import { t, type Locale } from '../i18n/messages.js'
import { exitWithoutTeardown } from './isolate-exit.js'

/** Loads plugin folders in the agent's order (configured folders first, the built-in one last). */
export async function loadTypes(pluginDirs: string[]): Promise<{ host: PluginHost; errors: Error[] }> {
  const host = new PluginHost({ providers: [] })
  const errors: Error[] = []
  const dirs = [...new Set([...pluginDirs, builtinPluginsDir()].map((d) => path.resolve(d)))]
  for (const d of dirs) errors.push(...(await host.loadAll(d)).errors)
  return { host, errors }
}

// `proc` runs any program: who it may run as is what the operator must see before installing.
const procLabel = (users: string[] | undefined): string => `proc(as:${(users ?? []).join(',') || 'none'})`
function procUsersText(l: Locale, users: string[]): string {
  if (users.length === 0) return t(l, 'cli.plugin.procNone')
  const say = users.map((u) => (u === 'root' ? t(l, 'cli.plugin.procRoot') : u === '*' ? t(l, 'cli.plugin.procAny') : u))
  return t(l, users.includes('root') ? 'cli.plugin.procUsersRoot' : 'cli.plugin.procUsers', { users: say.join(', ') })
}

export async function pluginCommand(
  args: string[],
  opts: { json: boolean; pluginDirs: string[]; locale?: Locale },
  io: CliIO,
): Promise<number> {
  const l = opts.locale ?? 'en'
  const [sub, type] = args
  const { host, errors } = await loadTypes(opts.pluginDirs)
  try {
    for (const e of errors) io.err(t(l, 'cli.plugin.warning', { message: e.message }))
    if (sub === 'list' || sub === undefined) {
      const rows = host.list().map((p) => ({
        type: p.manifest.name,
        // The plugin's own name for itself in this language, when its locale files have one.
        displayName: (!opts.json && p.locales?.[l]?.displayName) || p.manifest.displayName,
        version: p.manifest.version,
        kind: p.manifest.kind,
        engines: p.manifest.engines.mccs,
        permissions: p.manifest.permissions,
        ...(p.manifest.permissions.includes('proc') ? { procUsers: p.manifest.procUsers ?? [] } : {}),
        dir: p.dir,
      }))
      if (opts.json)
        io.out(
          JSON.stringify(
            { plugins: rows, errors: errors.map((e) => ({ message: e.message, code: (e as { code?: string }).code })) },
            null,
            2,
          ),
        )
      else
        io.out(
          table(
            [
              t(l, 'cli.plugin.colType'),
              t(l, 'cli.plugin.colVersion'),
              t(l, 'cli.plugin.colKind'),
              t(l, 'cli.plugin.colName'),
              t(l, 'cli.plugin.colPermissions'),
            ],
            rows.map((r) => [
              r.type,
              r.version,
              r.kind,
              r.displayName,
              r.permissions.map((x) => (x === 'proc' ? procLabel(r.procUsers) : x)).join(' ') || '-',
            ]),
          ),
        )
      return 0
    }
    if (sub === 'info') {
      const p = type ? host.get(type) : undefined
      if (!p) {
        io.err(t(l, 'cli.plugin.noType', { type: type ?? '' }))
        return 1
      }
      const m = p.manifest
      if (opts.json) {
        io.out(JSON.stringify({ ...m, dir: p.dir }, null, 2))
        return 0
      }
      // Its name, description and field titles in this language where its locale files have them.
      const own = p.locales?.[l] ?? {}
      io.out(
        t(l, 'cli.plugin.infoHead', {
          displayName: own.displayName ?? m.displayName,
          name: m.name,
          version: m.version,
          kind: m.kind,
          api: m.engines.mccs,
        }),
      )
      if (m.description) io.out(own.description ?? m.description)
      io.out(t(l, 'cli.plugin.loadedFrom', { dir: p.dir }))
      io.out(t(l, 'cli.plugin.permissions', { permissions: m.permissions.join(', ') || t(l, 'cli.plugin.none') }))
      if (m.permissions.includes('proc')) io.out(t(l, 'cli.plugin.procLine', { users: procUsersText(l, m.procUsers ?? []) }))
      if (m.defaults)
        io.out(
          t(l, 'cli.plugin.defaults', {
            defaults: Object.entries(m.defaults)
              .map(([k, v]) => `${k}=${v}`)
              .join(' '),
          }),
        )
      const props = (m.wizard.properties ?? {}) as Record<string, Record<string, unknown>>
      const required = new Set((m.wizard.required as string[] | undefined) ?? [])
      io.out(t(l, 'cli.plugin.attributes'))
      io.out(
        table(
          [
            t(l, 'cli.plugin.colName'),
            t(l, 'cli.plugin.colType'),
            t(l, 'cli.plugin.colRequired'),
            t(l, 'cli.plugin.colScope'),
            t(l, 'cli.plugin.colTitle'),
          ],
          Object.entries(props).map(([k, s]) => [
            k,
            String(s.type ?? (s.enum ? 'enum' : s.$ref ? 'enum' : 'any')),
            t(l, required.has(k) ? 'cli.plugin.yes' : 'cli.plugin.no'),
            (s['x-mccs'] as { scope?: string } | undefined)?.scope ?? 'global',
            own[`wizard.${k}.title`] ?? String(s.title ?? ''),
          ]),
        ),
      )
      io.out(t(l, 'cli.plugin.schemaHint', { name: m.name }))
      return 0
    }
    io.err(t(l, 'cli.plugin.usage'))
    return 2
  } finally {
    // The CLI exits right after: its isolates must be gone, and the process leaves without the teardown that
    // finalises isolated-vm handles (isolate-exit.ts says why).
    host.dispose()
    await host.whenGone(3000)
    exitWithoutTeardown()
  }
}
