// mccs-plugin init|build|validate — the plugin author's tool.
import { mkdir, writeFile, readFile, access } from 'node:fs/promises'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import ivm from 'isolated-vm'
import { RESOURCE_HOOKS, FENCE_HOOKS, type HookName } from '@mccs/sdk'
import { buildPlugin, PLUGIN_GLOBAL } from './build.js'
import { loadPluginDir } from '../../../core/plugins/manifest.js'
import { PluginHost } from '../../../core/plugins/host.js'

const usage = `usage: mccs-plugin init <dir> [--name <type>] [--kind resource|fence]
       mccs-plugin build <dir> [--minify]
       mccs-plugin validate <dir>`

export async function main(argv: string[]): Promise<number> {
  const [cmd, dir, ...rest] = argv
  const flag = (n: string) => {
    const i = rest.indexOf(n)
    return i >= 0 ? rest[i + 1] : undefined
  }
  if (!cmd || !dir || !['init', 'build', 'validate'].includes(cmd)) {
    console.error(usage)
    return 2
  }
  try {
    if (cmd === 'init') {
      const name =
        flag('--name') ??
        path
          .basename(path.resolve(dir))
          .toLowerCase()
          .replace(/[^a-z0-9-]/g, '-')
      const kind = flag('--kind') === 'fence' ? 'fence' : 'resource'
      await init(dir, name, kind)
      console.log(`created plugin '${name}' in ${dir}: edit src/index.ts, then mccs-plugin build ${dir}`)
      return 0
    }
    if (cmd === 'build') {
      const r = await buildPlugin(dir, { minify: rest.includes('--minify') })
      for (const w of r.warnings) console.error(`warning: ${w}`)
      console.log(`built ${r.manifest.name} ${r.manifest.version} -> ${path.relative(process.cwd(), r.outfile)} (${r.bytes} bytes)`)
      return 0
    }
    // validate: manifest, bundle evaluates in the real sandbox, the kind's hooks exist.
    const loaded = await loadPluginDir(path.resolve(dir))
    const host = new PluginHost({ providers: [] })
    try {
      await host.register(loaded)
      const hooks = loaded.manifest.kind === 'fence' ? FENCE_HOOKS : RESOURCE_HOOKS
      const required = loaded.manifest.kind === 'fence' ? ['fence', 'status'] : ['online', 'offline', 'monitor']
      // Which hooks the bundle defines, read in a throwaway isolate without running any of them
      // (calling them with a 1 ms deadline raced: a timeout hid a missing hook).
      const defined = await definedHooks(loaded.code, hooks)
      const missing = required.filter((h) => !defined.includes(h as HookName))
      if (missing.length) {
        console.error(`plugin '${loaded.manifest.name}': required hooks missing: ${missing.join(', ')}`)
        return 1
      }
      console.log(
        `plugin '${loaded.manifest.name}' ${loaded.manifest.version}: manifest valid, bundle loads, permissions: ${loaded.manifest.permissions.join(', ') || '(none)'}`,
      )
      return 0
    } finally {
      host.dispose()
    }
  } catch (err) {
    console.error((err as Error).message)
    return 1
  }
}

async function init(dir: string, name: string, kind: 'resource' | 'fence'): Promise<void> {
  const exists = await access(path.join(dir, 'plugin.json')).then(
    () => true,
    () => false,
  )
  if (exists) throw new Error(`${dir}/plugin.json exists already`)
  await mkdir(path.join(dir, 'src'), { recursive: true })
  await mkdir(path.join(dir, 'test'), { recursive: true })
  const manifest = {
    name,
    displayName: name,
    version: '0.1.0',
    kind,
    engines: { mccs: '^1.0.0' },
    main: 'dist/index.js',
    permissions: ['state'],
    defaults: { monitorIntervalS: 10 },
    wizard: { type: 'object', properties: { message: { type: 'string', title: 'Message', 'x-mccs': { order: 1 } } }, required: [] },
  }
  await writeFile(path.join(dir, 'plugin.json'), JSON.stringify(manifest, null, 2) + '\n')
  const src =
    kind === 'fence'
      ? `import { defineFencePlugin, ok, failed } from '@mccs/sdk'\n\nexport default defineFencePlugin({\n  async fence(ctx, target) {\n    ctx.log.info(\`fencing \${target}\`)\n    return failed('not implemented yet')\n  },\n  async status(ctx, target) {\n    return ok()\n  },\n})\n`
      : `import { definePlugin, ok, notRunning } from '@mccs/sdk'\n\ninterface Attrs { message?: string }\n\nexport default definePlugin<Attrs>({\n  async online(ctx) {\n    await ctx.state.set('running', true)\n    ctx.log.info(ctx.attrs.message ?? 'online')\n    return ok()\n  },\n  async offline(ctx) {\n    await ctx.state.set('running', false)\n    return ok()\n  },\n  async monitor(ctx) {\n    return (await ctx.state.get('running')) ? ok() : notRunning('not started')\n  },\n})\n`
  await writeFile(path.join(dir, 'src', 'index.ts'), src)
  // The plugin's types come from @mccs/sdk; its build and test host from this kit.
  const version = async (file: string) => (JSON.parse(await readFile(file, 'utf8')) as { version: string }).version
  const devDependencies = {
    '@mccs/sdk': `^${await version(createRequire(import.meta.url).resolve('@mccs/sdk/package.json'))}`,
    '@mccs/plugin-kit': `^${await version(fileURLToPath(new URL('../package.json', import.meta.url)))}`,
  }
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: `mccs-plugin-${name}`, private: true, type: 'module', devDependencies }, null, 2) + '\n',
  )
}

/** The hook names (of `names`) that the bundle's export defines as functions. */
async function definedHooks(code: string, names: readonly HookName[]): Promise<HookName[]> {
  const isolate = new ivm.Isolate({ memoryLimit: 64 })
  try {
    const context = await isolate.createContext()
    await (await isolate.compileScript(code)).run(context, { timeout: 5000 })
    const json = await context.eval(
      `(() => { const m = globalThis.${PLUGIN_GLOBAL}; const h = m && (m.default || m);
        return JSON.stringify(h ? ${JSON.stringify(names)}.filter((n) => typeof h[n] === 'function') : []) })()`,
      { timeout: 1000 },
    )
    return JSON.parse(json as string) as HookName[]
  } finally {
    isolate.dispose()
  }
}
