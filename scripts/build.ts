// npm run build: the agent bundle (dist/mccs.js, and dist/heartbeat-worker.js for the heartbeat's thread) and one
// sandbox bundle per built-in plugin.
import { readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'
import { buildPlugin } from '@mccs/plugin-kit/build'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** JSON files (the locale tables) of the thin entry: copied beside it and parsed when first imported. Inline,
 *  as object literals or as strings, the thousand keys cost every call milliseconds to compile or scan. */
const jsonBeside = (outdir: string): esbuild.Plugin => ({
  name: 'json-beside',
  setup(build) {
    build.onLoad({ filter: /\.json$/ }, async (args) => {
      const name = `mccs-thin-${path.basename(args.path)}`
      await writeFile(path.join(outdir, name), await readFile(args.path))
      return {
        contents: `import { readFileSync } from 'node:fs'\nexport default JSON.parse(readFileSync(__dirname + ${JSON.stringify('/' + name)}, 'utf8'))`,
        loader: 'js',
      }
    })
  },
})

export async function buildAll(): Promise<void> {
  const pluginsDir = path.join(root, 'plugins')
  for (const name of (await readdir(pluginsDir)).sort()) {
    if (!existsSync(path.join(pluginsDir, name, 'plugin.json'))) continue
    await buildPlugin(path.join(pluginsDir, name))
  }
  if (existsSync(path.join(root, 'core/cli/main.ts'))) {
    await rm(path.join(root, 'dist'), { recursive: true, force: true })
    await esbuild.build({
      // Split at the CLI's dynamic imports: `mccs status` should not parse the agent. The heartbeat's worker
      // thread is an entry of its own (core/cluster/heartbeat-worker-client.ts starts dist/heartbeat-worker.js).
      entryPoints: { mccs: path.join(root, 'core/cli/main.ts'), 'heartbeat-worker': path.join(root, 'core/cluster/heartbeat-worker.ts') },
      outdir: path.join(root, 'dist'),
      chunkNames: 'chunks/[name]-[hash]',
      splitting: true,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      logLevel: 'warning',
    })
    // The thin entry bin/mccs.cjs tries first (core/cli/thin.ts: status and the operator commands, issue 19):
    // one CommonJS file, no chunks, so a call reads one file and never starts the ES module loader; what it
    // imports dynamically is bundled but runs only when reached (the table renderer only without --json).
    // test/cli/thin-path.test.ts fails when this path loads a heavy package again.
    await esbuild.build({
      entryPoints: { 'mccs-thin': path.join(root, 'core/cli/thin.ts') },
      outdir: path.join(root, 'dist'),
      outExtension: { '.js': '.cjs' },
      plugins: [jsonBeside(path.join(root, 'dist'))],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      logLevel: 'warning',
    })
  }
  await (await import('./build-console.js')).buildConsole() // the web console UI -> dist/console/
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildAll()
}
