// The plugin build: one self-contained bundle per plugin (IIFE, no Node modules: the sandbox has none).
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import * as esbuild from 'esbuild'
import type { PluginManifest } from '@mccs/sdk'
import { validateManifest } from '../../../core/plugins/manifest.js'
import { loadPluginLocales } from '../../../core/plugins/plugin-locales.js'

export const PLUGIN_GLOBAL = '__mccsPlugin'

// The kit's own @mccs/sdk, entry by entry as its package.json exports them.
const resolveSdk = createRequire(import.meta.url).resolve

export interface BuildResult {
  manifest: PluginManifest
  outfile: string
  bytes: number
  warnings: string[]
}

export async function buildPlugin(dir: string, opts: { minify?: boolean } = {}): Promise<BuildResult> {
  const root = path.resolve(dir)
  const manifest = validateManifest(JSON.parse(await readFile(path.join(root, 'plugin.json'), 'utf8')), `at ${root}`)
  await loadPluginLocales(root, manifest) // a key missing in one declared locale stops the build, named
  const entry = ['src/index.ts', 'src/index.js'].map((f) => path.join(root, f)).find((f) => existsSync(f))
  if (!entry) throw new Error(`plugin '${manifest.name}': no src/index.ts or src/index.js in ${root}`)
  const outfile = path.join(root, manifest.main)
  const res = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'iife',
    globalName: PLUGIN_GLOBAL,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    minify: opts.minify ?? false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    plugins: [
      {
        name: 'no-node',
        setup(b) {
          b.onResolve({ filter: /^node:|^(fs|net|child_process|os|path|http|https|dgram|crypto|process|worker_threads)$/ }, (a) => ({
            errors: [{ text: `'${a.path}' is a Node module; plugins run sandboxed and reach the world only through ctx capabilities` }],
          }))
        },
      },
      {
        // The SDK that builds is the SDK the plugin gets (its helpers are tiny and pure): a plugin folder
        // anywhere builds without installing @mccs/sdk next to it. Its entries: @mccs/sdk, @mccs/sdk/aws-answers.
        name: 'mccs-sdk',
        setup(b) {
          b.onResolve({ filter: /^@mccs\/sdk(\/|$)/ }, (a) => {
            try {
              return { path: resolveSdk(a.path) }
            } catch (e) {
              return { errors: [{ text: `'${a.path}' is not an entry of @mccs/sdk: ${(e as Error).message.split('\n')[0]}` }] }
            }
          })
        },
      },
    ],
  })
  const bytes = Object.values(res.metafile!.outputs)[0]?.bytes ?? 0
  return { manifest, outfile, bytes, warnings: res.warnings.map((w) => w.text) }
}
