// The web console build: esbuild bundles core/console/ui/main.ts into dist/console/assets/app.js
// (one file, no framework, no runtime dependency) and copies index.html and the stylesheet.
// The agent's HTTPS server serves dist/console/index.html at /main and dist/console/assets/* at /main/assets/*.
import { copyFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export async function buildConsole(o: { minify?: boolean } = {}): Promise<void> {
  const ui = path.join(root, 'core/console/ui')
  const out = path.join(root, 'dist/console')
  await mkdir(path.join(out, 'assets'), { recursive: true })
  await esbuild.build({
    entryPoints: [path.join(ui, 'main.ts')],
    outfile: path.join(out, 'assets/app.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: o.minify ?? true,
    sourcemap: 'linked',
    logLevel: 'warning',
    legalComments: 'none',
  })
  await copyFile(path.join(ui, 'index.html'), path.join(out, 'index.html'))
  await copyFile(path.join(ui, 'console.css'), path.join(out, 'assets/console.css'))
  // Help → Help serves it (core/console/routes/help.ts); dist/ is what a package installs.
  for (const f of ['console-guide.md', 'console-guide.ko.md']) await copyFile(path.join(root, 'docs', f), path.join(out, f))
}

if (import.meta.url === `file://${process.argv[1]}`) await buildConsole()
