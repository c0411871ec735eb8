// npm run build: the agent bundle (dist/mccs.js, and dist/heartbeat-worker.js for the heartbeat's thread) and one
// sandbox bundle per built-in plugin.
import { readdir, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'
import { buildPlugin } from '@mccs/plugin-kit/build'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

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
  }
  await (await import('./build-console.js')).buildConsole() // the web console UI -> dist/console/
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildAll()
}
