// @mccs/plugin-kit's package.json names what the kit really loads (issue 13, point 2): the packages its
// CLI, build and test host import, and those of the agent's plugin host (core/plugins) that it runs.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { packagesReached, sourceFiles } from '../lint/imports.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const kitDir = path.join(root, 'sdk/plugin-kit')

t.test('the dependencies are exactly the packages the kit loads', async (t) => {
  const kit = JSON.parse(fs.readFileSync(path.join(kitDir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>
    bin?: Record<string, string>
  }
  const reached = packagesReached(sourceFiles(kitDir), { '@mccs/sdk': path.join(root, 'sdk/src') })
  // Found through the relative imports into core/: the walk follows them.
  t.match(reached.get('isolated-vm'), /sdk\/plugin-kit\/src\/cli\.ts$/)
  t.match(reached.get('ajv'), /core\/plugins\/manifest\.ts$/)
  t.match(reached.get('tsx'), /sdk\/plugin-kit\/bin\/mccs-plugin/)
  t.same(
    Object.keys(kit.dependencies ?? {}).sort(),
    [...reached.keys()].sort(),
    [...reached].map(([p, f]) => `${p} (${path.relative(root, f)})`).join(', '),
  )
  // Each dependency resolves from the kit's folder, as its bin and sources load them.
  for (const dep of Object.keys(kit.dependencies ?? {})) {
    t.ok(fs.existsSync(path.join(root, 'node_modules', dep, 'package.json')), `${dep} installed`)
  }
  t.ok(fs.existsSync(path.join(kitDir, kit.bin?.['mccs-plugin'] ?? 'missing')), 'the bin exists')
})
