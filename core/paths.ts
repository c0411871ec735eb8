// Where the agent's own files are: the package root holds the built-in plugins (plugins/<type>/).
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

/** The mccs package root, found from this file whether it runs from source or from dist/. */
export function packageRoot(): string {
  if (cached) return cached
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pj = path.join(dir, 'package.json')
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'mccs') return (cached = dir)
    const up = path.dirname(dir)
    if (up === dir) throw new Error('cannot find the mccs package root')
    dir = up
  }
}

export const builtinPluginsDir = (): string => path.join(packageRoot(), 'plugins')

/** The installed mccs package's version (package.json): what `mccs --version` and the console's About show. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown'
}
