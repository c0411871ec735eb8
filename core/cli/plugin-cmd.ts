// mccs plugin list|info: the loaded resource types, their versions, permissions and wizard schema.
import path from 'node:path'
import { PluginHost } from '../plugins/host.js'
import { builtinPluginsDir } from '../paths.js'
import { table } from './table.js'
import type { CliIO } from './io.js'

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
function procUsersText(users: string[]): string {
  if (users.length === 0) return 'none (procUsers not declared: this plugin can start no process)'
  const say = users.map((u) =>
    u === 'root' ? 'root (also group 0, or a group the user is not in)' : u === '*' ? '* (any user but root)' : u,
  )
  return `${say.join(', ')} — the plugin may run any program as ${users.includes('root') ? 'these users, root included' : 'these users'}`
}

export async function pluginCommand(args: string[], opts: { json: boolean; pluginDirs: string[] }, io: CliIO): Promise<number> {
  const [sub, type] = args
  const { host, errors } = await loadTypes(opts.pluginDirs)
  try {
    for (const e of errors) io.err(`warning: ${e.message}`)
    if (sub === 'list' || sub === undefined) {
      const rows = host.list().map((p) => ({
        type: p.manifest.name,
        displayName: p.manifest.displayName,
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
            ['TYPE', 'VERSION', 'KIND', 'NAME', 'PERMISSIONS'],
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
        io.err(`mccs plugin info: no resource type '${type ?? ''}' is loaded (see mccs plugin list)`)
        return 1
      }
      const m = p.manifest
      if (opts.json) {
        io.out(JSON.stringify({ ...m, dir: p.dir }, null, 2))
        return 0
      }
      io.out(`${m.displayName} (${m.name}) ${m.version}, ${m.kind} plugin, needs MCCS plugin API ${m.engines.mccs}`)
      if (m.description) io.out(m.description)
      io.out(`loaded from: ${p.dir}`)
      io.out(`permissions: ${m.permissions.join(', ') || '(none)'}`)
      if (m.permissions.includes('proc')) io.out(`process users: ${procUsersText(m.procUsers ?? [])}`)
      if (m.defaults)
        io.out(
          `defaults: ${Object.entries(m.defaults)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        )
      const props = (m.wizard.properties ?? {}) as Record<string, Record<string, unknown>>
      const required = new Set((m.wizard.required as string[] | undefined) ?? [])
      io.out('attributes:')
      io.out(
        table(
          ['NAME', 'TYPE', 'REQUIRED', 'SCOPE', 'TITLE'],
          Object.entries(props).map(([k, s]) => [
            k,
            String(s.type ?? (s.enum ? 'enum' : s.$ref ? 'enum' : 'any')),
            required.has(k) ? 'yes' : 'no',
            (s['x-mccs'] as { scope?: string } | undefined)?.scope ?? 'global',
            String(s.title ?? ''),
          ]),
        ),
      )
      io.out('wizard schema (JSON Schema 2020-12): mccs plugin info ' + m.name + ' --json')
      return 0
    }
    io.err('usage: mccs plugin list [--json] | mccs plugin info <type> [--json]')
    return 2
  } finally {
    host.dispose()
  }
}
