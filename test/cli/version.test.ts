// `mccs --version` (and `mccs version`, `-V`) prints the installed package's version, not the usage (issue 18, What 6).
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { execFile } from 'node:child_process'
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

t.test('the installed launcher bin/mccs --version prints it too', async (t) => {
  const { version } = JSON.parse(await readFile(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
  const env = { ...process.env }
  delete env.NODE_OPTIONS // as an operator runs it: without the test runner's loaders
  const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    execFile(path.join(packageRoot(), 'bin/mccs'), ['--version'], { env, timeout: 30_000 }, (e, out, err) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }),
    ),
  )
  t.equal(r.code, 0, r.err)
  t.equal(r.out, `mccs ${version}\n`)
})
