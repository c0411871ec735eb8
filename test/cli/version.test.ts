// `mccs --version` (and `mccs version`, `-V`) prints the installed package's version, not the usage (issue 18, What 6).
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { main } from '../../core/cli/main.js'
import { packageRoot } from '../../core/paths.js'

t.test('mccs --version prints the package version', async (t) => {
  const { version } = JSON.parse(await readFile(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
  for (const argv of [['--version'], ['-V'], ['version']]) {
    const out: string[] = [],
      err: string[] = []
    t.equal(await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }), 0, `${argv.join(' ')} exits 0`)
    t.same(out, [`mccs ${version}`], `${argv.join(' ')}: mccs ${version}`)
    t.same(err, [])
  }
})
