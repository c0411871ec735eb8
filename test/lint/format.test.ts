// The formatter (issue 13, What 7): `npm run lint` runs `prettier --check .` with the repository's settings
// (.prettierrc.json, width 140), and `npm test` runs it; a file written in another style fails, named.
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'

const repo = path.resolve(import.meta.dirname, '../..')
const prettier = path.join(repo, 'node_modules/prettier/bin/prettier.cjs')

function check(cwd: string, ...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [prettier, '--check', ...args], { cwd, encoding: 'utf8', timeout: 240_000 })
  return { code: r.status, out: r.stdout + r.stderr }
}

t.test('npm run lint runs the formatter over the repository', async (t) => {
  const pkg = (await import(path.join(repo, 'package.json'), { with: { type: 'json' } })).default as { scripts: Record<string, string> }
  t.match(pkg.scripts.lint, /prettier --check/, 'the lint script checks the format')
  // `npm test` runs `npm run lint` before the tests (scripts/test-run.mjs --checks, beside the type check), so
  // the whole repository's check is not repeated here (it cost 35 s of one core in a full run); the scripts
  // themselves are what this test holds to.
  t.match(pkg.scripts.test, /scripts\/test-run\.mjs --checks/, 'npm test runs the checks first')
  const runner = readFileSync(path.join(repo, 'scripts/test-run.mjs'), 'utf8')
  t.match(runner, /\['lint', 'npm', \['run', 'lint', '--silent'\]\]/, 'and the checks hold the lint script')
  t.match(runner, /if \(failedStep\)[\s\S]*process\.exit/, 'a failed check ends the run before the tests')
})

t.test('a file in another style fails the check, named', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mccs-format-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  copyFileSync(path.join(repo, '.prettierrc.json'), path.join(dir, '.prettierrc.json'))
  writeFileSync(path.join(dir, 'good.ts'), "export const a = { b: 'c' }\n")
  t.equal(check(dir, 'good.ts').code, 0, 'a file in the repository style passes')
  writeFileSync(path.join(dir, 'bad.ts'), 'export const a = { "b": "c" };\n')
  const r = check(dir, 'bad.ts')
  t.not(r.code, 0, 'double quotes and a semicolon fail')
  t.match(r.out, /bad\.ts/, 'the output names the file')
})
